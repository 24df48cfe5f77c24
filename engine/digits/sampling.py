"""The reverse (sampling) process of the digits model, every step recorded.

One loop runs any diffusers scheduler: ``scheduler.set_timesteps`` → for each timestep: model
input (``scale_model_input``), ε̂ from the UNet (with classifier-free guidance), then
``scheduler.step``. Each step yields x_t, ε̂ and x̂₀ as small tensors; the job handler writes them
into preallocated uint8 stacks, so recording costs a few tensor copies per step.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from engine.digits.guidance import guidance_branches, guidance_step
from engine.digits.types import (
    CompareRequest,
    CompareResult,
    GuidanceSweepRequest,
    GuidanceSweepResult,
    ReverseRequest,
    ReverseResult,
    ReverseStep,
)
from engine.errors import Cancelled
from engine.images import to_uint8
from engine.samplers import builder as samplers
from engine.samplers.guidance import guided_steps
from engine.samplers.x0_capture import predicted_x0

NOISE_DISPLAY_RANGE = 3.0  # ε̂ is ~N(0, 1): ±3σ fills the grey range


def scheduler_for(sampler: str, scheduler_config: dict):
    """Registry sampler ``sampler`` on the model's schedule. "trailing" spacing starts every
    sampler at t = T−1, the pure-noise end the model was trained on (Lin et al. 2023, "Common
    diffusion noise schedules and sample steps are flawed")."""
    return samplers.make_scheduler(sampler, scheduler_config, timestep_spacing="trailing")


@dataclass
class StepTensors:
    """What one step produced (torch tensors, B×1×H×W)."""

    index: int
    timestep: float
    x_t: object  # the model input: x_t on the variance-preserving scale
    noise_pred: object
    pred_original: object
    x0_derived: bool
    unconditional: object = None  # ε̂(∅) of this step, None where that branch did not run
    conditional: object = None  # ε̂(digit)


def guided_noise(unet, x_in, timestep, class_labels, guidance: float, null_class: int):
    """ε̂ with classifier-free guidance: ε̂ = ε̂(x, ∅) + g·(ε̂(x, c) − ε̂(x, ∅)).

    ``class_labels`` None means unconditional. Both branches run as one batch (one UNet call).
    """
    import torch

    batch = x_in.shape[0]
    if class_labels is None or guidance == 0.0:
        labels = torch.full((batch,), null_class, dtype=torch.long, device=x_in.device)
        return unet(x_in, timestep, class_labels=labels).sample
    if guidance == 1.0:
        return unet(x_in, timestep, class_labels=class_labels).sample
    null = torch.full_like(class_labels, null_class)
    both = unet(torch.cat([x_in, x_in]), timestep, class_labels=torch.cat([class_labels, null])).sample
    conditional, unconditional = both.chunk(2)
    return unconditional + guidance * (conditional - unconditional)


class ReverseRun:
    """The reverse process, one step per iteration: iterating yields a StepTensors per model
    evaluation; ``final`` holds the last sample once the iteration has finished.

    ``noise``: x_T on the unit-variance scale (B×1×H×W, on the model's device); multiplied by
    the scheduler's ``init_noise_sigma`` for samplers that work on the σ scale (Euler, LMS, …).
    ``generator`` (a CPU generator) draws the noise of the stochastic samplers.
    """

    def __init__(self, model, scheduler, num_steps: int, class_labels, guidance: float, noise,
                 eta: float = 0.0, generator=None, cutoff: float = 1.0, rescale: float = 0.0):
        self.model, self.scheduler, self.num_steps = model, scheduler, num_steps
        self.class_labels, self.guidance, self.noise = class_labels, guidance, noise
        self.eta, self.generator = eta, generator
        self.cutoff, self.rescale = cutoff, rescale  # engine/digits/guidance.py
        self.guided_steps = 0
        self.final = None

    def __iter__(self) -> Iterator[StepTensors]:
        import torch

        scheduler, model = self.scheduler, self.model
        scheduler.set_timesteps(self.num_steps, device=self.noise.device)
        step_parameters = inspect.signature(scheduler.step).parameters
        step_kwargs = {}
        if "eta" in step_parameters:
            step_kwargs["eta"] = self.eta
        if "generator" in step_parameters:
            step_kwargs["generator"] = self.generator
        sample = self.noise * scheduler.init_noise_sigma
        self.guided_steps = guided_steps(self.cutoff, len(scheduler.timesteps))
        with torch.inference_mode():
            for index, t in enumerate(scheduler.timesteps):
                x_in = scheduler.scale_model_input(sample, t)
                noise_pred, unconditional, conditional = guidance_branches(
                    model.unet, x_in, t, self.class_labels, self.guidance, model.null_class,
                    guided=index < self.guided_steps, rescale=self.rescale)
                output = scheduler.step(noise_pred, t, sample, **step_kwargs)
                # DPM-Solver, UniPC and PNDM return no x̂₀: derived from ε̂ (x_t = model input).
                pred_original, derived = predicted_x0(scheduler, output, noise_pred, t, x_in)
                yield StepTensors(index, float(t), x_in, noise_pred, pred_original, derived,
                                  unconditional, conditional)
                sample = output.prev_sample
        self.final = sample


def initial_noise(request: ReverseRequest, image_size: int, device: str = "cpu"):
    """x_T for the request (on ``device``), and the generator that continues the same seeded
    stream. The noise is drawn on the CPU, so a seed gives the same x_T on every device. A
    variation seed moves it by slerp towards that seed's noise (``engine.samplers.noise``); the
    generator stays the seed's, so a stochastic sampler's per-step noise does not change."""
    import torch

    from engine.samplers.noise import variation_noise

    generator = torch.Generator().manual_seed(request.seed)
    shape = (request.batch_size, 1, image_size, image_size)
    if request.initial_noise is not None:
        noise = torch.from_numpy(np.asarray(request.initial_noise, dtype=np.float32))
        noise = noise.reshape(shape)
    else:
        noise = torch.randn(shape, generator=generator)
        noise = variation_noise(noise, request.variation_seed, request.variation_strength)
    return noise.to(device), generator


def class_labels_for(request: ReverseRequest, device: str = "cpu"):
    import torch

    if request.label is None:
        return None
    return torch.full((request.batch_size,), request.label, dtype=torch.long, device=device)


def run_reverse(request: ReverseRequest, reporter, run_index: int = 0,
                progress_offset: int = 0, progress_total: int | None = None) -> ReverseResult:
    """Job handler: sample a batch, recording x_t, ε̂ and x̂₀ at every step."""
    from engine.device import current_device
    from engine.digits.model import cached_model
    from engine.runtime import import_torch

    import_torch()
    device = current_device()
    model = cached_model(request.model_dir, device)
    scheduler = scheduler_for(request.sampler, model.scheduler_config)
    scheduler.set_timesteps(request.steps)
    total_steps = len(scheduler.timesteps)  # PNDM adds one step
    size = model.image_size
    shape = (request.batch_size, size, size)
    record = request.record
    x_t = np.empty((total_steps + 1 if record else 1, *shape), dtype=np.uint8)
    noise_pred = np.empty((total_steps if record else 0, *shape), dtype=np.uint8)
    pred_original = np.empty_like(noise_pred)
    timesteps = np.empty(total_steps, dtype=np.float32)
    progress_total = progress_total or total_steps
    noise, generator = initial_noise(request, size, device)
    labels = class_labels_for(request, device)
    x0_derived = False
    done = 0
    guidance: list = []  # GuidanceStep per recorded step

    def result(final, wall: float) -> ReverseResult:
        if final is None:  # cancelled: only the steps recorded so far
            stack = x_t[:done].copy()
        else:
            stack = x_t
            stack[-1] = to_uint8(final[:, 0], -1.0, 1.0)
        return ReverseResult(
            request=request, timesteps=timesteps[:done], x_t=stack,
            noise_pred=noise_pred[:done], pred_original=pred_original[:done],
            samples=(final[:, 0].clamp(-1, 1).cpu().numpy().astype(np.float32)
                     if final is not None else np.empty((0, size, size), np.float32)),
            wall_seconds=wall, x0_derived=x0_derived, parameters=request.parameters(),
            completed_steps=done, device=device, guidance=tuple(guidance[:done]),
            guided_steps=run.guided_steps)

    started = time.perf_counter()
    run = ReverseRun(model, scheduler, request.steps, labels, request.guidance, noise,
                     request.eta, generator, request.guidance_cutoff, request.guidance_rescale)
    steps = iter(run)
    while True:
        if reporter.cancelled:
            steps.close()
            raise Cancelled(result(None, time.perf_counter() - started))
        step = next(steps, None)
        if step is None:
            break
        index = step.index
        timesteps[index] = step.timestep
        x0_derived = step.x0_derived
        if record:
            x_t[index] = to_uint8(step.x_t[:, 0], -1.0, 1.0)
            noise_pred[index] = to_uint8(step.noise_pred[:, 0], -NOISE_DISPLAY_RANGE, NOISE_DISPLAY_RANGE)
            pred_original[index] = to_uint8(step.pred_original[:, 0], -1.0, 1.0)
            guidance.append(guidance_step(scheduler, step.timestep, step.x_t, step.noise_pred,
                                          step.unconditional, step.conditional))
            reporter.partial(ReverseStep(index, total_steps, step.timestep, x_t[index],
                                         noise_pred[index], pred_original[index], step.x0_derived,
                                         run_index, guidance[-1]))
        done = index + 1
        reporter.progress(progress_offset + done, progress_total,
                          f"{request.sampler} t={step.timestep:.0f}")
    return result(run.final, time.perf_counter() - started)


def sample_images(model, labels: np.ndarray | None, sampler: str, steps: int, guidance: float,
                  seed: int, eta: float = 0.0, batch_size: int | None = None,
                  on_step=None) -> np.ndarray:
    """Final samples only (float32 B×H×W in [−1, 1]); labels is a per-sample array or None."""
    import torch

    count = len(labels) if labels is not None else batch_size
    device = model.unet.device
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same x_T on every device
    size = model.image_size
    noise = torch.randn((count, 1, size, size), generator=generator).to(device)
    class_labels = (torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
                    if labels is not None else None)
    scheduler = scheduler_for(sampler, model.scheduler_config)
    run = ReverseRun(model, scheduler, steps, class_labels, guidance, noise, eta, generator)
    for step in run:
        if on_step is not None:
            on_step(step.index + 1, len(scheduler.timesteps))
    return run.final[:, 0].clamp(-1, 1).cpu().numpy().astype(np.float32)


def run_compare(request: CompareRequest, reporter) -> CompareResult:
    """Job handler: two recorded runs one after the other; progress spans both."""
    from engine.device import current_device
    from engine.digits.model import cached_model

    model = cached_model(request.first.model_dir, current_device())
    counts = []
    for run in (request.first, request.second):
        scheduler = scheduler_for(run.sampler, model.scheduler_config)
        scheduler.set_timesteps(run.steps)
        counts.append(len(scheduler.timesteps))
    total = sum(counts)
    try:
        first = run_reverse(request.first, reporter, 0, 0, total)
    except Cancelled:
        raise Cancelled(None) from None
    try:
        second = run_reverse(request.second, reporter, 1, counts[0], total)
    except Cancelled:
        raise Cancelled(None) from None
    return CompareResult(first, second, device=first.device)


def run_guidance_sweep(request: GuidanceSweepRequest, reporter) -> GuidanceSweepResult:
    """Job handler: the same seed (same x_T) at several guidance scales."""
    from engine.device import current_device
    from engine.digits.model import cached_model

    device = current_device()
    model = cached_model(request.model_dir, device)
    labels = np.full(request.batch_size, request.label, dtype=np.int64)
    images = []
    total = len(request.scales) * request.steps
    for position, scale in enumerate(request.scales):
        reporter.check_cancelled()

        def on_step(done, _count, base=position * request.steps, scale=scale):
            reporter.check_cancelled()
            reporter.progress(base + min(done, request.steps), total, f"guidance {scale:g}")

        samples = sample_images(model, labels, request.sampler, request.steps, scale,
                                request.seed, on_step=on_step)
        images.append(to_uint8(samples))
    return GuidanceSweepResult(tuple(request.scales), tuple(images), request.label, device=device)
