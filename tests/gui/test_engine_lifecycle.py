"""The engine thread: errors reach the user, jobs cancel, closing mid-job exits cleanly."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.schedules.types import ScheduleRequest, ScheduleSpec
from engine.types import StartEngineRequest
from tests.gui.conftest import wait_for_job


def long_request():
    """A real, slow schedule job (many large schedules with strips): ~10 s on one thread, so
    that a loaded machine cannot finish it between "it started" and the test's next action
    (every test cancels it)."""
    import numpy as np

    specs = tuple(ScheduleSpec("linear", 100_000, 1e-5, 0.02 - i * 8e-5) for i in range(240))
    return ScheduleRequest(specs, strip_image=np.zeros((256, 256, 3), np.uint8), strip_steps=10)


@pytest.mark.skipif(sys.platform == "darwin", reason="MPS may exist on macOS")
def test_engine_error_is_shown_and_the_app_stays_usable(qtbot, window):
    handle = window.engine.submit(StartEngineRequest("mps"), "Switching device")
    name, message = wait_for_job(qtbot, handle)
    assert name == "failed" and "MPS was requested" in message
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None, timeout=5_000)
    box = window.findChild(QMessageBox)
    assert "MPS was requested" in box.text() and "log file" in box.informativeText()
    box.close()
    from engine.paths import log_file

    logged = log_file().read_text(encoding="utf-8")
    assert "Traceback" in logged and "UserFacingError" in logged
    # Still usable: the next job runs.
    name, result = wait_for_job(qtbot, window.engine.submit(ScheduleRequest((ScheduleSpec(),))))
    assert name == "succeeded" and len(result.curves) == 1


def test_cancel_stops_a_running_job(qtbot, window):
    handle = window.engine.submit(long_request(), "Long job")
    steps = []
    handle.progress.connect(steps.append)
    qtbot.waitUntil(lambda: len(steps) >= 1, timeout=60_000)
    handle.cancel()
    name, _ = wait_for_job(qtbot, handle, timeout=20_000)
    assert name == "cancelled"
    assert steps[-1].done < steps[-1].total


def test_closing_mid_job_cancels_and_joins_the_thread(qtbot, window):
    handle = window.engine.submit(long_request(), "Long job")
    started, outcome = [], []
    handle.progress.connect(started.append)
    for name in ("succeeded", "cancelled", "failed"):
        getattr(handle, name).connect(lambda *_, name=name: outcome.append(name))
    qtbot.waitUntil(lambda: len(started) >= 1, timeout=60_000)
    assert window.engine._thread.isRunning()
    window.close()
    assert not window.engine._thread.isRunning()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5_000)
    # The job stopped part-way because of the close (a job ignoring cancel would succeed).
    assert outcome == ["cancelled"] and started[-1].done < started[-1].total


# The real app in a fresh interpreter (window before torch, exit code 0, which also guards
# against Qt aborting at exit) is the smoke test that CI runs on the installed app and on the
# PyInstaller bundle (.ci/run): not repeated here, where it cost ~13 s of every test run.


def test_a_job_submitted_after_shutdown_never_runs(qtbot, window):
    window.close()
    handle = window.engine.submit(ScheduleRequest((ScheduleSpec(),)), "Late job")
    assert handle.cancel_event.is_set() and handle.done
    assert window.engine.pending_jobs == []


def test_the_first_window_fits_a_laptop_screen():
    from PySide6.QtCore import QSize

    from playground_gui.main_window import first_size

    assert first_size(QSize(1366, 728)) == (1360, 728)  # 1366×768 minus a 40 px panel
    assert first_size(QSize(1920, 1040)) == (1360, 860)


def test_an_unwritable_data_folder_still_opens_the_window_and_says_where_errors_go(
        qtbot, settings, tmp_path, monkeypatch):
    from playground_gui.main_window import MainWindow

    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")  # the data folder cannot be created under a file
    monkeypatch.setenv("DIFFUSION_PLAYGROUND_HOME", str(blocker / "home"))
    window = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(window)
    assert window.log_location == "<stderr>"
    window.show_error("Something failed", "a message")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None, timeout=5_000)
    assert "terminal" in window.findChild(QMessageBox).informativeText()
    window.close()
