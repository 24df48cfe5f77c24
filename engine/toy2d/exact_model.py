"""Models as the samplers see them: ε̂(x_t, t), from the trained MLP or from an exact score.

diffusers' schedulers step the model's raw output (``network_output``: ε̂, x̂₀ or v̂, told by
``prediction_type``); our Langevin and predictor–corrector, the field and the exact-score checks
take a noise prediction ε̂(x_t, t) on the variance-preserving scale. ``epsilon_model`` gives it
for a ``ToyModel`` (the network, x₀/v outputs converted) and for an ``ExactModel``:
ε̂ = −√(1−ᾱ_t)·∇log p_t(x_t) with the closed-form score of the noised Gaussian mixture, or of
the training points as a mixture of tiny Gaussians (the ideal denoiser, engine/toy2d/exact.py). ᾱ at a fractional t (Heun's and
Euler's interpolated timesteps) is interpolated linearly between the schedule's integers.

``isotropic_score`` is a faster form of ``exact.score`` for mixtures whose components share one
covariance c·I (both mixtures here): one matrix product for the squared distances instead of
per-component 2×2 solves; the ideal denoiser of 1000 points is called for 1000 points at every
sampler step.
"""

from __future__ import annotations

import numpy as np

from engine.toy2d.exact import GaussianMixture, dataset_mixture, empirical_mixture
from engine.toy2d.types import ExactModel, ToyModel

#: The ideal denoiser's training points: their own random stream (not the real points that
#: sampling compares with).
IDEAL_SEED_OFFSET = 3_000_017


def training_points(model: ExactModel) -> np.ndarray:
    """The points the ideal denoiser memorises (float64, normalised like every data set)."""
    from engine.toy2d.datasets import sample_dataset

    return sample_dataset(model.dataset, model.training_points,
                          model.seed + IDEAL_SEED_OFFSET).astype(np.float64)


def model_mixture(model: ExactModel) -> GaussianMixture:
    return dataset_mixture(model.dataset) if model.is_mixture else \
        empirical_mixture(training_points(model))


def isotropic_score(mixture: GaussianMixture, x: np.ndarray, scale: float,
                    added: float) -> np.ndarray:
    """∇log p(x) of the mixture of scale·x₀ + √added·ε, for components with equal covariance
    c·I: the noised components are N(scale·μ_k, (scale²·c + added)·I), and the score is
    (Σ_k r_k·scale·μ_k − x)/variance with r the posterior weights (log-sum-exp softmax)."""
    c = mixture.covariances
    if not (np.allclose(c, c[0, 0, 0] * np.eye(2)) and np.allclose(c[:, 0, 0], c[0, 0, 0])):
        raise ValueError("isotropic_score needs one shared covariance c·I")
    variance = scale * scale * float(c[0, 0, 0]) + added
    means = scale * mixture.means
    x = np.asarray(x, dtype=np.float64)
    squared = ((x * x).sum(1)[:, None] + (means * means).sum(1)[None, :] - 2 * x @ means.T)
    logits = np.log(mixture.weights)[None, :] - np.maximum(squared, 0) / (2 * variance)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return (weights @ means - x) / variance


def alpha_bar_at(alphas_cumprod: np.ndarray, t: float) -> float:
    """ᾱ at a timestep, interpolated between integers (diffusers' Euler and Heun step fractional
    timesteps where their σ grid needs them)."""
    return float(np.interp(float(t), np.arange(len(alphas_cumprod)), alphas_cumprod))


def model_alphas_cumprod(model) -> np.ndarray:
    from engine.toy2d.schedule import schedule_betas

    return np.cumprod(1.0 - schedule_betas(model.schedule).astype(np.float64))


def network_output(model: ToyModel | ExactModel, device: str = "cpu"):
    """(f(x, t), objective): the model's raw output for torch tensors x (N×2) and t (a scalar
    tensor or number), and what it is — the network's ε̂, x̂₀ or v̂ (its ``objective``), or an
    exact model's ε̂ = −√(1−ᾱ_t)·∇log p_t (computed in float64, returned in x's dtype; "eps").
    diffusers' schedulers step this output with the objective's ``prediction_type``."""
    from engine.runtime import import_torch

    torch = import_torch()
    if isinstance(model, ToyModel):
        from engine.toy2d.model import model_from_toy

        network = model_from_toy(model, device)

        def network_call(x, t):
            with torch.no_grad():
                return network(x, torch.as_tensor(t, device=x.device))

        return network_call, model.objective
    mixture = model_mixture(model)
    alphas_cumprod = model_alphas_cumprod(model)

    def exact_epsilon(x, t):
        alpha_bar = alpha_bar_at(alphas_cumprod, float(t))
        points = x.detach().double().cpu().numpy()
        score = isotropic_score(mixture, points, np.sqrt(alpha_bar), 1.0 - alpha_bar)
        epsilon = -np.sqrt(1.0 - alpha_bar) * score
        return torch.from_numpy(epsilon).to(device=x.device, dtype=x.dtype)

    return exact_epsilon, "eps"


def epsilon_model(model: ToyModel | ExactModel, device: str = "cpu"):
    """ε̂(x, t), the one place where a model's output becomes a noise prediction (Langevin, the
    predictor–corrector's score, the field, the exact-score checks): ε-models and exact models
    as they are, x₀- and v-models converted with ᾱ_t (engine/toy2d/objectives.py; finite at
    every t, also at ᾱ = 0). Flow matching has no ᾱ_t: engine/toy2d/field.py handles it."""
    output, objective = network_output(model, device)
    if objective == "eps":
        return output
    if objective == "flow":
        raise ValueError("A flow-matching model predicts a velocity on x_t = (1−t)·x₀ + t·ε; it "
                         "has no noise prediction on the DDPM family's schedule.")
    from engine.toy2d.objectives import predicted_epsilon

    alphas_cumprod = model_alphas_cumprod(model)

    def converted(x, t):
        alpha_bar = alpha_bar_at(alphas_cumprod, float(t))
        return predicted_epsilon(objective, output(x, t), x, alpha_bar)

    return converted
