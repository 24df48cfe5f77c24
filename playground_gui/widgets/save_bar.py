"""A row of saving controls that any image-making tab embeds: Save, Save all, Auto-save,
Copy image, Open folder.

The tab hands over callables that return ``engine.png.saving.SaveItem``s (image + parameters + kind
+ request) or plain ``(image, parameters, request)`` tuples (the bar's kind is used); the bar saves them through ``engine.png.saving`` in the GUI thread (encoding and writing
one PNG takes milliseconds). A failed save keeps the unsaved images in ``pending`` and offers
Retry, so nothing is lost when the disk is full or the folder is read-only.

    self.save_bar = SaveBar(context.window.settings, "digits", self._current_items,
                            self._all_items)
    ...  # when a run finishes:
    self.save_bar.images_ready()   # auto-saves if the user switched it on
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.errors import UserFacingError
from engine.png.encode import as_pil_image
from engine.png.saving import SaveItem, save_item
from playground_gui.preferences import Preferences
from playground_gui.widgets.gallery import open_folder_in_file_manager
from playground_gui.widgets.images import qimage_from_array

ItemSource = Callable[[], list]  # -> list[SaveItem | (image, GenerationParameters, request)]


class SaveBar(QWidget):
    saved = Signal(list)  # list[Path] of the files just written
    save_failed = Signal(str)  # the message shown

    def __init__(self, settings, kind: str, current_items: ItemSource,
                 all_items: ItemSource | None = None, parent=None):
        super().__init__(parent)
        self.preferences = Preferences(settings)
        self.kind = kind
        self._current_items = current_items
        self._all_items = all_items
        self.pending: list[SaveItem] = []  # images a failed save still holds for Retry

        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the image shown, with its parameters, to the output folder")
        self.save_button.clicked.connect(self.save_current)
        self.save_all_button = QPushButton("Save all")
        self.save_all_button.setToolTip("Save every image of this run")
        self.save_all_button.clicked.connect(self.save_all)
        self.save_all_button.setVisible(all_items is not None)
        self.auto_save_check = QCheckBox("Auto-save")
        self.auto_save_check.setToolTip("Save every finished run automatically (remembered)")
        self.auto_save_check.setChecked(self.preferences.auto_save(kind))
        self.auto_save_check.toggled.connect(lambda on: self.preferences.set_auto_save(kind, on))
        self.copy_button = QPushButton("Copy image")
        self.copy_button.clicked.connect(self.copy_image)
        self.open_button = QPushButton("Open folder")
        self.open_button.clicked.connect(self.open_folder)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Try again to save the images that could not be saved")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.save_button, self.save_all_button, self.auto_save_check,
                       self.copy_button, self.open_button, self.retry_button):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)
        self.set_has_images(False)

    # -- the tab tells us ----------------------------------------------------------------------
    def set_has_images(self, has_images: bool) -> None:
        for button in (self.save_button, self.save_all_button, self.copy_button):
            button.setEnabled(has_images)

    def run_started(self) -> None:
        """Call when a new run starts: a "Saved …" line about the last run is cleared (a
        failed save stays, with Retry, until its images are written)."""
        if not self.pending:
            self._show("")

    def images_ready(self) -> list[Path]:
        """Call when a run has finished: enables the buttons and auto-saves when switched on."""
        self.set_has_images(True)
        if self.auto_save_check.isChecked():
            return self.save_all() if self._all_items is not None else self.save_current()
        return []

    # -- actions -------------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.preferences.output_folder

    def save_current(self) -> list[Path]:
        return self._save(self._items(self._current_items))

    def save_all(self) -> list[Path]:
        return self._save(self._items(self._all_items or self._current_items))

    def _items(self, source: ItemSource) -> list[SaveItem]:
        return [item if isinstance(item, SaveItem) else SaveItem(item[0], item[1], self.kind, item[2])
                for item in source() or []]

    def retry(self) -> list[Path]:
        return self._save(list(self.pending))

    def _save(self, items: list[SaveItem]) -> list[Path]:
        written: list[Path] = []
        for position, item in enumerate(items):
            try:
                written.append(save_item(item, self.folder))
            except (UserFacingError, ValueError) as exc:
                # Keep this image and every one not tried yet; the tab keeps its own copies too.
                self.pending = items[position:]
                message = str(exc)
                if written:
                    message = f"Saved {len(written)}, then: {message}"
                self._show(message, error=True)
                self.retry_button.setVisible(isinstance(exc, UserFacingError))
                if written:
                    self.saved.emit(written)
                self.save_failed.emit(message)
                return written
        self.pending = []
        self.retry_button.setVisible(False)
        if written:
            names = written[0].name if len(written) == 1 else \
                f"{len(written)} images ({written[0].name} … {written[-1].name})"
            self._show(f"Saved {names} in {self.folder}")
            self.saved.emit(written)
        return written

    def flush(self) -> list[Path]:
        """Called when the window closes: write the images a failed save still holds. Where
        the output folder still refuses them, they go to a folder in the app's data folder
        (named in the log), so closing never loses an image."""
        if not self.pending:
            return []
        written = self.retry()
        if not self.pending:
            return written
        import logging

        from engine.paths import user_data_dir

        fallback = user_data_dir() / "unsaved images"
        log = logging.getLogger(__name__)
        for item in list(self.pending):
            try:
                path = save_item(item, fallback)
            except (UserFacingError, ValueError) as exc:
                log.error("could not keep an unsaved image at close: %s", exc)
                continue
            written.append(path)
            self.pending.remove(item)
            log.warning("%s could not be written to %s; kept as %s", self.kind, self.folder, path)
        return written

    def copy_image(self) -> bool:
        items = self._items(self._current_items)
        if not items:
            return False
        import numpy as np

        array = np.asarray(as_pil_image(items[0].image).convert("RGBA"))
        QGuiApplication.clipboard().setImage(qimage_from_array(array))
        self._show("Image copied to the clipboard")
        return True

    def open_folder(self) -> None:
        problem = open_folder_in_file_manager(self.folder)
        if problem:
            self._show(problem, error=True)

    def _show(self, message: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020" if error else "color: #2e7d32")
        self.status.setText(message)
        self.status.setToolTip(message)
