"""Pins the diffusers behaviour engine/samplers/x0_capture.py relies on: which schedulers return
x̂₀ from ``step`` (and where), and that the derived x̂₀ inverts the forward process."""

from __future__ import annotations

import inspect

import pytest

from engine.samplers.builder import make_scheduler
from engine.samplers.registry import SAMPLERS
from engine.samplers.x0_capture import (
    DERIVES_X0,
    FLOW_X0,
    RETURNS_X0,
    PredictionCapture,
    alpha_bar_at,
    predicted_x0,
    returned_x0,
    x0_from_model_output,
)

CONFIG = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
          "beta_schedule": "scaled_linear", "clip_sample": False}
CLASSES = sorted({s.scheduler_class for s in SAMPLERS if s.scheduler_class}
                 - FLOW_X0)
FLOW_KEYS = tuple(s.key for s in SAMPLERS if s.key.startswith("flow_"))


def one_step(scheduler, return_dict: bool, seed: int = 0):
    """x_t = √ᾱ·x₀ + √(1−ᾱ)·ε at the first timestep, stepped with the true ε as ε̂."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x0, eps = torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, 8, 8, generator=g)
    scheduler.set_timesteps(10)
    t = scheduler.timesteps[0]
    alpha_bar = alpha_bar_at(scheduler, t)
    x_t = alpha_bar ** 0.5 * x0 + (1 - alpha_bar) ** 0.5 * eps
    sample = x_t / scheduler.scale_model_input(torch.ones_like(x_t), t)  # σ scale where used
    kwargs = {"generator": torch.Generator().manual_seed(1)} \
        if "generator" in inspect.signature(scheduler.step).parameters else {}
    output = scheduler.step(eps, t, sample, return_dict=return_dict, **kwargs)
    return output, x0, eps, x_t, sample, t


def test_the_pinned_sets_cover_every_registry_class():
    assert set(CLASSES) == RETURNS_X0 | DERIVES_X0 and not RETURNS_X0 & DERIVES_X0
    flow_classes = {s.scheduler_class for s in SAMPLERS if s.key in FLOW_KEYS}
    assert FLOW_X0 <= flow_classes <= FLOW_X0 | DERIVES_X0


@pytest.mark.parametrize("key", FLOW_KEYS)
def test_flow_x0_is_the_straight_line_inverted(key):
    """x_σ = (1 − σ)·x₀ + σ·ε with the true v = ε − x₀: the captured x̂₀ is the true x₀, and for
    DPM-Solver++ it is the solver's own internal x̂₀."""
    import torch

    scheduler = make_scheduler(key, {"num_train_timesteps": 1000, "shift": 3.0}, flow_shift=3.0)
    capture = PredictionCapture(scheduler)
    scheduler.set_timesteps(6)
    g = torch.Generator().manual_seed(4)
    x0, eps = torch.randn(1, 16, 4, 4, generator=g), torch.randn(1, 16, 4, 4, generator=g)
    for t in scheduler.timesteps[:2]:
        sigma = float(scheduler.sigmas[scheduler.step_index or 0])
        x_t = (1 - sigma) * x0 + sigma * eps
        scheduler.step(eps - x0, t, x_t)
        torch.testing.assert_close(capture.x0, x0, atol=1e-4, rtol=1e-4)
    if key == "flow_dpmpp_2m":
        torch.testing.assert_close(capture.x0, scheduler.model_outputs[-1], atol=1e-5, rtol=1e-5)
    capture.restore()


@pytest.mark.parametrize("class_name", CLASSES)
def test_which_schedulers_return_x0_and_the_capture_matches_the_true_x0(class_name):
    import torch

    key = next(s.key for s in SAMPLERS if s.scheduler_class == class_name)
    for return_dict in (True, False):
        scheduler = make_scheduler(key, CONFIG)
        output, x0, eps, x_t, sample, t = one_step(scheduler, return_dict)
        carried = returned_x0(output, sample)
        assert (carried is not None) == (class_name in RETURNS_X0), (class_name, return_dict)
        estimate, derived = predicted_x0(scheduler, output, eps, t, x_t)
        assert derived == (class_name in DERIVES_X0)
        # ε̂ is the true ε, so every x̂₀ (the scheduler's own or derived) is the true x₀.
        torch.testing.assert_close(estimate, x0, atol=2e-3, rtol=1e-3)


def test_derived_x0_is_the_forward_process_inverted():
    import torch

    g = torch.Generator().manual_seed(3)
    x_t, eps = torch.randn(1, 4, 4, 4, generator=g), torch.randn(1, 4, 4, 4, generator=g)
    alpha_bar = 0.3
    alpha, sigma = alpha_bar ** 0.5, (1 - alpha_bar) ** 0.5
    torch.testing.assert_close(x0_from_model_output(eps, x_t, alpha_bar), (x_t - sigma * eps) / alpha)
    torch.testing.assert_close(x0_from_model_output(eps, x_t, alpha_bar, "v_prediction"),
                               alpha * x_t - sigma * eps)
    assert x0_from_model_output(eps, x_t, alpha_bar, "sample") is not None


def test_derived_x0_equals_the_multistep_solvers_own_internal_x0():
    """DPM-Solver++ and UniPC convert ε̂ to x̂₀ internally (``model_outputs``) but never return
    it: ours must be the same number."""
    import torch

    for key in ("dpmpp_2m", "unipc"):
        scheduler = make_scheduler(key, CONFIG)
        output, _x0, eps, x_t, sample, t = one_step(scheduler, True, seed=5)
        estimate, derived = predicted_x0(scheduler, output, eps, t, sample)
        assert derived
        torch.testing.assert_close(estimate, scheduler.model_outputs[-1], atol=1e-5, rtol=1e-5)


def test_prediction_capture_wraps_step_keeping_its_signature():
    import torch

    scheduler = make_scheduler("pndm", dict(CONFIG, prediction_type="v_prediction"))
    original = scheduler.step
    capture = PredictionCapture(scheduler)
    assert inspect.signature(scheduler.step) == inspect.signature(original)
    scheduler.set_timesteps(5)
    t = scheduler.timesteps[0]
    x_t, v = torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4)
    scheduler.step(v, t, x_t, return_dict=False)
    alpha_bar = float(scheduler.alphas_cumprod[int(t)])
    torch.testing.assert_close(capture.x0, alpha_bar ** 0.5 * x_t - (1 - alpha_bar) ** 0.5 * v)
    capture.restore()
    assert scheduler.step == original
