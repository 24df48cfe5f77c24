"""The forward-process page in the real window: scrubbing, keys, shared schedule, bad files,
Markov chain, exports, drag and drop."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from playground_gui.tabs.forward.view import ForwardPage


def find_page(window) -> ForwardPage:
    for index in range(window.tabs.count()):
        tab = window.tabs.widget(index)
        pages = getattr(tab, "pages", None)
        if pages is not None:
            for row in range(pages.count()):
                if isinstance(pages.widget(row), ForwardPage):
                    window.tabs.setCurrentIndex(index)
                    pages.setCurrentIndex(row)
                    return pages.widget(row)
    raise AssertionError("no forward page in the window")


@pytest.fixture
def page(window, qtbot):
    page = find_page(window)
    page.size_spin.setValue(96)  # small and quick; the benchmark covers 512 px
    session = page.session
    qtbot.waitUntil(lambda: session.renderer is not None and session.renderer.x0.shape[1] == 96
                    and session.idle, timeout=90_000)
    return page


def shown_pixels(page) -> np.ndarray:
    """What the view actually painted (a grab of the widget)."""
    image = page.frame_view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].copy()


def test_slider_moves_change_the_painted_frame(page, qtbot):
    page.slider.setValue(0)
    clean = shown_pixels(page)
    page.slider.setValue(page.slider.maximum() // 2)
    middle = shown_pixels(page)
    qtbot.keyClick(page.slider, Qt.Key.Key_End)
    assert page.slider.value() == page.session.renderer.num_timesteps - 1
    noise = shown_pixels(page)
    assert np.abs(clean.astype(int) - middle.astype(int)).mean() > 5
    assert np.abs(middle.astype(int) - noise.astype(int)).mean() > 5
    # The buffer behind the view holds exactly the closed form at the slider's t.
    np.testing.assert_array_equal(page.frame_view.array[:, :, 2::-1],
                                  page.session.renderer.pixels(page.slider.value()))
    assert "t = 999" in page.readout.text() and "log-SNR" in page.readout.text()
    qtbot.keyClick(page.slider, Qt.Key.Key_Home)
    assert page.slider.value() == 0
    qtbot.keyClick(page, Qt.Key.Key_Right)  # keys reach the slider from the page too
    qtbot.keyClick(page, Qt.Key.Key_PageUp)  # Qt sliders: Page Up adds a page step
    assert page.slider.value() == 1 + page.slider.pageStep()
    qtbot.keyClick(page, Qt.Key.Key_PageDown)
    assert page.slider.value() == 1
    qtbot.waitUntil(lambda: page.t_spin.value() == page.slider.value(), timeout=2000)


def test_histogram_turns_gaussian(page, qtbot):
    page.slider.setValue(page.slider.maximum())
    page.refresh_histogram()
    x, density = page.hist_curve.getData()
    centres = 0.5 * (x[1:] + x[:-1]) if len(x) == len(density) + 1 else x
    variance = (centres**2 * density).sum() / density.sum()
    assert variance == pytest.approx(1.0, abs=0.1)


def test_bad_file_keeps_the_previous_image_and_says_why(page, window, qtbot, tmp_path):
    before = page.session.loaded
    frame_before = page.frame_view.array.copy()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    page.load_file(str(broken))
    qtbot.waitUntil(lambda: "Could not load" in page.status_label.text(), timeout=30_000)
    assert "broken.png" in page.status_label.text()
    assert page.session.loaded is before
    np.testing.assert_array_equal(page.frame_view.array, frame_before)
    assert page.source_combo.currentData() == page.session.loaded_request.source_key


def test_dropped_file_is_loaded(page, qtbot, tmp_path):
    path = tmp_path / "stripes.png"
    Image.fromarray(np.tile(np.arange(200, dtype=np.uint8), (100, 1))).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)
    session = page.session
    qtbot.waitUntil(lambda: session.loaded.source == "stripes.png" and session.renderer is not None
                    and session.renderer.x0.shape[:2] == (48, 96), timeout=30_000)
    assert page.source_combo.currentText() == "File: stripes.png"


def test_schedule_is_shared_with_the_schedule_tab(page, window, qtbot):
    schedules = window.schedules
    schedules.set_current_index(1)  # cosine, chosen elsewhere
    assert page.schedule_combo.currentIndex() == 1
    qtbot.waitUntil(lambda: page.session.result.spec == schedules.current, timeout=30_000)
    page.timesteps_spin.setValue(200)  # T edited here shows in the shared set
    assert schedules.current.num_train_timesteps == 200 and schedules.current.name == "cosine"
    qtbot.waitUntil(lambda: page.session.renderer.num_timesteps == 200, timeout=30_000)
    assert page.slider.maximum() == 199
    from playground_gui.tabs.schedules.view import SchedulesTab

    schedule_tab = next(window.tabs.widget(i) for i in range(window.tabs.count())
                        if isinstance(window.tabs.widget(i), SchedulesTab))
    assert schedule_tab.timesteps_spin.value() == 200  # its editor shows the change
    assert schedule_tab.schedule_list.currentRow() == 1


def test_reroll_draws_new_noise(page, qtbot):
    noise = page.session.result.noise
    page.reroll_noise()
    qtbot.waitUntil(lambda: page.session.result.noise is not noise, timeout=30_000)
    assert page.session.result.seed == page.seed_spin.value()
    assert not np.array_equal(page.session.result.noise, noise)


def test_markov_chain_next_to_closed_form(page, window, qtbot):
    page.timesteps_spin.setValue(100)
    qtbot.waitUntil(lambda: page.session.renderer.num_timesteps == 100, timeout=30_000)
    page.markov_check.setChecked(True)
    session = page.session
    qtbot.waitUntil(lambda: session.markov is not None
                    and session.markov.spec.num_train_timesteps == 100, timeout=60_000)
    assert page.markov_view.isVisible() and page.markov_note.isVisible()
    page.slider.setValue(60)
    page.refresh_histogram()
    assert "Markov chain" in page.markov_caption.text()
    np.testing.assert_array_equal(page.markov_view.array,
                                  session.markov.frames[session.markov.index_for(60)])
    _, chain = page.markov_curve.getData()
    _, closed = page.hist_curve.getData()
    width = 8 / len(chain)
    assert 0.5 * width * np.abs(chain - closed).sum() < 0.1  # same distribution


def test_play_advances_and_stops_at_the_end(page, qtbot):
    page.slider.setValue(page.slider.maximum() - 40)
    page.speed_combo.setCurrentIndex(page.speed_combo.findData(1000))
    page.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not page.play_button.isChecked(), timeout=5000)
    assert page.slider.value() == page.slider.maximum()


def test_space_plays_and_pauses_with_icons_the_fonts_can_draw(page, qtbot):
    page.slider.setValue(0)
    page.slider.setFocus()
    button = page.play_button
    assert not button.isChecked() and not button.icon().isNull()
    qtbot.keyClick(page.slider, Qt.Key.Key_Space)
    assert button.isChecked() and page._play_timer.isActive() and button.text() == "Pause"
    qtbot.waitUntil(lambda: page.slider.value() > 0, timeout=5000)
    qtbot.keyClick(page.slider, Qt.Key.Key_Space)
    assert not button.isChecked() and not page._play_timer.isActive()
    stopped_at = page.slider.value()
    qtbot.wait(100)
    assert page.slider.value() == stopped_at and button.text() == "Play"
    for playing in (False, True):
        button.setChecked(playing)
        # Every character of the label is in the button's font (⏸ drew as an empty box).
        metrics = button.fontMetrics()
        assert all(metrics.inFontUcs4(ord(c)) for c in button.text()), button.text()
        assert not button.icon().isNull()
    button.setChecked(False)


def test_exports(page, qtbot, tmp_path):
    page.slider.setValue(123)
    page.export_frame(str(tmp_path / "frame.png"))
    from engine.png.chunks import read_png_metadata

    meta = read_png_metadata(tmp_path / "frame.png")
    assert meta.kind == "forward" and meta.parameters.steps is None
    assert "Timestep: 123" in meta.parameters_text
    assert meta.request["t"] == 123 and meta.request["source_key"] == "astronaut"
    with Image.open(tmp_path / "frame.png") as image:
        np.testing.assert_array_equal(np.asarray(image), page.session.renderer.pixels(123))
    page.export_strip(str(tmp_path / "strip.png"), 4)
    with Image.open(tmp_path / "strip.png") as image:
        assert image.width > 3 * image.height
    job = page.export_animation(str(tmp_path / "forward.gif"))
    finished = []
    job.finished.connect(lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    with Image.open(tmp_path / "forward.gif") as animation:
        assert animation.n_frames > 10


def test_changing_size_right_after_picking_a_source_keeps_the_new_source(page, qtbot):
    page._on_source_chosen(page.source_combo.findData("coffee"))
    page.grayscale_check.setChecked(True)  # before the coffee image has arrived
    session = page.session
    qtbot.waitUntil(lambda: session.loaded.source == "coffee.jpg" and session.renderer is not None
                    and session.renderer.x0.shape == (64, 96, 1) and session.idle, timeout=30_000)
    assert page.source_combo.currentData() == "coffee"


def test_closing_during_the_markov_chain_cancels_it(page, window, qtbot):
    import time

    page.timesteps_spin.setValue(20_000)  # a long chain: ~10 s of work at 96 px
    qtbot.waitUntil(lambda: page.session.renderer.num_timesteps == 20_000, timeout=30_000)
    page.markov_check.setChecked(True)
    qtbot.waitUntil(lambda: 0 < page.markov_progress.value() < 20_000, timeout=30_000)
    started = time.perf_counter()
    window.close()
    assert not window.engine._thread.isRunning()
    assert time.perf_counter() - started < 3.0  # the chain stopped at its next step
