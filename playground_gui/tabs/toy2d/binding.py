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
    ExactModel,
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
    Field("model_kind", "model_kind_combo", label="model"),
    Field("training_points", "training_points_spin", label="training points"),
    Field("langevin_steps", "langevin_steps_spin", label="Langevin steps K"),
    Field("langevin_step_size", "langevin_step_spin", label="Langevin step size δ"),
)

#: Which settings each request takes.
TRAIN_FIELDS = ("steps", "learning_rate", "seed", "objective")
SAMPLE_FIELDS = ("sampler", "num_points", "num_inference_steps", "eta", "seed",
                 "langevin_steps", "langevin_step_size")
#: What the Model row offers: the trained network, or an exact model (engine/toy2d/exact_model).
MODEL_KINDS = {"trained": "Trained MLP", "exact": "Exact score (Gaussian mixture only)",
               "ideal": "Ideal denoiser of the training points"}
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


def sample_request(settings: Mapping[str, Any], model: ToyModel | ExactModel) -> SampleRequest:
    return SampleRequest(model=model, **pick(settings, SAMPLE_FIELDS))


def sampling_model(settings: Mapping[str, Any], trained: ToyModel | None, dataset: DatasetSpec,
                   schedule) -> ToyModel | ExactModel | None:
    """The model the Model row picks: the trained network (None while there is none), or an
    exact model of the trained model's data set and schedule (else of the controls' data set
    and the shared schedule). Raises ValueError (for people) for the exact score of a data set
    without one."""
    kind = settings["model_kind"]
    if kind == "trained":
        return trained
    if trained is not None:
        dataset, schedule = trained.dataset, trained.schedule
    if kind == "exact" and dataset.name != "gaussian_mixture":
        raise ValueError(f"{dataset.label} has no closed-form score: only the Gaussian mixture "
                         "has one. Choose the ideal denoiser of its training points instead.")
    return ExactModel(dataset=dataset, schedule=schedule, ideal=kind == "ideal",
                      training_points=settings["training_points"], seed=settings["seed"])


def forward_request(settings: Mapping[str, Any], dataset: DatasetSpec, schedule) -> ToyForwardRequest:
    return ToyForwardRequest(dataset=dataset, schedule=schedule, num_points=FORWARD_POINTS,
                          **pick(settings, FORWARD_FIELDS))


def field_request(model: ToyModel | ExactModel, t: int) -> FieldRequest:
    """No control sets a field's request: its t follows the sliders."""
    return FieldRequest(model=model, t=t, extent=FIELD_EXTENT, grid=FIELD_GRID)
