"""What the exact scores show about the trained network.

- ``run_score_error_job``: the learned ε̂_θ against the exact ε̂* over t, on points drawn from
  p_t itself. The training loss at t is E‖ε − ε̂_θ‖² = E‖ε − ε̂*‖² + E‖ε̂* − ε̂_θ‖² (ε̂* is the
  conditional mean E[ε | x_t], so the cross term vanishes): a floor no network can go below,
  plus the network's own error, which is what matters for sampling.
- ``run_memorisation_job``: samples of the ideal denoiser of a finite training set land on
  training points (its p_t at t → 0 is a sum of spikes at them); fresh real points and the
  network's samples do not.
"""

from __future__ import annotations

import numpy as np

from engine.runtime import import_torch
from engine.toy2d import quality
from engine.toy2d.datasets import sample_dataset
from engine.toy2d.exact_model import (
    epsilon_model,
    model_alphas_cumprod,
    training_points,
)
from engine.toy2d.types import (
    ExactModel,
    MemorisationRequest,
    MemorisationResult,
    ScoreErrorRequest,
    ScoreErrorResult,
)


def run_score_error_job(request: ScoreErrorRequest, reporter) -> ScoreErrorResult:
    torch = import_torch()
    model = request.model
    exact = ExactModel(dataset=model.dataset, schedule=model.schedule,
                       ideal=model.dataset.name != "gaussian_mixture",
                       training_points=request.training_points, seed=request.seed)
    learned, ideal = epsilon_model(model, "cpu"), epsilon_model(exact, "cpu")
    alphas_cumprod = model_alphas_cumprod(model)
    usable = int(np.count_nonzero(alphas_cumprod > 0))
    timesteps = np.unique(np.round(np.linspace(0, usable - 1, request.times)).astype(int))
    rng = np.random.default_rng(request.seed + 4_000_037)
    rows = []
    for index, t in enumerate(timesteps):
        reporter.check_cancelled()
        x0 = sample_dataset(model.dataset, request.num_points, rng).astype(np.float64)
        noise = rng.standard_normal(x0.shape)
        alpha_bar = alphas_cumprod[t]
        x_t = torch.from_numpy(np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise)
        best = ideal(x_t, int(t)).numpy()
        network = learned(x_t.float(), int(t)).double().numpy()
        rows.append((((network - best) ** 2).sum(1).mean(), ((noise - best) ** 2).sum(1).mean(),
                     ((noise - network) ** 2).sum(1).mean()))
        reporter.progress(index + 1, len(timesteps), f"t = {t}")
    model_error, floor, loss = np.asarray(rows).T
    return ScoreErrorResult(timesteps=timesteps, model_error=model_error, floor=floor, loss=loss,
                            reference=exact.label)


def run_memorisation_job(request: MemorisationRequest, reporter) -> MemorisationResult:
    from engine.toy2d.sampling import reverse_process

    torch = import_torch()
    exact = request.exact
    points = training_points(exact)
    fresh = sample_dataset(exact.dataset, request.num_points, request.seed + 2_000_003)

    def sample(model, first: int, total: int) -> np.ndarray:
        class Stage:
            def check_cancelled(self):
                reporter.check_cancelled()

            def progress(self, done, _total, message=""):
                reporter.progress(first + done, total, message)

        generator = torch.Generator().manual_seed(request.seed)
        noise = torch.randn((request.num_points, 2), generator=generator)
        sampler = "euler" if getattr(model, "objective", "eps") == "flow" else "ddim"  # both ODEs
        return reverse_process(model, sampler, noise, request.steps, 0.0, generator, 2,
                               Stage())[1][-1].astype(np.float64)

    total = request.steps * (2 if request.model is not None else 1)
    ideal = sample(exact, 0, total)
    network = None if request.model is None else sample(request.model, request.steps, total)
    return MemorisationResult(
        training=points, ideal=ideal, ideal_distances=quality.nn_distances(ideal, points),
        real_distances=quality.nn_distances(fresh, points), network=network,
        network_distances=None if network is None else quality.nn_distances(network, points))
