"""Exact scores of the noised Gaussian mixture and the ideal denoiser (engine/toy2d/exact.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.toy2d.datasets import sample_dataset
from engine.toy2d.exact import (
    GaussianMixture,
    dataset_mixture,
    denoiser,
    empirical_mixture,
    epsilon_hat,
    exact_mixture,
    log_density,
    score,
    score_at,
)
from engine.toy2d.types import DatasetSpec

MIXTURE = DatasetSpec("gaussian_mixture")


def finite_difference_gradient(function, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    columns = []
    for axis in range(2):
        step = np.zeros(2)
        step[axis] = h
        columns.append((function(x + step) - function(x - step)) / (2 * h))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("alpha_bar", [1 - 1e-4, 0.9, 0.5, 0.05, 4e-5])
def test_the_score_is_the_gradient_of_the_noised_log_density(alpha_bar):
    mixture = dataset_mixture(MIXTURE)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((200, 2)) * 1.5,
                        [[0.0, 0.0], [40.0, -30.0], [-200.0, 5.0]]])  # far: exp underflows
    noised = mixture.noised(alpha_bar)
    log_p = log_density(noised, x)
    assert np.isfinite(log_p).all()
    expected = finite_difference_gradient(lambda y: log_density(noised, y), x)
    exact = score_at(mixture, x, alpha_bar)
    assert np.isfinite(exact).all()
    np.testing.assert_allclose(exact, expected, rtol=1e-5, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_allclose(epsilon_hat(mixture, x, alpha_bar),
                               -np.sqrt(1 - alpha_bar) * exact)


def test_a_general_mixture_with_full_covariances_and_unequal_weights():
    mixture = GaussianMixture(np.array([0.2, 0.8]), np.array([[1.0, -1.0], [-0.5, 0.3]]),
                              np.array([[[0.3, 0.1], [0.1, 0.2]], [[0.5, -0.2], [-0.2, 0.4]]]))
    x = np.random.default_rng(1).standard_normal((50, 2))
    expected = finite_difference_gradient(lambda y: log_density(mixture, y), x)
    np.testing.assert_allclose(score(mixture, x), expected, rtol=1e-6, atol=1e-7)
    # The density integrates to 1 (a grid sum over ±6).
    axis = np.linspace(-6, 6, 401)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    assert np.exp(log_density(mixture, grid)).sum() * (axis[1] - axis[0]) ** 2 == \
        pytest.approx(1, abs=1e-4)


def test_the_noised_mixture_has_the_documented_means_and_covariances():
    mixture = dataset_mixture(MIXTURE)
    noised = mixture.noised(0.3)
    np.testing.assert_allclose(noised.means, np.sqrt(0.3) * mixture.means)
    np.testing.assert_allclose(noised.covariances, 0.3 * mixture.covariances + 0.7 * np.eye(2))


def test_the_exact_mixture_is_the_data_set_it_describes():
    mixture = dataset_mixture(MIXTURE)
    points = sample_dataset(MIXTURE, 20_000, seed=3).astype(np.float64)
    np.testing.assert_allclose(points.mean(axis=0), mixture.weights @ mixture.means, atol=0.02)
    nearest = np.argmin(((points[:, None] - mixture.means[None]) ** 2).sum(-1), axis=1)
    spread = (points - mixture.means[nearest]).std(axis=0)
    np.testing.assert_allclose(spread, np.sqrt(mixture.covariances[0, 0, 0]), rtol=0.03)
    assert log_density(mixture, points).mean() > log_density(mixture, points[:, ::-1] * 0.5).mean()


def test_the_ideal_denoiser_reproduces_training_points():
    spec = DatasetSpec("two_moons")
    training = sample_dataset(spec, 300, seed=5).astype(np.float64)
    ideal = denoiser(empirical_mixture(training, bandwidth=1e-6))
    near = training[:50] + 2e-4 * np.random.default_rng(2).standard_normal((50, 2))
    np.testing.assert_allclose(ideal(near, 1e-3), training[:50], atol=1e-5)  # snaps to a point
    np.testing.assert_allclose(ideal(near, 1e4), np.tile(training.mean(0), (50, 1)), atol=1e-4)
    with pytest.raises(ValueError, match="training points"):
        exact_mixture(spec)
    assert exact_mixture(spec, training).means.shape == (300, 2)
