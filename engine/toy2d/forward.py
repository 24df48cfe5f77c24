"""Forward-process job: the data and one run of the Markov chain
x_t = √(1−β_t)·x_{t−1} + √β_t·ε_t, which is the Euler–Maruyama discretisation of the
Ornstein–Uhlenbeck SDE dx = −½β(t)·x dt + √β(t) dW. Following one chain (instead of drawing
each x_t independently from the closed form) lets every point move continuously, like a
particle of dye; its marginals are exactly q(x_t | x_0) = N(√ᾱ_t·x_0, (1−ᾱ_t)·I).
"""

from __future__ import annotations

import numpy as np

from engine.runtime import import_torch
from engine.toy2d.datasets import sample_dataset
from engine.toy2d.sampling import frame_indices
from engine.toy2d.schedule import ddpm_scheduler
from engine.toy2d.types import ToyForwardRequest, ToyForwardResult


def run_forward_job(request: ToyForwardRequest, reporter) -> ToyForwardResult:
    torch = import_torch()
    scheduler = ddpm_scheduler(request.schedule)
    betas = scheduler.betas.double()
    num_timesteps = len(betas)
    data = sample_dataset(request.dataset, request.num_points, request.seed)
    generator = torch.Generator().manual_seed(request.seed)
    x = torch.from_numpy(data).double()
    # Frame k holds x_t after step t = k−1; frame 0 is the clean data (shown as "x₀").
    keep = set(frame_indices(num_timesteps, request.frames).tolist())
    frames, frame_t, paths = [data.copy()], [-1], []
    for t in range(num_timesteps):
        if t % 50 == 0:
            reporter.check_cancelled()
        x = torch.sqrt(1 - betas[t]) * x + torch.sqrt(betas[t]) * torch.randn(
            x.shape, generator=generator, dtype=torch.float64)
        paths.append(x[: request.paths, 0].numpy().copy())
        if t + 1 in keep:
            frames.append(x.float().numpy().copy())
            frame_t.append(t)
    reporter.progress(1, 1)
    return ToyForwardResult(data=data, timesteps=np.asarray(frame_t), frames=np.stack(frames),
                         path_values=np.stack(paths).astype(np.float32),
                         alphas_cumprod=scheduler.alphas_cumprod.double().numpy())
