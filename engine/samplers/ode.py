"""Our own probability-flow ODE samplers in the σ (VE-scaled, k-diffusion) parametrisation.

Written by hand: diffusers' schedulers step a network's output on their own timestep grid and
have no stepping for an arbitrary denoiser or score function at arbitrary σ. In the σ
parametrisation x̃ = x_0 + σ·ε (x̃ = x_t/√ᾱ, σ² = (1−ᾱ)/ᾱ) the probability-flow ODE is

    dx̃/dσ = (x̃ − D(x̃, σ))/σ = −σ·∇log p_σ(x̃)      (Karras et al. 2022, eq. 3)

for the denoiser D(x̃, σ) = E[x_0 | x̃]. Every sampler here has k-diffusion's shape
``sample_<name>(model, x, sigmas, callback=None)``: ``model(x, σ)`` returns D, ``sigmas`` is the
decreasing grid σ_0 > … > σ_N (it may end at 0), and ``callback`` gets ``{x, i, sigma,
denoised}`` after every step (raise there to stop; the CLI checks its cancel flag). Plain
arithmetic only, so numpy arrays and torch tensors both work.

- ``sample_euler``: Euler on the ODE, which is exactly DDIM with η = 0 (first order);
- ``sample_heun``: Heun's method, Karras et al. Algorithm 1 without churn (second order);
- ``sample_dpmpp_2m``: DPM-Solver++ 2M (Lu et al. 2022), multistep, second order;
- ``sample_rk4``: classical Runge–Kutta, fourth order: the reference solution of the lab.
"""

from __future__ import annotations

import math

import numpy as np


def karras_sigmas(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> np.ndarray:
    """σ_0 = σ_max … σ_N = σ_min, evenly spaced in σ^(1/ρ) (Karras et al. 2022, eq. 5); N + 1
    values, without the final jump to 0."""
    if steps < 1:
        raise ValueError("at least 1 step")
    ramp = np.linspace(0.0, 1.0, steps + 1)
    low, high = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return (high + ramp * (low - high)) ** rho


def _derivative(x, sigma, denoised):
    return (x - denoised) / sigma


def _report(callback, x, i, sigma, denoised) -> None:
    if callback is not None:
        callback({"x": x, "i": i, "sigma": sigma, "denoised": denoised})


def sample_euler(model, x, sigmas, callback=None):
    """Euler = DDIM (η = 0): x̃ ← x̃ + (σ_{i+1} − σ_i)·(x̃ − D)/σ_i, one model call per step."""
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = float(sigmas[i]), float(sigmas[i + 1])
        denoised = model(x, sigma)
        x = x + (sigma_next - sigma) * _derivative(x, sigma, denoised)
        _report(callback, x, i, sigma, denoised)
    return x


def sample_heun(model, x, sigmas, callback=None):
    """Heun: an Euler step, then the trapezoid with the slope at its end (two calls per step;
    a last step to σ = 0 stays Euler, since the slope at 0 is undefined)."""
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = float(sigmas[i]), float(sigmas[i + 1])
        denoised = model(x, sigma)
        slope = _derivative(x, sigma, denoised)
        step = sigma_next - sigma
        if sigma_next == 0:
            x = x + step * slope
        else:
            guess = x + step * slope
            slope_next = _derivative(guess, sigma_next, model(guess, sigma_next))
            x = x + step * 0.5 * (slope + slope_next)
        _report(callback, x, i, sigma, denoised)
    return x


def sample_dpmpp_2m(model, x, sigmas, callback=None):
    """DPM-Solver++ 2M in λ = −log σ: the exponential integrator of the data prediction, with
    D extrapolated linearly from this step's and the previous step's (one call per step; the
    first step, and a last step to σ = 0, are first order, i.e. DDIM)."""
    old_denoised = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = float(sigmas[i]), float(sigmas[i + 1])
        denoised = model(x, sigma)
        if sigma_next == 0:
            x = denoised
        else:
            h = math.log(sigma) - math.log(sigma_next)
            if old_denoised is None:
                estimate = denoised
            else:
                r = (math.log(float(sigmas[i - 1])) - math.log(sigma)) / h
                estimate = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigma_next / sigma) * x - math.expm1(-h) * estimate
        old_denoised = denoised
        _report(callback, x, i, sigma, denoised)
    return x


def sample_rk4(model, x, sigmas, callback=None):
    """Classical fourth-order Runge–Kutta on dx̃/dσ (four calls per step; σ must stay above 0)."""

    def slope(y, s):
        return _derivative(y, s, model(y, s))

    for i in range(len(sigmas) - 1):
        sigma, sigma_next = float(sigmas[i]), float(sigmas[i + 1])
        if sigma_next <= 0:
            raise ValueError("RK4 evaluates the slope at the step's end: stop above σ = 0")
        h = sigma_next - sigma
        k1 = slope(x, sigma)
        k2 = slope(x + 0.5 * h * k1, sigma + 0.5 * h)
        k3 = slope(x + 0.5 * h * k2, sigma + 0.5 * h)
        k4 = slope(x + h * k3, sigma_next)
        x = x + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        _report(callback, x, i, sigma, x - sigma * k1)
    return x
