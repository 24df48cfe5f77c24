"""Schedule values against the published formulas, not against our own code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.images import make_test_card
from engine.schedules.curves import compute_curves, noised_strip, strip_timesteps
from engine.schedules.types import ScheduleSpec

T = 1000


def test_linear_betas_are_evenly_spaced():
    curves = compute_curves(ScheduleSpec("linear", T, 1e-4, 0.02))
    np.testing.assert_allclose(curves.betas, np.linspace(1e-4, 0.02, T), rtol=1e-6)
    np.testing.assert_allclose(curves.alphas_cumprod, np.cumprod(1 - np.linspace(1e-4, 0.02, T)),
                               rtol=1e-4)


def test_scaled_linear_is_linear_in_sqrt_beta():
    curves = compute_curves(ScheduleSpec("scaled_linear", T, 0.00085, 0.012))
    expected = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), T) ** 2
    np.testing.assert_allclose(curves.betas, expected, rtol=1e-5)


def test_sigmoid_betas_follow_geodiff():
    curves = compute_curves(ScheduleSpec("sigmoid", T, 1e-4, 0.02))
    expected = 1 / (1 + np.exp(-np.linspace(-6, 6, T))) * (0.02 - 1e-4) + 1e-4
    np.testing.assert_allclose(curves.betas, expected, rtol=1e-5)


def test_cosine_alpha_bar_is_f_t_over_f_0_with_beta_clipped():
    """Nichol & Dhariwal: ᾱ_t = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2), β ≤ 0.999.

    diffusers indexes t = 0 … T−1 and takes β_t from f((t+1)/T)/f(t/T), so its ᾱ_t is the
    paper's ᾱ at (t+1)/T.
    """
    s = 0.008
    curves = compute_curves(ScheduleSpec.preset("cosine", T))

    def f(u):
        return np.cos((u + s) / (1 + s) * np.pi / 2) ** 2

    paper = f((np.arange(T) + 1) / T) / f(0)
    unclipped = curves.betas < 0.999 - 1e-9
    first_clip = int(np.argmin(unclipped)) if not unclipped.all() else T
    np.testing.assert_allclose(curves.alphas_cumprod[:first_clip], paper[:first_clip],
                               rtol=1e-4, atol=1e-7)
    assert curves.betas.max() == pytest.approx(0.999, abs=1e-6)
    assert curves.betas[-1] == pytest.approx(0.999, abs=1e-6)


def test_cosine_keeps_more_signal_midway_than_linear():
    linear = compute_curves(ScheduleSpec.preset("linear", T))
    cosine = compute_curves(ScheduleSpec.preset("cosine", T))
    assert cosine.alphas_cumprod[T // 2] > 4 * linear.alphas_cumprod[T // 2]


@pytest.mark.parametrize("name", ["linear", "scaled_linear", "cosine", "sigmoid"])
def test_zero_terminal_snr_rescale(name):
    plain = compute_curves(ScheduleSpec.preset(name, T))
    rescaled = compute_curves(ScheduleSpec.preset(name, T, rescale_zero_snr=True))
    assert plain.alphas_cumprod[-1] > 0
    assert rescaled.alphas_cumprod[-1] == 0.0
    assert rescaled.log_snr[-1] == -np.inf
    assert np.isfinite(rescaled.log_snr[:-1]).all()
    # Lin et al. keep √ᾱ at t = 0 unchanged and only shift/scale the rest.
    assert rescaled.sqrt_alpha_bar[0] == pytest.approx(plain.sqrt_alpha_bar[0], rel=1e-5)


def test_derived_columns_are_consistent():
    curves = compute_curves(ScheduleSpec.preset("linear", 200))
    table = curves.table()
    assert list(table) == ["t", "beta", "alpha_bar", "sqrt_alpha_bar",
                           "sqrt_one_minus_alpha_bar", "log_snr"]
    np.testing.assert_array_equal(table["t"], np.arange(200))
    # Each column against its definition from the β column, computed here independently:
    # β linear from β_start to β_end, ᾱ_t = ∏_{s≤t} (1 − β_s), and the two square roots.
    np.testing.assert_allclose(table["beta"], np.linspace(1e-4, 0.02, 200), rtol=1e-5)
    alpha_bar = np.cumprod(1.0 - table["beta"])
    np.testing.assert_allclose(table["alpha_bar"], alpha_bar, rtol=1e-4)
    np.testing.assert_allclose(table["sqrt_alpha_bar"], np.sqrt(alpha_bar), rtol=1e-4)
    np.testing.assert_allclose(table["sqrt_one_minus_alpha_bar"], np.sqrt(1 - alpha_bar), rtol=1e-4)
    np.testing.assert_allclose(np.exp(table["log_snr"]),
                               table["alpha_bar"] / (1 - table["alpha_bar"]), rtol=1e-9)
    assert np.all(np.diff(table["alpha_bar"]) < 0)


@pytest.mark.parametrize("kwargs", [
    {"name": "bogus"}, {"num_train_timesteps": 1}, {"beta_start": 0.0},
    {"beta_start": 0.02, "beta_end": 0.01}, {"beta_end": 1.0},
])
def test_invalid_specs_are_rejected_with_a_message(kwargs):
    with pytest.raises(ValueError, match=r"\w+"):
        ScheduleSpec(**kwargs)


def test_strip_timesteps_cover_zero_to_t_minus_one():
    assert strip_timesteps(1000, 10) == (0, 111, 222, 333, 444, 555, 666, 777, 888, 999)


def test_noised_strip_goes_from_the_image_to_noise():
    image = make_test_card(48)
    strip = noised_strip(ScheduleSpec.preset("linear", T), image, 5, seed=3)
    assert strip.timesteps == (0, 250, 500, 749, 999)
    first, last = strip.images[0].astype(float), strip.images[-1].astype(float)
    assert first.shape == image.shape and strip.images[0].dtype == np.uint8
    # t = 0: √ᾱ ≈ 1 and noise std 0.01 (≈ 1.3 grey levels): almost the image itself.
    assert np.abs(first - image).mean() < 3
    # t = T−1: √ᾱ ≈ 0.006, so almost no correlation with the image is left.
    correlation = np.corrcoef(last.ravel(), image.astype(float).ravel())[0, 1]
    assert abs(correlation) < 0.1
    # Same seed, same strip; another seed, another one.
    again = noised_strip(ScheduleSpec.preset("linear", T), image, 5, seed=3)
    other = noised_strip(ScheduleSpec.preset("linear", T), image, 5, seed=4)
    np.testing.assert_array_equal(again.images[-1], strip.images[-1])
    assert not np.array_equal(other.images[-1], strip.images[-1])
