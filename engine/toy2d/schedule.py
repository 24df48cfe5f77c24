"""The diffusers schedulers of the toy model (one place that builds them)."""

from __future__ import annotations

from engine.schedules.types import ScheduleSpec


def ddpm_scheduler(spec: ScheduleSpec):
    from engine.runtime import import_torch

    import_torch()
    from diffusers import DDPMScheduler

    # clip_sample is for images in [−1, 1]; toy points have unit variance and reach ±2.5.
    # "trailing" spacing starts sampling at t = T−1, where training saw pure noise, whatever
    # the number of steps (Lin et al. 2023); diffusers' default "leading" starts lower.
    return DDPMScheduler(**spec.diffusers_config(), clip_sample=False, timestep_spacing="trailing")


def ddim_scheduler(spec: ScheduleSpec):
    from engine.runtime import import_torch

    import_torch()
    from diffusers import DDIMScheduler

    return DDIMScheduler(**spec.diffusers_config(), clip_sample=False, set_alpha_to_one=True,
                         timestep_spacing="trailing")
