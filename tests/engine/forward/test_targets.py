"""ε, x₀ and v convert into one another exactly, and v is diffusers' velocity."""

from __future__ import annotations

import numpy as np
import pytest

from engine.forward import targets


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (3, 24, 20)), rng.normal(size=(3, 24, 20))


@pytest.mark.parametrize("alpha_bar", [0.9999, 0.7, 0.5, 0.02, 1e-5])
def test_conversions_round_trip(pair, alpha_bar):
    x0, eps = pair
    x_t = targets.noised(x0, eps, alpha_bar)
    v = targets.velocity(x0, eps, alpha_bar)
    close = {"rtol": 0, "atol": 1e-9}
    np.testing.assert_allclose(targets.x0_from_v(x_t, v, alpha_bar), x0, **close)
    np.testing.assert_allclose(targets.eps_from_v(x_t, v, alpha_bar), eps, **close)
    np.testing.assert_allclose(targets.v_from_eps(x_t, eps, alpha_bar), v, atol=1e-9 / alpha_bar)
    np.testing.assert_allclose(targets.v_from_x0(x_t, x0, alpha_bar), v,
                               atol=1e-9 / (1 - alpha_bar))
    np.testing.assert_allclose(targets.x0_from_eps(x_t, eps, alpha_bar), x0,
                               atol=1e-9 / alpha_bar)
    np.testing.assert_allclose(targets.eps_from_x0(x_t, x0, alpha_bar), eps,
                               atol=1e-9 / (1 - alpha_bar))
    # v is a rotation of (ε, x₀) by the angle whose cosine is α: the norm is kept.
    assert np.sum(v**2 + x_t**2) == pytest.approx(np.sum(eps**2 + x0**2))


def test_v_moves_from_eps_to_minus_x0(pair):
    x0, eps = pair
    np.testing.assert_array_equal(targets.velocity(x0, eps, 1.0), eps)
    np.testing.assert_array_equal(targets.velocity(x0, eps, 0.0), -x0)


def test_the_ends_that_have_no_inverse_say_so(pair):
    x0, eps = pair
    with pytest.raises(ValueError, match="pure noise"):
        targets.x0_from_eps(eps, eps, 0.0)
    with pytest.raises(ValueError, match="no noise"):
        targets.eps_from_x0(x0, x0, 1.0)


def test_velocity_is_diffusers_get_velocity(pair):
    torch = pytest.importorskip("torch")
    from diffusers import DDPMScheduler

    x0, eps = pair
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    steps = [0, 400, 999]
    expected = scheduler.get_velocity(torch.from_numpy(np.stack([x0] * 3)).float(),
                                      torch.from_numpy(np.stack([eps] * 3)).float(),
                                      torch.tensor(steps)).numpy()
    for row, t in enumerate(steps):
        alpha_bar = float(scheduler.alphas_cumprod[t])
        np.testing.assert_allclose(targets.velocity(x0, eps, alpha_bar), expected[row],
                                   atol=2e-6)
