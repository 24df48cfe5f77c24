"""The diffusers schedulers of the toy model (one place that builds them)."""

from __future__ import annotations

from engine.requests import ScheduleSpec


def ddpm_scheduler(spec: ScheduleSpec):
    from engine.runtime import import_torch

    import_torch()
    from diffusers import DDPMScheduler

    # clip_sample is for images in [−1, 1]; toy points have unit variance and reach ±2.5.
    return DDPMScheduler(**spec.diffusers_config(), clip_sample=False)


def ddim_scheduler(spec: ScheduleSpec):
    from engine.runtime import import_torch

    import_torch()
    from diffusers import DDIMScheduler

    return DDIMScheduler(**spec.diffusers_config(), clip_sample=False, set_alpha_to_one=True)
