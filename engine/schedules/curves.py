"""Noise schedules from diffusers' own scheduler configs, as arrays for plots and CSV."""

from __future__ import annotations

import numpy as np

from engine.images import to_uint8, to_unit_range
from engine.samplers.builder import make_scheduler, noise_schedule
from engine.schedules.types import (
    NoisedStrip,
    ScheduleCurves,
    ScheduleRequest,
    ScheduleResult,
    ScheduleSpec,
)


def compute_curves(spec: ScheduleSpec) -> ScheduleCurves:
    betas, alphas_cumprod = noise_schedule(spec.diffusers_config())
    return ScheduleCurves(spec=spec, betas=betas, alphas_cumprod=alphas_cumprod)


def strip_timesteps(num_train_timesteps: int, count: int) -> tuple[int, ...]:
    """``count`` evenly spaced timesteps from 0 to T−1 inclusive."""
    return tuple(int(round(x)) for x in np.linspace(0, num_train_timesteps - 1, count))


def noised_strip(spec: ScheduleSpec, image: np.ndarray, count: int, seed: int) -> NoisedStrip:
    """One image noised with diffusers' ``add_noise`` at ``count`` evenly spaced timesteps."""
    from engine.runtime import import_torch

    torch = import_torch()
    scheduler = make_scheduler("ddpm", spec.diffusers_config())
    steps = strip_timesteps(spec.num_train_timesteps, count)
    x0 = torch.from_numpy(to_unit_range(image)).permute(2, 0, 1)
    x0 = x0.unsqueeze(0).expand(len(steps), -1, -1, -1)
    # One noise draw shared by all t, so the strip shows the schedule, not different noise.
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(x0.shape[1:], generator=generator).expand_as(x0)
    noisy = scheduler.add_noise(x0, noise, torch.tensor(steps, dtype=torch.long))
    pixels = to_uint8(noisy).transpose(0, 2, 3, 1)
    return NoisedStrip(timesteps=steps, images=tuple(np.ascontiguousarray(p) for p in pixels))


def run_schedule_job(request: ScheduleRequest, reporter) -> ScheduleResult:
    curves, strips = [], []
    total = len(request.specs)
    for index, spec in enumerate(request.specs):
        reporter.check_cancelled()
        curves.append(compute_curves(spec))
        strips.append(
            noised_strip(spec, request.strip_image, request.strip_steps, request.seed)
            if request.strip_image is not None
            else None
        )
        reporter.progress(index + 1, total, spec.label)
    return ScheduleResult(curves=tuple(curves), strips=tuple(strips))
