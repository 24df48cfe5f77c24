"""The toy's annealed Langevin and predictor–corrector samplers (engine/samplers/langevin.py)
on an ε-model: noise levels from the model's schedule, the score −ε̂/√(1−ᾱ_t).

- ``langevin``: up to ``levels`` timesteps from the last usable t down to 0 whose noise levels
  σ = √((1−ᾱ)/ᾱ) are evenly spaced in log σ (Song & Ermon's geometric sequence; evenly spaced
  t would spend half the levels where x_t is already pure noise), K Langevin steps at each (no
  predictor at all: the chains start from N(0, I), which is p_T).
- ``pc``: diffusers' DDPM step over ``levels`` trailing timesteps (the predictor), each followed
  by K Langevin steps at the timestep it arrived at (the corrector).

The Langevin step size at timestep t is δ·(1 − ᾱ_t) (the level's noise variance), so
x ← x + (δ/2)(1−ᾱ_t)·∇log p_t + √(δ(1−ᾱ_t))·z = x − (δ/2)·√(1−ᾱ_t)·ε̂ + √(δ(1−ᾱ_t))·z.
"""

from __future__ import annotations

import numpy as np

from engine.samplers.builder import sampler_function


def langevin_timesteps(alphas_cumprod: np.ndarray, levels: int) -> np.ndarray:
    """Decreasing integer timesteps from the last one down to 0, nearest to ``levels`` noise
    levels σ = √((1−ᾱ)/ᾱ) evenly spaced in log σ (fewer where neighbouring t are further
    apart than the spacing, near t = 0)."""
    alphas_cumprod = np.asarray(alphas_cumprod, dtype=np.float64)
    sigmas = np.sqrt((1 - alphas_cumprod) / alphas_cumprod)  # increasing in t
    targets = np.geomspace(sigmas[0], sigmas[-1], max(1, levels)) if levels > 1 else sigmas[-1:]
    nearest = np.abs(np.log(sigmas)[None, :] - np.log(targets)[:, None]).argmin(axis=1)
    return np.unique(nearest)[::-1]


def level_timesteps(sampler: str, scheduler, levels: int) -> np.ndarray:
    """The timesteps of the levels: Langevin's (above), or the predictor's DDPM timesteps."""
    alphas_cumprod = scheduler.alphas_cumprod.double().numpy()
    if sampler == "langevin":
        return langevin_timesteps(alphas_cumprod, levels)
    scheduler.set_timesteps(min(levels, len(alphas_cumprod)))
    return np.asarray([int(t) for t in scheduler.timesteps])


def moves(sampler: str, levels: int, langevin_steps: int) -> int:
    """How many states follow x_T: every Langevin step, and every predictor step."""
    if sampler == "langevin":
        return levels * langevin_steps
    return levels + (levels - 1) * langevin_steps


def run_langevin(sampler: str, epsilon, scheduler, noise, timesteps: np.ndarray,
                 langevin_steps: int, step_size: float, generator, on_move):
    """Sample from ``noise`` (N×2 tensor) through the levels at ``timesteps`` (from
    ``level_timesteps``); ``scheduler`` is the model's DDPM scheduler over its usable
    timesteps (its ᾱ, and the predictor of ``pc``). ``on_move(x, t, index)`` is called for x_T
    (index 0) and after each move with the timestep of the level x is at (−1: the data)."""
    from engine.runtime import import_torch

    torch = import_torch()
    alphas_cumprod = scheduler.alphas_cumprod.double().numpy()
    variances = 1.0 - alphas_cumprod[timesteps]
    sigmas = np.sqrt(variances)

    def score(x, i):
        return epsilon(x, int(timesteps[i])) * (-1.0 / float(sigmas[i]))

    def draw(x):
        return torch.randn(x.shape, generator=generator).to(x.device, x.dtype)

    def callback(info) -> None:
        level = info["level"]
        on_move(info["x"], int(timesteps[level]) if level < len(timesteps) else -1, info["i"] + 1)

    on_move(noise, int(timesteps[0]), 0)
    common = {"steps": langevin_steps, "step_size": step_size, "noise": draw, "callback": callback}
    if sampler == "langevin":
        x = sampler_function("langevin")(score, noise, variances, **common)
    else:

        def predictor(x, i):
            t = int(timesteps[i])
            return scheduler.step(epsilon(x, t), t, x, generator=generator).prev_sample

        x = sampler_function("pc")(predictor, score, noise, variances, **common)
    return x
