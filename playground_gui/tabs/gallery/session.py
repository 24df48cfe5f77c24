"""The gallery without widgets: the output folder, its listing (``GalleryModel``), the selected
image and its parameters, and where Restore sends them.

Testable without a window: pass ``Preferences``, a ``title_for(kind)`` that names the tab that
restores a kind (None when none does) and a ``restore(kind, request) -> bool`` that does it
(the window's ``restore``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.png.chunks import MetadataError, PngMetadata, read_png_metadata
from playground_gui.formatting import restore_target
from playground_gui.preferences import Preferences
from playground_gui.widgets.gallery import GalleryModel


class GallerySession(QObject):
    selection_changed = Signal()  # selected_path / metadata / error are new

    def __init__(self, preferences: Preferences, title_for: Callable[[str], str | None],
                 restore: Callable[[str, dict], bool], parent=None):
        super().__init__(parent)
        self.preferences = preferences
        self.title_for = title_for
        self._restore = restore
        self.model = GalleryModel(self)
        self.selected_path: Path | None = None
        self.metadata: PngMetadata | None = None
        self.error: str | None = None  # why the selected file's parameters cannot be read

    # -- folder and listing ------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        return self.model.folder

    def open_saved_folder(self) -> None:
        """Start listing the folder the preferences name (on first show of the tab)."""
        self.model.set_folder(self.preferences.output_folder)

    def set_output_folder(self, folder: str | Path | None) -> None:
        """Make ``folder`` the output folder of every tab (None: the default) and list it."""
        self.preferences.output_folder = folder
        self.model.set_folder(self.preferences.output_folder)

    @property
    def is_empty(self) -> bool:
        return self.model.rowCount() == 0

    def row_to_select(self) -> int | None:
        """After a refresh: the selected image's new row, else the newest; None when empty."""
        if self.is_empty:
            return None
        row = self.model.row_of(self.selected_path) if self.selected_path else -1
        return row if row >= 0 else 0

    # -- selection ---------------------------------------------------------------------------
    def select(self, path: Path | None) -> None:
        """Select ``path`` (None: nothing) and read what it says about how it was made."""
        self.selected_path = path
        self.metadata = None
        self.error = None
        if path is not None:
            try:
                self.metadata = read_png_metadata(path)
            except MetadataError as exc:
                self.error = str(exc)
        self.selection_changed.emit()

    @property
    def parameters_text(self) -> str | None:
        """The A1111-style text to copy, when the selected image has one."""
        return self.metadata.parameters_text if self.metadata is not None else None

    # -- restore -----------------------------------------------------------------------------
    @property
    def restore_target(self) -> tuple[str, dict] | None:
        """(kind, request) that Restore hands to the window; None when the image has none."""
        return restore_target(self.metadata) if self.metadata else None

    @property
    def restore_title(self) -> str | None:
        """The tab that restores the selected image ("Forward / reverse › Reverse process")."""
        target = self.restore_target
        return self.title_for(target[0]) if target else None

    @property
    def unrestorable_kind(self) -> str | None:
        """The selected image's kind when it has parameters but no tab here restores them."""
        target = self.restore_target
        return target[0] if target is not None and self.restore_title is None else None

    def restore(self) -> bool:
        target = self.restore_target
        if target is None:
            return False
        return self._restore(*target)
