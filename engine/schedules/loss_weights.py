"""The weight each training objective puts on the per-timestep MSE, as a function of the SNR.

All four objectives train the same network, differently weighted over noise levels. Write
x_t = α·x₀ + σ·ε (α = √ᾱ, σ = √(1−ᾱ), SNR = α²/σ²) and let the network's prediction imply ε̂,
x̂₀ and v̂ (each converts into the others, engine/forward/targets.py). Then, per sample,

    ‖x₀ − x̂₀‖² = ‖ε − ε̂‖² / SNR        ‖v − v̂‖² = ‖ε − ε̂‖² · (1 + 1/SNR)

so each objective is the ε-MSE times a weight, or equally the x₀-MSE times SNR times that
weight. On the x₀-MSE scale (Kingma et al. 2021; Hang et al. 2023, the min-SNR paper) the
weights read ε: SNR, x₀: 1, v: SNR + 1, min-SNR-γ: min(SNR, γ); on the ε-MSE scale: ε: 1,
x₀: 1/SNR, v: 1 + 1/SNR, min-SNR-γ: min(SNR, γ)/SNR (diffusers' training scripts use the same
``min(snr, γ)/snr`` for ε-prediction). numpy only, torch-free: the schedules tab draws these
from its first-look curves. No library exposes these weights as functions (diffusers computes
them inline in its example scripts), so they are written here.

At zero terminal SNR (SNR = 0) the x₀-MSE scale gives finite weights (ε 0, x₀ 1, v 1, min-SNR 0)
and the ε-MSE scale infinite ones for x₀ and v: ε-prediction there learns nothing (x_t is pure
noise, so ε = x_t is trivial), and x₀ or v must be predicted instead (Lin et al. 2023).
"""

from __future__ import annotations

import numpy as np

DEFAULT_GAMMA = 5.0  # Hang et al. 2023's choice
OBJECTIVES = ("epsilon", "x0", "v", "min_snr")
SCALES = ("epsilon", "x0")  # the weight on the ε-MSE, or on the x₀-MSE


def snr(alphas_cumprod: np.ndarray) -> np.ndarray:
    """ᾱ/(1−ᾱ); 0 where ᾱ = 0 (zero terminal SNR), ∞ where ᾱ = 1."""
    alphas_cumprod = np.asarray(alphas_cumprod, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return alphas_cumprod / (1.0 - alphas_cumprod)


def weight_on_x0_mse(objective: str, snr_values: np.ndarray,
                     gamma: float = DEFAULT_GAMMA) -> np.ndarray:
    """The weight ``objective`` puts on ‖x₀ − x̂₀‖² at each SNR."""
    snr_values = np.asarray(snr_values, dtype=np.float64)
    if objective == "epsilon":
        return snr_values.copy()
    if objective == "x0":
        return np.ones_like(snr_values)
    if objective == "v":
        return snr_values + 1.0
    if objective == "min_snr":
        return np.minimum(snr_values, gamma)
    raise ValueError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")


def weight_on_eps_mse(objective: str, snr_values: np.ndarray,
                      gamma: float = DEFAULT_GAMMA) -> np.ndarray:
    """The weight ``objective`` puts on ‖ε − ε̂‖² at each SNR: its x₀-MSE weight / SNR (∞ for
    x₀ and v at SNR = 0)."""
    snr_values = np.asarray(snr_values, dtype=np.float64)
    inverse = np.divide(1.0, snr_values, out=np.full_like(snr_values, np.inf),
                        where=snr_values > 0)
    if objective == "epsilon":
        return np.ones_like(snr_values)
    if objective == "x0":
        return inverse
    if objective == "v":
        return 1.0 + inverse
    if objective == "min_snr":
        return np.minimum(1.0, gamma * inverse)  # min(SNR, γ)/SNR, 1 wherever SNR ≤ γ
    raise ValueError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")


def loss_weight(objective: str, snr_values: np.ndarray, scale: str = "epsilon",
                gamma: float = DEFAULT_GAMMA) -> np.ndarray:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if not gamma > 0:
        raise ValueError("γ must be positive.")
    function = weight_on_eps_mse if scale == "epsilon" else weight_on_x0_mse
    return function(objective, snr_values, gamma)
