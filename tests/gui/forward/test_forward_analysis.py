"""The views under the forward page's slider: x_t's power spectrum and the prediction targets."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images import to_uint8
from engine.spectrum import radial_power_spectrum
from tests.gui.forward.test_forward_page import page  # noqa: F401 (fixture)


def test_spectrum_and_targets_follow_the_slider(page, qtbot):  # noqa: F811
    panel = page.spectrum_panel
    page.analysis_tabs.setCurrentWidget(panel)
    renderer = page.session.renderer
    drowned = {}
    for t in (0, 300, renderer.num_timesteps - 1):
        page.slider.setValue(t)
        qtbot.waitUntil(lambda t=t: panel.readout and page.refresh_analysis() is None
                        and np.allclose(panel.curve_data("noise")[1][0],
                                        (1 - renderer.alphas_cumprod[t]) *
                                        page.session.result.spectrum.noise[0]), timeout=2000)
        frequencies, power = panel.curve_data("x_t")
        # What is drawn is x_t's spectrum: the same as an FFT of the frame at this t.
        direct = radial_power_spectrum(np.moveaxis(renderer.values(t), 2, 0))
        np.testing.assert_allclose(frequencies, direct.frequencies)
        np.testing.assert_allclose(power, direct.power.mean(axis=0), rtol=1e-4)
        reference = panel.plot.reference.yData
        assert reference == pytest.approx([1 - renderer.alphas_cumprod[t]] * 2)
        drowned[t] = panel.drowned
    # Noise drowns the fine detail first: the drowned band starts lower as t grows.
    assert drowned[0] is None  # at t = 0 the image outweighs the noise everywhere
    assert drowned[300] is not None and drowned[300] > drowned[999]
    assert "outweighs the image" in panel.readout
    # At pure noise x_t's spectrum is flat at 1 (the low rings hold few coefficients and
    # scatter, so the check is the mean level and the log–log slope), unlike the image's.
    assert power.mean() == pytest.approx(1.0, rel=0.05)
    assert abs(np.polyfit(np.log(frequencies), np.log(power), 1)[0]) < 0.1
    signal = page.session.result.spectrum.signal
    assert np.polyfit(np.log(frequencies), np.log(signal), 1)[0] < -1


    # One window for both views (a window costs ~2 s): the prediction targets.
    check_prediction_targets(page)


def check_prediction_targets(page) -> None:  # noqa: F811
    panel = page.targets_panel
    page.analysis_tabs.setCurrentWidget(panel)
    renderer = page.session.renderer
    last = renderer.num_timesteps - 1
    page.slider.setValue(last)
    page.refresh_analysis()
    assert "t = 999" in panel.identities.toPlainText()
    assert "x₀ = α·xt − σ·v" in panel.identities.toPlainText()
    assert panel.round_trip_error < 1e-5
    # At pure noise v is −x₀ (ᾱ = 4e-5: within a few grey levels).
    assert np.abs(panel.v_pixels.astype(int) - to_uint8(-panel.x0).astype(int)).max() <= 4
    page.slider.setValue(0)
    page.refresh_analysis()
    # At t = 0 v is ε, nearly (σ = 0.01).
    assert np.abs(panel.v_pixels.astype(int) - to_uint8(panel.noise).astype(int)).max() <= 2
    np.testing.assert_array_equal(panel.views["x0"].array, to_uint8(panel.x0))
    page.slider.setValue(400)
    page.refresh_analysis()
    alpha, sigma = renderer.coefficients(400)
    np.testing.assert_array_equal(panel.views["v"].array,
                                  to_uint8(alpha * panel.noise - sigma * panel.x0))
