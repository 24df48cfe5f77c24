"""Logging to a rotating file under the user's data folder, so tracebacks are never lost."""

from __future__ import annotations

import logging
import logging.handlers

from engine.paths import log_file

_configured = False


def setup_logging(level: int = logging.INFO) -> str:
    """Configure the root logger once; returns the log file path."""
    global _configured
    path = log_file()
    if not _configured:
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
        )
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        _configured = True
    return str(path)
