"""Sampler lab: fitted orders with the exact model, and the ``sampler-lab`` command's rules."""

from __future__ import annotations

import csv
import os
import signal
import sys

import numpy as np
import pytest

from engine.toy2d.exact import dataset_mixture, denoiser
from engine.toy2d.sampler_lab import compare_samplers, fitted_order, sigma_range
from engine.toy2d.types import DatasetSpec, SamplerLabRequest
from playground_gui.app import main

# diffusers' linear schedule (β 1e-4 … 0.02, T = 1000), without importing it
LINEAR_ALPHAS_CUMPROD = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
ORDER_RANGES = {"ddim": (0.8, 1.3), "heun": (1.7, 2.6), "dpmpp_2m": (1.7, 2.6)}


def test_orders_come_out_one_for_ddim_and_two_for_heun_and_dpmpp_2m():
    sigma_min, sigma_max = sigma_range(LINEAR_ALPHAS_CUMPROD)
    assert sigma_min == pytest.approx(0.01, rel=1e-3) and sigma_max == pytest.approx(157, rel=0.01)
    noise = np.random.default_rng(0).standard_normal((300, 2))  # small and fast
    rows, orders, reference_change = compare_samplers(
        denoiser(dataset_mixture(DatasetSpec("gaussian_mixture"))), noise, sigma_min, sigma_max,
        tuple(ORDER_RANGES), (8, 16, 32, 64), reference_steps=256)
    assert [(name, steps) for name, steps, _ in rows] == [
        (name, n) for name in ORDER_RANGES for n in (8, 16, 32, 64)]
    for name, (low, high) in ORDER_RANGES.items():
        assert low <= orders[name] <= high, (name, orders[name])
    assert reference_change < 1e-3 * min(error for _, _, error in rows)


def test_fitted_order_and_the_zero_snr_sigma_range():
    assert fitted_order([10, 20, 40], [1.0, 0.25, 0.0625]) == pytest.approx(2)
    assert np.isnan(fitted_order([10, 20], [1.0, 0.0]))
    alphas_cumprod = np.array([0.99, 0.5, 0.01, 0.0])
    assert sigma_range(alphas_cumprod) == pytest.approx((np.sqrt(0.01 / 0.99), np.sqrt(99)))


def test_requests_refuse_what_cannot_give_an_order():
    with pytest.raises(ValueError, match="two different step counts"):
        SamplerLabRequest(steps=(8, 8))
    with pytest.raises(ValueError, match="at least|between 1000"):
        SamplerLabRequest(num_points=10)
    with pytest.raises(ValueError, match="more steps"):
        SamplerLabRequest(steps=(8, 600))
    with pytest.raises(ValueError, match="Unknown sampler"):
        SamplerLabRequest(samplers=("lms",))


def test_the_command_writes_rows_and_prints_orders(tmp_path, capsys, monkeypatch):
    # ᾱ without importing diffusers (seconds); builder.noise_schedule is pinned to diffusers'
    # own in tests/engine/samplers/test_registry.py.
    import engine.samplers.builder

    monkeypatch.setattr(engine.samplers.builder, "noise_schedule",
                        lambda config: (None, LINEAR_ALPHAS_CUMPROD))
    out = tmp_path / "lab.csv"
    args = ["sampler-lab", "--dataset", "gaussian_mixture", "--samplers", "DDIM,heun",
            "--steps", "4,8", "--reference-steps", "16", "--csv", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["sampler", "steps", "error"]
    assert [row[:2] for row in rows[1:]] == [["ddim", "4"], ["ddim", "8"], ["heun", "4"],
                                             ["heun", "8"]]
    assert all(float(row[2]) > 0 for row in rows[1:])
    assert "order p" in printed and "exact Gaussian mixture" in printed
    # The target is checked before the run: an existing CSV is refused without --overwrite.
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    (["--samplers", "ddim,lms"], "unknown sampler 'lms'"),
    (["--seed", str(2**32)], "out of range"),
    (["--steps", "8"], "two different step counts"),
])
def test_the_command_refuses_bad_options_with_a_sentence(tmp_path, capsys, extra, message):
    try:
        code = main(["sampler-lab", "--csv", str(tmp_path / "x.csv"), *extra])
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cancels_the_run_with_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import engine.reporting
    import engine.samplers.builder

    monkeypatch.setattr(engine.samplers.builder, "noise_schedule",
                        lambda config: (None, LINEAR_ALPHAS_CUMPROD))
    real = engine.reporting.Reporter.progress
    seen = {"n": 0}

    def progress(self, done, total, message=""):
        seen["n"] += 1
        if seen["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C sends, mid-run
        return real(self, done, total, message)

    monkeypatch.setattr(engine.reporting.Reporter, "progress", progress)
    out = tmp_path / "lab.csv"
    assert main(["sampler-lab", "--reference-steps", "5000", "--csv", str(out)]) == 130
    assert "cancelled" in capsys.readouterr().err
    assert seen["n"] <= 4 and not out.exists()  # stopped at the next step


def test_the_lab_is_a_job_of_the_toy2d_feature():
    from engine.jobs import handler_for
    from engine.toy2d.sampler_lab import run_sampler_lab_job

    assert handler_for(SamplerLabRequest()) is run_sampler_lab_job
