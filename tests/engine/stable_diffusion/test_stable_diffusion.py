"""Stable Diffusion with a tiny random-weight pipeline, through the code users hit (no stubs)."""

from __future__ import annotations

import pickle
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from engine.errors import Cancelled, UserFacingError
from engine.reporting import Reporter
from engine.stable_diffusion.denoiser_types import scheduler_names_for
from engine.stable_diffusion.types import (
    SCHEDULER_NAMES,
    ComparisonGridRequest,
    DecodeLatentsRequest,
    GenerationRequest,
    ModelSource,
    StepPreview,
    TokensRequest,
    VaeRoundTripRequest,
)
from tests.engine.stable_diffusion.sd_fixtures import CPU


@pytest.fixture(scope="session")
def folder_source(tiny_folder):
    return tiny_folder


def request(source, **changes):
    values = dict(prompt="a photo of a cat", source=source, options=CPU, steps=3, width=64,
                  height=64, seed=7)
    values.update(changes)
    return GenerationRequest(**values)


def run(req, cancel_after=None):
    from engine.stable_diffusion.generation import run_generation

    previews = []
    cancel = threading.Event()

    def on_partial(payload):
        previews.append(payload)
        if cancel_after is not None and len(previews) >= cancel_after:
            cancel.set()

    return run_generation(req, Reporter(cancel, on_partial=on_partial)), previews


# -- loading --------------------------------------------------------------------------------
def test_folder_and_single_file_load_the_same_weights(tiny_dir, folder_source, tmp_path):
    import torch

    from engine.stable_diffusion.loading import get_pipeline

    folder = get_pipeline(folder_source, CPU)
    assert folder.info.kind == "folder" and folder.info.max_tokens == 77
    reference = {name: {k: v.clone() for k, v in getattr(folder.pipe, name).state_dict().items()}
                 for name in ("unet", "vae", "text_encoder")}
    # Away from its sibling folder, so only the explicit offline config can describe it.
    single = tmp_path / "elsewhere.safetensors"
    shutil.copy(tiny_dir / "tiny-sd.safetensors", single)
    loaded = get_pipeline(ModelSource(str(single), config=str(tiny_dir / "tiny-sd")), CPU)
    assert loaded.info.kind == "single_file"
    for name, weights in reference.items():
        state = getattr(loaded.pipe, name).state_dict()
        assert all(torch.equal(weights[k], state[k]) for k in weights), name


def test_single_file_without_config_offline_says_what_to_do(tiny_dir, tmp_path):
    from engine.stable_diffusion.loading import get_pipeline

    single = tmp_path / "lonely.safetensors"
    shutil.copy(tiny_dir / "tiny-sd.safetensors", single)
    with pytest.raises(UserFacingError, match=r"^lonely\.safetensors needs its architecture "
                                              r"config \(model_index\.json") as info:
        get_pipeline(ModelSource(str(single)), CPU)
    message = str(info.value)
    assert "cannot be downloaded because offline mode is on (HF_HUB_OFFLINE=1)" in message
    assert "Choose a local diffusers folder of the same model family" in message


def test_hub_id_offline_gives_a_clear_message():
    from engine.stable_diffusion.loading import get_pipeline

    with pytest.raises(UserFacingError) as info:
        get_pipeline(ModelSource("stable-diffusion-v1-5/stable-diffusion-v1-5"), CPU)
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "2.1 GB" in message and "local diffusers folder" in message


def test_pickle_checkpoint_is_refused_and_never_unpickled(tmp_path):
    from engine.stable_diffusion.loading import get_pipeline

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(UserFacingError, match="pickle"):
        get_pipeline(ModelSource(str(checkpoint)), CPU)
    assert not marker.exists()


