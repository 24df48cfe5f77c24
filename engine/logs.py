"""Logging to a rotating file under the user's data folder, so tracebacks are never lost."""

from __future__ import annotations

import logging
import logging.handlers

from engine.paths import log_file

_handler: logging.Handler | None = None


def setup_logging(level: int = logging.INFO) -> str:
    """Send the root logger to the log file (idempotent; follows a changed data folder)."""
    global _handler
    path = log_file()
    if _handler is not None and getattr(_handler, "baseFilename", None) == str(path):
        return str(path)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    _handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
    )
    root.addHandler(_handler)
    root.setLevel(level)
    return str(path)
