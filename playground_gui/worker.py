"""The one QObject that lives in the engine thread and turns engine callbacks into signals."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class EngineWorker(QObject):
    """Runs one request at a time in its QThread; every outcome is a signal tagged with job id."""

    started = Signal(int)
    progress = Signal(int, object)  # job id, engine.types.ProgressUpdate
    step = Signal(int, object)  # job id, partial payload (a recorded step, a preview, …)
    result = Signal(int, object)
    error = Signal(int, str)  # job id, message for people (traceback in the log file)
    cancelled = Signal(int, object)  # job id, partial result or None

    @Slot(int, object, object)
    def run(self, job_id: int, request, ticket) -> None:
        """Run one job; ``ticket`` is the client's ``JobTicket`` (its cancel flag, and whether
        the job was withdrawn before its turn: then it is skipped without a word, the client
        has already told its owner)."""
        # Imported here, in the worker thread: the engine pulls in torch and diffusers lazily,
        # so the first job pays for them and the window never waits.
        from engine.errors import Cancelled, describe
        from engine.jobs import run_job
        from engine.reporting import Reporter

        if not ticket.claim():
            self.cancelled.emit(job_id, None)  # ignored by the client unless it still waits
            return
        self.started.emit(job_id)
        reporter = Reporter(
            ticket.cancel_event,
            on_progress=lambda update: self.progress.emit(job_id, update),
            on_partial=lambda payload: self.step.emit(job_id, payload),
        )
        try:
            outcome = run_job(request, reporter)
        except Cancelled as stop:
            self.cancelled.emit(job_id, stop.partial)
        except Exception as exc:  # every failure reaches the user; the app stays usable
            log.exception("job %d (%s) failed", job_id, type(request).__name__)
            self.error.emit(job_id, describe(exc))
        else:
            self.result.emit(job_id, outcome)
