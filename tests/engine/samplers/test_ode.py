"""Our own probability-flow ODE samplers in σ (engine/samplers/ode.py), against an exact solution."""

from __future__ import annotations

import numpy as np
import pytest

from engine.samplers.builder import sampler_function
from engine.samplers.ode import (
    karras_sigmas,
    sample_dpmpp_2m,
    sample_euler,
    sample_heun,
    sample_rk4,
)

S2 = 0.3 ** 2  # data N(0, s²·I): D(x, σ) = x·s²/(s² + σ²), and x(σ) ∝ √(s² + σ²) along the ODE


def gaussian_denoiser(x, sigma):
    return x * S2 / (S2 + sigma * sigma)


def exact_end(x, sigma_from, sigma_to):
    return x * np.sqrt((S2 + sigma_to ** 2) / (S2 + sigma_from ** 2))


def test_karras_sigmas_run_from_max_to_min_without_zero():
    sigmas = karras_sigmas(10, 0.01, 80.0)
    assert len(sigmas) == 11 and sigmas[0] == pytest.approx(80) and sigmas[-1] == pytest.approx(0.01)
    assert (np.diff(sigmas) < 0).all()
    np.testing.assert_allclose(np.diff(sigmas ** (1 / 7)), np.diff(sigmas ** (1 / 7))[0])


@pytest.mark.parametrize(("sampler", "order"), [(sample_euler, 1), (sample_heun, 2),
                                                 (sample_dpmpp_2m, 2), (sample_rk4, 4)])
def test_each_sampler_converges_with_its_order(sampler, order):
    x = np.random.default_rng(0).standard_normal((64, 2)) * 10
    errors = []
    for steps in (16, 32):
        end = sampler(gaussian_denoiser, x, karras_sigmas(steps, 0.05, 10.0))
        errors.append(np.abs(end - exact_end(x, 10.0, 0.05)).mean())
    assert np.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.35)


def test_euler_is_ddim_and_the_callback_sees_every_step():
    x = np.array([[1.0, -2.0]])
    seen = []
    end = sample_euler(gaussian_denoiser, x, np.array([2.0, 0.5]), callback=seen.append)
    denoised = gaussian_denoiser(x, 2.0)
    np.testing.assert_allclose(end, 0.25 * x + 0.75 * denoised)  # (σ'/σ)·x + (1 − σ'/σ)·x̂₀
    assert [info["i"] for info in seen] == [0] and set(seen[0]) == {"x", "i", "sigma", "denoised"}
    # A final step to σ = 0 gives the denoised point.
    for sampler in (sample_heun, sample_dpmpp_2m):
        np.testing.assert_allclose(sampler(gaussian_denoiser, x, np.array([1.0, 0.0])),
                                   gaussian_denoiser(x, 1.0))


def test_the_registry_entries_are_these_functions():
    assert sampler_function("ode_ddim") is sample_euler
    assert sampler_function("ode_heun") is sample_heun
    assert sampler_function("ode_dpmpp_2m") is sample_dpmpp_2m
    assert sampler_function("ode_rk4") is sample_rk4
