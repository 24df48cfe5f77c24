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

NOISE_DISPLAY_RANGE = 3.0  # ε̂ is ~N(0, 1): ±3σ fills the grey range

# Sampler key -> (diffusers class name, extra config). "trailing" spacing starts every sampler
# at t = T−1, the pure-noise end the model was trained on (Lin et al. 2023, "Common diffusion
# noise schedules and sample steps are flawed").
_SCHEDULERS = {
    "ddpm": ("DDPMScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "pndm": ("PNDMScheduler", {"skip_prk_steps": True}),
    "lms": ("LMSDiscreteScheduler", {}),
}


def make_scheduler(sampler: str, scheduler_config: dict):
    import diffusers

    class_name, extra = _SCHEDULERS[sampler]
    config = dict(scheduler_config, timestep_spacing="trailing", **extra)
    return getattr(diffusers, class_name).from_config(config)


@dataclass
class StepTensors:
    """What one step produced (torch tensors, B×1×H×W)."""

    index: int
    timestep: float
    x_t: object  # the model input: x_t on the variance-preserving scale
    noise_pred: object
    pred_original: object
    x0_derived: bool


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


def reverse_steps(model, scheduler, num_steps: int, class_labels, guidance: float,
                  noise, eta: float = 0.0, generator=None) -> Iterator[StepTensors]:
    """Run the reverse process; yields one StepTensors per model evaluation, then returns the
    final sample through ``StopIteration.value`` (use ``run_to_end`` to get it simply).

    ``noise``: x_T on the unit-variance scale (B×1×H×W); multiplied by the scheduler's
    ``init_noise_sigma`` for samplers that work on the σ scale (Euler, LMS, …).
    """
    import torch

    scheduler.set_timesteps(num_steps)
    step_parameters = inspect.signature(scheduler.step).parameters
    step_kwargs = {}
    if "eta" in step_parameters:
        step_kwargs["eta"] = eta
    if "generator" in step_parameters:
        step_kwargs["generator"] = generator
    alphas_cumprod = scheduler.alphas_cumprod.double().numpy()
    sample = noise * scheduler.init_noise_sigma
    with torch.inference_mode():
        for index, t in enumerate(scheduler.timesteps):
            x_in = scheduler.scale_model_input(sample, t)
            noise_pred = guided_noise(model.unet, x_in, t, class_labels, guidance, model.null_class)
            output = scheduler.step(noise_pred, t, sample, **step_kwargs)
            pred_original = getattr(output, "pred_original_sample", None)
            derived = pred_original is None
            if derived:
                # DPM-Solver, UniPC and PNDM return no x̂₀; invert the forward process instead:
                # x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε  ⇒  x̂₀ = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t  (x_t = model input).
                alpha_bar = float(np.interp(float(t), np.arange(len(alphas_cumprod)), alphas_cumprod))
                pred_original = (x_in - (1 - alpha_bar) ** 0.5 * noise_pred) / alpha_bar ** 0.5
            yield StepTensors(index, float(t), x_in, noise_pred, pred_original, derived)
            sample = output.prev_sample
    return sample


def initial_noise(request: ReverseRequest, image_size: int):
    """x_T for the request, and the generator that continues the same seeded stream."""
    import torch

    generator = torch.Generator().manual_seed(request.seed)
    shape = (request.batch_size, 1, image_size, image_size)
    if request.initial_noise is not None:
        noise = torch.from_numpy(np.asarray(request.initial_noise, dtype=np.float32))
        noise = noise.reshape(shape)
    else:
        noise = torch.randn(shape, generator=generator)
    return noise, generator


def class_labels_for(request: ReverseRequest):
    import torch

    if request.label is None:
        return None
    return torch.full((request.batch_size,), request.label, dtype=torch.long)


def run_reverse(request: ReverseRequest, reporter, run_index: int = 0,
                progress_offset: int = 0, progress_total: int | None = None) -> ReverseResult:
    """Job handler: sample a batch, recording x_t, ε̂ and x̂₀ at every step."""
    from engine.digits.model import cached_model
    from engine.runtime import import_torch

    import_torch()
    model = cached_model(request.model_dir)
    scheduler = make_scheduler(request.sampler, model.scheduler_config)
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
    noise, generator = initial_noise(request, size)
    labels = class_labels_for(request)
    x0_derived = False
    done = 0

    def result(final, wall: float) -> ReverseResult:
        if final is None:  # cancelled: only the steps recorded so far
            stack = x_t[:done].copy()
        else:
            stack = x_t
            stack[-1] = to_uint8(final[:, 0], -1.0, 1.0)
        return ReverseResult(
            request=request, timesteps=timesteps[:done], x_t=stack,
            noise_pred=noise_pred[:done], pred_original=pred_original[:done],
            samples=(final[:, 0].clamp(-1, 1).numpy().astype(np.float32) if final is not None
                     else np.empty((0, size, size), np.float32)),
            wall_seconds=wall, x0_derived=x0_derived, parameters=request.parameters(),
            completed_steps=done)

    started = time.perf_counter()
    steps = reverse_steps(model, scheduler, request.steps, labels, request.guidance, noise,
                          request.eta, generator)
    final = None
    while True:
        if reporter.cancelled:
            steps.close()
            raise Cancelled(result(None, time.perf_counter() - started))
        try:
            step = next(steps)
        except StopIteration as stop:
            final = stop.value
            break
        index = step.index
        timesteps[index] = step.timestep
        x0_derived = step.x0_derived
        if record:
            x_t[index] = to_uint8(step.x_t[:, 0], -1.0, 1.0)
            noise_pred[index] = to_uint8(step.noise_pred[:, 0], -NOISE_DISPLAY_RANGE, NOISE_DISPLAY_RANGE)
            pred_original[index] = to_uint8(step.pred_original[:, 0], -1.0, 1.0)
            reporter.partial(ReverseStep(index, total_steps, step.timestep, x_t[index],
                                         noise_pred[index], pred_original[index], step.x0_derived,
                                         run_index))
        done = index + 1
        reporter.progress(progress_offset + done, progress_total,
                          f"{request.sampler} t={step.timestep:.0f}")
    return result(final, time.perf_counter() - started)


def sample_images(model, labels: np.ndarray | None, sampler: str, steps: int, guidance: float,
                  seed: int, eta: float = 0.0, batch_size: int | None = None,
                  on_step=None) -> np.ndarray:
    """Final samples only (float32 B×H×W in [−1, 1]); labels is a per-sample array or None."""
    import torch

    count = len(labels) if labels is not None else batch_size
    generator = torch.Generator().manual_seed(seed)
    size = model.image_size
    noise = torch.randn((count, 1, size, size), generator=generator)
    class_labels = torch.from_numpy(np.asarray(labels, dtype=np.int64)) if labels is not None else None
    scheduler = make_scheduler(sampler, model.scheduler_config)
    steps_iter = reverse_steps(model, scheduler, steps, class_labels, guidance, noise, eta, generator)
    while True:
        try:
            step = next(steps_iter)
        except StopIteration as stop:
            return stop.value[:, 0].clamp(-1, 1).numpy().astype(np.float32)
        if on_step is not None:
            on_step(step.index + 1, len(scheduler.timesteps))


def run_compare(request: CompareRequest, reporter) -> CompareResult:
    """Job handler: two recorded runs one after the other; progress spans both."""
    from engine.digits.model import cached_model

    model = cached_model(request.first.model_dir)
    counts = []
    for run in (request.first, request.second):
        scheduler = make_scheduler(run.sampler, model.scheduler_config)
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
    return CompareResult(first, second)


def run_guidance_sweep(request: GuidanceSweepRequest, reporter) -> GuidanceSweepResult:
    """Job handler: the same seed (same x_T) at several guidance scales."""
    from engine.digits.model import cached_model

    model = cached_model(request.model_dir)
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
    return GuidanceSweepResult(tuple(request.scales), tuple(images), request.label)
