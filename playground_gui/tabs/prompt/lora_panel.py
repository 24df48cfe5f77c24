"""The Prompt tab's LoRA box: a LoRA folder, its LoRAs with a weight each, its embeddings.

A LoRA ticked here applies with the slider's weight; ``<lora:name:0.8>`` typed in the prompt
does the same (the engine looks the name up in this folder), as AUTOMATIC1111 does. An
embedding ticked here is loaded under its trigger word (its file name), which then means the
learned vectors wherever it appears in a prompt. Pickled files (.pt/.ckpt/.bin) stay unused
until their row's “allow” (unpickling) is ticked. The folder is only listed here (file names and
safetensors headers); the engine reads the tensors.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserFacingError
from engine.stable_diffusion.network_files import NetworkEntry, lora_hash, scan_folder
from engine.stable_diffusion.types import NetworkFile

MAX_WEIGHT = 3.0  # the spin box's range, ±; the slider covers ±2 (A1111's usual 0…1 and beyond)
LORA_DIR_KEY = "prompt/lora_dir"


class NetworkRow(QWidget):
    """One file: tick to use; a LoRA has a weight and a “what changed” button."""

    def __init__(self, entry: NetworkEntry, parent=None):
        super().__init__(parent)
        self.entry = entry
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(entry.name)
        self.check.setToolTip(entry.path)
        layout.addWidget(self.check, 1)
        self.allow = None
        self.slider = self.spin = self.delta_button = None
        if entry.kind == "pickle":
            self.allow = QCheckBox("allow")
            self.allow.setToolTip("A pickle can run code when it is opened: tick only if you "
                                  "trust where this file came from (prefer .safetensors).")
            self.check.setEnabled(False)
            self.allow.toggled.connect(self.check.setEnabled)
            layout.addWidget(self.allow)
        if entry.kind in ("lora", "pickle"):
            self.slider = QSlider(Qt.Orientation.Horizontal, minimum=-200, maximum=200, value=100)
            self.slider.setFixedWidth(64)
            self.spin = QDoubleSpinBox(minimum=-MAX_WEIGHT, maximum=MAX_WEIGHT, value=1.0,
                                       singleStep=0.05, decimals=2)
            self.spin.setToolTip("The LoRA's weight: 0 = the base model exactly, 1 = as trained")
            self.slider.valueChanged.connect(lambda v: self._set_spin(v / 100))
            self.spin.valueChanged.connect(self._set_slider)
            self.delta_button = QToolButton(text="ΔW")
            self.delta_button.setToolTip("What changed: ‖ΔW‖/‖W‖ of each layer this LoRA adapts "
                                         "(the LoRA page on the right)")
            for widget in (self.slider, self.spin, self.delta_button):
                layout.addWidget(widget)
        else:
            hint = QLabel("embedding")
            hint.setToolTip(f"Ticked, “{entry.name}” in a prompt means this embedding's "
                            "learned vectors (its trigger word)")
            hint.setStyleSheet("color: #555")
            layout.addWidget(hint)

    def _set_spin(self, value: float) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        self.spin.valueChanged.emit(self.spin.value())

    def _set_slider(self, value: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(max(-2.0, min(2.0, value)) * 100))

    @property
    def is_lora(self) -> bool:
        return self.spin is not None

    def network(self) -> NetworkFile:
        return NetworkFile(self.entry.path, self.spin.value() if self.spin else 1.0,
                           bool(self.allow and self.allow.isChecked()))


class LoraPanel(QGroupBox):
    changed = Signal()
    delta_requested = Signal(object)  # NetworkFile: show what this LoRA changes

    def __init__(self, settings=None, parent=None):
        super().__init__("LoRA && embeddings", parent)
        self.settings = settings
        self.rows: list[NetworkRow] = []
        layout = QVBoxLayout(self)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("LoRA folder (for the list and <lora:name:w>)")
        self.folder_edit.setToolTip("A folder of LoRA and embedding files (.safetensors), "
                                    "searched with its subfolders")
        choose = QPushButton("Folder…")
        choose.clicked.connect(self._choose_folder)
        add = QPushButton("File…")
        add.setToolTip("A LoRA or embedding file outside the folder")
        add.clicked.connect(self._add_file_dialog)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(choose)
        folder_row.addWidget(add)
        layout.addLayout(folder_row)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #555")
        layout.addWidget(self.message)
        self.folder_edit.textChanged.connect(lambda _text: self.rescan())
        if settings is not None and settings.value(LORA_DIR_KEY):
            self.folder_edit.setText(str(settings.value(LORA_DIR_KEY)))
        else:
            self.rescan()

    # -- the list ------------------------------------------------------------------------------
    def folder(self) -> str | None:
        text = self.folder_edit.text().strip()
        return text or None

    def rescan(self) -> None:
        """List the folder again, keeping what is ticked (and files added by hand)."""
        keep = {row.entry.path: row.network() for row in self.rows if row.check.isChecked()}
        extra = [row.entry for row in self.rows if not self._in_folder(row.entry.path)]
        entries: list[NetworkEntry] = []
        folder = self.folder()
        message = ("Choose a folder of LoRAs (.safetensors from community sites, kohya or "
                   "diffusers layout) and embeddings.")
        if folder:
            try:
                entries = [e for e in scan_folder(folder) if e.kind != "other"]
                message = "" if entries else f"No LoRA or embedding files in {folder}."
                if self.settings is not None:
                    self.settings.setValue(LORA_DIR_KEY, folder)
            except UserFacingError as exc:
                message = str(exc)
        self._set_rows(entries + [e for e in extra if e.path not in {x.path for x in entries}])
        self.message.setText(message)
        self.select(list(keep.values()))

    def _in_folder(self, path: str) -> bool:
        folder = self.folder()
        if not folder:
            return False
        root = os.path.abspath(os.path.expanduser(folder))
        return os.path.abspath(path).startswith(root + os.sep)

    def _set_rows(self, entries: list[NetworkEntry]) -> None:
        for row in self.rows:
            self.rows_box.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for entry in entries:
            row = NetworkRow(entry)
            row.check.toggled.connect(lambda _on: self.changed.emit())
            if row.is_lora:
                row.spin.valueChanged.connect(lambda _v: self.changed.emit())
                row.delta_button.clicked.connect(
                    lambda _=False, row=row: self.delta_requested.emit(row.network()))
            self.rows_box.addWidget(row)
            self.rows.append(row)

    def add_file(self, path: str) -> NetworkRow:
        """A file outside the folder; a row is added (or found) and returned."""
        path = str(Path(os.path.expanduser(path)))
        for row in self.rows:
            if os.path.abspath(row.entry.path) == os.path.abspath(path):
                return row
        entries = [row.entry for row in self.rows]
        suffix = Path(path).suffix.lower()
        kind = "lora"
        if suffix == ".safetensors":
            from engine.stable_diffusion.network_files import network_kind, safetensors_header

            kind = network_kind(safetensors_header(path))
        elif suffix != "":
            kind = "pickle"
        entries.append(NetworkEntry(path, Path(path).stem, kind, Path(path).stat().st_size))
        ticked = [row.network() for row in self.rows if row.check.isChecked()]
        self._set_rows(entries)
        self.select(ticked)
        return self.rows[-1]

    # -- the request's fields ----------------------------------------------------------------
    def loras(self) -> tuple[NetworkFile, ...]:
        return tuple(row.network() for row in self.rows if row.is_lora and row.check.isChecked()
                     and row.check.isEnabled())

    def embeddings(self) -> tuple[NetworkFile, ...]:
        return tuple(row.network() for row in self.rows
                     if not row.is_lora and row.check.isChecked() and row.check.isEnabled())

    def select(self, networks, notes: list[str] | None = None) -> None:
        """Tick exactly these files (weights set); files not listed are added when they exist,
        else noted. Consent to unpickle is never restored from a file."""
        by_path = {os.path.abspath(row.entry.path): row for row in self.rows}
        for row in self.rows:
            with QSignalBlocker(row.check):
                row.check.setChecked(False)
        for network in networks:
            row = by_path.get(os.path.abspath(os.path.expanduser(network.path)))
            if row is None:
                if not Path(network.path).expanduser().is_file():
                    if notes is not None:
                        notes.append(f"the LoRA/embedding {network.path} is not on this computer")
                    continue
                row = self.add_file(network.path)
                by_path[os.path.abspath(row.entry.path)] = row
            if row.allow is not None and not row.allow.isChecked() and notes is not None:
                notes.append(f"tick “allow” (unpickling) for {row.entry.name} yourself if you "
                             "trust it")
            with QSignalBlocker(row.check):
                row.check.setChecked(True)
            if row.is_lora:
                row.spin.setValue(float(network.weight))
        self.changed.emit()

    def check_hashes(self, hashes: dict[str, str]) -> list[str]:
        """Notes for an image's ``Lora hashes`` the folder cannot match (missing, or another
        version of the file)."""
        by_name = {row.entry.name: row for row in self.rows if row.is_lora}
        notes = []
        for name, digest in hashes.items():
            row = by_name.get(name)
            if row is None:
                notes.append(f"the LoRA “{name}” (hash {digest}) is not in the LoRA folder")
            elif row.entry.kind == "lora" and digest and lora_hash(row.entry.path) != digest:
                notes.append(f"the LoRA “{name}” in the folder is another version (hash "
                             f"{lora_hash(row.entry.path)}, the image used {digest})")
        return notes

    # -- dialogs ---------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "LoRA folder", self.folder() or "")
        if folder:
            self.folder_edit.setText(folder)

    def _add_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "LoRA or embedding file", self.folder() or "",
            "LoRA / embedding (*.safetensors *.pt *.ckpt *.bin)")
        if path:
            try:
                self.add_file(path)
            except UserFacingError as exc:
                self.message.setText(str(exc))
