"""One job-lifecycle helper for every tab: newest wins, coalescing, and shutdown.

A tab (its session) owns one ``JobSlot`` per kind of work it runs. The slot remembers the job
that currently speaks for that kind, drops the outcome of any job it has replaced, and turns a
closing engine into "nothing runs" instead of errors. Widget-free: sessions use it in tests
without a window.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject


class Policy(Enum):
    #: A new request cancels the running one; only the newest job's outcome is delivered
    #: (a slider that recomputes, a model that reloads).
    NEWEST_WINS = "newest wins"
    #: While one runs, only the latest new request is kept and runs once the running one
    #: finishes; nothing is cancelled (decoding the frame the slider rests on, token counts).
    COALESCE = "coalesce"
    #: One at a time: ``submit`` refuses (returns None) while one runs (Generate, Train).
    EXCLUSIVE = "exclusive"


Callback = Callable[..., None] | None


class JobSlot(QObject):
    def __init__(self, engine, policy: Policy, description: str, owner: str = "", parent=None):
        super().__init__(parent)
        self.engine = engine
        self.policy = policy
        self.description = description
        self.owner = owner
        self.current = None  # the JobHandle that speaks for this slot now
        self._queued: tuple | None = None  # COALESCE: (request, description, callbacks)

    @property
    def busy(self) -> bool:
        return self.current is not None

    @property
    def has_queued(self) -> bool:
        return self._queued is not None

    def submit(self, request, *, description: str | None = None, on_success: Callback = None,
               on_failure: Callback = None, on_cancel: Callback = None, on_progress: Callback = None,
               on_step: Callback = None, on_finished: Callback = None):
        """Run ``request`` under this slot's policy; returns its JobHandle, or None when it was
        queued (COALESCE), refused (EXCLUSIVE while busy) or the engine is shutting down."""
        callbacks = (on_success, on_failure, on_cancel, on_progress, on_step, on_finished)
        if self.engine.is_shut_down:
            return None
        if self.current is not None:
            if self.policy is Policy.EXCLUSIVE:
                return None
            if self.policy is Policy.COALESCE:
                self._queued = (request, description, callbacks)
                return None
            self.current.cancel()  # NEWEST_WINS: its outcome is dropped by the guards below
        return self._start(request, description, callbacks)

    def cancel(self) -> None:
        """Cancel the running job and forget a queued one."""
        self._queued = None
        if self.current is not None:
            self.current.cancel()

    def _start(self, request, description, callbacks):
        on_success, on_failure, on_cancel, on_progress, on_step, on_finished = callbacks
        description = description or self.description
        # A tab's engine already labels its jobs; a slot's own owner, when given, wins.
        handle = (self.engine.submit(request, description, self.owner) if self.owner
                  else self.engine.submit(request, description))
        self.current = handle

        def speaking(callback):
            # Outcomes of a replaced job never reach the tab: the newest job speaks alone.
            if callback is None:
                return None
            return lambda *args: callback(*args) if self.current is handle else None

        for signal, callback in ((handle.succeeded, on_success), (handle.failed, on_failure),
                                 (handle.cancelled, on_cancel), (handle.progress, on_progress),
                                 (handle.step, on_step)):
            wrapped = speaking(callback)
            if wrapped is not None:
                signal.connect(wrapped)
        handle.finished.connect(lambda: self._finished(handle, on_finished))
        return handle

    def _finished(self, handle, on_finished: Callback) -> None:
        if self.current is not handle:
            return
        self.current = None
        if on_finished is not None:
            on_finished()
        queued, self._queued = self._queued, None
        if queued is not None and not self.engine.is_shut_down:
            request, description, callbacks = queued
            self._start(request, description, callbacks)
