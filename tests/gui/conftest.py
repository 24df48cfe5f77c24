"""GUI fixtures: a real MainWindow whose engine thread is joined after every test, and a bare
engine for the sessions tested without a window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def engine(qtbot):
    """A started ``EngineClient`` without a window (sessions, job slots), shut down afterwards."""
    from playground_gui.engine_client import EngineClient

    client = EngineClient()
    client.start()
    yield client
    client.shutdown()


@pytest.fixture
def window(qtbot, settings):
    """The main window, shown, with its engine started (torch loads in the engine thread)."""
    from playground_gui.main_window import MainWindow

    main_window = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(main_window)
    main_window.show()
    main_window.start_engine()
    yield main_window
    main_window.close()  # cancels the running job and joins the engine thread
    assert not main_window.engine._thread.isRunning()


def wait_for_job(qtbot, handle, timeout=60_000):
    """Wait until a JobHandle finishes; returns (signal name, payload)."""
    outcome = {}
    handle.succeeded.connect(lambda value: outcome.setdefault("succeeded", value))
    handle.failed.connect(lambda value: outcome.setdefault("failed", value))
    handle.cancelled.connect(lambda value: outcome.setdefault("cancelled", value))
    qtbot.waitUntil(lambda: bool(outcome), timeout=timeout)
    ((name, value),) = outcome.items()
    return name, value
