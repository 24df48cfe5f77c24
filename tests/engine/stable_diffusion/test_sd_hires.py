"""Hires fix (engine/stable_diffusion/hires.py) on the tiny random pipeline: 64 px, 2 steps."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.png.a1111 import parse_parameters
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.hires_types import hires_fields
from tests.engine.stable_diffusion.sd_fixtures import tiny_request


def test_scale_one_is_exactly_the_plain_image(tiny_folder):
    plain = run_generation(tiny_request(tiny_folder), Reporter())
    off = run_generation(tiny_request(tiny_folder, hires_scale=1.0, hires_strength=0.9),
                         Reporter())
    assert np.array_equal(plain.images[0], off.images[0]) and off.hires is None


@pytest.mark.parametrize("upscaler", ["latent", "lanczos"])
def test_both_upscalers_give_the_scaled_size_and_record_the_second_pass(tiny_folder, upscaler):
    request = tiny_request(tiny_folder, hires_scale=1.3, hires_strength=0.5, hires_steps=4,
                           hires_upscaler=upscaler, scheduler="Euler")
    result = run_generation(request, Reporter())
    assert request.hires_output_size == (80, 80)  # 64 × 1.3 = 83.2 → 80, a multiple of 8
    assert result.images[0].shape == (80, 80, 3)
    # The tiny VAE halves each side: the first pass's latents are 32², the second pass's 40².
    assert result.step_latents[0].shape[-2:] == (32, 32)
    hires = result.hires
    assert hires.model_calls == 2 and hires.recorded_steps == (1, 2)  # int(4 × 0.5) steps
    assert hires.step_latents[0].shape == (2, 1, 4, 40, 40)
    assert result.steps_done == 2 + 2


def test_invalid_hires_settings_are_sentences(tiny_folder):
    with pytest.raises(ValueError, match="hires scale must be a number from 1"):
        tiny_request(tiny_folder, hires_scale=0.5)
    with pytest.raises(ValueError, match="text-to-image only"):
        tiny_request(tiny_folder, mode="img2img", init_image=np.zeros((64, 64, 3), np.uint8),
                     hires_scale=2.0)


def test_cli_hires_parameters_round_trip_through_the_png(tiny_folder, tmp_path):
    from engine.png.chunks import read_png_metadata
    from engine.png.record import request_from_record
    from engine.stable_diffusion.types import GenerationRequest
    from playground_gui.app import main

    out = tmp_path / "hires.png"
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                 "--hires-scale", "1.5", "--hires-strength", "0.6", "--hires-steps", "3",
                 "--hires-upscaler", "lanczos", "--out", str(out), "--quiet"]) == 0
    with Image.open(out) as image:
        assert image.size == (96, 96)
        text = image.text["parameters"]
    assert "Size: 64x64" in text
    parsed = parse_parameters(text)
    assert parsed.extra["Hires upscale"] == "1.5" and parsed.extra["Hires steps"] == "3"
    assert parsed.extra["Hires upscaler"] == "Lanczos"
    assert parsed.denoising_strength == pytest.approx(0.6)
    assert hires_fields(parsed.extra, parsed.denoising_strength) == (
        {"hires_scale": 1.5, "hires_strength": 0.6, "hires_steps": 3,
         "hires_upscaler": "lanczos"}, [])
    restored, _ = request_from_record(GenerationRequest, read_png_metadata(out).request)
    assert (restored.hires_scale, restored.hires_strength, restored.hires_steps,
            restored.hires_upscaler) == (1.5, 0.6, 3, "lanczos")