def test_cached_models_lists_pipelines_in_the_hub_cache(tmp_path):
    from engine.stable_diffusion.loading import cached_models

    commit = "a" * 40
    for repo, filename in (("models--someone--sd-model", "model_index.json"),
                           ("models--someone--a-bert", "config.json")):
        snapshot = tmp_path / repo / "snapshots" / commit
        snapshot.mkdir(parents=True)
        (snapshot / filename).write_text("{}")
        (tmp_path / repo / "refs").mkdir()
        (tmp_path / repo / "refs" / "main").write_text(commit)
        (tmp_path / repo / "blobs").mkdir()
    assert [m.repo_id for m in cached_models(str(tmp_path))] == ["someone/sd-model"]
    assert cached_models(str(tmp_path / "missing")) == []


# -- generation -----------------------------------------------------------------------------
def test_txt2img_records_every_step_previews_and_is_reproducible(folder_source):
    result, previews = run(request(folder_source, steps=3, scheduler="DDIM"))
    assert len(result.images) == 1 and result.images[0].shape == (64, 64, 3)
    assert result.step_latents[0].shape == (3, 1, 4, 32, 32)
    assert result.step_predictions[0].shape == (3, 1, 4, 32, 32)
    assert [p.step for p in previews] == [1, 2, 3]
    assert all(isinstance(p, StepPreview) and p.preview.shape == (32, 32, 3) for p in previews)
    assert result.seed == 7 and result.parameters["seed"] == 7
    again, _ = run(request(folder_source, steps=3, scheduler="DDIM"))
    other, _ = run(request(folder_source, steps=3, scheduler="DDIM", seed=8))
    assert np.array_equal(again.images[0], result.images[0])
    assert not np.array_equal(other.images[0], result.images[0])


def test_random_seed_is_reported_and_batches_get_consecutive_seeds(folder_source):
    result, _ = run(request(folder_source, steps=2, seed=None, batch_size=2, batch_count=2,
                            scheduler="Euler"))
    assert len(result.images) == 4
    assert list(result.seeds) == [result.seed + k for k in range(4)]
    assert len(result.step_latents) == 2 and result.step_latents[0].shape[1] == 2


@pytest.mark.parametrize("scheduler", scheduler_names_for("StableDiffusionPipeline", SCHEDULER_NAMES))
def test_every_scheduler_runs(folder_source, scheduler):
    result, previews = run(request(folder_source, steps=2, scheduler=scheduler))
    assert result.images[0].shape == (64, 64, 3)
    assert previews and np.isfinite(result.step_predictions[0]).all()


def test_scrubbing_decodes_recorded_steps(folder_source):
    from engine.stable_diffusion.generation import decode_latents_job

    result, _ = run(request(folder_source, steps=2))
    last = result.step_latents[0][-1, 0]
    decoded = decode_latents_job(DecodeLatentsRequest(last, folder_source, CPU, tag=(0, 2)), Reporter())
    assert decoded.tag == (0, 2)
    assert np.array_equal(decoded.image, result.images[0])
    first = decode_latents_job(DecodeLatentsRequest(result.step_predictions[0][0, 0], folder_source,
                                                    CPU), Reporter())
    assert first.image.shape == (64, 64, 3) and not np.array_equal(first.image, decoded.image)


def test_cancel_stops_within_a_step_and_returns_what_exists(folder_source):
    from engine.stable_diffusion.generation import decode_latents_job

    with pytest.raises(Cancelled) as info:
        run(request(folder_source, steps=6, batch_count=2), cancel_after=2)
    partial = info.value.partial
    assert partial.cancelled and partial.steps_done == 2
    # The unfinished image comes back as latents (x̂₀ at step 2), decoded only on demand.
    assert partial.images == () and partial.partial_latents.shape == (1, 4, 32, 32)
    assert partial.step_latents[0].shape[0] == 2
    decoded = decode_latents_job(DecodeLatentsRequest(partial.partial_latents[0], folder_source,
                                                      CPU), Reporter())
    assert decoded.image.shape == (64, 64, 3)


def test_img2img_uses_strength(folder_source):
    init = np.asarray(Image.new("RGB", (80, 48), (200, 40, 40)))
    result, previews = run(request(folder_source, mode="img2img", init_image=init, steps=4,
                                   strength=0.5, scheduler="DDIM"))
    assert result.images[0].shape == (64, 64, 3)
    assert len(previews) == 2 and result.parameters["strength"] == 0.5


