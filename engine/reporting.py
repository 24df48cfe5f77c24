"""How a running job talks back: progress (with rate and ETA), partial results, cancellation.

A job is a plain function ``handler(request, reporter)``; the reporter is the only thing it knows
about its caller, so the same job runs under the GUI worker, the CLI and the tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engine.errors import Cancelled
from engine.types import ProgressUpdate


class Reporter:
    """Throttles progress to what a person can see and turns the cancel flag into ``Cancelled``."""

    #: Minimum seconds between two progress callbacks (the last step always gets through).
    min_interval = 0.05

    def __init__(
        self,
        cancel_event: threading.Event | None = None,
        on_progress: Callable[[ProgressUpdate], None] | None = None,
        on_partial: Callable[[object], None] | None = None,
    ):
        self.cancel_event = cancel_event or threading.Event()
        self._on_progress = on_progress
        self._on_partial = on_partial
        self._started = time.perf_counter()
        self._last_emit = float("-inf")  # the first report always gets through
        self._first_done: tuple[int, float] | None = None

    # -- used by jobs -----------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self, partial=None) -> None:
        if self.cancel_event.is_set():
            raise Cancelled(partial)

    def restart_clock(self) -> None:
        """Call when the timed part of a job begins (after loading), for an honest it/s."""
        self._started = time.perf_counter()
        self._first_done = None

    def progress(self, done: int, total: int, message: str = "") -> None:
        now = time.perf_counter()
        if self._first_done is None:
            # Rate is measured from the first report on, so set-up time does not skew it.
            self._first_done = (done, now)
        if self._on_progress is None:
            return
        if done < total and now - self._last_emit < self.min_interval:
            return
        self._last_emit = now
        first_done, first_time = self._first_done
        elapsed = now - first_time
        rate = (done - first_done) / elapsed if elapsed > 0 and done > first_done else 0.0
        eta = (total - done) / rate if rate > 0 else None
        self._on_progress(ProgressUpdate(done, total, rate, eta, message))

    def partial(self, payload) -> None:
        if self._on_partial is not None:
            self._on_partial(payload)
