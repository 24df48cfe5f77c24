"""Logging to a rotating file under the user's data folder, so tracebacks are never lost.

When that folder cannot be written (read-only home, no permission, full disk), the log goes to
stderr instead (warnings and errors only), with one line saying why: a command must not fail
because its log file cannot be opened.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

_handler: logging.Handler | None = None
_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO) -> str:
    """Send the root logger to the log file (idempotent; follows a changed data folder).
    Returns the log file's path, or ``"<stderr>"`` when it could not be opened."""
    global _handler
    from engine.paths import log_file

    root = logging.getLogger()
    try:
        path = str(log_file())
        if _handler is not None and getattr(_handler, "baseFilename", None) == path:
            return path
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        if isinstance(_handler, logging.StreamHandler) and \
                not isinstance(_handler, logging.FileHandler):
            return "<stderr>"
        where = getattr(exc, "filename", None) or "the data folder"
        print(f"warning: cannot write the log file ({where}: {exc.strerror or exc}); "
              "logging warnings and errors to stderr instead", file=sys.stderr)
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        path = "<stderr>"
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = handler
    _handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(_handler)
    root.setLevel(level)
    return path
