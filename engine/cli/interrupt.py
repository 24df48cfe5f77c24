"""Ctrl+C on the command line cancels the running job the same way the GUI's Cancel does.

While a command runs, SIGINT sets the command's cancel flag (the ``threading.Event`` every
job checks through its ``engine.reporting.Reporter``), so the job stops at its next check and
what it finished is still written. A second Ctrl+C, or a job that has not stopped within
``GRACE_SECONDS`` (e.g. while a model loads), raises ``KeyboardInterrupt`` at once. Either
way the command exits with ``EXIT_CANCELLED`` (130, the shell's code for SIGINT) and says
"cancelled" on stderr.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from contextlib import contextmanager

EXIT_CANCELLED = 130
GRACE_SECONDS = 1.2

_current: threading.Event | None = None


def cancel_event() -> threading.Event:
    """The running command's cancel flag (a fresh one outside a command)."""
    return _current if _current is not None else threading.Event()


def cancelled(what: str = "") -> int:
    """Say so on stderr; the exit code for a cancelled command."""
    print(f"cancelled{': ' + what if what else ''}", file=sys.stderr, flush=True)
    return EXIT_CANCELLED


@contextmanager
def cancel_on_interrupt(grace: float = GRACE_SECONDS):
    """Within this block SIGINT sets the cancel flag it yields (main thread only)."""
    global _current
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    lock = threading.Lock()
    state = {"active": True, "timer": None}

    def hard_stop() -> None:
        with lock:
            if state["active"]:
                _thread.interrupt_main(signal.SIGINT)  # runs handler() in the main thread

    def handler(signum, frame) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()
        print("cancelling… (Ctrl+C again to stop at once)", file=sys.stderr, flush=True)
        timer = threading.Timer(grace, hard_stop)
        timer.daemon = True
        state["timer"] = timer
        timer.start()

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, handler)
    _current = event
    try:
        yield event
    finally:
        with lock:
            state["active"] = False
        if state["timer"] is not None:
            state["timer"].cancel()
        _current = None
        signal.signal(signal.SIGINT, previous)
