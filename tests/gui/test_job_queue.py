"""The job queue is visible and every Cancel answers at once; closing hides the window at once,
joins the engine thread and loses no image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.png.a1111 import GenerationParameters
from engine.png.saving import SaveItem
from engine.schedules.types import ScheduleRequest, ScheduleSpec
from playground_gui.preferences import OUTPUT_FOLDER_KEY
from tests.gui.conftest import wait_for_job
from tests.gui.test_engine_lifecycle import long_request


def quick_request():
    return ScheduleRequest((ScheduleSpec(),))


def record(handle):
    heard = []
    handle.started.connect(lambda: heard.append("started"))
    handle.cancelled.connect(lambda partial: heard.append(("cancelled", partial)))
    handle.succeeded.connect(lambda _: heard.append("succeeded"))
    return heard


def start_slow_job(qtbot, window, owner="Noise schedules"):
    # The tabs' own start-up jobs (engine, schedules, images) first, so the queue is ours.
    qtbot.waitUntil(lambda: not window.engine.pending_jobs, timeout=120_000)
    running = window.engine.submit(long_request(), "Long job", owner)
    steps = []
    running.progress.connect(steps.append)
    qtbot.waitUntil(lambda: len(steps) >= 1, timeout=60_000)
    assert running.state == "running"
    return running


def test_a_waiting_job_is_listed_and_its_cancel_answers_at_once(qtbot, window):
    running = start_slow_job(qtbot, window)
    waiting = window.engine.submit(quick_request(), "Training the 2D model", "2D toy")
    heard = record(waiting)
    assert waiting.state == "waiting"
    assert window.engine.pending_jobs == [running, waiting]
    assert window.engine.waiting_behind(waiting) is running

    status = window.job_status
    assert status.isVisible()
    assert "Long job (Noise schedules)" in status.label.text()
    assert status.queue_button.text().startswith("+1 waiting")

    # The job list names both jobs, in order, each with its own Cancel.
    status.show_job_list()
    popup = status.popup
    label, button = popup.row_for(waiting)
    assert label.text() == ("Training the 2D model (2D toy): waiting for Long job "
                            "(Noise schedules)")
    assert popup.row_for(running) is not None

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert waiting.state == "cancelling"  # at once, before any event is processed
    # Its owner hears the outcome on the next event-loop turn, while the slow job still runs.
    qtbot.waitUntil(lambda: bool(heard), timeout=500)
    assert heard == [("cancelled", None)]
    assert running.state == "running" and window.engine.pending_jobs == [running]
    assert status.queue_button.text() == "Jobs ▾"

    # Cancelling the running job: "Cancelling…" at once on the strip, then it stops.
    qtbot.mouseClick(status.cancel_button, Qt.MouseButton.LeftButton)
    assert running.state == "cancelling"
    assert status.cancel_button.text() == "Cancelling…" and not status.cancel_button.isEnabled()
    assert status.label.text() == "Cancelling Long job (Noise schedules)…"
    name, _ = wait_for_job(qtbot, running, timeout=20_000)
    assert name == "cancelled"
    # The withdrawn job was skipped by the worker, never started.
    qtbot.waitUntil(lambda: not status.isVisible(), timeout=5_000)
    assert heard == [("cancelled", None)]


def test_each_tab_labels_its_jobs(qtbot, window):
    from playground_gui.tabs.prompt.view import PromptTab

    (tab,) = [window.tabs.widget(i) for i in range(window.tabs.count())
              if isinstance(window.tabs.widget(i), PromptTab)]
    handle = tab.engine.submit(quick_request(), "Tokenising the prompt")
    assert handle.owner == "Prompt" and handle.label == "Tokenising the prompt (Prompt)"
    assert wait_for_job(qtbot, handle)[0] == "succeeded"


def test_closing_mid_job_hides_at_once_and_flushes_saves(qtbot, window, settings, tmp_path):
    from playground_gui.widgets.save_bar import SaveBar

    # A save that failed (the output folder is a file) holds its image for a retry …
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    settings.setValue(OUTPUT_FOLDER_KEY, str(blocker))
    item = SaveItem(np.full((16, 16, 3), 120, np.uint8), GenerationParameters(prompt="keep me",
                                                                              seed=5),
                    "digits", {"i": 0})
    bar = SaveBar(settings, "digits", lambda: [item])
    bar.setParent(window)
    bar.save_current()
    assert len(bar.pending) == 1
    # … and the folder is fixed before the window closes: closing writes it there.
    good = tmp_path / "good"
    settings.setValue(OUTPUT_FOLDER_KEY, str(good))

    running = start_slow_job(qtbot, window)
    waiting = window.engine.submit(quick_request(), "Waiting job")
    seen_while_closing = []
    running.cancelled.connect(lambda _: seen_while_closing.append(window.isVisible()))
    heard = record(waiting)
    window.close()
    assert seen_while_closing == [False]  # the window was gone while the job was stopping
    assert not window.engine._thread.isRunning()
    assert heard == [("cancelled", None)]
    assert [p.name for p in good.iterdir()] == ["00001-5.png"] and bar.pending == []


def test_an_image_a_closing_folder_refuses_goes_to_the_data_folder(qtbot, settings, tmp_path,
                                                                   private_home):
    from playground_gui.widgets.save_bar import SaveBar

    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    settings.setValue(OUTPUT_FOLDER_KEY, str(blocker))
    item = SaveItem(np.full((16, 16, 3), 120, np.uint8), GenerationParameters(seed=9), "digits",
                    {"i": 0})
    bar = SaveBar(settings, "digits", lambda: [item])
    qtbot.addWidget(bar)
    bar.save_current()
    (path,) = bar.flush()
    assert path.parent == private_home / "unsaved images" and bar.pending == []
