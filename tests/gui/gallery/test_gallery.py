"""Gallery, restore routing, Open parameters / drag and drop, and the save bar, with qtbot."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from engine.images import make_test_card as make_card
from engine.png.a1111 import GenerationParameters
from engine.png.chunks import read_png_metadata
from engine.png.saving import SaveItem, default_output_folder, save_image
from playground_gui.preferences import OUTPUT_FOLDER_KEY
from playground_gui.widgets.save_bar import SaveBar


class RestoringTab(QWidget):
    """A stand-in for an image-making tab: it declares its kinds, as the real ones do, and records
    the requests it is asked to restore, so the routing is tested without any real tab's controls
    (and for kinds no real tab makes)."""

    title = "Digits"

    def __init__(self, kinds=("digits",)):
        super().__init__()
        self.restores_kinds = set(kinds)
        self.restored: list[dict] = []

    def restore_parameters(self, request: dict) -> bool:
        self.restored.append(request)
        return True


@pytest.fixture
def quiet_window(qtbot, settings):
    """The real main window without starting the engine thread (nothing here needs torch)."""
    from playground_gui.main_window import MainWindow

    window = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def gallery_of(window):
    from playground_gui.tabs.gallery.view import GalleryTab

    (tab,) = [window.tabs.widget(i) for i in range(window.tabs.count())
              if isinstance(window.tabs.widget(i), GalleryTab)]
    window.tabs.setCurrentWidget(tab)
    return tab


def save_series(folder: Path) -> list[Path]:
    """Three saved images, oldest first, with clearly different modification times."""
    paths = []
    for index, kind in enumerate(["forward", "digits", "stable-diffusion"]):
        parameters = GenerationParameters(prompt=f"prompt number {index}, with a comma",
                                          steps=10 + index, seed=100 + index, width=32, height=32)
        path = save_image(make_card(32), parameters, {"index": index, "kind_was": kind}, folder,
                          kind=kind)
        stamp = 1_700_000_000 + index * 60
        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths


def test_gallery_lists_newest_first_and_shows_parameters(qtbot, quiet_window):
    folder = default_output_folder()  # tests point it at a private folder (tests/conftest.py)
    paths = save_series(folder)
    tab = gallery_of(quiet_window)
    tab.model.refresh()
    names = [tab.model.data(tab.model.index(row)) for row in range(tab.model.rowCount())]
    assert names == [p.name for p in reversed(paths)]
    assert tab.stack.currentWidget() is tab.list_view
    # Thumbnails arrive from the pool thread for the items the view painted.
    qtbot.waitUntil(lambda: tab.model.thumbnails_loaded() >= 1, timeout=10_000)

    tab.select_row(1)
    assert tab.selected_path == paths[1]
    text = tab.parameters_view.toPlainText()
    assert "prompt number 1, with a comma" in text and "101" in text and "32x32" in text
    assert tab.metadata.kind == "digits"
    # The reverse-process page restores digits samples.
    assert tab.restore_button.isEnabled()
    assert tab.restore_button.text() == "Restore in “Forward / reverse › Reverse process”"
    tab.select_row(0)  # stable-diffusion images (ours and other tools') go to the Prompt tab
    assert tab.restore_button.text() == "Restore in “Prompt”" and not tab.restore_hint.text()


def test_a_kind_no_tab_restores_says_so_instead(qtbot, quiet_window, tmp_path):
    folder = tmp_path / "future"
    save_image(make_card(16), GenerationParameters(seed=3), {"x": 1}, folder, kind="future-kind")
    tab = gallery_of(quiet_window)
    tab.set_output_folder(folder)
    assert tab.metadata.kind == "future-kind" and not quiet_window.can_restore("future-kind")
    assert not tab.restore_button.isEnabled() and tab.restore_button.text() == "Restore"
    assert "future-kind" in tab.restore_hint.text() and tab.copy_parameters_button.isEnabled()


def test_empty_folder_explains_itself(qtbot, quiet_window, tmp_path):
    tab = gallery_of(quiet_window)
    tab.set_output_folder(tmp_path / "nothing-here")
    assert tab.stack.currentWidget() is tab.empty_label
    assert "No images in" in tab.empty_label.text()
    assert not tab.copy_image_button.isEnabled() and not tab.restore_button.isEnabled()


def test_new_files_appear_and_folder_is_remembered(qtbot, quiet_window, settings, tmp_path):
    tab = gallery_of(quiet_window)
    folder = tmp_path / "chosen"
    folder.mkdir()
    tab.set_output_folder(folder)
    assert settings.value(OUTPUT_FOLDER_KEY) == str(folder)
    assert tab.model.rowCount() == 0
    save_image(make_card(16), GenerationParameters(seed=5), {}, folder, kind="digits")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=5000)  # the folder is watched
    assert tab.selected_path is not None and tab.selected_path.name == "00001-5.png"

    from playground_gui.main_window import MainWindow

    again = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(again)
    assert gallery_of(again).model.folder == folder
    again.close()


def test_restore_routes_to_the_tab_that_made_the_image(qtbot, quiet_window):
    digits_tab = RestoringTab()
    # Also a tab with sub-pages, as "Forward / reverse" is: the page is found inside it.
    container = QWidget()
    container.pages = QTabWidget()
    forward_page = RestoringTab(kinds=("forward",))
    container.pages.addTab(QWidget(), "Other page")
    container.pages.addTab(forward_page, "Forward")
    QVBoxLayout(container).addWidget(container.pages)
    quiet_window.tabs.insertTab(0, container, "Forward / reverse")
    quiet_window.tabs.insertTab(1, digits_tab, "Digits")

    paths = save_series(default_output_folder())
    tab = gallery_of(quiet_window)
    tab.model.refresh()
    tab.select_row(tab.model.row_of(paths[1]))
    assert tab.restore_button.isEnabled()
    assert tab.restore_button.text() == "Restore in “Digits”"
    qtbot.mouseClick(tab.restore_button, Qt.MouseButton.LeftButton)
    assert digits_tab.restored == [{"index": 1, "kind_was": "digits"}]
    assert quiet_window.tabs.currentWidget() is digits_tab

    tab = gallery_of(quiet_window)
    tab.select_row(tab.model.row_of(paths[0]))
    assert tab.restore_button.text() == "Restore in “Forward / reverse › Forward”"
    assert tab.restore_selected()
    assert forward_page.restored == [{"index": 0, "kind_was": "forward"}]
    assert quiet_window.tabs.currentWidget() is container
    assert container.pages.currentWidget() is forward_page

    assert not quiet_window.restore("unknown-kind", {})


def test_a_failing_restore_is_reported_not_raised(qtbot, quiet_window):
    broken = RestoringTab(kinds=("broken-kind",))
    broken.restore_parameters = lambda request: 1 / 0
    quiet_window.tabs.addTab(broken, "Broken")
    assert quiet_window.restore("broken-kind", {"x": 1}) is False
    assert "restore" in quiet_window.statusBar().currentMessage().lower()


def a1111_png(path: Path) -> Path:
    info = PngInfo()
    info.add_text("parameters", "a castle, on a hill\nNegative prompt: fog\nSteps: 20, "
                                "Sampler: Euler a, CFG scale: 7, Seed: 77, Size: 64x64, "
                                "Model hash: abc123, Version: v1.10.1")
    Image.fromarray(make_card(64)).save(path, pnginfo=info)
    return path


def test_dropping_an_a1111_png_shows_its_parameters_and_applies(qtbot, quiet_window, tmp_path):
    sd_tab = RestoringTab(kinds=("stable-diffusion",))
    quiet_window.tabs.insertTab(0, sd_tab, "Prompt")  # found before the real Prompt tab
    path = a1111_png(tmp_path / "from-a1111.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    quiet_window.dropEvent(drop)
    dialog = quiet_window.parameters_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    text = dialog.view.toPlainText()
    assert "a castle, on a hill" in text and "Euler a" in text and "abc123" in text
    assert dialog.apply_button.isEnabled() and "Prompt" in dialog.apply_button.text()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    (request,) = sd_tab.restored
    assert request["foreign_parameters"]["seed"] == 77
    assert request["foreign_parameters"]["extra"] == {"Model hash": "abc123"}
    assert quiet_window.tabs.currentWidget() is sd_tab


def test_open_parameters_of_a_bad_file_is_a_clear_error(qtbot, quiet_window, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"definitely not a png")
    quiet_window.open_parameters_file(str(junk))
    assert "not a PNG" in quiet_window.statusBar().currentMessage()


def test_save_bar_saves_keeps_images_on_failure_and_retries(qtbot, quiet_window, settings,
                                                           tmp_path):
    images = [make_card(24), np.full((24, 24, 3), 200, np.uint8)]

    def items():
        return [SaveItem(image, GenerationParameters(prompt="bar", seed=i), "digits", {"i": i})
                for i, image in enumerate(images)]

    # The current image as a plain (image, parameters, request) tuple, "all" as SaveItems.
    def current():
        first = items()[0]
        return [(first.image, first.parameters, first.request)]

    bar = SaveBar(settings, "digits", current, items)
    qtbot.addWidget(bar)
    assert not bar.save_button.isEnabled()  # nothing made yet
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    settings.setValue(OUTPUT_FOLDER_KEY, str(blocker))
    assert bar.images_ready() == []  # auto-save is off by default
    with qtbot.waitSignal(bar.save_failed):
        bar.save_all()
    assert "another output folder" in bar.status.text()
    assert len(bar.pending) == 2 and bar.retry_button.isVisibleTo(bar)

    good = tmp_path / "good"
    settings.setValue(OUTPUT_FOLDER_KEY, str(good))
    with qtbot.waitSignal(bar.saved) as saved:
        qtbot.mouseClick(bar.retry_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in saved.args[0]] == ["00001-0.png", "00002-1.png"]
    assert bar.pending == [] and not bar.retry_button.isVisibleTo(bar)
    assert read_png_metadata(good / "00002-1.png").request == {"i": 1}

    bar.auto_save_check.setChecked(True)
    assert settings.value("output/auto_save/digits") in (True, "true")
    assert [p.name for p in bar.images_ready()] == ["00003-0.png", "00004-1.png"]
    assert [p.name for p in bar.save_current()] == ["00005-0.png"]

    assert bar.copy_image()
    assert QGuiApplication.clipboard().image().width() == 24


def test_unreadable_png_in_the_gallery(qtbot, quiet_window, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    tab = gallery_of(quiet_window)
    tab.set_output_folder(folder)
    tab.select_row(0)
    assert "No generation parameters" in tab.parameters_view.toPlainText()
    qtbot.waitUntil(lambda: tab.model.thumbnails_loaded() == 1, timeout=5000)



def test_preferences_survive_a_restart(tmp_path):
    from PySide6.QtCore import QSettings

    from playground_gui.preferences import Preferences

    path = str(tmp_path / "prefs.ini")
    first = Preferences(QSettings(path, QSettings.Format.IniFormat))
    assert first.output_folder == default_output_folder()
    assert first.last_model("stable-diffusion", "fallback") == "fallback"
    first.output_folder = tmp_path / "mine"
    first.set_last_model("stable-diffusion", "/models/sd15.safetensors")
    first.set_auto_save("digits", True)
    first.settings.sync()
    again = Preferences(QSettings(path, QSettings.Format.IniFormat))
    assert again.output_folder == tmp_path / "mine"
    assert again.last_model("stable-diffusion") == "/models/sd15.safetensors"
    assert again.auto_save("digits") and not again.auto_save("stable-diffusion")
    again.output_folder = None
    assert again.output_folder == default_output_folder()


def test_thumbnails_load_only_for_visible_items(qtbot, quiet_window, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(1, 301):
        Image.fromarray(np.full((8, 8, 3), number % 256, np.uint8)).save(
            folder / f"{number:05d}-{number}.png")
    tab = gallery_of(quiet_window)
    tab.set_output_folder(folder)
    assert tab.model.rowCount() == 300
    qtbot.waitUntil(lambda: tab.model.thumbnails_loaded() >= 1, timeout=10_000)
    tab.model.wait_for_thumbnails()
    assert 0 < tab.model.thumbnails_requested() < 150  # one screenful, not the whole folder


def test_open_folder_without_a_file_manager_says_what_failed(qtbot, quiet_window, settings,
                                                             tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    folder = tmp_path / "five"
    for _ in range(5):
        save_image(make_card(16), GenerationParameters(seed=1), None, folder)
    tab = gallery_of(quiet_window)
    tab.set_output_folder(folder)
    # A machine where nothing opens folders (no xdg-open): Qt's openUrl returns False.
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    qtbot.mouseClick(tab.open_folder_button, Qt.MouseButton.LeftButton)
    message = tab.folder_message
    assert message.isVisible()
    assert "No file manager could be started" in message.text() and str(folder) in message.text()
    assert "does not exist" not in message.text()
    assert message.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    tab.set_output_folder(tmp_path / "other")  # the next folder action clears it
    assert not message.isVisible()

    bar = SaveBar(settings, "digits", list)
    qtbot.addWidget(bar)
    settings.setValue(OUTPUT_FOLDER_KEY, str(folder))
    bar.open_folder()
    assert "No file manager" in bar.status.text() and str(folder) in bar.status.text()
    settings.setValue(OUTPUT_FOLDER_KEY, str(tmp_path / "not-yet"))
    bar.open_folder()
    assert "does not exist yet" in bar.status.text()


def test_the_restore_button_is_never_clipped(qtbot, quiet_window, tmp_path):
    folder = tmp_path / "series"
    save_series(folder)
    tab = gallery_of(quiet_window)
    tab.set_output_folder(folder)
    tab.select_row(1)  # the digits image: "Restore in “Forward / reverse › Reverse process”"
    quiet_window.resize(1280, 720)
    qtbot.wait(50)
    button = tab.restore_button
    assert button.width() >= button.fontMetrics().horizontalAdvance(button.text())
