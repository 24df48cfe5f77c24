"""Issue 11 §5 on the Reverse page at a laptop size: the thumbnails use the space and the
readouts fit (the other pages' layout tests are in tests/gui/test_page_layouts.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page
from tests.gui.test_page_layouts import at_size, text_fits


def test_compare_and_sweep_thumbnails_use_the_space(qtbot, window):
    page = reverse_page(window)
    at_size(window, qtbot, 1280, 720)
    page.batch_spin.setValue(16)
    page.steps_spin.setValue(1)
    page.compare_check.setChecked(True)
    page.compare_steps_spin.setValue(2)
    name, _ = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    QApplication.processEvents()
    # 4×4 digits of 16 px: at least twice their size in both rows (they were drawn 1:1).
    for row in page.row_views:
        for view in row:
            assert view.image_scale() >= 2.0, view.image_scale()
    assert text_fits(page.step_label, page.step_label.text())
    for title in page.row_titles:
        assert text_fits(title, title.text()), title.text()
    page.compare_check.setChecked(False)

    page.sweep_edit.setText("0, 1.5, 4")  # one step each (the steps field): only the layout counts
    name, _ = wait_for_job(qtbot, page.start_sweep())
    assert name == "succeeded"
    QApplication.processEvents()
    views = [page.sweep_row.itemAt(i).widget() for i in range(page.sweep_row.count())]
    assert len(views) == 3 and all(view.isVisible() for view in views)
    # Four digits of 16 px per scale: at least four times their size.
    assert min(view.image_scale() for view in views) >= 4.0
