"""The samplers page's runs, without widgets: ODE-vs-SDE paths, Langevin chains, the learned
field's error against the exact one, the ideal denoiser's memorisation and the sampler lab
(error against step count), each through a ``JobSlot``.

Every view but the lab is NEWEST_WINS (a new request replaces the old); the lab is EXCLUSIVE
with progress and cancel (it runs for seconds). Results come as ``ready(kind, result)``,
failures as ``failed(kind, message)`` and a cancelled lab as ``failed("lab", "")``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from playground_gui.job_slots import JobSlot, Policy

KINDS = {"paths": "Drawing ODE and SDE paths", "chains": "Running Langevin chains",
         "error": "Comparing the learned and exact ε̂", "memorisation": "Sampling the ideal denoiser",
         "lab": "Sampler lab: error against step count"}


class SamplerLabSession(QObject):
    ready = Signal(str, object)  # kind, result
    failed = Signal(str, str)  # kind, message ("" for a cancelled run)
    progress = Signal(str, object)  # kind, ProgressUpdate
    busy_changed = Signal()

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.results: dict[str, object] = {}
        self.slots = {kind: JobSlot(engine, Policy.EXCLUSIVE if kind == "lab"
                                    else Policy.NEWEST_WINS, label, parent=self)
                      for kind, label in KINDS.items()}

    def busy(self, kind: str) -> bool:
        return self.slots[kind].busy

    def submit(self, kind: str, request) -> bool:
        """Run ``request`` for view ``kind``; False when it did not start (the lab already runs,
        the engine is closing)."""
        handle = self.slots[kind].submit(
            request,
            on_success=lambda result: self._done(kind, result),
            on_failure=lambda message: self.failed.emit(kind, message),
            on_cancel=lambda _partial: self.failed.emit(kind, ""),
            on_progress=lambda update: self.progress.emit(kind, update),
            on_finished=self.busy_changed.emit)
        if handle is not None:
            self.busy_changed.emit()
        return handle is not None

    def cancel(self, kind: str) -> None:
        self.slots[kind].cancel()

    def _done(self, kind: str, result) -> None:
        self.results[kind] = result
        self.ready.emit(kind, result)
