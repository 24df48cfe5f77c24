"""The learned noise field ε̂(x, t) on a grid, and the score it implies.

With x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, the score of the noised data is
∇ log p_t(x) = −E[ε | x_t = x] / √(1−ᾱ_t) ≈ −ε̂(x, t) / √(1−ᾱ_t) (Tweedie / Vincent 2011).
x₀- and v-models give ε̂ through engine/toy2d/objectives.py. A flow-matching model reads t as
flow time s = t/T (x_s = (1−s)·x₀ + s·ε), where ε̂ = x + (1−s)·v̂ and the score is −ε̂/s.
"""

from __future__ import annotations

import numpy as np

from engine.device import current_device
from engine.runtime import import_torch
from engine.toy2d.exact_model import epsilon_model
from engine.toy2d.model import model_from_toy
from engine.toy2d.objectives import flow_x0_and_epsilon
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
    objective = getattr(request.model, "objective", "eps")  # an exact model gives ε̂
    t = int(min(max(request.t, 0), schedule.num_train_timesteps - 1))
    positions = grid_positions(request.extent, request.grid)
    if objective == "flow":
        # Flow time s in (0, 1]; the network's time input is 1000·s (engine/toy2d/flow.py).
        s = (t + 1) / schedule.num_train_timesteps
        time_input, sigma = s * 1000.0, s
    else:
        alpha_bar = float(ddpm_scheduler(schedule).alphas_cumprod[t])
        time_input, sigma = float(t), float(np.sqrt(1.0 - alpha_bar))
    reporter.check_cancelled()
    with torch.no_grad():
        if objective == "flow":
            output = model_from_toy(request.model, device)(
                torch.from_numpy(positions).to(device),
                torch.tensor(time_input, device=device)).cpu().numpy()
            epsilon = flow_x0_and_epsilon(output, positions, s)[1]
        else:  # the network's ε̂ for any objective, or an exact model's (exact_model.py)
            epsilon = epsilon_model(request.model, device)(
                torch.from_numpy(positions).to(device),
                torch.tensor(time_input, device=device)).cpu().numpy()
    reporter.progress(1, 1)
    return FieldResult(t=t, positions=positions, epsilon=epsilon,
                       score=-epsilon / max(sigma, 1e-8), sigma=sigma, device=device)
