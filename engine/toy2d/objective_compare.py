"""Objectives side by side: ε and v with zero terminal SNR, and flow matching, from one noise.

Three short trainings in one job (progress runs over all three; cancel stops at once), then
each model samples the same N(0, I) points (same seed): DDIM, the probability-flow ODE, for the
DDPM family, and flow's Euler. What the comparison measures:

- where sampling starts: v at t = T−1 where ᾱ = 0, ε one step later (the fallback);
- the first x̂₀, unclipped: v gives x̂₀ = −v̂ ≈ E[x₀] at ᾱ = 0, ε divides its error by √ᾱ;
- how straight the paths are: ‖x_0 − x_T‖ over the path length (1 for a straight line).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.runtime import import_torch
from engine.toy2d.objectives import predicted_x0
from engine.toy2d.types import (
    ObjectiveComparisonRequest,
    ObjectiveComparisonResult,
    ObjectivePanel,
    SampleRequest,
    ToyModel,
    TrainRequest,
)

PLAN = (("eps", "ddim"), ("v", "ddim"), ("flow", "euler"))


class _Stage:
    """A reporter for one training of several: its progress counts in the whole job's."""

    def __init__(self, parent, offset: int, total: int, label: str, counts: bool = True):
        self.parent, self.offset, self.total, self.label = parent, offset, total, label
        self.counts = counts  # False: say what runs, but stay at ``offset``

    @property
    def cancelled(self) -> bool:
        return self.parent.cancelled

    def check_cancelled(self, partial=None) -> None:
        self.parent.check_cancelled()  # a half-trained model is no comparison: no partial

    def restart_clock(self) -> None:
        pass

    def progress(self, done: int, total: int, message: str = "") -> None:
        done = self.offset + (done if self.counts else 0)
        self.parent.progress(done, self.total, f"{self.label}: {message}")

    def partial(self, payload) -> None:
        pass


def straightness(trajectory: np.ndarray) -> float:
    """Mean over points of ‖end − start‖ / Σ‖step‖ (1: a straight line; lower: curved)."""
    steps = np.linalg.norm(np.diff(trajectory.astype(np.float64), axis=0), axis=2).sum(axis=0)
    chord = np.linalg.norm(trajectory[-1].astype(np.float64) - trajectory[0], axis=1)
    usable = steps > 1e-12
    return float(np.mean(chord[usable] / steps[usable])) if usable.any() else 1.0


def first_x0_spread(model: ToyModel, noise: np.ndarray, t: int) -> float:
    """Median ‖x̂₀‖ at the first step t, without the sampler's clipping."""
    from engine.toy2d.model import model_from_toy
    from engine.toy2d.schedule import ddpm_scheduler

    torch = import_torch()
    alpha_bar = float(ddpm_scheduler(model.schedule).alphas_cumprod.double()[t])
    with torch.no_grad():
        output = model_from_toy(model)(torch.from_numpy(noise), torch.tensor(t)).double().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = predicted_x0(model.objective, output, noise.astype(np.float64), alpha_bar)
    return float(np.median(np.linalg.norm(x0, axis=1)))


def run_objective_comparison(request: ObjectiveComparisonRequest,
                             reporter) -> ObjectiveComparisonResult:
    from engine.toy2d.sampling import run_sample_job
    from engine.toy2d.training import run_train_job

    zero_snr = dataclasses.replace(request.schedule, rescale_zero_snr=True)
    total = len(PLAN) * request.steps
    panels = []
    for index, (objective, sampler) in enumerate(PLAN):
        schedule = request.schedule if objective == "flow" else zero_snr
        stage = _Stage(reporter, index * request.steps, total, objective)
        state = run_train_job(TrainRequest(dataset=request.dataset, schedule=schedule,
                                           steps=request.steps, seed=request.seed,
                                           objective=objective), stage)
        reporter.check_cancelled()
        # Same seed → the same noise x_T for every model (drawn first from the generator).
        result = run_sample_job(SampleRequest(model=state.model, sampler=sampler,
                                              num_points=request.num_points,
                                              num_inference_steps=request.sampling_steps,
                                              seed=request.seed),
                                _Stage(reporter, (index + 1) * request.steps, total,
                                       f"sampling {objective}", counts=False))
        spread = (None if objective == "flow" else
                  first_x0_spread(state.model, result.trajectory[0], result.start_t))
        panels.append(ObjectivePanel(
            objective=objective,
            schedule_label="x_t = (1−t)·x₀ + t·ε" if objective == "flow" else schedule.label,
            result=result, straightness=straightness(result.trajectory),
            first_x0_spread=spread, final_loss=float(state.losses[-200:].mean())))
    return ObjectiveComparisonResult(panels=tuple(panels))
