"""``--smoke-test``: the real window, every tab visited, real jobs through the worker, then exit."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer

from engine.requests import ScheduleRequest, ScheduleSpec

TIMEOUT_MS = 180_000


class SmokeTest(QObject):
    def __init__(self, window, entered: float | None):
        super().__init__(window)
        self.window = window
        self.entered = entered
        self.exit_code = 1
        self._pending = []
        self._timer = QTimer(self, singleShot=True, interval=TIMEOUT_MS)
        self._timer.timeout.connect(lambda: self.fail(f"no answer within {TIMEOUT_MS // 1000} s"))

    def start(self) -> None:
        from playground_gui.app import process_age_seconds

        age = process_age_seconds()
        shown_after = age if age is not None else time.perf_counter() - (self.entered or 0)
        print(f"window shown {shown_after:.2f} s after process start")
        if self.window.torch_loaded_at_first_show:
            self.fail("torch was imported before the window was shown")
            return
        print("torch imported before the window: no")
        for index in range(self.window.tabs.count()):
            self.window.tabs.setCurrentIndex(index)
            print(f"visited tab: {self.window.tabs.tabText(index)}")
        self._timer.start()
        # The engine start job is already queued; this one runs after it, through the worker.
        started = time.perf_counter()
        request = ScheduleRequest(specs=(ScheduleSpec.preset("cosine", 100),), strip_steps=3)
        job = self.window.engine.submit(request, "Smoke test job")
        job.succeeded.connect(lambda result: self._job_done(result, started))
        job.failed.connect(lambda message: self.fail(f"job failed: {message}"))
        job.cancelled.connect(lambda _: self.fail("job was cancelled"))

    def _job_done(self, result, started: float) -> None:
        if len(result.curves) != 1 or len(result.curves[0].betas) != 100:
            self.fail("job returned the wrong shape")
            return
        info = self.window.engine_info
        if info is None:
            self.fail("the engine did not report its device")
            return
        print(f"engine: {info.summary}")
        print(f"job through the worker: ok ({time.perf_counter() - started:.2f} s incl. engine start)")
        self.exit_code = 0
        print("SMOKE TEST PASSED")
        self._finish()

    def fail(self, reason: str) -> None:
        print(f"SMOKE TEST FAILED: {reason}", file=sys.stderr)
        self.exit_code = 1
        self._finish()

    def _finish(self) -> None:
        self._timer.stop()
        QTimer.singleShot(0, self.window.close)
