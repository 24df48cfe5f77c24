"""GUI-side handle on the engine: one worker in one QThread for the app's lifetime.

Tabs call ``submit(request)`` and get a ``JobHandle`` whose signals fire in the GUI thread.
With one engine thread, jobs queue: every handle knows its ``state`` (waiting, running,
cancelling) and its ``owner`` (the tab that asked), and the client lists them all
(``pending_jobs``) for the status bar's queue.

Cancel sets a ``threading.Event`` directly: a busy worker thread would never see a queued signal.
A job that has not started yet is *withdrawn*: its owner hears ``cancelled(None)`` on the next
turn of the event loop, and the worker skips it when its turn comes (``JobTicket`` makes "start"
and "withdraw" exclusive, so a job is either run or withdrawn, never both).
"""

from __future__ import annotations

import itertools
import logging
import threading

from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal

from playground_gui.main_thread_gc import collect_garbage_on_gui_thread
from playground_gui.worker import EngineWorker

log = logging.getLogger(__name__)

WAITING, RUNNING, CANCELLING, DONE = "waiting", "running", "cancelling", "done"


class JobTicket:
    """What the worker thread and the GUI thread share about one job (plain Python, no Qt)."""

    def __init__(self):
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._claimed = False
        self._withdrawn = False

    def claim(self) -> bool:
        """Worker thread, before running: False when the job was cancelled before its turn."""
        with self._lock:
            if self._withdrawn or self.cancel_event.is_set():
                self._withdrawn = True
                return False
            self._claimed = True
            return True

    def withdraw(self) -> bool:
        """GUI thread: set the cancel flag; True when the job had not started (and now never
        will), False when it is running and stops at its next check."""
        with self._lock:
            self.cancel_event.set()
            if self._claimed:
                return False
            self._withdrawn = True
            return True


class JobHandle(QObject):
    started = Signal()
    progress = Signal(object)  # ProgressUpdate
    step = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal(object)
    finished = Signal()  # after any of succeeded / failed / cancelled
    state_changed = Signal(str)  # WAITING → RUNNING → CANCELLING …, DONE at the end

    def __init__(self, job_id: int, request, description: str, owner: str = "", parent=None):
        super().__init__(parent)
        self.job_id = job_id
        self.request = request
        self.description = description
        self.owner = owner  # the tab (or part of the app) that asked: shown in the job list
        self.ticket = JobTicket()
        self.cancel_event = self.ticket.cancel_event
        self.state = WAITING
        self.done = False
        self.error_message: str | None = None
        self.last_progress = None  # the newest ProgressUpdate, for the job list
        self._on_withdrawn = None  # set by the client: finishes a job withdrawn before its turn

    @property
    def running(self) -> bool:
        return self.state in (RUNNING, CANCELLING)

    @property
    def waiting(self) -> bool:
        return self.state == WAITING

    @property
    def cancelling(self) -> bool:
        return self.state == CANCELLING

    @property
    def label(self) -> str:
        """"Generating (Prompt)": what the job list and the status bar call it."""
        return f"{self.description} ({self.owner})" if self.owner else self.description

    def cancel(self) -> None:
        """Stop the job: a waiting one never runs and reports ``cancelled(None)`` at once (next
        event-loop turn); a running one reports CANCELLING now and stops at its next check."""
        if self.done or self.state == CANCELLING:
            self.cancel_event.set()
            return
        if self.ticket.withdraw():
            self._set_state(CANCELLING)
            if self._on_withdrawn is not None:
                # Queued, not direct: the caller's own "Cancelling…" text comes first and the
                # outcome replaces it, as for a running job.
                QTimer.singleShot(0, self, lambda: self._on_withdrawn(self.job_id))
        else:
            self._set_state(CANCELLING)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


