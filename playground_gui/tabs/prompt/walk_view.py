"""The Prompt tab's "Walk" page (issue 14 §3): a latent walk of Stable Diffusion, between two
seeds' initial latents (slerp) and/or two prompts (text embeddings interpolated per token).

Every setting comes from the tab's controls (model, prompt, negative prompt, steps, guidance,
size, scheduler; the seed field, or a random seed, is the walk's first seed); the page adds the
second seed and/or prompt and the number of frames. The run is one ``SdWalkRequest`` job through
the page's own slot; frames arrive one by one on a slider, exportable as a strip PNG or GIF.
``add_walk_page(view)`` is the tab's one hook.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.samplers.registry import get_sampler
from engine.stable_diffusion.types import MAX_SEED, SdWalkRequest
from playground_gui.formatting import format_progress
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.widgets.walk_frames import WalkFramesView

MAX_GUI_FRAMES = 32
SPIN_MAX = 2**31 - 1  # a QSpinBox holds a signed 32-bit int
EXPLANATION = (
    "<b>Latent walk.</b> Frame i starts from the slerp of seed A's and seed B's initial latents "
    "at i/(N−1) (slerp keeps the noise's norm; a straight line would wash the middle out) and, "
    "with a second prompt, from the text embeddings moved linearly between the two prompts. "
    "Everything else is the settings on the left, one image per frame, so the first and last "
    "frames are exactly what Generate makes with that seed and prompt (batch size 1). Seed A is "
    "the seed field (or a random seed, shown here once drawn).")


def walk_note(request: SdWalkRequest) -> str:
    scheduler = request.base.scheduler
    stochastic = scheduler != "default" and get_sampler(scheduler).stochastic
    if stochastic:
        return (f"{scheduler} draws fresh noise at every step: every frame uses seed "
                f"{request.base.seed}'s per-step noise, so only the first frame is a single "
                "image of its seed. A deterministic scheduler (η = 0: DDIM, Euler, DPM-Solver++, "
                "…) makes both ends exact.")
    return "Both ends are the single images of their seed and prompt (a deterministic scheduler)."


class SdWalkSession(QObject):
    running_changed = Signal(bool)
    frame_ready = Signal(object)  # SdWalkFrame
    done = Signal(object)  # list[SdWalkFrame]
    cancelled = Signal(object)
    progress = Signal(object)
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.slot = JobSlot(engine, Policy.EXCLUSIVE, "Latent walk", parent=self)
        self.request: SdWalkRequest | None = None

    @property
    def busy(self) -> bool:
        return self.slot.busy

    def start(self, request: SdWalkRequest):
        handle = self.slot.submit(
            request, description=f"Latent walk ({request.frames} frames)",
            on_success=self.done.emit, on_failure=self.failed.emit,
            on_cancel=self.cancelled.emit, on_progress=self.progress.emit,
            on_step=lambda frame: self.frame_ready.emit(frame) if hasattr(frame, "image") else None,
            on_finished=lambda: self.running_changed.emit(False))
        if handle is not None:
            self.request = request
            self.running_changed.emit(True)
        return handle

    def cancel(self) -> None:
        self.slot.cancel()


class SdWalkPage(QWidget):
    def __init__(self, tab, parent=None):
        super().__init__(parent)
        self.tab = tab  # the Prompt tab: its controls give the walk's settings
        self.session = SdWalkSession(tab.engine, self)
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #444")
        self.seed_check = QCheckBox("to seed B")
        self.seed_check.setChecked(True)
        self.seed_b_spin = QSpinBox(minimum=0, maximum=min(MAX_SEED, SPIN_MAX), value=1)
        self.seed_check.toggled.connect(self.seed_b_spin.setEnabled)
        self.prompt_b_edit = QLineEdit()
        self.prompt_b_edit.setPlaceholderText("empty: the same prompt all the way")
        self.frames_spin = QSpinBox(minimum=2, maximum=MAX_GUI_FRAMES, value=6)
        self.walk_button = QPushButton("Walk")
        self.walk_button.clicked.connect(self.start_walk)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.session.cancel)
        form = QFormLayout()
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_check)
        seed_row.addWidget(self.seed_b_spin, 1)
        form.addRow(seed_row)
        form.addRow("to prompt B", self.prompt_b_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.frames_spin)
        buttons.addWidget(self.walk_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        form.addRow("Frames", buttons)
        self.note = QLabel("Both ends are exact with a deterministic scheduler; with a stochastic "
                           "one every frame uses seed A's per-step noise.")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555")
        self.frames_view = WalkFramesView()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.frames_view, 1)

        session = self.session
        session.running_changed.connect(self._set_running)
        session.frame_ready.connect(self._on_frame)
        session.done.connect(lambda frames: self.note.setText(
            f"{len(frames)} frames. " + walk_note(session.request)))
        session.done.connect(lambda _frames: tab.model_used())  # not "Not loaded yet" after it
        session.cancelled.connect(lambda _: self.note.setText(
            "Cancelled; the frames done so far stay."))
        session.failed.connect(lambda message: self.note.setText("Failed: " + message))
        session.progress.connect(lambda update: self.note.setText(
            f"{update.message or 'Walking'} · {format_progress(update)}"))

    def walk_request(self) -> SdWalkRequest:
        """The tab's request as text to image, one image, no step recording; ValueError for
        what is missing (e.g. neither a second seed nor a second prompt)."""
        tab = self.tab
        if tab.mode != "txt2img":
            raise ValueError("A walk works in Text to image mode.")
        base = dataclasses.replace(tab.build_request(tab._seed_for_run()), batch_size=1,
                                   batch_count=1, preview_every=0, record_steps=False,
                                   recording_budget_mb=0)
        prompt_to = self.prompt_b_edit.text().strip() or None
        seed_to = self.seed_b_spin.value() if self.seed_check.isChecked() else None
        return SdWalkRequest(base, self.frames_spin.value(), seed_to, prompt_to)

    def start_walk(self):
        try:
            request = self.walk_request()
        except ValueError as exc:
            self.note.setText(str(exc))
            return None
        handle = self.session.start(request)
        if handle is not None:
            self.frames_view.start(request.frames)
            self.note.setText(f"Walking from seed {request.base.seed}… " + walk_note(request))
        return handle

    def _on_frame(self, frame) -> None:
        request = self.session.request
        if frame.index == 0:
            caption = f"seed {request.base.seed}"
        elif frame.index == frame.total - 1:
            caption = " · ".join(part for part in (
                f"seed {request.seed_to}" if request.seed_to is not None else "",
                "prompt B" if request.prompt_to else "") if part)
        else:
            caption = f"slerp {frame.fraction:.3g}"
        self.frames_view.add_frame(frame.index, frame.image, caption)

    def _set_running(self, running: bool) -> None:
        self.walk_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)


def add_walk_page(view) -> SdWalkPage:
    """Add the Walk page to the Prompt tab's right column (``view.walk_page``)."""
    view.walk_page = SdWalkPage(view)
    view.pages.addTab(view.walk_page, "Walk")
    return view.walk_page
