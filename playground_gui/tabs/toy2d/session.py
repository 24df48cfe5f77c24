"""The 2D toy's state and runs, without widgets: the drawn points, the forward view's result,
the model (trained, paused or loaded), its loss curve, the samples and the score fields, and the
jobs that make them, each through a ``JobSlot``.

Training is EXCLUSIVE (one run; pause is a cancel that keeps the ``TrainState``, resume a new
run from it). Sampling and the forward view are NEWEST_WINS (a new request replaces the old).
Each plane's score field COALESCEs: one job at a time, then the latest t wanted meanwhile.
The tab reads the controls (``binding.CONTROLS``) and passes those settings in; it listens to
the signals below to paint. Testable with a real ``EngineClient`` and no window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.toy2d.types import DatasetSpec
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.tabs.toy2d.binding import (
    field_request,
    forward_request,
    sample_request,
    sampling_model,
    train_request,
)

CANVASES = ("forward", "reverse")


class Toy2DSession(QObject):
    forward_changed = Signal(object)  # ToyForwardResult
    training_changed = Signal()  # a run started or ended: what may be pressed changes
    losses_changed = Signal()  # ``losses`` grew, or was reset for a new run
    train_progress = Signal(object)  # ProgressUpdate
    #: How a run ended: ("finished" | "paused" | "stopped", TrainState), ("cancelled", None)
    #: when it was cancelled before it started, ("failed", message).
    train_ended = Signal(str, object)
    samples_ready = Signal(object)  # SampleResult
    sampling_ended = Signal(str, str)  # ("failed" | "cancelled", message) of the newest run
    field_ready = Signal(str, object)  # canvas ("forward" | "reverse"), FieldResult

    def __init__(self, engine, schedules, parent=None):
        super().__init__(parent)
        self.schedules = schedules  # the shared ScheduleSet: new runs and the forward view use it
        self.forward = None  # ToyForwardResult of the current data set and schedule
        self.model = None  # ToyModel to sample and draw fields from
        self.paused_state = None  # TrainState while paused
        self.sample_result = None
        self.losses = np.zeros(0, np.float32)
        self.drawn_points: list[np.ndarray] = []
        self.train_device = ""  # where the current or last run trains, when the engine says
        self._pause_requested = False
        self._train_outcome: tuple[str, Any] | None = None
        self.train_slot = JobSlot(engine, Policy.EXCLUSIVE, "Training the 2D model", parent=self)
        self.sample_slot = JobSlot(engine, Policy.NEWEST_WINS, "Sampling", parent=self)
        self.forward_slot = JobSlot(engine, Policy.NEWEST_WINS, "Noising the 2D data set",
                                    parent=self)
        self.field_slots = {canvas: JobSlot(engine, Policy.COALESCE, "Evaluating the score field",
                                            parent=self) for canvas in CANVASES}

    @property
    def training(self) -> bool:
        return self.train_slot.busy

    @property
    def sampling(self) -> bool:
        return self.sample_slot.busy

    # -- data and the forward view ------------------------------------------------------------
    def dataset_spec(self, name: str) -> DatasetSpec:
        """Raises ValueError (with a message for people) for a drawing with too few points."""
        if name == "custom":
            points = np.concatenate(self.drawn_points) if self.drawn_points else np.zeros((0, 2))
            return DatasetSpec("custom", points=points)
        return DatasetSpec(name)

    def add_points(self, points: np.ndarray) -> np.ndarray:
        """Adds drawn points; returns the whole drawing."""
        self.drawn_points.append(points)
        return np.concatenate(self.drawn_points)

    def clear_drawing(self) -> None:
        self.drawn_points.clear()

    def update_forward(self, settings: Mapping[str, Any]) -> None:
        """Noise the data set anew (the result comes as ``forward_changed``). Raises ValueError
        when there is no data set to noise (a drawing of too few points): no forward view then."""
        try:
            dataset = self.dataset_spec(settings["dataset"])
        except ValueError:
            self.forward = None
            raise
        self.forward_slot.submit(forward_request(settings, dataset, self.schedules.current),
                                 on_success=self._on_forward)

    def _on_forward(self, result) -> None:
        self.forward = result
        self.forward_changed.emit(result)

    # -- training ------------------------------------------------------------------------------
    def start_training(self, settings: Mapping[str, Any], resume: bool = False):
        """Train a new model, or continue the paused run; returns the TrainRequest, or None when
        nothing started (a run is going, nothing is paused, the engine is closing). Raises
        ValueError (for people) for settings that make no run."""
        if self.training or (resume and self.paused_state is None):
            return None
        paused = self.paused_state if resume else None
        dataset = None if paused is not None else self.dataset_spec(settings["dataset"])
        request = train_request(settings, dataset, self.schedules.current, resume=paused)
        self._pause_requested = False
        self._train_outcome = None
        handle = self.train_slot.submit(
            request, on_step=self._on_train_partial, on_progress=self.train_progress.emit,
            on_success=lambda state: self._set_outcome("finished", state),
            on_cancel=lambda state: self._set_outcome(
                "cancelled" if state is None else "paused" if self._pause_requested else "stopped",
                state),
            on_failure=lambda message: self._set_outcome("failed", message),
            on_finished=self._on_train_done)
        if handle is None:
            return None
        if paused is None:
            self.paused_state = None
            self.losses = np.zeros(0, np.float32)
            self.losses_changed.emit()
        self.train_device = ""
        self.training_changed.emit()
        return request

    def pause(self) -> None:
        if self.training:
            self._pause_requested = True
            self.train_slot.cancel()

    def stop(self) -> None:
        """End the run now and keep the model as it is (a paused run too)."""
        if self.training:
            self._pause_requested = False
            self.train_slot.cancel()
        elif self.paused_state is not None:
            state = self.paused_state
            self.accept_model(state.model)
            self.train_ended.emit("stopped", state)

    def _on_train_partial(self, partial) -> None:
        self.train_device = getattr(partial, "device", "") or self.train_device
        end = partial.first_step + len(partial.losses)
        if len(self.losses) < end:
            self.losses = np.concatenate([self.losses, np.zeros(end - len(self.losses), np.float32)])
        self.losses[partial.first_step:end] = partial.losses
        self.losses_changed.emit()

    def _set_outcome(self, outcome: str, payload) -> None:
        self._train_outcome = (outcome, payload)

    def _on_train_done(self) -> None:
        # The slot is free again here, so a finished run can start sampling at once.
        outcome, payload = self._train_outcome or ("cancelled", None)
        self._train_outcome = None
        if outcome in ("finished", "paused", "stopped"):
            # Progress reports lag the job by a step or a few: the state is the truth.
            self.train_device = getattr(payload, "device", "") or self.train_device
            self.losses = payload.losses
            self.losses_changed.emit()
            if outcome == "paused":
                self.paused_state = payload
                self.model = payload.model
            else:
                self.accept_model(payload.model)
        self.train_ended.emit(outcome, payload)
        self.training_changed.emit()

    # -- models ----------------------------------------------------------------------------------
    def accept_model(self, model) -> None:
        """The model to sample and draw fields from now; a paused run is over."""
        self.model = model
        self.paused_state = None

    def save_model(self, path: str) -> None:
        from engine.toy2d.storage import save_model

        save_model(self.model, path)

    def load_model(self, path: str):
        """Returns the model, now current. Raises ValueError with a message for people; nothing
        changes then."""
        from engine.toy2d.storage import load_model

        model = load_model(path)
        if model.dataset.name == "custom":
            self.drawn_points = [np.asarray(model.dataset.points)]
        self.losses = np.zeros(0, np.float32)  # the file keeps no loss curve
        self.accept_model(model)
        self.losses_changed.emit()
        return model

    # -- sampling and fields -------------------------------------------------------------------
    def sampling_model(self, settings: Mapping[str, Any]):
        """The trained model or an exact one, as the Model row picks (None: no trained model
        yet). Raises ValueError (for people) when the pick makes no model."""
        return sampling_model(settings, self.model, self.dataset_spec(settings["dataset"]),
                              self.schedules.current)

    def start_sampling(self, settings: Mapping[str, Any]):
        """Sample the picked model (replacing a sampling run still going); returns the
        SampleRequest, or None when there is nothing to sample now (no trained model to sample,
        or training runs). Raises ValueError (for people) for settings that make no run."""
        if self.training:
            return None
        model = self.sampling_model(settings)
        if model is None:
            return None
        request = sample_request(settings, model)
        handle = self.sample_slot.submit(
            request, description=f"Sampling with {request.sampler.upper()}",
            on_success=self._on_samples,
            on_failure=lambda message: self.sampling_ended.emit("failed", message),
            on_cancel=lambda _partial: self.sampling_ended.emit("cancelled", ""))
        return request if handle is not None else None

    def _on_samples(self, result) -> None:
        self.sample_result = result
        self.samples_ready.emit(result)

    def request_field(self, canvas: str, t: int, settings: Mapping[str, Any] | None = None) -> None:
        """The score field at ``t`` for one plane (``field_ready``) of the model ``settings``
        pick (default: the trained one); skipped while training, which holds the one engine
        thread (fields follow when it is done), and when the pick makes no model."""
        if self.training:
            return
        try:
            model = self.model if settings is None else self.sampling_model(settings)
        except ValueError:
            model = None
        if model is None:
            return
        self.field_slots[canvas].submit(
            field_request(model, t),
            on_success=lambda result: self.field_ready.emit(canvas, result))
