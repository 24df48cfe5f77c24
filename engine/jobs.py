"""The one entry point that runs any request: ``run_job(request, reporter)``.

Each feature's torch-free ``types.py`` declares its own ``JOB_HANDLERS`` (request type →
"module:function"); this module only merges those tables and dispatches, so a new job is one
line in its feature's ``types.py`` and nothing here or in the worker. Handler modules are
imported on first use, since they import torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from engine import types as core
from engine.digits import types as digits
from engine.forward import types as forward
from engine.schedules import types as schedules
from engine.stable_diffusion import types as stable_diffusion
from engine.toy2d import types as toy2d

FEATURE_TYPES = (core, schedules, forward, digits, toy2d, stable_diffusion)

HANDLERS: dict[type, str] = {}
for _module in FEATURE_TYPES:
    HANDLERS.update(_module.JOB_HANDLERS)


def handler_for(request) -> Callable:
    try:
        target = HANDLERS[type(request)]
    except KeyError:
        raise TypeError(f"No engine handler for {type(request).__name__}") from None
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_job(request, reporter):
    """Run a request to completion. Raises ``Cancelled`` (with partial result) or any error."""
    return handler_for(request)(request, reporter)
