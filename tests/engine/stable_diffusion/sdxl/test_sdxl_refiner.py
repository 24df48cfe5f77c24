"""The SDXL refiner (engine/stable_diffusion/refiner.py) on tiny random base and refiner
folders: one recording over both models' steps with the switch marked, shared VAE and second
text encoder, the same image for the same seed, and A1111's "Refiner" pair in the PNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserFacingError
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.sdxl_types import SdxlOptions
from tests.engine.stable_diffusion.sd_fixtures import tiny_request


def test_refiner_run_is_one_recording_with_the_switch_step(sdxl_source, refiner_dir):
    from engine.stable_diffusion import refiner as refiner_module
    from engine.stable_diffusion.loading import get_pipeline

    request = tiny_request(sdxl_source, steps=5, scheduler="Euler", record_steps=True,
                           sdxl=SdxlOptions(refiner=str(refiner_dir), refiner_switch=0.6))
    result = run_generation(request, Reporter())
    # Euler's 5 timesteps 801, 601, 401, 201, 1: the base runs those ≥ 400 (60 % of 1000).
    record = result.refiner
    assert (record.base_model_calls, record.model_calls, record.switch_step) == (3, 2, 4)
    assert result.recorded_steps == (1, 2, 3, 4, 5) and result.model_calls == 5
    assert result.timesteps == (801.0, 601.0, 401.0, 201.0, 1.0)
    assert result.step_latents[0].shape[0] == 5 == result.steps_done
    # The refiner changed the end of the run: not the base's own 5-step image.
    plain = run_generation(tiny_request(sdxl_source, steps=5, scheduler="Euler"), Reporter())
    assert not np.array_equal(plain.images[0], result.images[0])
    again = run_generation(request, Reporter())  # the refiner stays loaded
    assert np.array_equal(again.images[0], result.images[0])
    model = refiner_module._refiner
    base = get_pipeline(sdxl_source, request.options).pipe
    assert record.shared == ("text_encoder_2", "vae")
    assert model.pipe.vae is base.vae and model.pipe.text_encoder_2 is base.text_encoder_2
    assert model.pipe.unet is not base.unet and model.pipe.text_encoder is None
    run_generation(tiny_request(sdxl_source), Reporter())  # a run without it lets it go
    assert refiner_module._refiner is None


def test_cancel_in_the_refiner_steps_keeps_both_models_steps(sdxl_source, refiner_dir):
    import threading

    from engine.errors import Cancelled

    cancel = threading.Event()

    def on_partial(preview):  # the refiner's first step (4 of 5): cancel there
        if preview.step == 4:
            cancel.set()

    request = tiny_request(sdxl_source, steps=5, scheduler="Euler", record_steps=True,
                           preview_every=1, sdxl=SdxlOptions(refiner=str(refiner_dir),
                                                             refiner_switch=0.6))
    with pytest.raises(Cancelled) as info:
        run_generation(request, Reporter(cancel, on_partial=on_partial))
    partial = info.value.partial
    assert partial.cancelled and partial.images == () and partial.steps_done == 4
    assert partial.recorded_steps == (1, 2, 3, 4) and partial.refiner.switch_step == 4
    assert partial.partial_latents.shape == (1, 4, 32, 32)
    assert np.isfinite(partial.partial_latents).all()


def test_refiner_weights_that_differ_are_not_shared(sdxl_source, refiner_dir, tmp_path):
    from engine.fixtures.tiny_sdxl import build_tiny_sdxl_pipeline
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.refiner import same_weights

    base = get_pipeline(sdxl_source, tiny_request(sdxl_source).options).pipe
    assert same_weights(refiner_dir / "vae", base.vae)
    other = build_tiny_sdxl_pipeline(seed=5)  # same architecture, other weights
    other.vae.save_pretrained(tmp_path / "vae")
    assert not same_weights(tmp_path / "vae", base.vae)


def test_refiner_is_refused_where_it_cannot_run(sdxl_source, refiner_dir, tiny_folder):
    sdxl = SdxlOptions(refiner=str(refiner_dir))
    with pytest.raises(UserFacingError, match="text → image only"):
        run_generation(tiny_request(sdxl_source, mode="img2img", sdxl=sdxl,
                                    init_image=np.zeros((64, 64, 3), np.uint8)), Reporter())
    with pytest.raises(UserFacingError, match="hires fix do not combine"):
        run_generation(tiny_request(sdxl_source, hires_scale=1.5, sdxl=sdxl), Reporter())
    with pytest.raises(UserFacingError, match="leaves the base no step"):  # Euler: 501, 1
        run_generation(tiny_request(sdxl_source, steps=2, scheduler="Euler", sdxl=SdxlOptions(
            refiner=str(refiner_dir), refiner_switch=0.3)), Reporter())


def test_cli_refiner_is_recorded_as_a1111_does(sdxl_dir, refiner_dir, tmp_path):
    from engine.png.a1111 import parse_parameters
    from engine.png.chunks import read_png_metadata
    from engine.png.record import request_from_record
    from engine.stable_diffusion.types import GenerationRequest
    from playground_gui.app import main

    out = tmp_path / "refined.png"
    assert main(["generate", "--model", str(sdxl_dir), "--prompt", "a cat", "--steps", "3",
                 "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                 "--refiner", str(refiner_dir), "--refiner-switch", "0.5", "--out", str(out),
                 "--quiet"]) == 0
    with Image.open(out) as image:
        text = image.text["parameters"]
    assert "Refiner: tiny-sdxl-refiner, Refiner switch at: 0.5" in text
    assert parse_parameters(text).extra["Refiner"] == "tiny-sdxl-refiner"
    restored, _ = request_from_record(GenerationRequest, read_png_metadata(out).request)
    assert restored.sdxl == SdxlOptions(refiner=str(refiner_dir), refiner_switch=0.5)
    assert main(["generate", "--model", str(sdxl_dir), "--prompt", "a cat", "--out",
                 str(tmp_path / "x.png"), "--refiner-switch", "0.5"]) == 2
