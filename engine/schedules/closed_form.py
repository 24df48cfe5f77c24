"""The four noise schedules in numpy closed forms, for the GUI's first look: torch-free.

Why this exists: the Noise schedules tab is the first screen every user sees, and the engine's
curves (``engine.schedules.curves``, from diffusers' ``DDPMScheduler``) arrive only after torch
and diffusers have loaded in the engine thread (2–10 s). The GUI draws these curves in its first
frames instead, and replaces them with the engine's as soon as its job returns.

These formulas mirror diffusers' ``DDPMScheduler.__init__`` (``linear``, ``scaled_linear``,
``squaredcos_cap_v2`` via ``betas_for_alpha_bar`` with its ``max_beta`` clipping, ``sigmoid``)
and ``rescale_zero_terminal_snr``, step by step and in float32 as diffusers computes them.
diffusers stays the source of truth for everything the engine runs; a test pins these curves to
``DDPMScheduler``'s (tests/engine/schedules/test_closed_form.py). Importing this module never
imports torch: it needs only numpy and the torch-free ``types``.
"""

from __future__ import annotations

import math

import numpy as np

from engine.schedules.types import ScheduleCurves, ScheduleSpec

COSINE_MAX_BETA = 0.999  # diffusers' betas_for_alpha_bar default


def _cosine_betas(count: int) -> np.ndarray:
    # The same float64 Python arithmetic as diffusers' betas_for_alpha_bar, clipped at max_beta.
    steps = np.arange(count + 1, dtype=np.float64) / count
    alpha_bar = np.cos((steps + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.minimum(1 - alpha_bar[1:] / alpha_bar[:-1], COSINE_MAX_BETA)


def _linspace(start: float, end: float, count: int) -> np.ndarray:
    """torch.linspace in float32 on the CPU, to the bit: the first half counts up from
    ``start``, the second down from ``end``, each value one fused multiply-add of a float32
    step (emulated in float64, where the product is exact)."""
    start32, end32 = np.float32(start), np.float32(end)
    step = np.float64(np.float32((end32 - start32) / np.float32(count - 1)))
    index = np.arange(count)
    values = np.where(index < count // 2, np.float64(start32) + step * index,
                      np.float64(end32) - step * (count - 1 - index))
    return values.astype(np.float32)


def _betas(spec: ScheduleSpec) -> np.ndarray:
    """β_t in float32, as diffusers' DDPMScheduler builds them (before any rescale)."""
    count = spec.num_train_timesteps
    if spec.name == "linear":
        return _linspace(spec.beta_start, spec.beta_end, count)
    if spec.name == "scaled_linear":
        return _linspace(spec.beta_start**0.5, spec.beta_end**0.5, count) ** 2
    if spec.name == "cosine":
        return _cosine_betas(count).astype(np.float32)
    if spec.name == "sigmoid":
        x = _linspace(-6, 6, count)
        sigmoid = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
        return (sigmoid * np.float32(spec.beta_end - spec.beta_start)
                + np.float32(spec.beta_start)).astype(np.float32)
    raise ValueError(f"Unknown schedule {spec.name!r}")


def _cumprod(values: np.ndarray) -> np.ndarray:
    """torch.cumprod of float32 on the CPU: accumulated in float64, each output rounded."""
    return np.cumprod(values, dtype=np.float64).astype(np.float32)


def rescale_zero_terminal_snr(betas: np.ndarray) -> np.ndarray:
    """diffusers' ``rescale_zero_terminal_snr`` (Lin et al. 2023, Algorithm 1): shift √ᾱ so
    its last value is 0, scale so its first keeps its value, and turn it back into β."""
    alphas_bar_sqrt = np.sqrt(_cumprod(1 - betas))
    first, last = alphas_bar_sqrt[0], alphas_bar_sqrt[-1]
    alphas_bar_sqrt = (alphas_bar_sqrt - last) * (first / (first - last))
    alphas_bar = alphas_bar_sqrt**2
    alphas = np.concatenate([alphas_bar[:1], alphas_bar[1:] / alphas_bar[:-1]])
    return (1 - alphas).astype(betas.dtype)


def closed_form_curves(spec: ScheduleSpec) -> ScheduleCurves:
    """β_t and ᾱ_t of ``spec`` (t = 0 … T−1, float64 arrays like the engine's)."""
    betas = _betas(spec)
    if spec.rescale_zero_snr:
        betas = rescale_zero_terminal_snr(betas)
    alphas_cumprod = _cumprod(1 - betas)
    return ScheduleCurves(spec=spec, betas=betas.astype(np.float64),
                          alphas_cumprod=alphas_cumprod.astype(np.float64))
