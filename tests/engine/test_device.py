"""The device the engine was started with runs every model; results say where they ran."""

from __future__ import annotations

import numpy as np
import pytest

from engine.device import current_device, set_current_device, start_engine
from engine.reporting import Reporter
from engine.types import StartEngineRequest


@pytest.fixture
def engine_device():
    """Restores the engine's device after the test."""
    before = current_device()
    yield
    set_current_device(before)


def accelerators() -> list[str]:
    import torch

    found = ["cuda"] if torch.cuda.is_available() else []
    backend = getattr(torch.backends, "mps", None)
    return found + (["mps"] if backend and backend.is_available() else [])


def test_start_engine_sets_the_current_device(engine_device):
    info = start_engine(StartEngineRequest("cpu"), Reporter())
    assert info.device == current_device() == "cpu"
    with pytest.raises(ValueError, match="Unknown device"):
        set_current_device("tpu")
    assert current_device() == "cpu"


def digits_runs():
    from engine.digits.types import (
        CompareRequest,
        GuidanceSweepRequest,
        InversionRequest,
        ReverseRequest,
    )
    from engine.jobs import run_job

    reverse = ReverseRequest(label=2, sampler="euler_a", steps=2, batch_size=2, seed=4)
    return {
        "reverse": run_job(reverse, Reporter()),
        "compare": run_job(CompareRequest(reverse, ReverseRequest(sampler="dpmpp_2m", steps=2,
                                                                  batch_size=1)), Reporter()),
        "sweep": run_job(GuidanceSweepRequest(scales=(1.0,), steps=2, batch_size=1), Reporter()),
        "inversion": run_job(InversionRequest(steps=2), Reporter()),
    }


def toy_runs():
    from engine.jobs import run_job
    from engine.toy2d.types import FieldRequest, SampleRequest, TrainRequest

    partials = []
    state = run_job(TrainRequest(steps=20, batch_size=32), Reporter(on_partial=partials.append))
    sample = run_job(SampleRequest(model=state.model, sampler="ddim", num_points=20,
                                   num_inference_steps=5, eta=0.5), Reporter())
    field = run_job(FieldRequest(model=state.model, grid=3), Reporter())
    return state, partials, sample, field


@pytest.mark.parametrize("device", ["cpu", *accelerators()])
def test_digits_and_toy_run_on_the_engine_device(engine_device, device):
    set_current_device(device)
    runs = digits_runs()
    assert {name: result.device for name, result in runs.items()} == dict.fromkeys(runs, device)
    assert runs["compare"].first.device == runs["compare"].second.device == device
    state, partials, sample, field = toy_runs()
    assert state.device == sample.device == field.device == device
    assert partials and {p.device for p in partials} == {device}
    if device != "cpu":  # noise comes from the CPU generator: the same x_T on every device
        set_current_device("cpu")
        on_cpu = digits_runs()["reverse"]
        assert np.array_equal(on_cpu.x_t[0], runs["reverse"].x_t[0])
        assert np.abs(on_cpu.samples - runs["reverse"].samples).max() < 0.05


def test_the_global_device_flag_reaches_the_cli_commands(engine_device, tmp_path, capsys):
    import torch

    from playground_gui.app import main

    set_current_device("cpu")
    if not torch.cuda.is_available():
        assert main(["--device", "cuda", "sample", "--steps", "1", "--n", "1",
                     "--out", str(tmp_path / "a.png")]) == 2
        assert "no CUDA GPU" in capsys.readouterr().err
        assert not (tmp_path / "a.png").exists()
    for device in accelerators():
        assert main(["--device", device, "sample", "--steps", "1", "--n", "1",
                     "--out", str(tmp_path / f"{device}.png")]) == 0
        assert current_device() == device
