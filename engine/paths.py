"""Where the app keeps its own files (logs, settings-independent data), without Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_APP_DIR_NAME = "diffusion-playground"


def user_data_dir() -> Path:
    """The per-user data folder; ``DIFFUSION_PLAYGROUND_HOME`` overrides it (tests, portable use)."""
    override = os.environ.get("DIFFUSION_PLAYGROUND_HOME")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / _APP_DIR_NAME
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / _APP_DIR_NAME
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        base = Path(xdg) / _APP_DIR_NAME
    base.mkdir(parents=True, exist_ok=True)
    return base


def log_file() -> Path:
    folder = user_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "diffusion-playground.log"
