"""Loss weights per objective: the formulas, and that they are what the MSEs really are."""

from __future__ import annotations

import numpy as np
import pytest

from engine.forward import targets
from engine.schedules.closed_form import closed_form_curves
from engine.schedules.loss_weights import OBJECTIVES, loss_weight, snr
from engine.schedules.types import ScheduleSpec

SNRS = np.array([0.0, 1e-4, 0.3, 1.0, 5.0, 7.0, 1e4])


def test_the_formulas():
    with np.errstate(divide="ignore"):
        inverse = 1 / SNRS
    for gamma in (1.0, 5.0):
        on_x0 = {"epsilon": SNRS, "x0": np.ones_like(SNRS), "v": SNRS + 1,
                 "min_snr": np.minimum(SNRS, gamma)}
        on_eps = {"epsilon": np.ones_like(SNRS), "x0": inverse, "v": 1 + inverse,
                  "min_snr": np.minimum(1, gamma * inverse)}
        for objective in OBJECTIVES:
            np.testing.assert_allclose(loss_weight(objective, SNRS, "x0", gamma),
                                       on_x0[objective])
            np.testing.assert_allclose(loss_weight(objective, SNRS, "epsilon", gamma),
                                       on_eps[objective])
    # Where both are finite, the ε-MSE weight is the x₀-MSE weight over SNR (diffusers' training
    # scripts: min(snr, γ)/snr for ε-prediction).
    positive = SNRS > 0
    for objective in OBJECTIVES:
        np.testing.assert_allclose(loss_weight(objective, SNRS[positive], "epsilon"),
                                   loss_weight(objective, SNRS[positive], "x0") / SNRS[positive])


def test_zero_terminal_snr_end():
    assert loss_weight("x0", np.array([0.0]), "epsilon")[0] == np.inf
    assert loss_weight("v", np.array([0.0]), "epsilon")[0] == np.inf
    assert loss_weight("min_snr", np.array([0.0]), "epsilon")[0] == 1.0
    assert loss_weight("epsilon", np.array([0.0]), "x0")[0] == 0.0
    curves = closed_form_curves(ScheduleSpec.preset("linear", rescale_zero_snr=True))
    values = snr(curves.alphas_cumprod)
    assert values[-1] == 0.0 and np.all(values[:-1] > 0)


@pytest.mark.parametrize("alpha_bar", [0.98, 0.5, 0.03])
def test_weights_are_what_the_mses_are(alpha_bar):
    """Predict ε̂ with an error; the x₀ and v it implies have exactly the weighted errors."""
    rng = np.random.default_rng(4)
    x0, eps = rng.uniform(-1, 1, 500), rng.normal(size=500)
    x_t = targets.noised(x0, eps, alpha_bar)
    eps_hat = eps + rng.normal(scale=0.1, size=500)
    x0_hat = targets.x0_from_eps(x_t, eps_hat, alpha_bar)
    v_hat = targets.v_from_eps(x_t, eps_hat, alpha_bar)
    eps_mse = np.mean((eps - eps_hat) ** 2)
    x0_mse = np.mean((x0 - x0_hat) ** 2)
    v_mse = np.mean((targets.velocity(x0, eps, alpha_bar) - v_hat) ** 2)
    ratio = np.array([alpha_bar / (1 - alpha_bar)])
    assert x0_mse == pytest.approx(loss_weight("x0", ratio)[0] * eps_mse)
    assert v_mse == pytest.approx(loss_weight("v", ratio)[0] * eps_mse)
    assert eps_mse == pytest.approx(loss_weight("epsilon", ratio, "x0")[0] * x0_mse)
    assert v_mse == pytest.approx(loss_weight("v", ratio, "x0")[0] * x0_mse)


def test_bad_arguments():
    with pytest.raises(ValueError, match="objective"):
        loss_weight("score", SNRS)
    with pytest.raises(ValueError, match="scale"):
        loss_weight("v", SNRS, "v")
    with pytest.raises(ValueError, match="γ"):
        loss_weight("min_snr", SNRS, gamma=0)
