"""Exact scores: the noised density of a Gaussian mixture is again a Gaussian mixture.

Hand-written math (no library offers the score of a noised mixture): if the data are
p_0 = Σ_k w_k·N(μ_k, Σ_k), then x_t = √ᾱ·x_0 + √(1−ᾱ)·ε has the density

    p_t = Σ_k w_k·N(√ᾱ·μ_k, ᾱ·Σ_k + (1−ᾱ)·I),

so its score ∇log p_t(x) = Σ_k r_k(x)·(−C_k⁻¹(x − m_k)) (r_k: the posterior weight of component
k at x, a softmax of the log densities, computed with log-sum-exp) and the ideal noise prediction
ε̂ = −√(1−ᾱ)·∇log p_t are exact. In the σ (VE, k-diffusion) parametrisation x̃ = x_t/√ᾱ = x_0 + σ·ε
with σ² = (1−ᾱ)/ᾱ the mixture has covariances Σ_k + σ²·I, and the ideal denoiser is Tweedie's
D(x̃, σ) = E[x_0 | x̃] = x̃ + σ²·∇log p_σ(x̃).

The ideal denoiser of any data set: its training points as a mixture of tiny Gaussians
(``empirical_mixture``), the exact score of the noised empirical distribution. Sampling with it
reproduces training points; a trained network cannot memorise them all and smooths instead.

Numpy only (float64), torch-free: the GUI and the sampler lab use it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.toy2d.datasets import MIXTURE_COMPONENTS, MIXTURE_STD, mixture_centres, normalisation
from engine.toy2d.types import DatasetSpec

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_k w_k·N(μ_k, Σ_k) in 2D: ``weights`` (K,), ``means`` (K, 2), ``covariances`` (K, 2, 2)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def with_added_variance(self, scale_means: float, scale_covariances: float,
                            added: float) -> GaussianMixture:
        """The mixture of a·x + noise: means a·μ_k, covariances b·Σ_k + added·I."""
        return GaussianMixture(self.weights, scale_means * self.means,
                               scale_covariances * self.covariances + added * np.eye(2))

    def noised(self, alpha_bar: float) -> GaussianMixture:
        """p_t of x_t = √ᾱ·x_0 + √(1−ᾱ)·ε (the variance-preserving, DDPM scale)."""
        return self.with_added_variance(np.sqrt(alpha_bar), alpha_bar, 1.0 - alpha_bar)

    def noised_sigma(self, sigma: float) -> GaussianMixture:
        """p_σ of x̃ = x_0 + σ·ε (the VE, k-diffusion scale)."""
        return self.with_added_variance(1.0, 1.0, sigma * sigma)


def _component_terms(mixture: GaussianMixture, x: np.ndarray):
    """log(w_k·N(x; μ_k, Σ_k)) (N, K) and C_k⁻¹(x − μ_k) (N, K, 2), with closed-form 2×2 inverses."""
    c = mixture.covariances
    a, b, d = c[:, 0, 0], c[:, 0, 1], c[:, 1, 1]
    det = a * d - b * b
    x = np.asarray(x, dtype=np.float64)
    dx = x[:, 0:1] - mixture.means[None, :, 0]  # (N, K)
    dy = x[:, 1:2] - mixture.means[None, :, 1]
    sx = (d * dx - b * dy) / det  # C⁻¹ = [[d, −b], [−b, a]] / det
    sy = (a * dy - b * dx) / det
    solved = np.stack([sx, sy], axis=-1)
    quadratic = dx * sx + dy * sy
    log_terms = np.log(mixture.weights)[None, :] - 0.5 * (quadratic + np.log(det)[None, :]) - _LOG_2PI
    return log_terms, solved


def log_density(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """log p(x) for points x (N, 2), by log-sum-exp (stable far from every component)."""
    log_terms, _ = _component_terms(mixture, x)
    top = log_terms.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(log_terms - top).sum(axis=1, keepdims=True)))[:, 0]


def score(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """∇log p(x) (N, 2): the responsibilities' weighted sum of −C_k⁻¹(x − μ_k)."""
    log_terms, solved = _component_terms(mixture, x)
    responsibilities = np.exp(log_terms - log_terms.max(axis=1, keepdims=True))
    responsibilities /= responsibilities.sum(axis=1, keepdims=True)
    return -(responsibilities[:, :, None] * solved).sum(axis=1)


def score_at(mixture: GaussianMixture, x: np.ndarray, alpha_bar: float) -> np.ndarray:
    """The exact score ∇log p_t(x) of the data noised to ᾱ (VP scale)."""
    return score(mixture.noised(alpha_bar), x)


def epsilon_hat(mixture: GaussianMixture, x: np.ndarray, alpha_bar: float) -> np.ndarray:
    """The ideal noise prediction E[ε | x_t = x] = −√(1−ᾱ)·∇log p_t(x)."""
    return -np.sqrt(1.0 - alpha_bar) * score_at(mixture, x, alpha_bar)


def denoiser(mixture: GaussianMixture):
    """D(x̃, σ) = E[x_0 | x̃] = x̃ + σ²·∇log p_σ(x̃): the exact model in the σ parametrisation,
    the ``model`` argument of the ODE samplers in engine/samplers/ode.py."""

    def denoise(x: np.ndarray, sigma: float) -> np.ndarray:
        sigma = float(sigma)
        return x + sigma * sigma * score(mixture.noised_sigma(sigma), x)

    return denoise


def dataset_mixture(spec: DatasetSpec) -> GaussianMixture:
    """The exact density of the normalised "gaussian_mixture" data set (engine/toy2d/datasets)."""
    if spec.name != "gaussian_mixture":
        raise ValueError(f"{spec.label} is not a Gaussian mixture: use empirical_mixture of its "
                         "training points (the ideal denoiser) instead.")
    mean, scale = normalisation(spec)
    std = MIXTURE_STD / scale
    return GaussianMixture(np.full(MIXTURE_COMPONENTS, 1.0 / MIXTURE_COMPONENTS),
                           (mixture_centres() - mean) / scale,
                           np.tile(std * std * np.eye(2), (MIXTURE_COMPONENTS, 1, 1)))


def empirical_mixture(points: np.ndarray, bandwidth: float = 1e-3) -> GaussianMixture:
    """The training points as equal-weight Gaussians of standard deviation ``bandwidth``: its
    noised score is the ideal denoiser's (exactly the empirical one as the bandwidth → 0)."""
    points = np.asarray(points, dtype=np.float64)
    count = len(points)
    return GaussianMixture(np.full(count, 1.0 / count), points,
                           np.tile(bandwidth * bandwidth * np.eye(2), (count, 1, 1)))


def exact_mixture(spec: DatasetSpec, training_points: np.ndarray | None = None) -> GaussianMixture:
    """The exact mixture for the Gaussian-mixture data set, else the ideal denoiser's mixture of
    ``training_points`` (required then)."""
    if spec.name == "gaussian_mixture":
        return dataset_mixture(spec)
    if training_points is None:
        raise ValueError(f"{spec.label} has no closed-form density: pass its training points.")
    return empirical_mixture(training_points)
