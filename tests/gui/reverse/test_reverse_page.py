"""The reverse-process page drives real runs of the shipped digits model and scrubs them."""

from __future__ import annotations

import numpy as np

from tests.gui.conftest import wait_for_job


def reverse_page(window):
    from playground_gui.tabs.forward_reverse_tab import ForwardReverseTab
    from playground_gui.tabs.reverse.view import ReversePage

    tab = next(window.tabs.widget(i) for i in range(window.tabs.count())
               if isinstance(window.tabs.widget(i), ForwardReverseTab))
    window.tabs.setCurrentWidget(tab)
    page = next(tab.pages.widget(i) for i in range(tab.pages.count())
                if isinstance(tab.pages.widget(i), ReversePage))
    tab.pages.setCurrentWidget(page)
    return page


def test_short_run_records_every_step_and_scrubs(qtbot, window):
    page = reverse_page(window)
    page.steps_spin.setValue(6)
    page.batch_spin.setValue(4)
    page.label_combo.setCurrentIndex(page.label_combo.findData(7))
    live_steps = []
    job = page.start_run()
    job.step.connect(live_steps.append)
    assert not page.run_button.isEnabled() and page.cancel_button.isEnabled()
    name, result = wait_for_job(qtbot, job)
    assert name == "succeeded"
    assert len(live_steps) == 6  # the view followed every step live
    assert page.slider.maximum() == 6  # six steps plus the final sample
    assert page.slider.value() == 6 and "final sample" in page.step_label.text()
    assert result.x_t.shape == (7, 4, 16, 16)
    assert "wall time" in page.row_titles[0].text()

    page.slider.setValue(0)  # scrub back to the noisiest step
    assert page.step_label.text().startswith("step 1/6 · t = 999")
    first = page.row_views[0][0]._array.copy()
    page.slider.setValue(6)
    assert not np.array_equal(first, page.row_views[0][0]._array)
    assert page.run_button.isEnabled() and not page.cancel_button.isEnabled()


def test_compare_mode_synchronises_by_fraction_and_cancel_keeps_steps(qtbot, window):
    page = reverse_page(window)
    page.batch_spin.setValue(2)
    page.steps_spin.setValue(4)
    page.compare_check.setChecked(True)
    page.compare_sampler_combo.setCurrentIndex(page.compare_sampler_combo.findData("ddpm"))
    page.compare_steps_spin.setValue(8)
    name, result = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    assert result.first.x_t.shape[0] == 5 and result.second.x_t.shape[0] == 9
    page.slider.setValue(500)  # half-way through both runs
    assert "t = " in page.row_views[0][0].caption.text()
    assert page.row_views[0][0].caption.text().startswith("step 3/4")
    assert page.row_views[1][0].caption.text().startswith("step 5/8")
    assert "wall time" in page.row_titles[1].text()

    page.compare_check.setChecked(False)
    page.steps_spin.setValue(1000)
    page.sampler_combo.setCurrentIndex(page.sampler_combo.findData("ddpm"))
    job = page.start_run()
    job.step.connect(lambda step: page.cancel() if step.index == 1 else None)
    name, partial = wait_for_job(qtbot, job)
    assert name == "cancelled"
    # The GUI hears of step 2 a little after the engine did it: stopped long before 1000 steps.
    assert 2 <= partial.completed_steps < 100
    assert f"Cancelled after {partial.completed_steps} steps" in page.status_label.text()
    assert page.slider.maximum() == partial.completed_steps - 1  # the recorded steps scrub


def test_clicking_sample_leaves_the_scales_field_alone(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    page = reverse_page(window)
    window.activateWindow()
    page.steps_spin.setValue(2)
    page.batch_spin.setValue(1)
    finished = []
    page.run_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.run_button, timeout=2000)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.job is not None
    page.job.finished.connect(lambda: finished.append(True))
    # The button disabled itself: focus went to the next widget in the chain, the Scales
    # field, with its text selected (typing replaced the scales).
    assert QApplication.focusWidget() is not page.sweep_edit
    assert page.sweep_edit.selectedText() == ""
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    assert QApplication.focusWidget() is not page.sweep_edit


def test_pndm_says_steps_and_model_calls(qtbot, window):
    page = reverse_page(window)
    page.sampler_combo.setCurrentIndex(page.sampler_combo.findData("pndm"))
    page.steps_spin.setValue(3)
    page.batch_spin.setValue(1)
    name, result = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded" and len(result.timesteps) == 4  # PNDM: one call more than steps
    assert "3 steps (4 model calls)" in page.row_titles[0].text()
    assert "pndm 3 steps (4 model calls)" in page.status_label.text()
    assert page.step_label.text() == "final sample, after 3 steps (4 model calls)"
    page.slider.setValue(0)
    assert page.step_label.text().startswith("model call 1/4 · t = ")
    assert "4 steps" not in page.status_label.text() + page.row_titles[0].text()
