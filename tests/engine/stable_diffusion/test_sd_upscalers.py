"""diffusers' upscaler pipelines as the hires fix's upscale step (upscalers.py), on tiny random
upscalers saved as folders (engine/fixtures/tiny_upscalers.py) and the tiny SD pipeline (64 px)."""

from __future__ import annotations

import pytest
from PIL import Image

from engine.png.a1111 import parse_parameters
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from tests.engine.stable_diffusion.sd_fixtures import tiny_request


@pytest.fixture(scope="module")
def upscaler_folders(tmp_path_factory):
    from engine.fixtures.tiny_upscalers import save_tiny_upscalers

    return save_tiny_upscalers(tmp_path_factory.mktemp("upscalers"))


def test_latent_upscaler_doubles_the_latents_then_img2img_refines(tiny_folder, upscaler_folders,
                                                                   tmp_path):
    from engine.png.chunks import read_png_metadata
    from playground_gui.app import main

    _, latent = upscaler_folders
    out = tmp_path / "latent.png"
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                 "--guidance", "1", "--hires-scale", "2", "--hires-strength", "0.5",
                 "--hires-upscaler-model", str(latent), "--out", str(out), "--quiet"]) == 0
    with Image.open(out) as image:
        assert image.size == (128, 128)
        text = image.text["parameters"]
    assert parse_parameters(text).extra["Hires upscaler"] == "tiny-latent-upscaler"
    assert read_png_metadata(out).request["hires_upscaler_model"] == str(latent)


def test_x4_upscaler_enlarges_the_decoded_image_four_times(tiny_folder, upscaler_folders):
    # The upscale step alone: a whole run would spend seconds in the tiny SD's VAE and UNet
    # at 256² px, which tells nothing more about the upscaler.
    from engine.runtime import import_torch
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.upscalers import load_upscaler, model_upscale

    torch = import_torch()
    x4, _ = upscaler_folders
    request = tiny_request(tiny_folder, guidance_scale=1.0, hires_scale=4.0, hires_steps=1,
                           hires_upscaler_model=str(x4))
    pipe = get_pipeline(request.source, request.options).pipe
    upscaler = load_upscaler(str(x4), pipe.unet.device, pipe.unet.dtype)
    assert type(upscaler).__name__ == "StableDiffusionUpscalePipeline"
    base = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(0))  # 64 px base
    with torch.inference_mode():
        upscaled = model_upscale(upscaler, pipe, base, request, [7])
    assert upscaled.shape == (1, 4, 128, 128)  # 256 px in the tiny SD's latents (VAE ×2)
    assert torch.isfinite(upscaled).all()
    assert load_upscaler(str(x4), pipe.unet.device, pipe.unet.dtype) is upscaler  # cached


def test_a_scale_that_is_not_the_upscalers_factor_is_refused(tiny_folder, upscaler_folders):
    x4, _ = upscaler_folders
    request = tiny_request(tiny_folder, hires_scale=2.0, hires_upscaler_model=str(x4))
    with pytest.raises(ValueError, match=r"enlarges ×4; set the hires scale to 4 \(it is 2\)"):
        run_generation(request, Reporter())


def test_a_folder_that_is_not_an_upscaler_is_refused(tiny_folder):
    request = tiny_request(tiny_folder, hires_scale=2.0,
                           hires_upscaler_model=tiny_folder.location)
    with pytest.raises(ValueError, match="holds a StableDiffusionPipeline, not an upscaler"):
        run_generation(request, Reporter())
    with pytest.raises(ValueError, match="upscaler model must be a folder or hub id"):
        tiny_request(tiny_folder, hires_scale=2.0, hires_upscaler_model="  ")
