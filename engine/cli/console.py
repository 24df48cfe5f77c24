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

    from engine.cli.interrupt import cancel_event

    return Reporter(cancel_event=cancel_event(), on_progress=show)


def part_reporter(reporter: Reporter, index: int, count: int) -> Reporter:
    """A reporter for part ``index`` of ``count`` equal parts of one run (a batch of a batch
    count): the same cancel flag, progress shown for the whole run."""

    def show(update: ProgressUpdate) -> None:
        if reporter._on_progress is None:
            return
        remaining_parts = count - index - 1
        eta = update.eta_seconds
        if eta is not None and update.rate:
            eta += remaining_parts * update.total / update.rate
        reporter._on_progress(ProgressUpdate(index * update.total + update.done,
                                             count * update.total, update.rate, eta,
                                             update.message))

    return Reporter(cancel_event=reporter.cancel_event, on_progress=show)


def make_streams_safe() -> None:
    """A console that cannot show a character (cp1252 on Windows, ``PYTHONIOENCODING``) gets
    ``\\u…`` escapes instead of a UnicodeEncodeError after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that is closed or cannot change
                pass


# Control characters a terminal acts on (C0 but newline and tab, DEL, C1 such as U+009B CSI)
# and the bidirectional overrides that can reorder what is shown.
_UNSAFE = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
           if code not in (0x09, 0x0A)}
_UNSAFE.update({code: f"\\u{code:04x}" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
_UNSAFE_IN_JSON = {code: f"\\u{code:04x}" for code in _UNSAFE}  # valid JSON string escapes


def printable(text: str, json: bool = False) -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``,
    ``\\x9b``, ``\\u202e``), so text from a file cannot retitle the window, clear the screen
    or hide itself. Newline and tab are kept. ``json``: ``\\u…`` escapes, for JSON text
    (whose control characters only occur inside strings)."""
    return str(text).translate(_UNSAFE_IN_JSON if json else _UNSAFE)


def fail(message: str) -> int:
    print(f"error: {printable(message)}", file=sys.stderr)
    return 2
