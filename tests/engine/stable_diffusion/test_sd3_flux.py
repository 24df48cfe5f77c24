"""SD 3 and Flux (flow-matching transformers, 16-channel latents) through the app's own loading
and generation: tiny random-weight pipelines of the real architectures, built offline."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import UserFacingError
from engine.reporting import Reporter
from engine.stable_diffusion.cancel_hooks import cancellable_modules
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.multi_run_types import SdWalkRequest
from engine.stable_diffusion.types import StepPreview
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


class Previews(Reporter):
    def __init__(self):
        super().__init__()
        self.previews = []

    def partial(self, value):
        if isinstance(value, StepPreview):
            self.previews.append(value)


@pytest.fixture(params=["sd3", "flux"])
def flow_model(request, tiny_sd3, tiny_flux):
    return {"sd3": tiny_sd3, "flux": tiny_flux}[request.param]


def test_loads_by_folder_and_generates_deterministically_with_16_channel_previews(flow_model):
    reporter = Previews()
    first = run_generation(tiny_request(flow_model, preview_every=1), reporter)
    info = first.model_info
    assert info.pipeline_class in ("StableDiffusion3Pipeline", "FluxPipeline")
    assert info.latent_channels == 16 and info.vae_scale_factor == 2 and not info.is_inpainting_model
    assert first.scheduler_class == "FlowMatchEulerDiscreteScheduler"
    image = first.images[0]
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8 and image.std() > 0
    assert np.array_equal(run_generation(tiny_request(flow_model), Reporter()).images[0], image)
    assert not np.array_equal(run_generation(tiny_request(flow_model, seed=8), Reporter()).images[0],
                              image)
    # Previews and recorded steps: the 16-channel latents (Flux's 2×2 tokens unpacked).
    assert [p.step for p in reporter.previews] == [1, 2]
    assert all(p.latents.shape == (16, 32, 32) and p.preview.shape == (32, 32, 3)
               for p in reporter.previews)
    assert first.recorded_steps == (1, 2)
    for steps in (first.step_latents, first.step_predictions):
        assert steps[0].shape == (2, 1, 16, 32, 32) and np.isfinite(steps[0]).all()


def test_the_image_is_the_pipelines_own_decode(flow_model):
    """The app decodes the final latents itself: with the VAE's shift and scaling factors (and
    Flux's unpacking) it must be the image diffusers' pipeline makes."""
    import torch

    result = run_generation(tiny_request(flow_model, guidance_scale=3.0), Reporter())
    pipe = get_pipeline(flow_model, CPU).pipe
    own = pipe("a photo of a cat", num_inference_steps=2, width=64, height=64, guidance_scale=3.0,
               generator=[torch.Generator("cpu").manual_seed(7)], output_type="np").images[0]
    assert np.abs(result.images[0].astype(int) - np.round(own * 255).astype(int)).max() <= 1


def test_encoding_applies_the_vae_shift_as_the_pipelines_do(tiny_sd3):
    """(z − shift)·scale, as StableDiffusion3Img2ImgPipeline encodes; decoding undoes it."""
    import torch

    from engine.stable_diffusion.generation import encode_image, vae_round_trip_job
    from engine.stable_diffusion.types import VaeRoundTripRequest

    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    vae = get_pipeline(tiny_sd3, CPU).pipe.vae
    pixels = torch.from_numpy(image / 127.5 - 1).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        z = vae.encode(pixels).latent_dist.mean
    expected = (z - vae.config.shift_factor) * vae.config.scaling_factor
    torch.testing.assert_close(encode_image(get_pipeline(tiny_sd3, CPU).pipe, image), expected,
                               atol=1e-4, rtol=1e-4)
    result = vae_round_trip_job(VaeRoundTripRequest(image, tiny_sd3, CPU), Reporter())
    assert result.latents.shape == (16, 32, 32) and np.isfinite(result.psnr_db)


def test_the_flow_samplers_run_and_the_others_are_refused(tiny_sd3, tiny_flux, tiny_folder):
    result = run_generation(tiny_request(tiny_flux, scheduler="DPM-Solver++ 2M (flow)"), Reporter())
    assert result.scheduler_class == "DPMSolverMultistepScheduler"
    assert np.isfinite(result.step_predictions[0]).all()
    with pytest.raises(UserFacingError, match="flow matching"):
        run_generation(tiny_request(tiny_sd3, scheduler="Euler ancestral"), Reporter())
    with pytest.raises(UserFacingError, match="flow-matching models"):
        run_generation(tiny_request(tiny_folder, scheduler="Flow-matching Euler"), Reporter())


def test_every_flow_sampler_runs_at_the_ends_of_the_step_range(tiny_sd3):
    import torch

    from engine.stable_diffusion.denoiser_types import FLOW_SCHEDULER_NAMES
    from engine.stable_diffusion.schedulers import make_scheduler
    from engine.stable_diffusion.types import MAX_STEPS

    pipe = get_pipeline(tiny_sd3, CPU).pipe
    noise = torch.randn(1, 16, 4, 4, generator=torch.Generator().manual_seed(0))
    for name in FLOW_SCHEDULER_NAMES:
        for steps in (1, 2, MAX_STEPS):
            scheduler = make_scheduler(name, pipe, steps)
            scheduler.set_timesteps(steps)
            x = noise
            for t in scheduler.timesteps:
                x = scheduler.step(0.5 * x, t, x).prev_sample  # v̂ ∝ x
            assert torch.isfinite(x).all() and x.abs().max() < noise.abs().max(), (name, steps)


def test_unet_features_say_so_instead_of_crashing(tiny_sd3, tiny_flux):
    from engine.stable_diffusion.walk import run_sd_walk

    result = run_generation(tiny_request(tiny_sd3, capture_attention=True), Reporter())
    assert result.attention is None
    assert any("No attention maps" in w and "joint attention" in w for w in result.warnings)
    flux = run_generation(tiny_request(tiny_flux, negative_prompt="a dog"), Reporter())
    assert any("guidance-distilled" in w for w in flux.warnings)
    image = np.zeros((64, 64, 3), np.uint8)
    for changes, words in ((dict(hires_scale=2.0), "hires fix"),
                           (dict(prompt="a <lora:ink:0.5> cat"), "LoRAs"),
                           (dict(prompt="a (cat:1.3)"), "Prompt weights"),
                           (dict(mode="img2img", init_image=image), "from text here")):
        with pytest.raises(UserFacingError, match=words):
            run_generation(tiny_request(tiny_flux, **changes), Reporter())
    with pytest.raises(UserFacingError, match="latent walk.*transformer"):
        run_sd_walk(SdWalkRequest(base=tiny_request(tiny_sd3), frames=2, seed_to=8), Reporter())


def test_attention_slicing_is_skipped_and_float16_warned(tiny_sd3, tiny_folder):
    from engine.stable_diffusion.denoisers import load_warnings, supports_attention_slicing
    from engine.stable_diffusion.devices import PrecisionPlan

    pipe = get_pipeline(tiny_sd3, CPU).pipe
    assert not supports_attention_slicing(pipe)  # place_pipeline does not call it
    notes = load_warnings(pipe, PrecisionPlan("cuda", "float16", "float32", attention_slicing=True))
    assert [n.split(" ")[0] for n in notes] == ["SD", "Attention"] and "bfloat16" in notes[0]
    unet_pipe = get_pipeline(tiny_folder, CPU).pipe
    assert supports_attention_slicing(unet_pipe) and not load_warnings(unet_pipe, PrecisionPlan(
        "cuda", "float16", "float32", attention_slicing=True))


def test_cancel_checks_reach_the_transformer_blocks(tiny_flux):
    transformer = get_pipeline(tiny_flux, CPU).pipe.transformer
    modules = cancellable_modules(transformer)
    assert any(m is transformer.single_transformer_blocks[0] for m in modules)
    assert any(m is transformer.transformer_blocks[0] for m in modules)


def test_cli_generates_from_the_folder(tiny_sd3, tmp_path, capsys):
    from PIL import Image

    from playground_gui.app import main

    outs = [tmp_path / "a.png", tmp_path / "b.png"]
    for out in outs:
        assert main(["generate", "--model", tiny_sd3.location, "--prompt", "a cat", "--steps", "2",
                     "--width", "64", "--height", "64", "--seed", "5", "--out", str(out),
                     "--scheduler", "unipc (flow)", "--quiet"]) == 0
    pixels = [np.asarray(Image.open(out)) for out in outs]
    assert pixels[0].shape == (64, 64, 3) and np.array_equal(*pixels)
    code = main(["generate", "--model", tiny_sd3.location, "--prompt", "a cat", "--steps", "2",
                 "--width", "64", "--height", "64", "--out", str(tmp_path / "c.png"),
                 "--attention-out", str(tmp_path / "maps")])
    assert code != 0 and "no UNet with cross-attention" in capsys.readouterr().err
