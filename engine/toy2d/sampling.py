"""Sampling job: DDPM or DDIM reverse process via diffusers schedulers, recording every point's
trajectory (at most ``max_frames`` frames, evenly spaced) for scrubbing, plus the quality."""

from __future__ import annotations

import numpy as np

from engine.device import current_device
from engine.runtime import import_torch
from engine.toy2d import quality
from engine.toy2d.datasets import extent, sample_dataset
from engine.toy2d.model import model_from_toy
from engine.toy2d.schedule import sampling_scheduler
from engine.toy2d.types import SampleRequest, SampleResult, ToyModel

DEFAULT_DDIM_STEPS = 50
#: x̂₀ is clipped to this multiple of the data's largest |coordinate|. The exact E[x₀ | x_t] lies
#: in the data's convex hull, so a clip a little wider than the data never moves a good estimate.
CLIP_MARGIN = 1.2


def frame_indices(num_steps: int, max_frames: int) -> np.ndarray:
    """Which states (0 = x_T … num_steps = x_0) to keep; both ends always."""
    count = min(num_steps + 1, max(2, max_frames))
    return np.unique(np.round(np.linspace(0, num_steps, count)).astype(int))


def reverse_process(model: ToyModel, sampler: str, noise, num_inference_steps: int | None,
                    eta: float, generator, max_frames: int, reporter=None):
    """Run the reverse process from ``noise`` (N×2 tensor, on the device to run on; the
    ``generator`` of the stochastic steps may be a CPU one). Returns (frame t's, frames)."""
    if model.objective == "flow":
        from engine.toy2d.flow import reverse_flow

        return reverse_flow(model, sampler, noise, num_inference_steps, max_frames, reporter)
    torch = import_torch()
    device = noise.device
    network = model_from_toy(model, device)
    scheduler = sampling_scheduler(model.schedule, sampler,
                                   CLIP_MARGIN * extent(model.dataset), model.objective)
    usable = scheduler.config.num_train_timesteps  # T, or T−1 for ε where ᾱ_{T−1} = 0 (zero SNR)
    steps = num_inference_steps or (DEFAULT_DDIM_STEPS if sampler == "ddim" else usable)
    steps = min(steps, usable)
    scheduler.set_timesteps(steps)
    timesteps = [int(t) for t in scheduler.timesteps]
    keep = set(frame_indices(len(timesteps), max_frames).tolist())
    frames, frame_t = [], []
    x = noise
    for index, t in enumerate(timesteps):
        if index in keep:
            frames.append(x.cpu().numpy().copy())
            frame_t.append(t)
        if reporter is not None:
            reporter.check_cancelled()
        with torch.no_grad():
            output = network(x, torch.tensor(t, device=device))  # ε̂, x̂₀ or v̂ (prediction_type)
        if sampler == "ddim":
            x = scheduler.step(output, t, x, eta=eta, generator=generator,
                                   use_clipped_model_output=True).prev_sample
        else:
            x = scheduler.step(output, t, x, generator=generator).prev_sample
        if reporter is not None:
            reporter.progress(index + 1, len(timesteps), f"{sampler.upper()} t = {t}")
    frames.append(x.cpu().numpy().copy())
    frame_t.append(-1)  # the final sample x_0
    return np.asarray(frame_t), np.stack(frames).astype(np.float32), len(timesteps)


def run_sample_job(request: SampleRequest, reporter) -> SampleResult:
    torch = import_torch()
    device = current_device()
    # Drawn on the CPU (also the steps' noise): a seed gives the same points on every device.
    generator = torch.Generator().manual_seed(request.seed)
    noise = torch.randn((request.num_points, 2), generator=generator).to(device)
    frame_t, frames, steps = reverse_process(
        request.model, request.sampler, noise, request.num_inference_steps, request.eta,
        generator, request.max_frames, reporter)
    real = sample_dataset(request.model.dataset, request.num_points, request.seed + 1_000_003)
    fresh = sample_dataset(request.model.dataset, request.num_points, request.seed + 2_000_003)
    return SampleResult(timesteps=frame_t, trajectory=frames, real=real,
                        quality=quality.compare(frames[-1], real, fresh),
                        sampler=request.sampler, num_inference_steps=steps,
                        num_train_timesteps=request.model.schedule.num_train_timesteps,
                        device=device, objective=request.model.objective)
