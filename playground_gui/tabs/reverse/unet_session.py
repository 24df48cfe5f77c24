"""The U-Net view's state and jobs, without widgets (Reverse process page, issue 14 §6).

The diagram comes from a ``UNetStructureRequest`` (the loaded model's real blocks), asked for
once. Feature maps come from ``FeatureMapsRequest`` jobs through one COALESCE slot: the first
one for a run replays it (progress and cancel like any job), and while it runs only the newest
position is kept, so dragging the slider never piles up jobs. Answers are kept per (run, step,
sample, branch), so clicking between blocks, and going back to a step, costs nothing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.digits.types import FeatureMapsRequest, UNetStructureRequest
from playground_gui.job_slots import JobSlot, Policy

CACHE_SIZE = 64  # answers kept (each about 1 MB at most: 23 blocks of ≤ 64×16×16 floats)


def normalised_tiles(maps: np.ndarray, per_channel: bool = True) -> np.ndarray:
    """C×H×W floats → C×H×W uint8: each channel stretched over its own min … max (or the
    block's, ``per_channel`` False). A constant channel is mid grey; non-finite values black."""
    values = np.asarray(maps, dtype=np.float32)
    finite = np.isfinite(values)
    safe = np.where(finite, values, 0.0)
    axes = (1, 2) if per_channel else (0, 1, 2)
    low = safe.min(axis=axes, keepdims=True)
    high = safe.max(axis=axes, keepdims=True)
    span = high - low
    scaled = np.where(span > 0, (safe - low) / np.where(span > 0, span, 1.0), 0.5)
    tiles = np.round(scaled * 255.0).astype(np.uint8)
    tiles[~finite] = 0
    return tiles


def describe(maps: np.ndarray) -> str:
    """'64 channels · 8×8 · values −1.92 … 3.10 · mean |value| 0.61' (or what is not finite)."""
    channels, height, width = maps.shape
    finite = np.isfinite(maps)
    if not finite.all():
        return f"{channels} channels · {height}×{width} · {int((~finite).sum())} values not finite"
    return (f"{channels} channels · {height}×{width} · values {maps.min():.2f} … {maps.max():.2f}"
            f" · mean |value| {np.abs(maps).mean():.2f}")


class UNetSession(QObject):
    structure_ready = Signal(object)  # UNetStructure
    maps_ready = Signal(object)  # FeatureMapsResult
    progress = Signal(object)  # ProgressUpdate (the replay)
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.structure_slot = JobSlot(engine, Policy.EXCLUSIVE, "U-Net structure", parent=self)
        self.maps_slot = JobSlot(engine, Policy.COALESCE, "U-Net feature maps", parent=self)
        self.structure = None
        self.latest = None  # the newest FeatureMapsResult shown
        self.wanted: FeatureMapsRequest | None = None
        self._cache: dict[tuple, object] = {}

    @staticmethod
    def _key(request: FeatureMapsRequest) -> tuple:
        run = request.run
        noise = None if run.initial_noise is None else id(run.initial_noise)
        return (run, noise, request.step, request.sample, request.branch)

    def load_structure(self):
        if self.structure is not None or self.structure_slot.busy:
            return None
        return self.structure_slot.submit(UNetStructureRequest(), on_success=self._on_structure,
                                          on_failure=self.failed.emit)

    def request_maps(self, request: FeatureMapsRequest):
        """Show the maps of ``request``: at once from the cache, else through a job (returned;
        None when the answer was cached or the request was queued behind the running one)."""
        self.wanted = request
        cached = self._cache.get(self._key(request))
        if cached is not None:
            self._show(cached)
            return None
        return self.maps_slot.submit(request, description="U-Net feature maps",
                                     on_success=self._on_maps, on_failure=self.failed.emit,
                                     on_cancel=lambda _: self.failed.emit(
                                         "the replay was cancelled; move the slider or click "
                                         "a block to ask again"),
                                     on_progress=self.progress.emit)

    def cancel(self) -> None:
        self.maps_slot.cancel()

    @property
    def busy(self) -> bool:
        return self.maps_slot.busy

    def _on_structure(self, structure) -> None:
        self.structure = structure
        self.structure_ready.emit(structure)

    def _on_maps(self, result) -> None:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[self._key(result.request)] = result
        if self.structure is None:
            self._on_structure(result.structure)
        # Shown only if it is still what the page wants (a newer position, queued or cached,
        # shows its own answer); cached either way.
        if self.wanted is None or self._key(self.wanted) == self._key(result.request):
            self._show(result)

    def _show(self, result) -> None:
        self.latest = result
        self.maps_ready.emit(result)
