"""Sampling job: the reverse process of the trained network or of an exact model, with
diffusers' DDPM, DDIM, Euler, Heun or DPM-Solver++ 2M, or our annealed Langevin and
predictor–corrector (engine/toy2d/langevin.py), recording every point's trajectory (at most
``max_frames`` frames, evenly spaced) for scrubbing, plus the quality."""

from __future__ import annotations

import numpy as np

from engine.device import current_device
from engine.runtime import import_torch
from engine.toy2d import quality
from engine.toy2d.datasets import extent, sample_dataset
from engine.toy2d.exact_model import epsilon_model, network_output, training_points
from engine.toy2d.schedule import sampling_scheduler
from engine.toy2d.types import (
    DEFAULT_LANGEVIN_STEP_SIZE,
    DEFAULT_LANGEVIN_STEPS,
    DEFAULT_STEPS,
    LANGEVIN_SAMPLERS,
    ExactModel,
    SampleRequest,
    SampleResult,
    ToyModel,
)

#: x̂₀ is clipped to this multiple of the data's largest |coordinate|. The exact E[x₀ | x_t] lies
#: in the data's convex hull, so a clip a little wider than the data never moves a good estimate.
CLIP_MARGIN = 1.2


def frame_indices(num_steps: int, max_frames: int) -> np.ndarray:
    """Which states (0 = x_T … num_steps = x_0) to keep; both ends always."""
    count = min(num_steps + 1, max(2, max_frames))
    return np.unique(np.round(np.linspace(0, num_steps, count)).astype(int))


def reverse_process(model: ToyModel | ExactModel, sampler: str, noise,
                    num_inference_steps: int | None, eta: float, generator, max_frames: int,
                    reporter=None, langevin_steps: int = DEFAULT_LANGEVIN_STEPS,
                    langevin_step_size: float = DEFAULT_LANGEVIN_STEP_SIZE):
    """Run the reverse process from ``noise`` (N×2 tensor, on the device to run on; the
    ``generator`` of the stochastic steps may be a CPU one). Returns (frame t's, frames, steps).
    Frames are x_t on the variance-preserving scale (Euler and Heun step x_t/√ᾱ_t: their
    ``scale_model_input`` gives x_t back). diffusers' schedulers get the model's raw output
    with its objective's ``prediction_type`` (so x₀ and v stay finite at ᾱ = 0); Langevin and
    predictor–corrector get ε̂ from ``epsilon_model`` and an ε-scheduler."""
    objective = getattr(model, "objective", "eps")  # an exact model gives ε̂
    if objective == "flow":
        from engine.toy2d.flow import reverse_flow

        return reverse_flow(model, sampler, noise, num_inference_steps, max_frames, reporter)
    langevin = sampler in LANGEVIN_SAMPLERS
    scheduler = sampling_scheduler(model.schedule, "ddpm" if langevin else sampler,
                                   CLIP_MARGIN * extent(model.dataset),
                                   "eps" if langevin else objective)
    # T, or T−1 where ᾱ_{T−1} = 0 (zero SNR) for ε-models and the σ-stepping samplers
    usable = scheduler.config.num_train_timesteps
    steps = min(num_inference_steps or DEFAULT_STEPS.get(sampler, usable), usable)
    if langevin:
        return _langevin_process(sampler, epsilon_model(model, str(noise.device)), scheduler,
                                 noise, steps, generator, max_frames, reporter, langevin_steps,
                                 langevin_step_size)
    output = network_output(model, str(noise.device))[0]  # ε̂, x̂₀ or v̂ (prediction_type)
    scheduler.set_timesteps(steps)
    timesteps = list(scheduler.timesteps)
    # Heun evaluates twice per step: its timesteps are t_0, t_1, t_1, t_2, t_2, …, the first of
    # each pair correcting the step that arrives there, the second starting the next one.
    starts = [i for i in range(len(timesteps)) if i == 0 or sampler != "heun"
              or timesteps[i] == timesteps[i - 1]]
    keep = {starts[k] for k in frame_indices(len(starts), max_frames) if k < len(starts)}
    frames, frame_t = [], []
    x = noise * scheduler.init_noise_sigma
    kwargs = {"generator": generator} if sampler == "ddpm" else \
        {"eta": eta, "generator": generator, "use_clipped_model_output": True} \
        if sampler == "ddim" else {}
    for index, t in enumerate(timesteps):
        if reporter is not None:
            reporter.check_cancelled()
        x_t = scheduler.scale_model_input(x, t)  # x_t itself, also for the σ-scaled samplers
        if index in keep:
            frames.append(x_t.cpu().numpy().copy())
            frame_t.append(int(round(float(t))))
        x = scheduler.step(output(x_t, t), t, x, **kwargs).prev_sample
        if reporter is not None:
            reporter.progress(index + 1, len(timesteps), f"{sampler} t = {float(t):.0f}")
    frames.append(x.cpu().numpy().copy())
    frame_t.append(-1)  # the final sample x_0
    return np.asarray(frame_t), np.stack(frames).astype(np.float32), steps


def _langevin_process(sampler, epsilon, scheduler, noise, levels, generator, max_frames,
                      reporter, langevin_steps, step_size):
    from engine.toy2d.langevin import level_timesteps, moves, run_langevin

    timesteps = level_timesteps(sampler, scheduler, levels)
    total = moves(sampler, len(timesteps), langevin_steps)
    keep = set(frame_indices(total, max_frames).tolist())
    frames, frame_t = [], []

    def on_move(x, t, index) -> None:
        if index in keep:
            frames.append(x.cpu().numpy().copy())
            frame_t.append(t)
        if reporter is not None and index:
            reporter.check_cancelled()
            reporter.progress(index, total, f"{sampler} t = {t}")

    x = run_langevin(sampler, epsilon, scheduler, noise, timesteps, langevin_steps, step_size,
                     generator, on_move)
    if total not in keep or frame_t[-1] != -1:  # the end is the samples, at t = −1
        if total in keep:
            frames.pop()
            frame_t.pop()
        frames.append(x.cpu().numpy().copy())
        frame_t.append(-1)
    return np.asarray(frame_t), np.stack(frames).astype(np.float32), len(timesteps)


def run_sample_job(request: SampleRequest, reporter) -> SampleResult:
    torch = import_torch()
    device = current_device()
    # Drawn on the CPU (also the steps' noise): a seed gives the same points on every device.
    generator = torch.Generator().manual_seed(request.seed)
    noise = torch.randn((request.num_points, 2), generator=generator).to(device)
    frame_t, frames, steps = reverse_process(
        request.model, request.sampler, noise, request.num_inference_steps, request.eta,
        generator, request.max_frames, reporter, request.langevin_steps,
        request.langevin_step_size)
    real = sample_dataset(request.model.dataset, request.num_points, request.seed + 1_000_003)
    fresh = sample_dataset(request.model.dataset, request.num_points, request.seed + 2_000_003)
    training_nn = None
    if isinstance(request.model, ExactModel) and not request.model.is_mixture:
        points = training_points(request.model)
        training_nn = (quality.mean_nn_distance(frames[-1], points),
                       quality.mean_nn_distance(fresh, points))
    return SampleResult(training_nn=training_nn, timesteps=frame_t, trajectory=frames, real=real,
                        quality=quality.compare(frames[-1], real, fresh),
                        sampler=request.sampler, num_inference_steps=steps,
                        num_train_timesteps=request.model.schedule.num_train_timesteps,
                        device=device, objective=request.objective)
