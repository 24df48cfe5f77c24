"""The three prediction targets of a noised image and the identities between them (numpy only).

With x_t = α·x₀ + σ·ε, α = √ᾱ_t, σ = √(1−ᾱ_t) (so α² + σ² = 1), the velocity is
v = α·ε − σ·x₀ (Salimans & Ho 2022; diffusers' ``DDPMScheduler.get_velocity``, which a test pins
this to). Knowing x_t and any one of ε, x₀, v gives the other two:

    x₀ = (x_t − σ·ε)/α      ε = (x_t − α·x₀)/σ
    x₀ = α·x_t − σ·v        ε = σ·x_t + α·v
    v  = (ε − σ·x_t)/α      v = (α·x_t − x₀)/σ

Torch-free, so the forward page evaluates them at every t (diffusers does these conversions only
inside its schedulers' ``step``, on torch tensors).
"""

from __future__ import annotations

import numpy as np

# The identities as the forward page prints them (plain text with sub/superscripts in HTML).
IDENTITIES = (
    "x<sub>t</sub> = α·x₀ + σ·ε, &nbsp; v = α·ε − σ·x₀ &nbsp; (α = √ᾱ<sub>t</sub>, σ = √(1−ᾱ<sub>t</sub>), α² + σ² = 1)",
    "x₀ = α·x<sub>t</sub> − σ·v &nbsp;&nbsp; ε = σ·x<sub>t</sub> + α·v",
    "x₀ = (x<sub>t</sub> − σ·ε)/α &nbsp;&nbsp; ε = (x<sub>t</sub> − α·x₀)/σ",
    "v = (ε − σ·x<sub>t</sub>)/α = (α·x<sub>t</sub> − x₀)/σ",
)


def coefficients(alpha_bar: float) -> tuple[float, float]:
    """(α, σ) = (√ᾱ, √(1−ᾱ))."""
    alpha_bar = float(alpha_bar)
    return float(np.sqrt(alpha_bar)), float(np.sqrt(1.0 - alpha_bar))


def noised(x0, eps, alpha_bar: float):
    alpha, sigma = coefficients(alpha_bar)
    return alpha * x0 + sigma * eps


def velocity(x0, eps, alpha_bar: float):
    """v = α·ε − σ·x₀."""
    alpha, sigma = coefficients(alpha_bar)
    return alpha * eps - sigma * x0


def x0_from_v(x_t, v, alpha_bar: float):
    alpha, sigma = coefficients(alpha_bar)
    return alpha * x_t - sigma * v


def eps_from_v(x_t, v, alpha_bar: float):
    alpha, sigma = coefficients(alpha_bar)
    return sigma * x_t + alpha * v


def x0_from_eps(x_t, eps, alpha_bar: float):
    """Undefined at ᾱ = 0 (zero terminal SNR: x_t holds nothing of x₀)."""
    alpha, sigma = coefficients(alpha_bar)
    if alpha == 0.0:
        raise ValueError("x₀ cannot be recovered from ε where ᾱ = 0 (x_t is pure noise)")
    return (x_t - sigma * eps) / alpha


def eps_from_x0(x_t, x0, alpha_bar: float):
    """Undefined at ᾱ = 1 (no noise in x_t)."""
    alpha, sigma = coefficients(alpha_bar)
    if sigma == 0.0:
        raise ValueError("ε cannot be recovered from x₀ where ᾱ = 1 (x_t has no noise)")
    return (x_t - alpha * x0) / sigma


def v_from_eps(x_t, eps, alpha_bar: float):
    return velocity(x0_from_eps(x_t, eps, alpha_bar), eps, alpha_bar)


def v_from_x0(x_t, x0, alpha_bar: float):
    return velocity(x0, eps_from_x0(x_t, x0, alpha_bar), alpha_bar)
