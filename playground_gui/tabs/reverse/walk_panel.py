"""The latent walk of the Reverse process page (issue 14 §3): frames between two seeds' noises.

``WalkSession`` (no widgets) runs a ``WalkRequest`` through its own slot and hands on each
finished frame; ``WalkPanel`` takes every setting from the page's Sampling controls (digit,
guidance, sampler, steps, η; the Seed control is the walk's first seed), adds the second seed
and the number of frames, and shows the frames on a slider with a strip and export.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.digits.outputs import request_record
from engine.digits.types import WalkRequest
from playground_gui.formatting import format_progress
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.tabs.reverse import binding
from playground_gui.widgets.walk_frames import WalkFramesView

EXPORT_SCALE = 4  # as saved samples: each 16×16 pixel becomes a 4×4 block
MAX_GUI_FRAMES = 64
EXPLANATION = (
    "<b>Latent walk.</b> Frame i starts from the slerp (spherical interpolation) of seed A's "
    "and seed B's noise x_T at i/(N−1) and is sampled alone with the settings on the left, so "
    "the first and last frames are exactly the images those two seeds make (batch size 1). "
    "Slerp keeps the noise's norm; a straight line would shrink it to ~71 % halfway and wash "
    "the middle frames out. Close noises give close digits until the path crosses into another "
    "shape. Each frame is AUTOMATIC1111's “variation seed” B at strength i/(N−1).")


def walk_note(request: WalkRequest) -> str:
    first = request.seeds[0]
    if request.stochastic:
        return (f"This sampler draws fresh noise at every step: every frame uses seed {first}'s "
                "per-step noise, so only the first frame is a single image of its seed. Use a "
                "deterministic sampler (DDIM with η = 0, Euler, DPM-Solver++, …) for exact ends.")
    return ("Deterministic sampler (η = 0): both ends are exactly the single images of their "
            "seeds.")


class WalkSession(QObject):
    running_changed = Signal(bool)
    frame_ready = Signal(object)  # WalkFrame
    done = Signal(object)  # WalkResult
    cancelled = Signal(object)  # WalkResult of the frames done, or None
    progress = Signal(object)
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.slot = JobSlot(engine, Policy.EXCLUSIVE, "Latent walk", parent=self)
        self.result = None

    @property
    def busy(self) -> bool:
        return self.slot.busy

    def start(self, request: WalkRequest):
        handle = self.slot.submit(
            request, description=f"Latent walk ({request.frames} frames)",
            on_success=self._on_done, on_failure=self.failed.emit, on_cancel=self.cancelled.emit,
            on_progress=self.progress.emit,
            on_step=lambda frame: self.frame_ready.emit(frame) if hasattr(frame, "image") else None,
            on_finished=lambda: self.running_changed.emit(False))
        if handle is not None:
            self.result = None
            self.running_changed.emit(True)
        return handle

    def cancel(self) -> None:
        self.slot.cancel()

    def _on_done(self, result) -> None:
        self.result = result
        self.done.emit(result)


class WalkPanel(QWidget):
    def __init__(self, engine, page, parent=None):
        super().__init__(parent)
        self.page = page  # the Reverse process page: its controls give the walk's settings
        self.session = WalkSession(engine, self)
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #444")
        self.seed_a_label = QLabel()
        self.seed_b_spin = QSpinBox(minimum=binding.SEED_RANGE[0], maximum=binding.SEED_RANGE[1],
                                    value=1)
        self.seed_b_spin.setToolTip("The seed the walk ends at")
        self.frames_spin = QSpinBox(minimum=2, maximum=MAX_GUI_FRAMES, value=8)
        self.frames_spin.setToolTip("Number of frames, both ends included")
        self.walk_button = QPushButton("Walk")
        self.walk_button.clicked.connect(self.start_walk)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.session.cancel)
        form = QFormLayout()
        form.addRow("From seed A", self.seed_a_label)
        row = QHBoxLayout()
        row.addWidget(self.seed_b_spin)
        row.addWidget(QLabel("Frames"))
        row.addWidget(self.frames_spin)
        row.addWidget(self.walk_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        form.addRow("to seed B", row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555")
        self.frames_view = WalkFramesView(export_scale=EXPORT_SCALE)
        self.use_frame_button = QPushButton("Use this frame's variation")
        self.use_frame_button.setToolTip("Set the walk's settings, seed A, variation seed B and "
                                         "this frame's strength on the left (batch size 1): "
                                         "Sample then makes this frame")
        self.use_frame_button.setEnabled(False)
        self.use_frame_button.clicked.connect(self.use_shown_frame)
        self.frames_view.button_row.insertWidget(2, self.use_frame_button)
        self._frame_requests: dict[int, object] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.frames_view, 1)

        self.session.running_changed.connect(self._set_running)
        self.session.frame_ready.connect(self._on_frame)
        self.session.done.connect(lambda result: self.note.setText(
            f"{len(result.frames)} frames in {result.wall_seconds:.1f} s. "
            + walk_note(result.request)))
        self.session.cancelled.connect(lambda partial: self.note.setText(
            "Cancelled; the frames done so far stay."))
        self.session.failed.connect(lambda message: self.note.setText("Failed: " + message))
        self.session.progress.connect(lambda update: self.note.setText(
            f"Walking: {format_progress(update)}"))
        for signal in (page.seed_spin.valueChanged, page.sampler_combo.currentIndexChanged,
                       page.eta_spin.valueChanged):
            signal.connect(lambda *_: self.refresh_settings())
        self.refresh_settings()

    def refresh_settings(self) -> None:
        """Show the page's current seed (the walk's first) and what the sampler means for it."""
        try:
            request = self.walk_request()
        except ValueError as exc:
            self.note.setText(str(exc))
            return
        self.seed_a_label.setText(f"{request.seeds[0]} (the Seed control on the left)")
        if not self.session.busy:
            self.note.setText(walk_note(request))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_settings()

    def walk_request(self) -> WalkRequest:
        run = binding.current_request(self.page)
        return WalkRequest(label=run.label, seeds=(run.seed, self.seed_b_spin.value()),
                           frames=self.frames_spin.value(), guidance=run.guidance,
                           sampler=run.sampler, steps=run.steps, eta=run.eta)

    def start_walk(self):
        try:
            request = self.walk_request()
        except ValueError as exc:
            self.note.setText(str(exc))
            return None
        handle = self.session.start(request)
        if handle is not None:
            self.frames_view.start(request.frames)
            self._frame_requests = {}
            self.use_frame_button.setEnabled(False)
            self.note.setText(walk_note(request))
        return handle

    def use_shown_frame(self) -> None:
        """Put the shown frame's request (seed, variation seed and strength) into the page."""
        frame = self._frame_requests.get(self.frames_view.slider.value())
        if frame is None:
            return
        # Through the page's restore: every control the frame's request names, one table.
        self.page.restore_parameters(request_record(frame))
        self.note.setText(f"Set on the left: seed {frame.seed}, variation seed "
                          f"{frame.variation_seed} at strength {frame.variation_strength:.3g}, "
                          "batch size 1, the walk's other settings. Sample makes this frame.")

    def _on_frame(self, frame) -> None:
        strength = frame.index / max(1, frame.total - 1)
        seed_a, seed_b = frame.request.seed, frame.request.variation_seed
        caption = (f"seed {seed_a}" if frame.index == 0 else f"seed {seed_b}"
                   if frame.index == frame.total - 1 else f"slerp {strength:.3g}")
        self._frame_requests[frame.index] = frame.request
        self.use_frame_button.setEnabled(True)
        self.frames_view.add_frame(frame.index, frame.image, caption)

    def _set_running(self, running: bool) -> None:
        self.walk_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
