"""The toy tab's exact models and the samplers page, in a real window with the real engine."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from playground_gui.tabs.toy2d import lab_plots
from playground_gui.tabs.toy2d.lab_page import parse_steps


def pick(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def curves(widget) -> list:
    return [item for item in widget.getPlotItem().items
            if isinstance(item, (pg.PlotCurveItem, pg.PlotDataItem))]


@pytest.fixture
def exact_tab(toy_tab):
    """The toy tab on the Gaussian mixture with its exact score picked, small runs."""
    pick(toy_tab.dataset_combo, "gaussian_mixture")
    pick(toy_tab.model_kind_combo, "exact")
    toy_tab.points_spin.setValue(200)
    return toy_tab


def test_the_exact_score_samples_without_training_and_is_refused_without_a_mixture(exact_tab,
                                                                                   qtbot):
    tab = exact_tab
    assert tab.session.model is None and tab.sample_button.isEnabled()
    pick(tab.sampler_combo, "heun")
    assert tab.sample_steps_spin.value() == 50 and not tab.langevin_steps_spin.isEnabled()
    tab.sample_steps_spin.setValue(10)
    with qtbot.waitSignal(tab.session.samples_ready, timeout=60_000) as ready:
        tab.sample_button.click()
    q = ready.args[0].quality
    assert q.nn_distance <= 2 * q.nn_distance_real_reference
    assert "HEUN, 10 steps" in tab.quality_label.text()
    pick(tab.sampler_combo, "pc")
    assert tab.langevin_steps_spin.isEnabled() and tab.sample_steps_spin.value() == 100
    pick(tab.dataset_combo, "two_moons")
    tab.start_sampling()
    assert "no closed-form score" in tab.quality_label.text()
    # The ideal denoiser of a few training points gives them back, and says so.
    pick(tab.model_kind_combo, "ideal")
    tab.training_points_spin.setValue(20)
    pick(tab.sampler_combo, "ddim")
    tab.sample_steps_spin.setValue(200)
    with qtbot.waitSignal(tab.session.samples_ready, timeout=60_000) as ready:
        tab.start_sampling()
    samples, fresh = ready.args[0].training_nn
    assert samples < 0.1 * fresh and "nearest training point" in tab.quality_label.text()


def test_the_samplers_page_draws_paths_chains_memorisation_and_the_lab(exact_tab, qtbot):
    page = exact_tab.lab_page
    page.path_points_spin.setValue(2)
    page.path_draws_spin.setValue(2)
    page.path_steps_spin.setValue(10)
    with qtbot.waitSignal(page.session.ready, timeout=60_000):
        page.paths_button.click()
    assert len(curves(page.paths_plot)) == 2 * 3  # per point: SDE, ODE outline, ODE
    page.chain_count_spin.setValue(3)
    page.chain_levels_spin.setValue(4)
    exact_tab.langevin_steps_spin.setValue(3)
    with qtbot.waitSignal(page.session.ready, timeout=60_000) as ready:
        page.chains_button.click()
    assert ready.args[1].trajectory.shape == (4 * 3 + 1, 3, 2)  # every Langevin move
    assert len(curves(page.chains_plot)) == 3 * 6
    exact_tab.training_points_spin.setValue(20)
    with qtbot.waitSignal(page.session.ready, timeout=60_000) as ready:
        page.memorisation_button.click()
    assert ready.args[1].training.shape == (20, 2) and ready.args[1].network is None
    assert len(curves(page.histogram_plot)) == 2  # ideal, real (no trained MLP yet)
    page.error_button.click()  # needs a trained model: a sentence, no job
    assert "Train a model first" in page.status_label.text()

    page.lab_steps_edit.setText("2, 4")
    with qtbot.waitSignal(page.session.ready, timeout=60_000) as ready:
        page.lab_button.click()
    assert [row[:2] for row in ready.args[1].rows][:2] == [("ddim", 2), ("ddim", 4)]
    assert "Fitted orders p (exact Gaussian mixture)" in page.status_label.text()
    assert page.lab_progress.value() == page.lab_progress.maximum()
    # A long lab run cancels, and the button comes back.
    page.lab_steps_edit.setText("8,16,32,64,128,256")
    with qtbot.waitSignal(page.session.progress, timeout=60_000):
        page.lab_button.click()
    assert page.lab_button.text() == "Cancel"
    with qtbot.waitSignal(page.session.failed, timeout=60_000) as failed:
        page.lab_button.click()
    assert failed.args == ["lab", ""] and page.status_label.text() == "Cancelled."
    qtbot.waitUntil(lambda: page.lab_button.text() == "Run sampler lab", timeout=10_000)
    page.lab_steps_edit.setText("8,x")
    page.lab_button.click()
    assert "whole numbers" in page.status_label.text()


def test_plot_helpers_fit_orders_fade_chains_and_bin_distances():
    class Lab:
        rows = [("heun", n, 3.0 * n ** -2.0) for n in (4, 8, 16)]
        orders = {"heun": 2.0}

    [(label, steps, errors, fitted)] = lab_plots.lab_lines(Lab)
    assert label == "heun: p = 2.00"
    np.testing.assert_allclose(fitted, errors)
    pieces = lab_plots.chain_segments(np.zeros((13, 2, 2)))
    assert [p for p, _ in pieces] == list(range(6)) and sum(len(s) - 1 for _, s in pieces) == 12

    class Memorised:
        ideal_distances = np.full(10, 1e-4)
        real_distances = np.full(10, 0.05)
        network_distances = None

    histograms = lab_plots.distance_histograms(Memorised)
    assert [h[0] for h in histograms] == ["ideal, median 0.0001", "real, median 0.05"]
    assert all(h[3].sum() == 10 for h in histograms)
    assert parse_steps("8, 16,32") == (8, 16, 32)
