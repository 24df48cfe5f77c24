"""The reverse page's Spectrum tab on a real run of the shipped digits model."""

from __future__ import annotations

import numpy as np
import pytest

from playground_gui.tabs.reverse.spectrum_view import EPS_RANGE, batch_spectrum
from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page


def test_spectrum_tab_follows_the_step_slider(qtbot, window):
    from engine.digits.sampling import NOISE_DISPLAY_RANGE

    assert EPS_RANGE == NOISE_DISPLAY_RANGE  # ε̂ is decoded from the range it was recorded in
    page = reverse_page(window)
    page.steps_spin.setValue(5)
    page.batch_spin.setValue(4)
    name, result = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    panel = page.spectrum_page
    page.view_tabs.setCurrentWidget(panel)  # shows: draws at the run's slider (final sample)
    assert panel.slider.maximum() == page.slider.maximum() == 5
    assert "final sample" in panel.step_label.text()
    final_x0 = panel.spectra["x0"]
    # The page's last live redraw (it jumps to the newest step) must not undo the scrub below.
    qtbot.waitUntil(lambda: not page._redraw_timer.isActive(), timeout=2000)
    panel.slider.setValue(0)  # its own slider moves the run's
    assert page.slider.value() == 0
    qtbot.waitUntil(lambda: "step 1/5" in panel.step_label.text(), timeout=2000)
    x_t, eps, x0 = result.x_t[0], result.noise_pred[0], result.pred_original[0]
    frequencies, power = batch_spectrum(eps, EPS_RANGE)
    assert frequencies[0] == pytest.approx(1 / 16) and frequencies[-1] == pytest.approx(0.5)
    np.testing.assert_allclose(panel.spectra["eps"], power)
    np.testing.assert_allclose(panel.spectra["x_t"], batch_spectrum(x_t)[1])
    np.testing.assert_allclose(panel.spectra["final"], batch_spectrum(result.x_t[-1])[1])
    first_x0 = panel.spectra["x0"]
    np.testing.assert_allclose(first_x0, batch_spectrum(x0)[1])
    # Fine detail comes last: x̂₀'s finest ring at the first step is noise, far above the
    # final sample's; ε̂ is about as flat as noise, near 1.
    assert first_x0[-1] > 10 * final_x0[-1]
    assert 0.5 < power.mean() < 1.5
