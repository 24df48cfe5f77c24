"""Shared test set-up: a private data folder, offscreen Qt, one torch thread."""

from __future__ import annotations

import os

# Before anything imports Qt or torch.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DIFFUSION_PLAYGROUND_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Logs and settings of each test go to its own folder, never the developer's."""
    home = tmp_path / "home"
    monkeypatch.setenv("DIFFUSION_PLAYGROUND_HOME", str(home))
    monkeypatch.setenv("DIFFUSION_PLAYGROUND_OUTPUT_DIR", str(tmp_path / "outputs"))  # not ~/Pictures
    return home