def test_inpaint_keeps_the_unmasked_area_whatever_the_prompt(folder_source):
    init = np.asarray(Image.new("RGB", (64, 64), (30, 120, 200)))
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    common = dict(mode="inpaint", init_image=init, mask=mask, steps=3, strength=1.0)
    cat, _ = run(request(folder_source, prompt="a cat", **common))
    dog, _ = run(request(folder_source, prompt="a red dog painting", **common))
    cat_latents, dog_latents = cat.step_latents[0][-1, 0], dog.step_latents[0][-1, 0]
    assert np.allclose(cat_latents[:, :, :16], dog_latents[:, :, :16])  # kept (latent cols 0–15)
    assert not np.allclose(cat_latents[:, :, 16:], dog_latents[:, :, 16:])  # repainted


def test_outpaint_extends_the_canvas(folder_source):
    from engine.stable_diffusion.generation import extend_canvas

    init = np.asarray(Image.new("RGB", (64, 64), (10, 200, 10)))
    result, _ = run(request(folder_source, mode="outpaint", init_image=init, outpaint=(16, 0, 32, 8),
                            steps=2))
    assert result.images[0].shape == (72, 112, 3)
    assert result.parameters["width"] == 112 and result.parameters["height"] == 72
    assert result.parameters["strength"] == 1.0  # the new area starts from pure noise
    _, mask = extend_canvas(Image.fromarray(init), (16, 0, 32, 8))
    mask = np.asarray(mask)
    assert mask[:, :16].min() == 255 and mask[:, -32:].min() == 255 and mask[-8:].min() == 255
    assert mask[0:56, 24:72].max() == 0  # the old image, minus the 8 px overlap, is kept


def test_requests_are_validated():
    with pytest.raises(ValueError, match="multiples of 8"):
        GenerationRequest("x", width=72 + 1)
    with pytest.raises(ValueError, match="needs an input image"):
        GenerationRequest("x", mode="img2img")


# -- tokens, VAE, grid, CLI -----------------------------------------------------------------
def test_tokens_show_merges_chunks_and_warn_beyond_77_without_chunks(folder_source):
    from engine.stable_diffusion.tokens import token_info, tokenizer_for, tokens_job

    short = tokens_job(TokensRequest("a photo of a cat", folder_source), Reporter())
    assert "cat</w>" in short.tokens and short.warning == ""
    long_prompt = " ".join(["cat"] * 80) + " dog"
    # SD 1.x/2.x: encoded in chunks of 75 (issue 16), nothing is cut off
    info = tokens_job(TokensRequest(long_prompt, folder_source), Reporter())
    assert info.count == 81 and info.max_tokens == 77 and info.chunks == 2
    assert (info.chunk_of[74], info.chunk_of[75], info.positions[74], info.positions[75]) == (0, 1, 75, 78)
    assert info.truncated_text == "" and info.warning == ""
    # a pipeline that reads one window only (SDXL's own path): the rest is cut off
    info = token_info(tokenizer_for(folder_source), long_prompt, chunked=False)
    assert info.truncated_text == "cat cat cat cat cat dog"
    assert "ignored" in info.warning and "dog" in info.warning


