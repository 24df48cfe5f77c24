"""The 2D toy's one table of request fields ↔ controls, and the requests built from it.

``CONTROLS.read(view)`` gives the settings as the controls show them; each request takes its
fields from those settings plus what no control holds (the data set's drawn points, the shared
schedule, the model, a paused run), which the session supplies. ``CONTROLS.restore`` puts
settings back (a loaded model's data set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.toy2d.types import (
    DatasetSpec,
    FieldRequest,
    SampleRequest,
    ToyForwardRequest,
    ToyModel,
    TrainRequest,
    TrainState,
)
from playground_gui.binding import Binding, Field
from playground_gui.tabs.toy2d.plane import EXTENT

CONTROLS = Binding(
    Field("dataset", "dataset_combo", label="data set"),  # the key; the session adds the points
    Field("steps", "steps_spin", label="training steps"),
    Field("learning_rate", "lr_spin", label="learning rate"),
    Field("seed", "seed_spin"),
    Field("objective", "objective_combo"),
    Field("sampler", "sampler_combo"),
    Field("num_inference_steps", "sample_steps_spin", label="reverse steps"),
    Field("eta", "eta_spin", label="DDIM η"),
    Field("num_points", "points_spin", label="points"),
)

#: Which settings each request takes.
TRAIN_FIELDS = ("steps", "learning_rate", "seed", "objective")
SAMPLE_FIELDS = ("sampler", "num_points", "num_inference_steps", "eta", "seed")
FORWARD_FIELDS = ("seed",)

FORWARD_POINTS = 1000
FIELD_GRID = 19  # 19 × 19 arrows
FIELD_EXTENT = EXTENT * 0.9  # the arrows stay inside the planes


def pick(settings: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: settings[name] for name in names}


def train_request(settings: Mapping[str, Any], dataset: DatasetSpec, schedule,
                  resume: TrainState | None = None) -> TrainRequest:
    """A new run, or with ``resume`` the paused one continued: its data set, schedule and step
    count and objective stay; the learning rate and seed are the controls' (raises ValueError)."""
    values = pick(settings, TRAIN_FIELDS)
    if resume is not None:
        dataset, schedule = resume.model.dataset, resume.model.schedule
        values["steps"] = resume.total_steps
        values["objective"] = resume.model.objective
    return TrainRequest(dataset=dataset, schedule=schedule, resume=resume, **values)


def sample_request(settings: Mapping[str, Any], model: ToyModel) -> SampleRequest:
    return SampleRequest(model=model, **pick(settings, SAMPLE_FIELDS))


def forward_request(settings: Mapping[str, Any], dataset: DatasetSpec, schedule) -> ToyForwardRequest:
    return ToyForwardRequest(dataset=dataset, schedule=schedule, num_points=FORWARD_POINTS,
                          **pick(settings, FORWARD_FIELDS))


def field_request(model: ToyModel, t: int) -> FieldRequest:
    """No control sets a field's request: its t follows the sliders."""
    return FieldRequest(model=model, t=t, extent=FIELD_EXTENT, grid=FIELD_GRID)
