"""``--smoke-test``: the real window, every tab visited, real jobs through the worker, then exit.

Jobs run in order: a library check (catches a bundle whose package metadata went missing), a
small schedule job, the embedded model, and with ``--sd-model`` a Stable Diffusion folder; each
job is ``(description, request, check)`` where ``check(result)`` returns None or a failure reason.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer

from engine.schedules.types import ScheduleRequest, ScheduleSpec
from engine.types import LibraryCheckRequest

TIMEOUT_MS = 300_000


def _check_libraries(result) -> str | None:
    return "; ".join(result.problems) or None


def _stable_diffusion_jobs(location: str) -> list:
    """Load a (tiny) SD pipeline from a path and run 2 steps: exercises the bundled diffusers,
    transformers, tokenizers and safetensors for real."""
    from engine.stable_diffusion.types import (
        GenerationRequest,
        LoadModelRequest,
        ModelSource,
        PipelineOptions,
    )

    source, options = ModelSource(location), PipelineOptions(device="cpu")

    def check_generation(result) -> str | None:
        image = result.images[0]
        return None if image.shape == (64, 64, 3) else f"unexpected image shape {image.shape}"

    return [
        (f"load Stable Diffusion from {location}", LoadModelRequest(source, options),
         lambda info: None),
        ("Stable Diffusion, 2 steps at 64 px",
         GenerationRequest("a red fox in the snow", source=source, options=options, steps=2,
                           # the model's own scheduler: right for every family (SD 3/Flux: flow)
                           width=64, height=64, seed=0, scheduler="default"), check_generation),
    ]


def _digits_job() -> tuple:
    """A short run of the embedded model: it must load from the installed/bundled resources."""
    from engine.digits.types import ReverseRequest

    def check(result) -> str | None:
        ok = result.samples.shape == (2, 16, 16) and len(result.x_t) == 11
        return None if ok else f"unexpected digits result shapes {result.samples.shape}"

    return ("embedded digits model, DDIM 10 steps", ReverseRequest(label=7, steps=10, batch_size=2),
            check)


def _check_schedule(result) -> str | None:
    ok = len(result.curves) == 1 and len(result.curves[0].betas) == 100
    return None if ok else "the schedule job returned the wrong shape"


class SmokeTest(QObject):
    def __init__(self, window, entered: float | None, options=None):
        super().__init__(window)
        self.window = window
        self.entered = entered
        self.options = options
        self.exit_code = 1
        self._queue: list = []
        self._finished = False
        self._timer = QTimer(self, singleShot=True, interval=TIMEOUT_MS)
        self._timer.timeout.connect(lambda: self.fail(f"no answer within {TIMEOUT_MS // 1000} s"))

    def start(self) -> None:
        from playground_gui.app import seconds_since_start

        print(f"window shown {seconds_since_start(self.entered):.2f} s after process start",
              flush=True)
        if self.window.torch_loaded_at_first_show:
            self.fail("torch was imported before the window was shown")
            return
        print("torch imported before the window: no", flush=True)
        self._queue = [
            ("library check", LibraryCheckRequest(), _check_libraries),
            ("schedule job", ScheduleRequest((ScheduleSpec.preset("cosine", 100),), strip_steps=3),
             _check_schedule),
            _digits_job(),
        ]
        for index in range(self.window.tabs.count()):
            self.window.tabs.setCurrentIndex(index)
            print(f"visited tab: {self.window.tabs.tabText(index)}", flush=True)
        sd_model = getattr(self.options, "sd_model", None)
        if sd_model:
            self._queue += _stable_diffusion_jobs(sd_model)
        self._timer.start()
        self._next()

    def _next(self) -> None:
        if self._finished:
            return
        if not self._queue:
            self._passed()
            return
        description, request, check = self._queue.pop(0)
        started = time.perf_counter()
        job = self.window.engine.submit(request, f"Smoke test: {description}")
        job.succeeded.connect(lambda result: self._job_done(description, check, result, started))
        job.failed.connect(lambda message: self.fail(f"{description} failed: {message}"))
        job.cancelled.connect(lambda _: self.fail(f"{description} was cancelled"))

    def _job_done(self, description, check, result, started) -> None:
        reason = check(result)
        if reason:
            self.fail(f"{description}: {reason}")
            return
        print(f"{description}: ok ({time.perf_counter() - started:.2f} s)", flush=True)
        self._next()

    def _passed(self) -> None:
        info = self.window.engine_info
        if info is None:
            self.fail("the engine did not report its device")
            return
        print(f"engine: {info.summary}")
        self.exit_code = 0
        print("SMOKE TEST PASSED", flush=True)
        self._finish()

    def fail(self, reason: str) -> None:
        if self._finished:
            return
        print(f"SMOKE TEST FAILED: {reason}", file=sys.stderr, flush=True)
        self.exit_code = 1
        self._finish()

    def _finish(self) -> None:
        self._finished = True
        self._timer.stop()
        QTimer.singleShot(0, self.window.close)
