"""Our own Langevin samplers: annealed Langevin dynamics and predictor–corrector.

Written by hand: diffusers has no Langevin sampler for a variance-preserving model (its
``ScoreSdeVeScheduler.step_correct`` is tied to the VE SDE and its own σ grid). One Langevin
step with step size δ and a fresh z ~ N(0, I) is

    x ← x + (δ/2)·∇log p(x) + √δ·z,

whose stationary distribution is p as δ → 0. Annealed Langevin dynamics (Song & Ermon 2019)
runs K such steps at each of a decreasing sequence of noise levels, each targeting the noised
density p_t, so the chains first find the coarse shape and then its detail. The step size
at level i is ``step_size``·σ_i² (their α_i = ε·σ_i²/σ_L²): the same relative step at every
level, where the density's local width is about σ_i. A predictor–corrector sampler (Song et
al. 2021) moves from one level to the next with a reverse-diffusion step (the predictor, e.g.
DDPM) and then corrects with K Langevin steps at the new level.

Shapes like k-diffusion's: ``score(x, i)`` is ∇log p at level i, ``variances`` the levels'
noise variances σ_i² (decreasing), ``noise(x)`` draws z like x, and ``callback`` gets
``{x, i, level, step}`` after every move (``i`` counts them; ``step`` is the Langevin step k
at that level, −1 for a predictor step; raise there to stop). Plain arithmetic,
so numpy arrays and torch tensors both work.
"""

from __future__ import annotations

import math


def langevin_step(x, score, step_size: float, z):
    """x + (δ/2)·∇log p(x) + √δ·z."""
    return x + (0.5 * step_size) * score + math.sqrt(step_size) * z


def _report(callback, counter, x, level, step) -> None:
    counter[0] += 1
    if callback is not None:
        callback({"x": x, "i": counter[0] - 1, "level": level, "step": step})


def _correct(score, x, i, variance, steps, step_size, noise, callback, counter):
    delta = step_size * variance
    for k in range(steps):
        x = langevin_step(x, score(x, i), delta, noise(x))
        _report(callback, counter, x, i, k)
    return x


def sample_annealed_langevin(score, x, variances, *, steps: int, step_size: float, noise,
                             callback=None):
    """K = ``steps`` Langevin steps of size ``step_size``·σ_i² at every level i."""
    counter = [0]
    for i, variance in enumerate(variances):
        x = _correct(score, x, i, float(variance), steps, step_size, noise, callback, counter)
    return x


def sample_predictor_corrector(predictor, score, x, variances, *, steps: int, step_size: float,
                               noise, callback=None):
    """From level 0 on: ``predictor(x, i)`` moves x from level i to level i + 1 (a DDPM step,
    say), then K = ``steps`` Langevin corrections at level i + 1. The last predictor step
    leaves the levels (to the data, t = −1) and is not corrected."""
    counter = [0]
    for i in range(len(variances)):
        x = predictor(x, i)
        _report(callback, counter, x, i + 1, -1)
        if i + 1 < len(variances):
            x = _correct(score, x, i + 1, float(variances[i + 1]), steps, step_size, noise,
                         callback, counter)
    return x
