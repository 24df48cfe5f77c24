"""Status-bar strip for the running engine job: what, how far, how fast, and a Cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


def format_progress(update) -> str:
    text = f"{update.done}/{update.total}"
    if update.rate:
        text += f" · {update.rate:.1f} it/s" if update.rate >= 1 else f" · {1 / update.rate:.1f} s/it"
    if update.eta_seconds is not None and update.done < update.total:
        text += f" · ETA {format_seconds(update.eta_seconds)}"
    return text


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class JobStatusWidget(QWidget):
    def __init__(self, client, parent=None):
        super().__init__(parent)
        self._client = client
        self._handle = None
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job at its next step")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        client.job_started.connect(self._on_started)
        client.job_progress.connect(self._on_progress)
        client.job_finished.connect(self._on_finished)
        self.setVisible(False)

    def _on_started(self, handle) -> None:
        self._handle = handle
        self.label.setText(handle.description + "…")
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.setVisible(True)

    def _on_progress(self, handle, update) -> None:
        if handle is not self._handle:
            return
        self.bar.setRange(0, update.total)
        self.bar.setValue(update.done)
        self.label.setText(f"{handle.description}: {format_progress(update)}")

    def _on_finished(self, handle) -> None:
        if handle is self._handle:
            self._handle = None
            self.setVisible(False)

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.label.setText(self._handle.description + ": cancelling…")
