"""Status-bar strip for the engine's jobs: what runs (name, tab, step, speed), what waits behind
it, and a Cancel for each (the running one here, every one in the job list it opens).

With one engine thread, jobs queue. The strip says so instead of a silent 0 %: "Training the 2D
model (2D toy) waits for Comparison grid (Prompt)", and Cancel answers at once ("Cancelling…"),
whether the job runs (it stops at its next check) or waits (it is withdrawn).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground_gui.formatting import format_progress


def describe_job(handle, client=None) -> str:
    """One line for a job in any state: the status bar and the job list use it, tabs may too."""
    if handle.cancelling:
        return f"Cancelling {handle.label}…"
    if handle.waiting:
        ahead = client.waiting_behind(handle) if client is not None else None
        return f"{handle.label}: waiting for {ahead.label}" if ahead is not None else \
            f"{handle.label}: waiting to start"
    if handle.last_progress is not None:
        return f"{handle.label}: {format_progress(handle.last_progress)}"
    return f"{handle.label}…"


class JobListPopup(QFrame):
    """The queue, one row per job (running first), each with its own Cancel."""

    def __init__(self, client, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._client = client
        self._rows: dict[int, tuple[QLabel, QPushButton]] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel("<b>Engine jobs</b> (one runs at a time; the others wait their turn)")
        self._layout.addWidget(self.title)
        self._list = QVBoxLayout()
        self._layout.addLayout(self._list)
        self.empty = QLabel("No jobs.")
        self._layout.addWidget(self.empty)
        client.jobs_changed.connect(self.rebuild)
        client.job_progress.connect(self._on_progress)

    def rebuild(self) -> None:
        while self._list.count():
            item = self._list.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()  # gone now, so the popup shrinks to what is left
                widget.deleteLater()
        self._rows.clear()
        jobs = self._client.pending_jobs
        self.empty.setVisible(not jobs)
        for handle in jobs:
            row = QWidget()
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            label = QLabel(describe_job(handle, self._client))
            label.setMinimumWidth(360)
            button = QPushButton("Cancelling…" if handle.cancelling else "Cancel")
            button.setEnabled(not handle.cancelling)
            button.setToolTip("Stop this job (a waiting job is withdrawn and never runs)")
            button.clicked.connect(lambda _=False, h=handle: h.cancel())
            layout.addWidget(label, 1)
            layout.addWidget(button)
            self._list.addWidget(row)
            self._rows[handle.job_id] = (label, button)
        self.adjustSize()

    def _on_progress(self, handle, _update) -> None:
        row = self._rows.get(handle.job_id)
        if row is not None:
            row[0].setText(describe_job(handle, self._client))

    def row_for(self, handle) -> tuple[QLabel, QPushButton] | None:
        return self._rows.get(handle.job_id)

    def open_below(self, anchor: QWidget) -> None:
        self.rebuild()
        size = self.sizeHint()
        corner = anchor.mapToGlobal(anchor.rect().topRight())
        self.move(corner.x() - size.width(), corner.y() - size.height() - 4)
        self.show()


class JobStatusWidget(QWidget):
    def __init__(self, client, parent=None):
        super().__init__(parent)
        self._client = client
        self._handle = None  # the job the strip shows (the running one, else the first waiting)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc stops every job)")
        self.cancel_button.clicked.connect(self._cancel)
        self.queue_button = QToolButton()
        self.queue_button.setToolTip("Every job: the running one and those waiting behind it, "
                                     "each with its own Cancel")
        self.queue_button.clicked.connect(self.show_job_list)
        self.popup = JobListPopup(client, self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.queue_button)
        client.jobs_changed.connect(self._refresh)
        client.job_progress.connect(self._on_progress)
        self.setVisible(False)

    @property
    def shown_job(self):
        return self._handle

    def _refresh(self) -> None:
        jobs = self._client.pending_jobs
        self._handle = self._client.running_job or (jobs[0] if jobs else None)
        handle = self._handle
        if handle is None:
            self.setVisible(False)
            return
        self.label.setText(describe_job(handle, self._client))
        if handle.running and handle.last_progress is not None:
            self.bar.setRange(0, handle.last_progress.total)
            self.bar.setValue(handle.last_progress.done)
        else:
            self.bar.setRange(0, 0)  # busy until the first progress report
        self.cancel_button.setText("Cancelling…" if handle.cancelling else "Cancel")
        self.cancel_button.setEnabled(not handle.cancelling)
        waiting = sum(1 for job in jobs if job is not handle)
        self.queue_button.setText(f"+{waiting} waiting ▾" if waiting else "Jobs ▾")
        self.setVisible(True)

    def _on_progress(self, handle, update) -> None:
        if handle is not self._handle:
            return
        self.bar.setRange(0, update.total)
        self.bar.setValue(update.done)
        self.label.setText(describe_job(handle, self._client))

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()  # the state change refreshes the strip: "Cancelling …"

    def show_job_list(self) -> None:
        self.popup.open_below(self.queue_button)
