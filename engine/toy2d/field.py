"""The learned noise field ε̂(x, t) on a grid, and the score it implies.

With x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, the score of the noised data is
∇ log p_t(x) = −E[ε | x_t = x] / √(1−ᾱ_t) ≈ −ε̂(x, t) / √(1−ᾱ_t) (Tweedie / Vincent 2011).
"""

from __future__ import annotations

import numpy as np

from engine.device import current_device
from engine.runtime import import_torch
from engine.toy2d.exact_model import epsilon_model
from engine.toy2d.schedule import ddpm_scheduler
from engine.toy2d.types import FieldRequest, FieldResult


def grid_positions(extent: float, grid: int) -> np.ndarray:
    axis = np.linspace(-extent, extent, grid, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def run_field_job(request: FieldRequest, reporter) -> FieldResult:
    torch = import_torch()
    device = current_device()
    schedule = request.model.schedule
    t = int(min(max(request.t, 0), schedule.num_train_timesteps - 1))
    alpha_bar = float(ddpm_scheduler(schedule).alphas_cumprod[t])
    sigma = float(np.sqrt(1.0 - alpha_bar))
    positions = grid_positions(request.extent, request.grid)
    reporter.check_cancelled()
    with torch.no_grad():  # the network's ε̂, or an exact model's (engine/toy2d/exact_model.py)
        epsilon = epsilon_model(request.model, device)(
            torch.from_numpy(positions).to(device), torch.tensor(t, device=device)).cpu().numpy()
    reporter.progress(1, 1)
    return FieldResult(t=t, positions=positions, epsilon=epsilon,
                       score=-epsilon / max(sigma, 1e-8), sigma=sigma, device=device)
