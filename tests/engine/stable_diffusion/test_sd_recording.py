"""Step recording keeps to its memory budget (recording.py) and says which steps it kept."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.stable_diffusion.recording import MB, plan_recording
from engine.stable_diffusion.types import GenerationRequest
from tests.engine.stable_diffusion.sd_fixtures import tiny_request

# SD 1.5 at 512² px: 4×64×64 latents, x_t and x̂₀ per image and step.
SD15_VALUES_PER_IMAGE = 2 * 4 * 64 * 64


def recorded_bytes(result) -> int:
    return sum(a.nbytes for a in result.step_latents + result.step_predictions)


def test_the_default_budget_is_512_mb_and_a_normal_run_records_every_step_in_float32():
    assert GenerationRequest("x").recording_budget_mb == 512
    plan = plan_recording(512 * MB, 25, 1, SD15_VALUES_PER_IMAGE)
    assert plan.complete and plan.kept == tuple(range(25)) and plan.batches == 1


@pytest.mark.parametrize("steps, batch_size, batch_count", [
    (150, 8, 1), (151, 8, 100), (150, 1, 100), (26, 4, 10), (2, 8, 100), (1, 1, 1)])
def test_plans_fit_the_budget_and_keep_the_first_and_last_step(steps, batch_size, batch_count):
    values = SD15_VALUES_PER_IMAGE * batch_size
    plan = plan_recording(512 * MB, steps, batch_count, values)
    assert plan.nbytes(values) <= 512 * MB
    assert plan.kept[0] == 0 and plan.kept[-1] == steps - 1
    everything = batch_count * steps * values * 4
    assert plan.complete == (everything <= 512 * MB)


def test_the_plan_trades_precision_first_then_steps_then_batches():
    per_step = 1000  # values of one step (x_t + x̂₀), bytes: ×4 float32, ×2 float16
    assert plan_recording(40_000, 10, 1, per_step).complete  # 10 × 4000 B fits
    half = plan_recording(20_000, 10, 1, per_step)
    assert half.dtype is np.float16 and half.stride == 1
    thinned = plan_recording(10_000, 10, 1, per_step)  # 5 steps of 2000 B
    assert thinned.dtype is np.float16 and thinned.kept == (0, 3, 6, 9)
    ends = plan_recording(8_000, 10, 3, per_step)  # first + last of 2 of the 3 batches
    assert ends.kept == (0, 9) and ends.batches == 2
    assert plan_recording(3_000, 10, 1, per_step) is None  # not even two steps
    assert plan_recording(0, 10, 1, per_step) is None


def test_a_run_over_a_tiny_budget_stays_within_it_and_keeps_the_first_and_last_steps(
        tiny_folder, monkeypatch):
    from engine.stable_diffusion import recording
    from engine.stable_diffusion.generation import run_generation

    # The tiny pipeline's steps are small (64 px: 4×32×32 latents, x_t + x̂₀ = 32 KB a step in
    # float32), so the unit shrinks to 32 KB to keep the run short: 8 steps × 2 batches would
    # take 512 KB; in 5 units (160 KB), float16 and every second step (1, 3, 5, 7, 8) fit.
    monkeypatch.setattr(recording, "MB", 32 * 1024)
    common = dict(steps=8, guidance_scale=1.0, scheduler="DDIM")
    small = run_generation(tiny_request(tiny_folder, recording_budget_mb=5, batch_count=2,
                                        **common), Reporter())
    assert 0 < recorded_bytes(small) <= 5 * 32 * 1024
    assert small.recorded_steps == (1, 3, 5, 7, 8)
    assert len(small.step_latents) == 2 and small.step_latents[0].dtype == np.float16
    assert all(a.shape[0] == 5 for a in small.step_latents + small.step_predictions)
    assert len(small.timesteps) == 5 and any("5 of 8 steps" in w for w in small.warnings)
    assert small.step_number(2) == 3 and small.step_number(5) == 8

    # The kept rows are the same steps as a full recording's, to float16 precision.
    full = run_generation(tiny_request(tiny_folder, **common), Reporter())
    assert full.recorded_steps == tuple(range(1, 9)) and full.step_latents[0].dtype == np.float32
    assert not any("Recorded" in w for w in full.warnings)
    rows = [step - 1 for step in small.recorded_steps]
    assert small.timesteps == tuple(full.timesteps[row] for row in rows)
    for kept, every in ((small.step_latents[0], full.step_latents[0]),
                        (small.step_predictions[0], full.step_predictions[0])):
        assert np.allclose(kept.astype(np.float32), every[rows], rtol=2e-3, atol=2e-3)
    assert np.array_equal(small.images[0], full.images[0])  # the images do not depend on it


def test_budget_zero_records_nothing_and_negative_budgets_are_refused(tiny_folder):
    from engine.stable_diffusion.generation import run_generation

    result = run_generation(tiny_request(tiny_folder, recording_budget_mb=0), Reporter())
    assert result.step_latents == () and result.recorded_steps == () and result.timesteps == ()
    assert result.images and not result.warnings
    with pytest.raises(ValueError, match="recording budget must be a whole number of MB ≥ 0"):
        tiny_request(tiny_folder, recording_budget_mb=-1)


def test_cli_records_only_when_given_a_budget(tiny_folder, tmp_path, capsys, monkeypatch):
    import argparse

    from engine.cli import add_subcommands
    from engine.cli.generate_command import build_request
    from engine.stable_diffusion import recording
    from playground_gui.app import main

    parser = argparse.ArgumentParser()
    add_subcommands(parser)
    plain = ["generate", "--prompt", "x", "--out", str(tmp_path / "x.png")]
    default = build_request(parser.parse_args(plain))
    assert (default.record_steps, default.recording_budget_mb) == (False, 0)
    given = build_request(parser.parse_args([*plain, "--recording-budget", "64"]))
    assert (given.record_steps, given.recording_budget_mb) == (True, 64)
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "0 = no recording" in help_text and "the app records within 512 MB" in help_text

    # 64 px, 3 steps: 96 KB in float32; with 16 KB "megabytes", 3 of them hold float16 only.
    monkeypatch.setattr(recording, "MB", 16 * 1024)
    args = ["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "3",
            "--width", "64", "--height", "64", "--seed", "1", "--scheduler", "DDIM",
            "--device", "cpu", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "a.png"), "--recording-budget", "3"]) == 0
    assert "warning: Recorded all 3 steps in float16, to stay within the 3 MB" in \
        capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b.png"), "--recording-budget", "-5"]) == 2
    assert "recording budget must be a whole number of MB" in capsys.readouterr().err
