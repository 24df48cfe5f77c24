"""The one entry point that runs any request: ``run_job(request, reporter)``.

Each request type maps to one plain handler function in the module that owns the work; this
module only dispatches, so adding a job is one line here and nothing in the worker.
"""

from __future__ import annotations

import importlib

from engine import forward_types as ft
from engine import requests as rq
from engine import reverse_types as reverse
from engine.stable_diffusion import types as sd
from engine.toy2d import types as toy2d

# request type -> "module:function"; modules are imported on first use (they import torch).
_HANDLERS: dict[type, str] = {
    rq.StartEngineRequest: "engine.device:start_engine",
    rq.ScheduleRequest: "engine.schedules:run_schedule_job",
    rq.LibraryCheckRequest: "engine.diagnostics:check_libraries",
    ft.LoadImageRequest: "engine.forward:run_load_image_job",
    ft.ForwardRequest: "engine.forward:run_forward_job",
    ft.MarkovRequest: "engine.forward:run_markov_job",
    ft.AnimationRequest: "engine.forward_export:run_animation_job",
    toy2d.ForwardRequest: "engine.toy2d.forward:run_forward_job",
    toy2d.TrainRequest: "engine.toy2d.training:run_train_job",
    toy2d.SampleRequest: "engine.toy2d.sampling:run_sample_job",
    toy2d.FieldRequest: "engine.toy2d.field:run_field_job",
    **sd.JOB_HANDLERS,
    reverse.ReverseRequest: "engine.reverse:run_reverse",
    reverse.CompareRequest: "engine.reverse:run_compare",
    reverse.GuidanceSweepRequest: "engine.reverse:run_guidance_sweep",
    reverse.InversionRequest: "engine.inversion:run_inversion",
    reverse.EvaluateRequest: "engine.evaluation:evaluate_digits",
    reverse.TrainDigitsRequest: "engine.training:train_digits",
}


def register(request_type: type, target: str) -> None:
    _HANDLERS[request_type] = target


def handler_for(request) -> callable:
    try:
        target = _HANDLERS[type(request)]
    except KeyError:
        raise TypeError(f"No engine handler for {type(request).__name__}") from None
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_job(request, reporter):
    """Run a request to completion. Raises ``Cancelled`` (with partial result) or any error."""
    return handler_for(request)(request, reporter)