def test_vae_round_trip(folder_source):
    import torch

    from engine.stable_diffusion.generation import decode_latents_job, vae_round_trip_job
    from engine.stable_diffusion.loading import get_pipeline

    # A smooth 66×40 gradient; the autoencoder takes multiples of its factor (2): 66×40 stays.
    y, x = np.mgrid[0:40, 0:66]
    image = np.stack([x * 255 / 65, y * 255 / 39, np.full(x.shape, 128.0)], -1).round()
    image = image.astype(np.uint8)
    result = vae_round_trip_job(VaeRoundTripRequest(image, folder_source, CPU), Reporter())
    assert result.original.shape == (40, 66, 3) and result.reconstruction.shape == (40, 66, 3)
    assert result.latents.shape == (4, 20, 33)
    assert np.array_equal(result.original, image)

    # The latents are the encoder's mean, scaled as the pipeline scales them.
    vae = get_pipeline(folder_source, CPU).pipe.vae
    pixels = torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        mean = vae.encode(pixels).latent_dist.mean[0] * vae.config.scaling_factor
    assert np.allclose(result.latents, mean.numpy(), atol=1e-5)
    # The reconstruction is those latents decoded, as the step slider decodes.
    decoded = decode_latents_job(DecodeLatentsRequest(result.latents, folder_source, CPU), Reporter())
    assert np.array_equal(decoded.image, result.reconstruction)
    # The PSNR is the reconstruction's, in dB over the 0–255 range.
    error = np.mean((result.reconstruction.astype(float) - image.astype(float)) ** 2)
    assert result.psnr_db == pytest.approx(10 * np.log10(255**2 / error), abs=1e-9)
    # Random weights reconstruct badly, but the same badly every time: 11.0 dB measured.
    assert not np.array_equal(result.reconstruction, image)
    assert 10.0 < result.psnr_db < 20.0
    # An odd size is cropped to the autoencoder's factor, from the bottom right.
    odd = np.pad(image, ((0, 1), (0, 1), (0, 0)), mode="edge")
    cropped = vae_round_trip_job(VaeRoundTripRequest(odd, folder_source, CPU), Reporter())
    assert np.array_equal(cropped.original, image)
    assert np.array_equal(cropped.reconstruction, result.reconstruction)


def test_comparison_grid(folder_source):
    from engine.stable_diffusion.comparison import comparison_grid_job

    base = request(folder_source, steps=1)
    result = comparison_grid_job(ComparisonGridRequest(base, "guidance_scale", (1.0, 7.5)), Reporter())
    assert result.grid.shape == (64 + 22, 128, 3) and len(result.images) == 2
    assert result.seed == 7


@pytest.mark.parametrize("device, options, expected", [
    ("cpu", {}, ("float32", "float32", False)),  # no fast fp16 kernels on CPUs
    ("cuda", {}, ("float16", "float32", False)),  # the VAE stays fp32: fp16 decodes overflow
    ("mps", {}, ("float16", "float16", True)),  # attention sliced: its peak memory on Macs
    ("cuda", {"dtype": "bfloat16", "attention_slicing": True}, ("bfloat16", "float32", True)),
    ("cpu", {"dtype": "bfloat16"}, ("bfloat16", "float32", False)),  # VAE fp32: no banding
])
def test_the_device_plan_per_device(monkeypatch, device, options, expected):
    import torch

    from engine.stable_diffusion.devices import plan_for
    from engine.stable_diffusion.types import PipelineOptions

    # Pretend the device exists (pick_device refuses a device torch does not have).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: device == "cuda")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: device == "mps")
    for asked in (device, None):  # chosen, and the automatic choice
        plan = plan_for(PipelineOptions(device=asked, **options))
        assert (plan.device, plan.dtype, plan.vae_dtype, plan.attention_slicing) == (device, *expected)


def test_placement_on_cpu_follows_the_plan():
    """The CUDA plan's shape (half-precision UNet and text encoder, fp32 VAE) placed on CPU with
    bfloat16; then the plain CPU plan."""
    import torch

    from engine.fixtures.tiny_sd import build_tiny_pipeline
    from engine.stable_diffusion.devices import PrecisionPlan, place_pipeline
    from engine.stable_diffusion.generation import decode_latents, encode_image
    from engine.stable_diffusion.types import PipelineOptions

    def processors(pipe):
        return {type(p).__name__ for p in pipe.unet.attn_processors.values()}

    pipe = build_tiny_pipeline().to(torch.bfloat16)  # as loaded with torch_dtype=bfloat16
    plan = PrecisionPlan("cpu", "bfloat16", "float32", attention_slicing=True)
    hooks = place_pipeline(pipe, plan, PipelineOptions(device="cpu", cpu_offload=True))
    assert pipe.unet.dtype == pipe.text_encoder.dtype == torch.bfloat16
    assert pipe.vae.dtype == torch.float32 and pipe.unet.device.type == "cpu"
    assert len(hooks) == 8  # in and out of encoder, decoder, quant_conv, post_quant_conv
    assert processors(pipe) == {"SlicedAttnProcessor"}
    latents = encode_image(pipe, np.full((64, 64, 3), 128, np.uint8)).to(torch.bfloat16)
    image = decode_latents(pipe, latents)
    from_half = pipe.vae.decode(latents, return_dict=False)[0]  # bf16 in, via the hooks
    assert image.shape == (1, 64, 64, 3) and from_half.dtype == torch.bfloat16
    for hook in hooks:
        hook.remove()
    with pytest.raises(RuntimeError):  # without the hooks the dtypes clash
        pipe.vae.decode(latents, return_dict=False)

    plain = build_tiny_pipeline()
    assert place_pipeline(plain, PrecisionPlan("cpu", "float32", "float32"),
                          PipelineOptions(device="cpu")) == ()
    assert plain.unet.dtype == plain.vae.dtype == torch.float32
    assert processors(plain) != {"SlicedAttnProcessor"}


