"""GUI-side handle on the engine: one worker in one QThread for the app's lifetime.

Tabs call ``submit(request)`` and get a ``JobHandle`` whose signals fire in the GUI thread.
Cancel sets a ``threading.Event`` directly: a busy worker thread would never see a queued signal.
"""

from __future__ import annotations

import itertools
import logging
import threading

from PySide6.QtCore import QObject, QThread, Signal

from playground_gui.worker import EngineWorker

log = logging.getLogger(__name__)


class JobHandle(QObject):
    started = Signal()
    progress = Signal(object)  # ProgressUpdate
    step = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal(object)
    finished = Signal()  # after any of succeeded / failed / cancelled

    def __init__(self, job_id: int, request, description: str, parent=None):
        super().__init__(parent)
        self.job_id = job_id
        self.request = request
        self.description = description
        self.cancel_event = threading.Event()
        self.running = False
        self.done = False
        self.error_message: str | None = None

    def cancel(self) -> None:
        self.cancel_event.set()


class EngineClient(QObject):
    job_started = Signal(object)  # JobHandle
    job_progress = Signal(object, object)  # JobHandle, ProgressUpdate
    job_finished = Signal(object)  # JobHandle
    _dispatch = Signal(int, object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, JobHandle] = {}
        self._thread = QThread()
        self._thread.setObjectName("engine")
        self._worker = EngineWorker()
        self._worker.moveToThread(self._thread)
        self._dispatch.connect(self._worker.run)
        self._worker.started.connect(self._on_started)
        self._worker.progress.connect(self._on_progress)
        self._worker.step.connect(self._on_step)
        self._worker.result.connect(self._on_result)
        self._worker.error.connect(self._on_error)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.finished.connect(self._worker.deleteLater)
        self._closed = False

    def start(self) -> None:
        """Start the thread. Jobs submitted earlier wait in its queue, so tabs can submit from
        their constructors while the window still shows before torch is imported."""
        if not self._thread.isRunning():
            self._thread.start()

    # -- public ----------------------------------------------------------------------------
    def submit(self, request, description: str = "") -> JobHandle:
        handle = JobHandle(next(self._ids), request, description or type(request).__name__, self)
        if self._closed:
            # The window is closing (e.g. a debounce timer fired late): nothing will run it.
            handle.cancel()
            handle.done = True
            return handle
        self._jobs[handle.job_id] = handle
        self._dispatch.emit(handle.job_id, request, handle.cancel_event)
        return handle

    @property
    def is_shut_down(self) -> bool:
        return self._closed

    @property
    def pending_jobs(self) -> list[JobHandle]:
        return list(self._jobs.values())

    def cancel_all(self) -> None:
        for handle in self._jobs.values():
            handle.cancel()

    def shutdown(self) -> None:
        """Cancel everything, let the running job stop at its next step, join the thread."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        if self._thread.isRunning():
            self._thread.quit()
        # Jobs check the cancel flag at every step, so this returns within one step; loading
        # a model from disk cannot be interrupted and is waited for rather than torn down.
        self._thread.wait()
        # Jobs still queued never ran: tell their owners so nothing waits for them forever.
        for job_id in list(self._jobs):
            self._finish(job_id, "cancelled", None)

    # -- routing ---------------------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        handle = self._jobs.get(job_id)
        if handle:
            handle.running = True
            handle.started.emit()
            self.job_started.emit(handle)

    def _on_progress(self, job_id: int, update) -> None:
        handle = self._jobs.get(job_id)
        if handle:
            handle.progress.emit(update)
            self.job_progress.emit(handle, update)

    def _on_step(self, job_id: int, payload) -> None:
        handle = self._jobs.get(job_id)
        if handle:
            handle.step.emit(payload)

    def _finish(self, job_id: int, signal_name: str, *args) -> None:
        handle = self._jobs.pop(job_id, None)
        if handle is None:
            return
        handle.running = False
        handle.done = True
        getattr(handle, signal_name).emit(*args)
        handle.finished.emit()
        self.job_finished.emit(handle)
        handle.deleteLater()

    def _on_result(self, job_id: int, outcome) -> None:
        self._finish(job_id, "succeeded", outcome)

    def _on_error(self, job_id: int, message: str) -> None:
        handle = self._jobs.get(job_id)
        if handle is not None:
            handle.error_message = message
        self._finish(job_id, "failed", message)

    def _on_cancelled(self, job_id: int, partial) -> None:
        self._finish(job_id, "cancelled", partial)
