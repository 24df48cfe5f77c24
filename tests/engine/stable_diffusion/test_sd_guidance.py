"""Guidance taken apart (engine/stable_diffusion/guidance.py) on the tiny pipeline: recording the
two branches leaves the image as it is, the cut-off halves the UNet batch, rescale 0 is plain."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from engine.reporting import Reporter
from tests.engine.stable_diffusion.sd_fixtures import tiny_request

COMMON = dict(steps=2, guidance_scale=5.0, scheduler="DDIM", negative_prompt="blue")


def _run(request):
    from engine.stable_diffusion.generation import run_generation

    return run_generation(request, Reporter())


def test_recording_the_branches_does_not_change_the_image(tiny_folder, monkeypatch):
    from engine.stable_diffusion import guidance

    recorded = _run(tiny_request(tiny_folder, batch_size=2, **COMMON))
    record = recorded.guidance
    assert record.steps == (1, 2) and record.guided_steps == 2
    assert record.unconditional[0].shape == (2, 2, 4, 32, 32)
    assert record.norms[0].shape == (2, 4, 2) and np.isfinite(record.norms[0]).all()

    # Without the probe: no hook, no step wrapper, the step recorder alone as callback.
    monkeypatch.setattr(guidance.GuidanceProbe, "attached",
                        lambda self: contextlib.nullcontext(self))
    monkeypatch.setattr(guidance.GuidanceProbe, "callback", lambda self, recorder: recorder)
    monkeypatch.setattr(guidance.GuidanceProbe, "record", lambda self: None)
    plain = _run(tiny_request(tiny_folder, batch_size=2, **COMMON))
    assert plain.guidance is None
    for with_probe, without in zip(recorded.images, plain.images, strict=True):
        assert np.array_equal(with_probe, without)


def test_the_branches_combine_into_the_guided_prediction(tiny_folder):
    """The scheduler's own x̂₀ of the guided ε̂ is x̂₀(∅) + g·(x̂₀(c) − x̂₀(∅)): the parts add
    up (Euler: its x̂₀ is not clipped, as the tiny model's DDIM clips to ±1)."""
    result = _run(tiny_request(tiny_folder, **{**COMMON, "scheduler": "Euler"}))
    record = result.guidance
    unconditional, conditional = record.pred_unconditional[0], record.pred_conditional[0]
    combined = unconditional + 5.0 * (conditional - unconditional)
    assert np.allclose(combined, result.step_predictions[0], rtol=1e-3, atol=1e-3)
    difference = record.conditional[0] - record.unconditional[0]
    rms = np.sqrt((difference.reshape(2, -1) ** 2).mean(axis=1))
    assert np.allclose(rms, record.norms[0][:, 2, 0], rtol=1e-4)


def test_a_negative_prompt_is_the_unconditional_branch(tiny_folder):
    """With negative prompt "blue" the unconditional half is what the prompt "blue" predicts as
    the conditional half (same x_T, first step); the conditional half does not change."""
    with_negative = _run(tiny_request(tiny_folder, **COMMON)).guidance
    without = _run(tiny_request(tiny_folder, **{**COMMON, "negative_prompt": ""})).guidance
    blue = _run(tiny_request(tiny_folder, **{**COMMON, "prompt": "blue",
                                             "negative_prompt": ""})).guidance
    assert np.allclose(with_negative.conditional[0][0], without.conditional[0][0], atol=1e-6)
    assert not np.allclose(with_negative.unconditional[0][0], without.unconditional[0][0],
                           atol=1e-4)
    assert np.allclose(with_negative.unconditional[0][0], blue.conditional[0][0], atol=1e-5)


def _count_unet_batches(pipe_unet, calls):
    return pipe_unet.register_forward_pre_hook(
        lambda module, args: calls.append(int(args[0].shape[0])))


@pytest.mark.parametrize("mode", ["txt2img", "inpaint"])
def test_the_cutoff_halves_the_unet_batch_after_it(tiny_folder, mode):
    from engine.stable_diffusion.loading import get_pipeline
    from tests.engine.stable_diffusion.sd_fixtures import CPU

    extra = {}
    if mode == "inpaint":
        mask = np.zeros((64, 64), np.uint8)
        mask[:, 32:] = 255
        extra = dict(mode="inpaint", init_image=np.full((64, 64, 3), 120, np.uint8), mask=mask,
                     strength=1.0)
    unet = get_pipeline(tiny_folder, CPU, Reporter()).pipe.unet
    calls: list[int] = []
    handle = _count_unet_batches(unet, calls)
    try:
        cut = _run(tiny_request(tiny_folder, batch_size=2, guidance_cutoff=0.5, **COMMON,
                                **extra))
    finally:
        handle.remove()
    assert calls == [4, 2]  # two images: [∅, ∅, c, c] for 1 of the 2 steps, then [c, c]
    record = cut.guidance
    assert record.guided_steps == 1 and record.has_unconditional == (True, False)
    assert np.isnan(record.norms[0][1:, 0]).all() and np.isfinite(record.norms[0][:1]).all()
    # After the cut-off the guided prediction is the conditional one.
    assert np.allclose(record.norms[0][1:, 3], record.norms[0][1:, 1])
    assert cut.parameters["guidance_cutoff"] == 0.5
    if mode == "txt2img":
        full = _run(tiny_request(tiny_folder, batch_size=2, **COMMON))
        assert not np.array_equal(cut.images[0], full.images[0])


def test_rescale_zero_is_plain_and_the_helped_pipelines_rescale_as_txt2img_does(
        tiny_folder, monkeypatch):
    from engine.stable_diffusion import guidance

    plain = _run(tiny_request(tiny_folder, guidance_rescale=0.0, **COMMON))
    native = _run(tiny_request(tiny_folder, guidance_rescale=0.7, **COMMON))
    assert not np.array_equal(native.images[0], plain.images[0])
    # img2img/inpaint's path (the step wrapper with diffusers' rescale_noise_cfg), forced on
    # txt2img: the same latents as the pipeline's own guidance_rescale.
    original = guidance.GuidanceProbe.__init__
    monkeypatch.setattr(guidance.GuidanceProbe, "__init__",
                        lambda self, pipe, request: original(self, pipe, request,
                                                             native_rescale=False))
    helped = _run(tiny_request(tiny_folder, guidance_rescale=0.7, **COMMON))
    assert np.allclose(helped.step_predictions[0], native.step_predictions[0], atol=1e-5)
    assert native.parameters["guidance_rescale"] == 0.7


def test_options_are_checked_and_the_budget_thins_the_branches(tiny_folder, monkeypatch):
    from engine.stable_diffusion import recording

    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="guidance cut-off must be a number from 0 to 1"):
            tiny_request(tiny_folder, guidance_cutoff=bad)
        with pytest.raises(ValueError, match="guidance rescale must be a number from 0 to 1"):
            tiny_request(tiny_folder, guidance_rescale=bad)
    # 4 arrays of 4×32×32 float32 a step = 64 KB; 4 steps in a 96 KB budget: float16, every
    # second step and the last (1, 3, 4 in 3 × 32 KB).
    monkeypatch.setattr(recording, "MB", 32 * 1024)
    from engine.stable_diffusion import guidance
    monkeypatch.setattr(guidance, "MB", 32 * 1024)
    thin = _run(tiny_request(tiny_folder, recording_budget_mb=3, **{**COMMON, "steps": 4}))
    record = thin.guidance
    assert record.steps == (1, 3, 4) and record.unconditional[0].dtype == np.float16
    assert record.norms[0].shape == (4, 4, 1)  # the norms of every step all the same
    assert "3 of 4 steps" in record.note
    none = _run(tiny_request(tiny_folder, guidance_cutoff=0.0, **COMMON)).guidance
    assert none.guided_steps == 0 and "No guidance ran" in none.note


def test_cli_options_reach_the_png(tiny_folder, tmp_path):
    from engine.png.chunks import read_png_metadata
    from playground_gui.app import main

    out = tmp_path / "g.png"
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps",
                 "2", "--width", "64", "--height", "64", "--seed", "1", "--device", "cpu",
                 "--quiet", "--guidance-cutoff", "0.5", "--guidance-rescale", "0.7",
                 "--out", str(out)]) == 0
    metadata = read_png_metadata(out)
    assert metadata.request["guidance_cutoff"] == 0.5
    assert metadata.request["guidance_rescale"] == 0.7
    assert "CFG cut-off: 0.5, CFG rescale: 0.7" in metadata.parameters_text
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a", "--out",
                 str(tmp_path / "bad.png"), "--guidance-cutoff", "2"]) == 2
