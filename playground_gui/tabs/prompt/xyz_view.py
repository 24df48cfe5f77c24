"""The Prompt tab's "X/Y/Z" page (issue 16 §3): any parameter on up to three axes, a labelled
grid, every cell a normal generation that can be restored into the controls or saved.

The settings on the left are the base; each axis row names a parameter and its values (as
``generate --grid NAME=v1,v2,…`` takes them: commas, a value with a comma in double quotes).
The run is one ``XyzGridRequest`` job (engine/stable_diffusion/xyz.py) through the page's own
slot. ``add_xyz_page(view)`` is the tab's one hook.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.png.saving import save_image_as
from engine.stable_diffusion.parameters import save_items
from engine.stable_diffusion.types import XyzGridRequest
from engine.stable_diffusion.xyz import AXIS_LABELS, axis_labels, cell_requests, parse_axis
from playground_gui.formatting import format_progress
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.tabs.prompt.image_view import PromptImageView
from playground_gui.widgets.save_bar import WriteJob

AXES = ("X", "Y", "Z")
DEFAULT_AXES = (("guidance", "1, 4, 7.5"), ("steps", "10, 20"), ("", ""))
EXPLANATION = (
    "<b>X/Y/Z plot.</b> Every combination of the axes' values is one normal generation with "
    "the settings on the left, from the same seed (the seed field, or one random seed), so the "
    "grid shows what that one parameter does and nothing else. <i>prompt</i> is search and "
    "replace: the first value is the text that each value replaces in the prompt and the "
    "negative prompt. Values are "
    "separated by commas (a value with a comma in double quotes). Pick a cell to see it, put "
    "its settings back on the left, or save it with its parameters.")


class XyzSession(QObject):
    running_changed = Signal(bool)
    done = Signal(object)  # XyzGridResult
    progress = Signal(object)
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.slot = JobSlot(engine, Policy.EXCLUSIVE, "X/Y/Z plot", parent=self)
        self.result = None

    def start(self, request: XyzGridRequest):
        handle = self.slot.submit(
            request, on_success=self._on_done, on_failure=self.failed.emit,
            on_cancel=lambda _: self.failed.emit("Cancelled."), on_progress=self.progress.emit,
            on_finished=lambda: self.running_changed.emit(False))
        if handle is not None:
            self.running_changed.emit(True)
        return handle

    def _on_done(self, result) -> None:
        self.result = result
        self.done.emit(result)

    def cancel(self) -> None:
        self.slot.cancel()


class XyzPage(QWidget):
    def __init__(self, tab, parent=None):
        super().__init__(parent)
        self.tab = tab  # the Prompt tab: its controls are the base request
        self.session = XyzSession(tab.engine, self)
        self._saving: list[WriteJob] = []
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #444")
        axes = QGridLayout()
        self.axis_combos, self.axis_edits = [], []
        for row, (letter, (name, values)) in enumerate(zip(AXES, DEFAULT_AXES, strict=True)):
            combo = QComboBox()
            combo.addItem("—", "")
            for key, label in AXIS_LABELS.items():
                combo.addItem(label if label == key else f"{label} ({key})", key)
            combo.setCurrentIndex(max(combo.findData(name), 0))
            edit = QLineEdit(values)
            axes.addWidget(QLabel(letter), row, 0)
            axes.addWidget(combo, row, 1)
            axes.addWidget(edit, row, 2)
            self.axis_combos.append(combo)
            self.axis_edits.append(edit)
        axes.setColumnStretch(2, 1)
        self.run_button = QPushButton("Run grid")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.session.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555")
        self.grid_view = PromptImageView("The labelled grid appears here.")
        self.grid_view.setMinimumHeight(260)
        self.cell_list = QListWidget()
        self.cell_list.setMaximumWidth(220)
        self.cell_list.currentRowChanged.connect(self.show_cell)
        self.cell_view = PromptImageView("Pick a cell.")
        self.cell_view.setMinimumHeight(200)
        self.restore_button = QPushButton("Use these settings")
        self.restore_button.clicked.connect(self.restore_cell)
        self.save_button = QPushButton("Save cell…")
        self.save_button.clicked.connect(self._save_dialog)
        cell_buttons = QVBoxLayout()
        cell_buttons.addWidget(self.cell_view, 1)
        row = QHBoxLayout()
        row.addWidget(self.restore_button)
        row.addWidget(self.save_button)
        cell_buttons.addLayout(row)
        cells = QHBoxLayout()
        cells.addWidget(self.cell_list)
        cells.addLayout(cell_buttons, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(axes)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        layout.addWidget(self.grid_view, 3)
        layout.addLayout(cells, 2)
        self._set_cell_buttons(False)

        session = self.session
        session.running_changed.connect(self._set_running)
        session.done.connect(self._on_done)
        session.failed.connect(lambda message: self.note.setText(message))
        session.progress.connect(lambda update: self.note.setText(
            f"{update.message or 'Running'} · {format_progress(update)}"))

    def grid_request(self) -> XyzGridRequest:
        """The tab's request with the axes; ValueError with a sentence for bad values (each
        cell's request is checked here, before the job)."""
        axes = []
        for combo, edit in zip(self.axis_combos, self.axis_edits, strict=True):
            if combo.currentData():
                axes.append(parse_axis(f"{combo.currentData()}={edit.text()}"))
        if not axes:
            raise ValueError("Choose a parameter for at least one axis.")
        base = self.tab.build_request(self.tab._seed_for_run())
        cell_requests(base, tuple(axes), base.seed)
        return XyzGridRequest(base, tuple(axes))

    def start(self):
        try:
            request = self.grid_request()
        except ValueError as exc:
            self.note.setText(str(exc).replace("--grid ", ""))
            return None
        handle = self.session.start(request)
        if handle is not None:
            self.note.setText(f"Running the grid from seed {request.base.seed}…")
        return handle

    def _on_done(self, result) -> None:
        labels = axis_labels(result.axes)
        sizes = " × ".join(str(len(values)) for _, values in result.axes)
        self.grid_view.set_image(result.grid, f"seed {result.seed} · {sizes} cells")
        self.note.setText(f"{len(result.results)} images from seed {result.seed}.")
        if result.results and result.results[0].model_info is not None:
            self.tab.model_used(result.results[0].model_info)
        self.cell_list.clear()
        for index in range(len(result.results)):
            parts, rest = [], index
            for axis in labels:
                parts.append(axis[rest % len(axis)])
                rest //= len(axis)
            self.cell_list.addItem(f"{index:04d} · " + ", ".join(parts))
        self.cell_list.setCurrentRow(0)

    def show_cell(self, index: int) -> None:
        result = self.session.result
        valid = result is not None and 0 <= index < len(result.results)
        self._set_cell_buttons(valid)
        if valid:
            self.cell_view.set_image(result.results[index].images[0],
                                     self.cell_list.item(index).text())

    def cell_item(self):
        """The shown cell as a SaveItem: its pixels and its own single run's PNG record."""
        index = self.cell_list.currentRow()
        result = self.session.result
        return save_items(result.requests[index], result.results[index])[0]

    def restore_cell(self) -> bool:
        return self.tab.restore_parameters(self.cell_item().request)

    def save_cell(self, path: str) -> WriteJob:
        item = self.cell_item()
        job = WriteJob(partial(save_image_as, path, item.image, item.parameters, item.request,
                               item.kind, overwrite=True), tag=path)
        self._saving.append(job)
        job.done.connect(self._on_saved)
        return job

    def _on_saved(self, job: WriteJob) -> None:
        self._saving = [each for each in self._saving if each is not job]
        self.note.setText(f"Could not save {job.tag}: {job.error}" if job.error is not None
                          else f"Saved {job.tag} (parameters inside the PNG)")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save cell", f"xyz-{self.cell_list.currentRow():04d}.png", "PNG images (*.png)")
        if path:
            self.save_cell(path)

    def _set_cell_buttons(self, enabled: bool) -> None:
        self.restore_button.setEnabled(enabled)
        self.save_button.setEnabled(enabled)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)


def add_xyz_page(view) -> XyzPage:
    """Add the X/Y/Z page to the Prompt tab's right column (``view.xyz_page``)."""
    view.xyz_page = XyzPage(view)
    scroll = QScrollArea()  # on a small screen the page scrolls rather than squeeze the grid
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(view.xyz_page)
    view.pages.addTab(scroll, "X/Y/Z")
    return view.xyz_page
