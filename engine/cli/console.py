"""Terminal progress for CLI jobs: a one-line bar with rate and ETA on stderr."""

from __future__ import annotations

import sys

from engine.reporting import Reporter
from engine.types import ProgressUpdate


def _bar(update: ProgressUpdate, width: int = 28) -> str:
    filled = int(width * update.fraction)
    rate = f"{update.rate:.1f} it/s" if update.rate else "…"
    eta = f"ETA {update.eta_seconds:.0f}s" if update.eta_seconds is not None else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] {update.done}/{update.total} {rate} {eta} {update.message}"


def console_reporter(quiet: bool = False) -> Reporter:
    stream = sys.stderr
    interactive = stream.isatty()

    def show(update: ProgressUpdate) -> None:
        if quiet:
            return
        line = _bar(update)
        if interactive:
            stream.write("\r" + line[:120].ljust(120))
            if update.done >= update.total:
                stream.write("\n")
        elif update.done >= update.total or update.done % max(1, update.total // 10) == 0:
            stream.write(line + "\n")
        stream.flush()

    return Reporter(on_progress=show)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
