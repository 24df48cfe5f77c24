"""SDXL as a first-class model on the tiny random SDXL pipeline (64 px, 2 steps): the four modes,
deterministic by seed; micro-conditioning changes the image and survives the PNG; the VAE stays
in float32 beside a float16 model (SDXL's VAE overflows in float16)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserFacingError
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.sdxl_types import SdxlOptions
from tests.engine.stable_diffusion.sd_fixtures import tiny_request

RNG = np.random.default_rng(0)
INPUT = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
MASK = np.zeros((64, 64), np.uint8)
MASK[16:48, 16:48] = 255
MODES = {"img2img": {}, "inpaint": {"mask": MASK}, "outpaint": {"outpaint": (16, 0, 0, 8)}}


@pytest.mark.parametrize("mode", list(MODES))
def test_image_modes_run_the_sdxl_pipelines_deterministically(sdxl_source, mode):
    from engine.stable_diffusion.loading import get_pipeline

    request = tiny_request(sdxl_source, mode=mode, init_image=INPUT, strength=0.8,
                           record_steps=True, **MODES[mode])
    first = run_generation(request, Reporter())
    again = run_generation(request, Reporter())
    assert np.array_equal(first.images[0], again.images[0])
    if mode == "img2img":  # another seed, another image (the seed is what decides)
        other = run_generation(tiny_request(sdxl_source, mode=mode, init_image=INPUT,
                                            strength=0.8, seed=8), Reporter())
        assert not np.array_equal(first.images[0], other.images[0])
    assert first.images[0].shape == ((72, 80, 3) if mode == "outpaint" else (64, 64, 3))
    assert all(np.isfinite(a).all() for a in first.step_latents + first.step_predictions)
    pipes = get_pipeline(sdxl_source, request.options).mode_pipes
    wanted = "StableDiffusionXLImg2ImgPipeline" if mode == "img2img" else \
        "StableDiffusionXLInpaintPipeline"
    assert type(pipes["img2img" if mode == "img2img" else "inpaint"]).__name__ == wanted


def test_cli_is_deterministic_and_micro_conditioning_changes_the_image_and_round_trips(
        sdxl_dir, tmp_path):
    from engine.png.a1111 import parse_parameters
    from engine.png.chunks import read_png_metadata
    from engine.png.record import request_from_record
    from engine.stable_diffusion.types import GenerationRequest
    from playground_gui.app import main

    def generate(name, *extra):
        out = tmp_path / name
        assert main(["generate", "--model", str(sdxl_dir), "--prompt", "a cat", "--steps", "2",
                     "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                     "--out", str(out), "--quiet", *extra]) == 0
        with Image.open(out) as image:
            return np.asarray(image.convert("RGB")), image.text["parameters"], out

    plain, plain_text, _ = generate("a.png")
    again, _, _ = generate("b.png")
    assert np.array_equal(plain, again)  # same seed, same image
    assert "SDXL " not in plain_text.replace("Model family: SDXL", "")  # nothing set: none
    small, text, out = generate("c.png", "--original-size", "16", "24", "--crop-top-left",
                                "8", "0", "--negative-original-size", "32", "32")
    assert not np.array_equal(plain, small)
    extra = parse_parameters(text).extra
    assert (extra["SDXL original size"], extra["SDXL crop top-left"],
            extra["SDXL negative original size"]) == ("16x24", "8x0", "32x32")
    restored, _ = request_from_record(GenerationRequest, read_png_metadata(out).request)
    assert restored.sdxl == SdxlOptions(original_size=(16, 24), crop_top_left=(8, 0),
                                        negative_original_size=(32, 32))


def test_sdxl_options_are_refused_for_other_models_and_bad_values(tiny_folder):
    with pytest.raises(UserFacingError, match="SDXL inputs; the loaded model is a "
                                              "StableDiffusionPipeline"):
        run_generation(tiny_request(tiny_folder, sdxl=SdxlOptions(original_size=(256, 256))),
                       Reporter())
    with pytest.raises(ValueError, match="original size must be two whole numbers"):
        SdxlOptions(original_size=(0, 256))
    with pytest.raises(ValueError, match="refiner switch must be a fraction"):
        SdxlOptions(refiner="x", refiner_switch=1.0)


def test_the_vae_stays_float32_beside_a_float16_model_through_img2img_encoding():
    """SDXL's img2img pipeline upcasts a force_upcast VAE to encode, then casts it back to the
    model's dtype; the loader keeps it float32 for good (devices.py), with a note."""
    from engine.fixtures.tiny_sd import build_tiny_pipeline
    from engine.fixtures.tiny_sdxl import build_tiny_sdxl_pipeline
    from engine.runtime import import_torch
    from engine.stable_diffusion.devices import FORCE_UPCAST_NOTE, PrecisionPlan, place_pipeline
    from engine.stable_diffusion.types import PipelineOptions

    torch = import_torch()
    plan = PrecisionPlan("cpu", "float16", "float16")
    pipe = build_tiny_sdxl_pipeline().to(torch.float16)
    notes = []
    hooks = place_pipeline(pipe, plan, PipelineOptions(device="cpu"), notes)
    assert pipe.vae.dtype == torch.float32 and hooks and notes == [FORCE_UPCAST_NOTE]
    from diffusers import StableDiffusionXLImg2ImgPipeline

    img2img = StableDiffusionXLImg2ImgPipeline.from_pipe(pipe)
    image = torch.rand(1, 3, 64, 64, dtype=torch.float16) * 2 - 1
    latents = img2img.prepare_latents(image, torch.tensor([500]), 1, 1, torch.float16, "cpu",
                                      torch.Generator().manual_seed(0))
    assert pipe.vae.dtype == torch.float32 and latents.dtype == torch.float16
    assert torch.isfinite(latents).all()
    sd1 = build_tiny_pipeline().to(torch.float16)  # SD 1.x pipelines ignore force_upcast
    notes = []
    place_pipeline(sd1, plan, PipelineOptions(device="cpu"), notes)
    assert sd1.vae.dtype == torch.float16 and not notes
