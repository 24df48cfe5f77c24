"""A row of saving controls that any image-making tab embeds: Save, Save all, Auto-save,
Copy image, Open folder.

The tab hands over callables that return ``engine.png.saving.SaveItem``s (image + parameters + kind
+ request) or plain ``(image, parameters, request)`` tuples (the bar's kind is used). Encoding
and writing (with its fsync) run on one background writer thread, never on the GUI thread and
never on the busy engine thread: ``save_current``/``save_all`` return at once with a
``SaveBatch``, and the bar says "Saved …" (or why not) when the files are on disk. One writer
thread keeps the numbered names in the order the saves were asked for. A failed save keeps the
unsaved images in ``pending`` and offers Retry, so nothing is lost when the disk is full or the
folder is read-only; ``flush`` (the window closing) waits for every write still running.

    self.save_bar = SaveBar(context.window.settings, "digits", self._current_items,
                            self._all_items)
    ...  # when a run finishes:
    self.save_bar.images_ready()   # auto-saves if the user switched it on
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.errors import UserFacingError
from engine.png.encode import as_pil_image
from engine.png.saving import SaveItem, save_item
from playground_gui.preferences import Preferences
from playground_gui.widgets.gallery import open_folder_in_file_manager
from playground_gui.widgets.images import qimage_from_array

log = logging.getLogger(__name__)

ItemSource = Callable[[], list]  # -> list[SaveItem | (image, GenerationParameters, request)]

_writer: futures.ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def writer() -> futures.ThreadPoolExecutor:
    """The app's one PNG writer thread (started on the first save)."""
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="png-writer")
        return _writer


class WriteJob(QObject):
    """``function(*args)`` run on the writer thread. ``done(job)`` fires in the GUI thread once
    it has run (``value`` or ``error`` set); ``wait()`` blocks until then and delivers ``done``
    at once (closing the window, tests)."""

    done = Signal(object)  # this WriteJob
    _written = Signal()  # from the writer thread, queued into the thread that made the job

    def __init__(self, function: Callable, *args, tag=None):
        super().__init__()
        self.tag = tag  # what the receiver needs to know which save this was
        self.value = None
        self.error: BaseException | None = None
        self.delivered = False
        # Queued even when the write is already over: ``done`` never fires before the caller
        # has connected to it.
        self._written.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._future = writer().submit(function, *args)
        self._future.add_done_callback(lambda _future: self._written.emit())

    @property
    def written(self) -> bool:
        """The function has run (its outcome may not be delivered yet)."""
        return self._future.done()

    def wait(self):
        """Block until written; deliver ``done`` now if the event loop has not yet; returns the
        value (raises the error)."""
        futures.wait([self._future])
        self._deliver()
        if self.error is not None:
            raise self.error
        return self.value

    def _deliver(self) -> None:
        if self.delivered:
            return
        self.delivered = True
        self.error = self._future.exception()
        if self.error is None:
            self.value = self._future.result()
        self.done.emit(self)


def write_items(items: list[SaveItem], folder: Path):
    """Writer thread: save ``items`` in order into ``folder``; stops at the first failure.
    Returns (paths written, position of the failed item or None, the exception or None)."""
    written: list[Path] = []
    for position, item in enumerate(items):
        try:
            written.append(save_item(item, folder))
        except Exception as exc:  # noqa: BLE001 - every failure keeps the images for a retry
            if not isinstance(exc, (UserFacingError, ValueError)):
                log.exception("saving %s failed", item.kind)
            return written, position, exc
    return written, None, None


