"""The job runner, reporter and device choice, without any Qt."""

from __future__ import annotations

import threading

import pytest

from engine.device import DEFAULT_DTYPES, pick_device, start_engine
from engine.errors import Cancelled, UserFacingError, describe
from engine.jobs import run_job
from engine.reporting import Reporter
from engine.schedules.types import ScheduleRequest, ScheduleSpec
from engine.types import StartEngineRequest


def test_schedule_job_reports_progress_for_each_schedule():
    updates = []
    reporter = Reporter(on_progress=updates.append)
    reporter.min_interval = 0
    specs = (ScheduleSpec.preset("linear", 100), ScheduleSpec.preset("cosine", 100))
    result = run_job(ScheduleRequest(specs), reporter)
    assert [c.spec for c in result.curves] == list(specs)
    assert result.strips == (None, None)
    assert [(u.done, u.total) for u in updates] == [(1, 2), (2, 2)]
    assert updates[-1].fraction == 1.0


def test_cancelled_job_raises_before_doing_work():
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        run_job(ScheduleRequest((ScheduleSpec(),)), Reporter(cancel_event=event))


def test_progress_is_throttled_but_the_last_step_always_arrives():
    updates = []
    reporter = Reporter(on_progress=updates.append)
    reporter.min_interval = 3600
    for done in range(1, 101):
        reporter.progress(done, 100)
    assert [u.done for u in updates] == [1, 100]
    assert updates[-1].rate > 0 and updates[-1].eta_seconds == 0


def test_unknown_request_type_is_an_error():
    with pytest.raises(TypeError, match="No engine handler"):
        run_job(object(), Reporter())


def test_engine_start_reports_the_device():
    info = start_engine(StartEngineRequest("cpu"), Reporter())
    assert info.device == "cpu" and info.dtype == DEFAULT_DTYPES["cpu"] == "float32"
    assert info.torch_version and info.torch_threads >= 1
    assert "CPU" in info.summary


def test_unavailable_device_gives_a_clear_message():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UserFacingError, match="no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(UserFacingError, match="Unknown device"):
        pick_device("tpu")


def test_error_descriptions_are_readable():
    assert describe(UserFacingError("Do this.")) == "Do this."
    oom = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert "ran out of memory" in describe(oom) and "smaller" in describe(oom)
    assert describe(KeyError("x")).startswith("Unexpected error (KeyError)")


def test_library_check_finds_real_classes():
    from engine.types import LibraryCheckRequest

    result = run_job(LibraryCheckRequest(), Reporter())
    assert result.problems == ()
    assert set(result.versions) == {"torch", "diffusers", "transformers", "safetensors"}


def test_every_job_handler_entry_resolves_to_a_function_taking_request_and_reporter():
    import inspect

    from engine.digits.types import ReverseRequest
    from engine.forward.types import ForwardRequest
    from engine.jobs import HANDLERS, handler_for
    from engine.stable_diffusion.types import GenerationRequest
    from engine.toy2d.types import TrainRequest

    # one request of every feature reaches the dispatcher
    for request_type in (StartEngineRequest, ScheduleRequest, ForwardRequest, ReverseRequest,
                         TrainRequest, GenerationRequest):
        assert request_type in HANDLERS
    for request_type in HANDLERS:
        function = handler_for(request_type.__new__(request_type))
        parameters = list(inspect.signature(function).parameters)
        assert len(parameters) >= 2, (request_type, function)


def test_feature_types_modules_stay_torch_free():
    import subprocess
    import sys

    code = ("import sys, engine.jobs; bad = [m for m in ('torch', 'diffusers', 'transformers') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
