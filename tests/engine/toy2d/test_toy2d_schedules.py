"""The 2D toy with every schedule of the schedules tab, zero terminal SNR included (issue 11 §1).

The full matrix (4 schedules × zero-SNR or not × DDPM/DDIM, each trained as the app trains) is a
benchmark: tests/benchmarks/bench_toy2d_schedules.py. Here: every combination samples without
NaN or error, and sigmoid + zero SNR, the case that broke, reaches the quality bar with a short
training.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.schedules.types import SCHEDULE_NAMES, ScheduleSpec
from engine.toy2d.types import DatasetSpec, SampleRequest, TrainRequest, sampling_steps

SIGMOID_ZERO_SNR = ScheduleSpec.preset("sigmoid", 1000, rescale_zero_snr=True)


@pytest.fixture(scope="module")
def swiss_roll_model():
    """Sigmoid + zero SNR on the swiss roll. A short, brisk training (1500 steps of batch 1024
    at lr 3e−3, a few seconds) in place of the app's 10 000 steps at 1e−3."""
    from engine.toy2d.training import run_train_job

    return run_train_job(TrainRequest(dataset=DatasetSpec("swiss_roll"), schedule=SIGMOID_ZERO_SNR,
                                      steps=1500, batch_size=1024, learning_rate=3e-3, seed=0),
                         Reporter()).model


@pytest.mark.parametrize("zero_snr", [False, True], ids=["plain", "zero-snr"])
@pytest.mark.parametrize("name", list(SCHEDULE_NAMES))
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_every_schedule_samples_finite_points(swiss_roll_model, name, zero_snr, sampler):
    from engine.toy2d.sampling import run_sample_job

    spec = ScheduleSpec.preset(name, 1000, zero_snr)
    # Finite whatever the weights: the trained network under each schedule (no retraining;
    # the quality of matching pairs is the benchmark's and the test below's job).
    model = dataclasses.replace(swiss_roll_model, schedule=spec)
    result = run_sample_job(SampleRequest(model=model, sampler=sampler, num_points=64,
                                          num_inference_steps=10, max_frames=11), Reporter())
    assert np.isfinite(result.trajectory).all()
    assert np.isfinite([result.quality.mmd, result.quality.nn_distance]).all()
    # ε-prediction cannot form x̂₀ where ᾱ = 0: sampling starts one step earlier, and says so.
    assert result.start_t == (998 if zero_snr else 999)
    assert ("Started at t = 998" in result.start_note) == zero_snr
    if sampler == "ddpm":  # the GUI's torch-free default step count agrees with the engine
        from engine.toy2d.schedule import schedule_betas, usable_timesteps

        assert sampling_steps(spec) == usable_timesteps(schedule_betas(spec)) == 999 + (not zero_snr)


def test_samplers_use_the_model_schedule_betas():
    from engine.schedules.curves import compute_curves
    from engine.toy2d.schedule import sampling_scheduler

    curves = compute_curves(SIGMOID_ZERO_SNR)
    assert curves.alphas_cumprod[-1] == 0
    for sampler in ("ddpm", "ddim"):
        scheduler = sampling_scheduler(SIGMOID_ZERO_SNR, sampler, clip_range=3.0)
        assert scheduler.config.num_train_timesteps == 999  # all but the ᾱ = 0 step
        np.testing.assert_allclose(scheduler.alphas_cumprod.double().numpy(),
                                   curves.alphas_cumprod[:999], rtol=1e-6)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_sigmoid_zero_snr_samples_lie_on_the_swiss_roll(swiss_roll_model, sampler):
    from engine.toy2d.sampling import run_sample_job

    result = run_sample_job(SampleRequest(model=swiss_roll_model, sampler=sampler,
                                          num_points=300, seed=0), Reporter())
    q = result.quality
    assert result.num_inference_steps == (999 if sampler == "ddpm" else 50)
    assert q.nn_distance <= 2 * q.nn_distance_real_reference, q.summary


def test_saved_model_keeps_its_zero_snr_schedule(swiss_roll_model, tmp_path):
    from engine.toy2d.storage import load_model, save_model

    save_model(swiss_roll_model, tmp_path / "roll.safetensors")
    assert load_model(tmp_path / "roll.safetensors").schedule == SIGMOID_ZERO_SNR


def test_cli_zero_snr_with_any_schedule(tmp_path, capsys):
    from main import main

    generated, real = tmp_path / "gen.csv", tmp_path / "real.csv"
    code = main(["toy2d", "--dataset", "swiss_roll", "--schedule", "sigmoid", "--zero-snr",
                 "--steps", "20", "--samples", "50", "--sampler", "ddim", "--sampling-steps", "5",
                 "--out", str(generated), "--real-out", str(real)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "zero-SNR" in printed and "Started at t = 998" in printed
    with open(generated, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(rows) == 50 and np.isfinite(np.array(rows, dtype=float)).all()