class SaveBatch(Sequence):
    """The images one Save asked for, written in the background. Reading it (``len``,
    iterating, indexing) waits until they are written and gives their paths."""

    def __init__(self, items: list[SaveItem], folder: Path):
        self.items = items
        self.folder = folder
        self.paths: list[Path] = []
        self.job: WriteJob | None = None  # None: nothing to write

    @property
    def finished(self) -> bool:
        return self.job is None or self.job.delivered

    def wait(self) -> list[Path]:
        if self.job is not None:
            self.job.wait()
        return self.paths

    def __len__(self) -> int:
        return len(self.wait())

    def __getitem__(self, index):
        return self.wait()[index]

    def __iter__(self):
        return iter(self.wait())

    def __repr__(self) -> str:
        state = self.paths if self.finished else f"{len(self.items)} image(s) being written"
        return f"SaveBatch({state!r})"


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
        self._writing: list[SaveBatch] = []  # saves on the writer thread now, in order
        self._failed: list[SaveItem] = []  # images a failed save still holds for Retry

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

    def images_ready(self) -> SaveBatch | list:
        """Call when a run has finished: enables the buttons and auto-saves when switched on."""
        self.set_has_images(True)
        if self.auto_save_check.isChecked():
            return self.save_all() if self._all_items is not None else self.save_current()
        return []

    # -- actions -------------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.preferences.output_folder

    @property
    def pending(self) -> list[SaveItem]:
        """Images not written yet: those being written now, and those a failed save holds."""
        return [item for batch in self._writing for item in batch.items] + self._failed

    @property
    def busy(self) -> bool:
        """A save is being written."""
        return bool(self._writing)

    def save_current(self) -> SaveBatch:
        return self._save(self._items(self._current_items))

    def save_all(self) -> SaveBatch:
        return self._save(self._items(self._all_items or self._current_items))

    def _items(self, source: ItemSource) -> list[SaveItem]:
        return [item if isinstance(item, SaveItem) else SaveItem(item[0], item[1], self.kind, item[2])
                for item in source() or []]

    def retry(self) -> SaveBatch:
        items, self._failed = self._failed, []
        return self._save(items)

    def _save(self, items: list[SaveItem]) -> SaveBatch:
        """Hand ``items`` to the writer thread; returns at once."""
        batch = SaveBatch(items, self.folder)
        if items:
            self._writing.append(batch)
            batch.job = WriteJob(write_items, items, batch.folder, tag=batch)
            batch.job.done.connect(self._on_written)
        return batch

    def _on_written(self, job: WriteJob) -> None:
        """GUI thread: a batch is on disk (or partly): say so, keep what failed for Retry."""
        batch: SaveBatch = job.tag
        self._writing = [each for each in self._writing if each is not batch]
        if job.error is not None:  # write_items reports failures; this is a bug in it
            written, position, exc = [], 0, job.error
        else:
            written, position, exc = job.value
        batch.paths = written
        if exc is not None:
            # Keep this image and every one not tried yet; the tab keeps its own copies too.
            self._failed += batch.items[position:]
            message = str(exc) or type(exc).__name__
            if written:
                message = f"Saved {len(written)}, then: {message}"
            self._show(message, error=True)
            self.retry_button.setVisible(isinstance(exc, UserFacingError))
            if written:
                self.saved.emit(written)
            self.save_failed.emit(message)
            return
        self.retry_button.setVisible(bool(self._failed))
        if written:
            names = written[0].name if len(written) == 1 else \
                f"{len(written)} images ({written[0].name} … {written[-1].name})"
            self._show(f"Saved {names} in {batch.folder}")
            self.saved.emit(written)

    def wait(self) -> None:
        """Block until every save asked for so far is written (and reported)."""
        while self._writing:
            self._writing[0].wait()

    def flush(self) -> list[Path]:
        """Called when the window closes: wait for the saves being written, then write the
        images a failed save still holds. Where the output folder still refuses them, they go
        to a folder in the app's data folder (named in the log), so closing never loses an
        image."""
        self.wait()
        if not self._failed:
            return []
        written = list(self.retry())
        if not self._failed:
            return written
        from engine.paths import user_data_dir

        fallback = user_data_dir() / "unsaved images"
        items, self._failed = self._failed, []
        for item in items:
            try:
                path = save_item(item, fallback)  # closing: nothing is left to keep responsive
            except (UserFacingError, ValueError) as exc:
                log.error("could not keep an unsaved image at close: %s", exc)
                self._failed.append(item)
                continue
            written.append(path)
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