class EngineClient(QObject):
    job_started = Signal(object)  # JobHandle
    job_progress = Signal(object, object)  # JobHandle, ProgressUpdate
    job_finished = Signal(object)  # JobHandle
    jobs_changed = Signal()  # a job was queued, started, is cancelling or ended
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
            collect_garbage_on_gui_thread()  # before a second thread runs Python code
            self._thread.start()

    # -- public ----------------------------------------------------------------------------
    def submit(self, request, description: str = "", owner: str = "") -> JobHandle:
        handle = JobHandle(next(self._ids), request, description or type(request).__name__,
                           owner, self)
        if self._closed:
            # The window is closing (e.g. a debounce timer fired late): nothing will run it.
            handle.cancel_event.set()
            handle.state = DONE
            handle.done = True
            return handle
        self._jobs[handle.job_id] = handle
        handle._on_withdrawn = self._on_withdrawn
        handle.state_changed.connect(lambda _state: self.jobs_changed.emit())
        self._dispatch.emit(handle.job_id, request, handle.ticket)
        self.jobs_changed.emit()
        return handle

    def for_owner(self, owner: str) -> OwnedEngine:
        """The client as one tab sees it: every job it submits is labelled with ``owner``."""
        return OwnedEngine(self, owner)

    @property
    def is_shut_down(self) -> bool:
        return self._closed

    @property
    def pending_jobs(self) -> list[JobHandle]:
        """Every job not finished yet, in queue order: the running one first, then those waiting."""
        return list(self._jobs.values())

    @property
    def running_job(self) -> JobHandle | None:
        return next((job for job in self._jobs.values() if job.running), None)

    def waiting_behind(self, handle: JobHandle) -> JobHandle | None:
        """The job ``handle`` waits for (the running one, else the first queued before it)."""
        if not handle.waiting:
            return None
        running = self.running_job
        if running is not None:
            return running
        earlier = [job for job in self._jobs.values() if job.job_id < handle.job_id
                   and job.waiting]
        return earlier[0] if earlier else None

    def cancel_all(self) -> None:
        for handle in reversed(list(self._jobs.values())):  # newest first (see shutdown)
            handle.cancel()

    def shutdown(self) -> None:
        """Cancel everything, let the running job stop at its next check, join the thread.

        The GUI thread keeps delivering the worker's signals while it waits (a local event
        loop), so a result that arrives now still reaches its tab (and its auto-save)."""
        if self._closed:
            return
        self._closed = True
        # Newest first: a waiting job is withdrawn before the one ahead of it is told to stop,
        # or the engine thread could finish the cancelled job and start the next in between.
        for handle in reversed(list(self._jobs.values())):
            handle.ticket.withdraw()  # waiting jobs are skipped; the running one stops
            handle._set_state(CANCELLING)
        if self._thread.isRunning():
            self._thread.quit()
            loop = QEventLoop()
            self._thread.finished.connect(loop.quit)
            if self._thread.isRunning():  # it may have finished between quit() and connect()
                # Jobs check the cancel flag at every step (inside the model too), so this
                # returns within about one block; loading a model from disk cannot be
                # interrupted and is waited for rather than torn down.
                loop.exec()
            self._thread.wait()
        # Deliver what the worker sent last (a result, a partial), then tell the owners of the
        # jobs that never ran, so nothing waits for them forever.
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.sendPostedEvents(self)
        for job_id in list(self._jobs):
            self._finish(job_id, "cancelled", None)

    # -- routing ---------------------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        handle = self._jobs.get(job_id)
        if handle:
            if handle.state == WAITING:
                handle._set_state(RUNNING)
            handle.started.emit()
            self.job_started.emit(handle)

    def _on_progress(self, job_id: int, update) -> None:
        handle = self._jobs.get(job_id)
        if handle:
            handle.last_progress = update
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
        handle.done = True
        handle.state = DONE
        getattr(handle, signal_name).emit(*args)
        handle.state_changed.emit(DONE)
        handle.finished.emit()
        self.job_finished.emit(handle)
        handle.deleteLater()

    def _on_withdrawn(self, job_id: int) -> None:
        self._finish(job_id, "cancelled", None)

    def _on_result(self, job_id: int, outcome) -> None:
        self._finish(job_id, "succeeded", outcome)

    def _on_error(self, job_id: int, message: str) -> None:
        handle = self._jobs.get(job_id)
        if handle is not None:
            handle.error_message = message
        self._finish(job_id, "failed", message)

    def _on_cancelled(self, job_id: int, partial) -> None:
        self._finish(job_id, "cancelled", partial)


class OwnedEngine:
    """A tab's view of the one ``EngineClient``: ``submit`` labels jobs with the tab's name;
    everything else is the client's."""

    def __init__(self, client: EngineClient, owner: str):
        self._client = client
        self.owner = owner

    def submit(self, request, description: str = "", owner: str | None = None) -> JobHandle:
        return self._client.submit(request, description, owner or self.owner)

    def __getattr__(self, name):
        return getattr(self._client, name)