def test_cli_generate_writes_png_with_parameters(folder_source, tmp_path):
    from playground_gui.app import main

    out = tmp_path / "out.png"
    code = main(["generate", "--model", folder_source.location, "--prompt", "a blue dog",
                 "--negative", "red", "--steps", "2", "--width", "64", "--height", "64",
                 "--seed", "42", "--scheduler", "Euler ancestral", "--device", "cpu",
                 "--out", str(out), "--quiet"])
    assert code == 0
    with Image.open(out) as image:
        assert image.size == (64, 64)
        text = image.text["parameters"]
    assert text.splitlines()[0] == "a blue dog" and "Negative prompt: red" in text
    assert "Steps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 64x64" in text


def test_cli_generate_reports_bad_input(tmp_path, capsys):
    from playground_gui.app import main

    code = main(["generate", "--prompt", "x", "--mask", "m.png", "--out", str(tmp_path / "o.png")])
    assert code == 2 and "needs --init-image" in capsys.readouterr().err


def test_missing_paths_and_unknown_tokenizers_are_explained(tmp_path):
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.tokens import tokens_job

    with pytest.raises(UserFacingError, match="does not exist"):
        get_pipeline(ModelSource(str(tmp_path / "no" / "such-model")), CPU)
    with pytest.raises(UserFacingError, match="not a diffusers pipeline folder"):
        get_pipeline(ModelSource(str(tmp_path)), CPU)
    # Not loaded, not cached, offline: no tokens yet, and no error dialog for typing.
    assert tokens_job(TokensRequest("a cat", ModelSource("someone/not-cached")), Reporter()) is None


def test_out_of_memory_becomes_advice_and_other_errors_pass_through():
    from engine.stable_diffusion.devices import out_of_memory_advice

    with pytest.raises(UserFacingError, match=r"^The GPU ran out of memory while generating\. "
                                              r"To fit: lower the batch size \(now 4\); generate "
                                              r"at 512×512 or smaller \(now 1024×1024\);") as info:
        with out_of_memory_advice(1024, 1024, 4):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert "turn on model CPU offload" in str(info.value)
    with pytest.raises(UserFacingError) as small:  # nothing to lower: no batch or size advice
        with out_of_memory_advice(512, 512, 1):
            raise RuntimeError("CUDA out of memory.")
    assert "batch size" not in str(small.value) and "512×512 or smaller" not in str(small.value)
    with pytest.raises(UserFacingError, match="does not fit"):
        with out_of_memory_advice(loading=True):
            raise RuntimeError("CUDA out of memory.")
    with pytest.raises(KeyError):
        with out_of_memory_advice(64, 64, 1):
            raise KeyError("unrelated")


def test_smoke_check_for_packaged_builds(tmp_path):
    from engine.fixtures.sd_smoke import run_tiny_sd_check

    timings = run_tiny_sd_check(tmp_path)
    assert {"imports", "build", "load + 2 steps (folder)", "load + 2 steps (single_file)"} <= set(timings)
    assert (tmp_path / "tiny-sd" / "model_index.json").is_file()
