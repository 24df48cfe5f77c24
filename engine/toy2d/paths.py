"""ODE and SDE side by side from the same starting noise.

The probability-flow ODE (DDIM with η = 0) gives each noise point one fixed path; the reverse
SDE (DDPM) adds fresh noise at every step, so the same starting point ends somewhere else on
each draw, yet both have the same marginals p_t. Both run on the same trailing timesteps, so
their frames line up.
"""

from __future__ import annotations

import numpy as np

from engine.runtime import import_torch
from engine.toy2d.datasets import sample_dataset
from engine.toy2d.sampling import reverse_process
from engine.toy2d.types import PathsRequest, PathsResult

REAL_POINTS = 1000


def run_paths_job(request: PathsRequest, reporter) -> PathsResult:
    from engine.device import current_device

    torch = import_torch()
    device = current_device()
    generator = torch.Generator().manual_seed(request.seed)
    noise = torch.randn((request.num_points, 2), generator=generator)
    frames = request.steps + 1  # every step

    class Stage:  # progress over both runs
        def __init__(self, first: int, total: int):
            self.first, self.total = first, total

        def check_cancelled(self):
            reporter.check_cancelled()

        def progress(self, done, total, message=""):
            reporter.progress(self.first + done, self.total, message)

    stage_total = 2 * request.steps
    ode_t, ode, _ = reverse_process(request.model, "ddim", noise.to(device), request.steps, 0.0,
                                    generator, frames, Stage(0, stage_total))
    repeated = noise.repeat(request.draws, 1).to(device)  # draw d of point p at d·P + p
    sde_t, sde, _ = reverse_process(request.model, "ddpm", repeated, request.steps, 0.0,
                                    generator, frames, Stage(request.steps, stage_total))
    if not np.array_equal(ode_t, sde_t):
        raise RuntimeError("the ODE and SDE runs took different timesteps")
    sde = sde.reshape(len(sde_t), request.draws, request.num_points, 2)
    real = sample_dataset(request.model.dataset, REAL_POINTS, request.seed + 1_000_003)
    return PathsResult(timesteps=ode_t, ode=ode, sde=sde, real=real)
