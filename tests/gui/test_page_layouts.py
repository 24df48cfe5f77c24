"""Issue 11 §5 on the Noise schedules tab and the Forward page, at laptop sizes:
nothing clipped, nothing that jumps when a readout changes, and the images get the space."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.gui.forward.test_forward_page import page  # noqa: F401 (fixture)

LAPTOP = [(1280, 720), (1366, 768)]


def at_size(window, qtbot, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (width, height), timeout=5000)
    QApplication.processEvents()


def test_a_readout_on_a_narrow_window_shrinks_its_font_instead_of_cutting(qtbot):
    from playground_gui.widgets.frame_view import ReadoutLine

    line = ReadoutLine()
    qtbot.addWidget(line)
    samples = ["t = 99998 of 99999 · signal 0.0001 · noise 0.9999 · SNR 1.234e-05"]
    line.fit(samples)
    line.setText(samples[0])
    line.show()
    line.resize(line.sizeHint().width(), line.height())
    assert line.font() == line.base_font and line.fits()
    line.resize(int(line.sizeHint().width() * 0.8), line.height())
    assert line.font().pointSizeF() < line.base_font.pointSizeF() and line.fits()
    assert line.minimumWidth() >= 0.7 * line.sizeHint().width()  # never unreadably small


def text_fits(widget, text: str) -> bool:
    """Each line of ``text`` fits the widget's width in its own font (4 px margins)."""
    metrics = widget.fontMetrics()
    return all(metrics.horizontalAdvance(line) + 8 <= widget.width() for line in text.split("\n"))


def combo_shows(combo, text: str) -> bool:
    """``text`` fits a combo box's edit field (the arrow takes about 30 px)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    return combo.fontMetrics().horizontalAdvance(text) <= field.width()


def test_schedule_plots_keep_their_size_when_the_hover_readout_fills(qtbot, window):
    from playground_gui.tabs.schedules.view import SchedulesTab

    tab = next(window.tabs.widget(i) for i in range(window.tabs.count())
               if isinstance(window.tabs.widget(i), SchedulesTab))
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: bool(tab.curves), timeout=90_000)
    for size in LAPTOP:
        at_size(window, qtbot, *size)
        tab.set_hover_timestep(None)
        QApplication.processEvents()
        before = tab.plot_widget.geometry()
        assert before.height() >= 250  # four plots, two rows: each row gets room to read
        tab.set_hover_timestep(321)
        QApplication.processEvents()
        assert "t = 321" in tab.readout.text()
        assert tab.plot_widget.geometry() == before  # the plots did not shrink under the table
        assert tab.readout.sizeHint().height() <= tab.readout.height()  # nor is the table cut
        tab.set_hover_timestep(999)
        QApplication.processEvents()
        assert tab.plot_widget.geometry() == before


def test_forward_readout_and_markov_caption_fit_and_the_image_gets_the_space(
        qtbot, window, page):  # noqa: F811
    page.markov_check.setChecked(True)
    qtbot.waitUntil(lambda: page.session.markov is not None, timeout=60_000)
    for size in LAPTOP:
        forward_page_at(window, qtbot, page, size)


def forward_page_at(window, qtbot, page, size) -> None:  # noqa: F811
    at_size(window, qtbot, *size)
    page.markov_check.setChecked(True)
    QApplication.processEvents()
    image = page.frame_view.geometry()
    for t in (0, 1, 37, 500, page.slider.maximum()):
        page.slider.setValue(t)
        QApplication.processEvents()
        assert text_fits(page.readout, page.readout.text()), (t, page.readout.text())
        assert text_fits(page.markov_caption, page.markov_caption.text()), page.markov_caption.text()
        assert page.frame_view.geometry() == image  # nothing moved while scrubbing
    # At laptop sizes in their full font (they shrink it only on narrower windows).
    for line in (page.readout, page.markov_caption):
        assert line.font().pointSizeF() == line.base_font.pointSizeF()
    # The pictures are the point: they get about half the height, even with the chain's note.
    assert page.frame_view.height() >= 0.36 * size[1], page.frame_view.height()
    page.markov_check.setChecked(False)
    QApplication.processEvents()
    assert page.frame_view.height() >= 0.48 * size[1], page.frame_view.height()
    assert page.frame_view.width() >= 0.45 * size[0], page.frame_view.width()
    assert page.play_button.isVisible() and page.slider.width() >= 300
    # The combo boxes show their whole entry (they used to widen the column instead).
    from engine.schedules.types import ScheduleSpec

    longest = ScheduleSpec(name="sigmoid", beta_start=0.0001, beta_end=0.02,
                           rescale_zero_snr=True).label
    assert combo_shows(page.schedule_combo, longest), longest
    for index in range(page.source_combo.count()):
        assert combo_shows(page.source_combo, page.source_combo.itemText(index))


def test_no_control_column_scrolls_sideways_on_a_laptop(qtbot, window):
    """Every tab's control column fits its width at 1366×768 (a row of four spin boxes and then
    a new label made the Prompt tab's Sampling group 11 px too wide)."""
    from PySide6.QtWidgets import QScrollArea

    at_size(window, qtbot, 1366, 768)
    sideways = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        for area in window.tabs.widget(index).findChildren(QScrollArea):
            if area.isVisible() and area.horizontalScrollBar().isVisible():
                sideways.append((window.tabs.tabText(index), area.widget().minimumSizeHint().width(),
                                 area.viewport().width()))
    assert sideways == []
