"""The objectives comparison's state and job, without widgets: one run at a time (EXCLUSIVE),
its progress, its result. Testable with a real ``EngineClient`` and no window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.toy2d.types import ObjectiveComparisonRequest
from playground_gui.job_slots import JobSlot, Policy


class ObjectiveComparisonSession(QObject):
    progress = Signal(object)  # ProgressUpdate
    ready = Signal(object)  # ObjectiveComparisonResult
    ended = Signal(str, str)  # ("failed" | "cancelled", message)
    running_changed = Signal(bool)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.result = None
        self.slot = JobSlot(engine, Policy.EXCLUSIVE, "Comparing training objectives",
                            parent=self)

    @property
    def running(self) -> bool:
        return self.slot.busy

    def start(self, dataset, schedule, steps: int, seed: int, num_points: int = 1000):
        """Returns the request, or None when one runs already (or the engine closes). Raises
        ValueError (for people) for settings that make no run."""
        request = ObjectiveComparisonRequest(dataset=dataset, schedule=schedule, steps=steps,
                                             seed=seed, num_points=num_points)
        handle = self.slot.submit(
            request, on_progress=self.progress.emit, on_success=self._on_result,
            on_failure=lambda message: self.ended.emit("failed", message),
            on_cancel=lambda _partial: self.ended.emit("cancelled", ""),
            on_finished=lambda: self.running_changed.emit(False))
        if handle is None:
            return None
        self.running_changed.emit(True)
        return request

    def cancel(self) -> None:
        self.slot.cancel()

    def _on_result(self, result) -> None:
        self.result = result
        self.ready.emit(result)
