"""The toy's annealed Langevin and predictor–corrector samplers (engine/samplers/langevin.py)
on an ε-model: noise levels from the model's schedule, the score −ε̂/√(1−ᾱ_t).

- ``langevin``: ``levels`` timesteps evenly spaced from the last usable t down to 0, K Langevin
  steps at each (no predictor at all: the chains start from N(0, I), which is p_T).
- ``pc``: diffusers' DDPM step over ``levels`` trailing timesteps (the predictor), each followed
  by K Langevin steps at the timestep it arrived at (the corrector).

The Langevin step size at timestep t is δ·(1 − ᾱ_t) (the level's noise variance), so
x ← x + (δ/2)(1−ᾱ_t)·∇log p_t + √(δ(1−ᾱ_t))·z = x − (δ/2)·√(1−ᾱ_t)·ε̂ + √(δ(1−ᾱ_t))·z.
"""

from __future__ import annotations

import numpy as np

from engine.samplers.builder import sampler_function


def langevin_timesteps(usable: int, levels: int) -> np.ndarray:
    """``levels`` integer timesteps from ``usable`` − 1 down to 0 (fewer if they would repeat)."""
    levels = max(1, min(levels, usable))
    return np.unique(np.round(np.linspace(0, usable - 1, levels)).astype(int))[::-1]


def moves(sampler: str, levels: int, langevin_steps: int) -> int:
    """How many states follow x_T: every Langevin step, and every predictor step."""
    if sampler == "langevin":
        return levels * langevin_steps
    return levels + (levels - 1) * langevin_steps


def run_langevin(sampler: str, epsilon, scheduler, noise, levels: int, langevin_steps: int,
                 step_size: float, generator, on_move):
    """Sample from ``noise`` (N×2 tensor); ``scheduler`` is the model's DDPM scheduler over its
    usable timesteps (its ᾱ, and the predictor of ``pc``). ``on_move(x, t, index)`` is called
    for x_T (index 0) and after each move with the timestep of the level x is at (−1: the
    data). Returns (x, the timesteps of the levels)."""
    from engine.runtime import import_torch

    torch = import_torch()
    alphas_cumprod = scheduler.alphas_cumprod.double().numpy()
    usable = len(alphas_cumprod)
    if sampler == "langevin":
        timesteps = langevin_timesteps(usable, levels)
    else:
        scheduler.set_timesteps(min(levels, usable))
        timesteps = np.asarray([int(t) for t in scheduler.timesteps])
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
    return x, timesteps
