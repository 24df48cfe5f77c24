"""The loss-weight view: the formulas over log-SNR for each schedule, its −∞ column for zero
terminal SNR, and its controls (scale, γ, objectives)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.schedules.closed_form import closed_form_curves
from engine.schedules.types import ScheduleSpec
from playground_gui.tabs.schedules.loss_weights import LossWeightsPanel


def curve(panel, index: int, objective: str):
    item = next(i for i in panel.plot.listDataItems() if i.objectName() == f"{index}:{objective}")
    return np.asarray(item.xData), np.asarray(item.yData)


@pytest.fixture
def panel(qtbot):
    panel = LossWeightsPanel()
    qtbot.addWidget(panel)
    panel.show_curves([closed_form_curves(ScheduleSpec.preset("cosine")),
                       closed_form_curves(ScheduleSpec.preset("linear", rescale_zero_snr=True))])
    return panel


def test_the_weights_drawn_are_the_formulas_against_log_snr(panel):
    x, y = curve(panel, 0, "x0")
    snr = np.exp(x)
    np.testing.assert_allclose(y, 1 / snr, rtol=1e-9)  # on the ε-MSE
    np.testing.assert_allclose(curve(panel, 0, "v")[1], 1 + 1 / snr, rtol=1e-9)
    np.testing.assert_allclose(curve(panel, 0, "min_snr")[1], np.minimum(1, 5 / snr), rtol=1e-9)
    assert np.all(curve(panel, 0, "epsilon")[1] == 1)
    cosine = closed_form_curves(ScheduleSpec.preset("cosine"))
    np.testing.assert_allclose(x, cosine.log_snr)  # one point per timestep
    panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("x0"))
    panel.gamma_spin.setValue(2.0)
    x, y = curve(panel, 0, "min_snr")
    np.testing.assert_allclose(y, np.minimum(np.exp(x), 2.0), rtol=1e-9)
    np.testing.assert_allclose(curve(panel, 0, "epsilon")[1], np.exp(x), rtol=1e-9)
    assert "min(SNR, γ)" in panel.formula_label.text() and "x₀-MSE" in panel.formula_label.text()
    panel.objective_checks["v"].setChecked(False)
    assert not any(i.objectName().endswith(":v") for i in panel.plot.listDataItems())


def test_zero_terminal_snr_is_drawn_at_minus_infinity(panel):
    # Only the rescaled linear schedule reaches SNR = 0: its last step goes to the −∞ column,
    # left of every finite log-SNR, with its ticks labelled so.
    finite_x = curve(panel, 1, "x0")[0]
    assert len(finite_x) == 999 and np.isfinite(finite_x).all()
    assert panel.infinity_x < min(curve(panel, 0, "x0")[0].min(), finite_x.min())
    assert panel.infinity_line.isVisible() and panel.infinity_line.value() == panel.infinity_x
    ticks = panel.plot.getAxis("bottom")._tickLevels[0]
    assert (panel.infinity_x, "−∞") in ticks
    at_infinity = {objective: weight for _, objective, weight in panel.infinite_points}
    assert at_infinity == {"epsilon": 1.0, "x0": np.inf, "v": np.inf, "min_snr": 1.0}
    panel.scale_combo.setCurrentIndex(panel.scale_combo.findData("x0"))
    at_infinity = {objective: weight for _, objective, weight in panel.infinite_points}
    assert at_infinity == {"epsilon": 0.0, "x0": 1.0, "v": 1.0, "min_snr": 0.0}
    # Without a zero-SNR schedule there is no such column.
    panel.show_curves([closed_form_curves(ScheduleSpec.preset("linear"))])
    assert panel.infinity_x is None and not panel.infinity_line.isVisible()
