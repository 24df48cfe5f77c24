"""The toy model's schedulers, built by the sampler registry (engine/samplers/) from its schedule.

Training, the forward chain and the score field use the model's whole schedule. The samplers are
built from the schedule's betas themselves (``trained_betas``), never from a config naming a
beta schedule: DDIMScheduler, for one, has no "sigmoid", while the betas are just numbers.
"""

from __future__ import annotations

import numpy as np

from engine.samplers.builder import make_scheduler
from engine.schedules.types import ScheduleSpec


def ddpm_scheduler(spec: ScheduleSpec):
    """DDPM over the whole schedule (training noises with its ``add_noise``)."""
    # clip_sample is for images in [−1, 1]; toy points have unit variance and reach ±2.5.
    # "trailing" spacing starts sampling at t = T−1, where training saw pure noise, whatever
    # the number of steps (Lin et al. 2023); diffusers' default "leading" starts lower.
    return make_scheduler("ddpm", spec.diffusers_config(), clip_sample=False,
                          timestep_spacing="trailing")


def schedule_betas(spec: ScheduleSpec) -> np.ndarray:
    """β_0 … β_{T−1} of ``spec`` (float32, as diffusers computes them, zero-SNR rescale included)."""
    return ddpm_scheduler(spec).betas.numpy().astype(np.float32)


def usable_timesteps(betas: np.ndarray) -> int:
    """How many timesteps (0 … n−1) an ε-prediction sampler can start from: those whose ᾱ is
    above zero. With zero terminal SNR ᾱ_{T−1} = 0, and x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t would
    divide by zero there, so sampling starts one step earlier (where √ᾱ is at most ~2e−3 for the
    schedules of this app, so x_t there is N(0, I) for all practical purposes)."""
    alphas_cumprod = np.cumprod(1.0 - betas.astype(np.float64))
    positive = np.flatnonzero(alphas_cumprod > 0)
    return int(positive[-1]) + 1 if len(positive) else 0


def sampling_scheduler(spec: ScheduleSpec, sampler: str, clip_range: float,
                       objective: str = "eps"):
    """Registry sampler ``sampler`` (engine/toy2d/types.py's ``SAMPLERS``) over the timesteps a
    model of ``objective`` can sample from: all T for x₀- and v-prediction with DDPM and DDIM
    (finite x̂₀ even at ᾱ = 0, Lin et al. 2023), those with ᾱ above 0 for ε-prediction and for
    the samplers that step in σ = √((1−ᾱ)/ᾱ) (Euler, Heun, DPM-Solver++: σ is infinite at
    ᾱ = 0); diffusers' ``prediction_type`` tells the scheduler what the network returns.

    ``clip_range`` bounds x̂₀ to the data's extent, as DDPM clips images to [−1, 1]: where ᾱ is
    tiny (cosine's ᾱ_{T−1} ≈ 2e−9, zero-SNR's ᾱ_{T−2} ≈ 4e−9) a small error in ε̂ is divided by
    √ᾱ ≈ 5e−5, and DDIM, which jumps many steps at once, would carry it into the samples.
    """
    from engine.toy2d.objectives import PREDICTION_TYPES

    betas = schedule_betas(spec)
    all_t = objective != "eps" and sampler in ("ddpm", "ddim")
    count = len(betas) if all_t else usable_timesteps(betas)
    if count < 1:
        raise ValueError(f"The schedule {spec.label} has no timestep with ᾱ above 0 to sample from.")
    common = {"num_train_timesteps": count, "trained_betas": betas[:count],
              "clip_sample": True, "clip_sample_range": float(clip_range),
              "timestep_spacing": "trailing", "prediction_type": PREDICTION_TYPES[objective]}
    extra = {"set_alpha_to_one": True} if sampler == "ddim" else {}
    return make_scheduler(sampler, common, **extra)
