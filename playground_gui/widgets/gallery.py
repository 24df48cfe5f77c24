"""The gallery's model: PNGs of one folder, newest first, thumbnails loaded lazily off the GUI
thread (only for the items the view asks to paint), the folder watched for new files."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QFileSystemWatcher,
    QModelIndex,
    QObject,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPixmap

from engine.png.saving import list_images

THUMBNAIL_SIZE = 128


class _ThumbnailSignals(QObject):
    loaded = Signal(str, object, QImage)  # path, mtime_ns (int, > 32 bits), image or null


class _ThumbnailJob(QRunnable):
    """Decode one file to a thumbnail in a pool thread (QImage is safe to use off the GUI thread;
    QPixmap is not, so the model converts it when it arrives)."""

    def __init__(self, path: str, mtime_ns: int, signals: _ThumbnailSignals):
        super().__init__()
        self.path, self.mtime_ns, self.signals = path, mtime_ns, signals

    def run(self) -> None:
        reader = QImageReader(self.path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid():
            reader.setScaledSize(size.scaled(THUMBNAIL_SIZE, THUMBNAIL_SIZE,
                                             Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()  # a null QImage for broken files; Qt caps huge allocations
        self.signals.loaded.emit(self.path, self.mtime_ns, image)


class GalleryModel(QAbstractListModel):
    PathRole = Qt.ItemDataRole.UserRole + 1
    folder_changed = Signal()
    refreshed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._folder: Path | None = None
        self._entries: list[tuple[Path, int]] = []  # (path, mtime_ns), newest first
        self._thumbnails: dict[tuple[str, int], QPixmap] = {}
        self._requested: set[tuple[str, int]] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one decoder: leave the other core to the engine
        self._signals = _ThumbnailSignals(self)
        self._signals.loaded.connect(self._on_thumbnail)
        self._placeholder = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        self._placeholder.fill(QColor("#e8e8e8"))
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _: self._debounce.start())
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.refresh)

    # -- folder ------------------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        return self._folder

    def set_folder(self, folder: str | Path) -> None:
        folder = Path(folder)
        if folder != self._folder:
            self._folder = folder
            self._thumbnails.clear()
            self._requested.clear()
            self.folder_changed.emit()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the folder (cheap: names and times only); thumbnails already made are kept."""
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        entries = []
        if self._folder is not None:
            if self._folder.is_dir():
                self._watcher.addPath(str(self._folder))
            for path in list_images(self._folder):
                try:
                    entries.append((path, path.stat().st_mtime_ns))
                except OSError:
                    continue
        if entries != self._entries:
            self.beginResetModel()
            self._entries = entries
            self.endResetModel()
        self.refreshed.emit()

    def path_at(self, row: int) -> Path | None:
        return self._entries[row][0] if 0 <= row < len(self._entries) else None

    def row_of(self, path: str | Path) -> int:
        path = Path(path)
        return next((row for row, (p, _) in enumerate(self._entries) if p == path), -1)

    def thumbnails_loaded(self) -> int:
        return len(self._thumbnails)

    def thumbnails_requested(self) -> int:
        return len(self._requested)

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    # -- Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._entries)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        path, mtime_ns = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return path.name
        if role == Qt.ItemDataRole.DecorationRole:
            key = (str(path), mtime_ns)
            pixmap = self._thumbnails.get(key)
            if pixmap is None:
                self._request(key)
                return self._placeholder
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            when = datetime.fromtimestamp(mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")
            return f"{path.name}\nsaved {when}"
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(THUMBNAIL_SIZE + 24, THUMBNAIL_SIZE + 36)
        if role == self.PathRole:
            return str(path)
        return None

    def _request(self, key: tuple[str, int]) -> None:
        if key not in self._requested:
            self._requested.add(key)
            self._pool.start(_ThumbnailJob(key[0], key[1], self._signals))

    def _on_thumbnail(self, path: str, mtime_ns: int, image: QImage) -> None:
        key = (path, mtime_ns)
        if key not in self._requested:
            return  # the folder changed meanwhile
        if image.isNull():
            pixmap = QPixmap(self._placeholder)
            pixmap.fill(QColor("#f4d6d6"))  # unreadable file: a pink tile, not a crash
        else:
            pixmap = QPixmap.fromImage(image)
        self._thumbnails[key] = pixmap
        row = self.row_of(path)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def shutdown(self) -> None:
        """Drop queued thumbnail jobs and wait for the running one (called on close)."""
        self._pool.clear()
        self._pool.waitForDone(2000)


def open_folder_in_file_manager(folder: str | Path) -> str | None:
    """Show ``folder`` in the system's file manager; None when that worked, else a sentence
    that says what actually failed (the caller shows it with the path, to copy)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    folder = Path(folder)
    if not folder.exists():
        return f"{folder} does not exist yet: it is created with the first saved image."
    if not folder.is_dir():
        return f"{folder} is a file, not a folder: choose another output folder."
    if QDesktopServices.openUrl(QUrl.fromLocalFile(os.fspath(folder))):
        return None
    return (f"No file manager could be started to show the folder (nothing on this system "
            f"opens folders, e.g. xdg-open is missing). The images are in {folder}")
