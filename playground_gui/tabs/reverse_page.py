"""Reverse process page: sample digits with the embedded model and scrub through every step.

Views: x_t (what the sampler holds), ε̂ (the noise the U-Net predicts) and x̂₀ (the clean image
that prediction implies), for a whole batch, at any step; live while the run goes. Plus compare
mode (two samplers, one seed, one slider by fraction of the run), a guidance sweep and DDIM
inversion of a real digit. Finished samples are saved (one PNG per sample, each carrying the
run's request) with the shared save bar, and a saved sample restores every control.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.digits.outputs import sample_items
from engine.digits.types import (
    DEFAULT_GUIDANCE,
    SAMPLERS,
    STOCHASTIC_SAMPLERS,
    CompareRequest,
    GuidanceSweepRequest,
    InversionRequest,
    ReverseRequest,
    label_text,
)
from engine.png.metadata import KIND_DIGITS, request_from_record
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.image_grid import ImageGridView
from playground_gui.widgets.job_status import format_progress, format_seconds
from playground_gui.widgets.save_bar import SaveBar

SAVE_SCALE = 4  # saved samples are 64×64: each 16×16 pixel becomes a crisp 4×4 block
SLIDER_RESOLUTION = 1000
# The request fields this page's controls set (model_dir, record and initial_noise are not controls).
RESTORED_FIELDS = ("label", "guidance", "sampler", "steps", "eta", "seed", "batch_size")  # compare mode: the slider is a fraction of the run, in ‰
SWEEP_SCALES = "0, 1, 1.5, 3, 6"
# The longest texts the step label shows: it keeps room for them, so the slider never moves.
STEP_LABEL_SAMPLES = ("model call 1000/1000 · t = 999", "final sample, after 1000 steps",
                      "final sample, after 999 steps (1000 model calls)", "100% of each run")
VIEW_TIPS = {
    "x_t": "The sample the sampler holds at this step (on the variance-preserving scale the "
           "U-Net sees; the last step shows the final sample)",
    "eps": "ε̂: the noise the U-Net predicts in x_t (grey = 0, white = +3, black = −3)",
    "x0": "x̂₀: the clean image implied by ε̂, x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (samplers that give "
          "none, such as PNDM, DPM-Solver++ and UniPC, have it derived here from ε̂)",
}


class RunRecord:
    """The steps of one run, filled live from step payloads and replaced by the final result."""

    def __init__(self, request: ReverseRequest):
        self.request = request
        self.x_t: list[np.ndarray] = []
        self.noise_pred: list[np.ndarray] = []
        self.pred_original: list[np.ndarray] = []
        self.timesteps: list[float] = []
        self.total = 0
        self.result = None
        self.x0_derived = False

    def add_step(self, step) -> None:
        self.total = step.total
        self.x_t.append(step.x_t)
        self.noise_pred.append(step.noise_pred)
        self.pred_original.append(step.pred_original)
        self.timesteps.append(step.timestep)
        self.x0_derived = step.x0_derived

    def finish(self, result, partial: bool = False) -> None:
        """Take the run's result; ``partial``: a cancelled run's steps so far (the number of
        model calls the whole run would have made stays what the live steps said)."""
        self.result = result
        self.x_t = list(result.x_t)
        self.noise_pred = list(result.noise_pred)
        self.pred_original = list(result.pred_original)
        self.timesteps = [float(t) for t in result.timesteps]
        if not partial:
            self.total = len(result.timesteps)
        self.x0_derived = result.x0_derived

    @property
    def calls_are_steps(self) -> bool:
        """False for samplers that make more model calls than steps (PNDM: one more)."""
        return not self.total or self.total == self.request.steps

    def steps_text(self, calls: int | None = None) -> str:
        """"25 steps", or "25 steps (26 model calls)" when the sampler makes more calls. With
        ``calls`` (a cancelled run's calls so far) only those are counted."""
        if self.calls_are_steps:
            return f"{self.request.steps if calls is None else calls} steps"
        if calls is not None and calls < self.total:
            return f"{calls} model calls (of {self.total})"
        return f"{self.request.steps} steps ({self.total} model calls)"

    @property
    def positions(self) -> int:
        """Scrub positions: one per step, plus the final sample once finished."""
        return len(self.x_t)

    def views(self, position: int):
        """(x_t, ε̂, x̂₀, caption) at a scrub position."""
        position = max(0, min(position, self.positions - 1))
        step = min(position, len(self.noise_pred) - 1)
        if position >= len(self.timesteps):
            caption = f"final sample, after {self.steps_text(len(self.timesteps))}"
        else:
            # PNDM makes one more model call than it has steps: then the slider counts calls.
            unit = "step" if self.calls_are_steps else "model call"
            caption = (f"{unit} {position + 1}/{self.total or '?'} · "
                       f"t = {self.timesteps[position]:.0f}")
        return self.x_t[position], self.noise_pred[step], self.pred_original[step], caption


class ReversePage(QWidget):
    title = "Reverse process"
    restores_kinds = frozenset({KIND_DIGITS})  # see playground_gui/restore.py

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.engine = context.engine
        self.window_ = context.window
        self.settings = context.window.settings
        self.runs: list[RunRecord] = []
        self.finished_runs: list[RunRecord] = []  # runs that reached their final sample
        self.job = None
        self.follow_live = True
        self._redraw_timer = QTimer(self, singleShot=True, interval=40)
        self._redraw_timer.timeout.connect(self._redraw)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._on_sampler_changed()
        self._set_running(False)

    # -- layout ----------------------------------------------------------------------------
    def _sampler_combo(self, default: str) -> QComboBox:
        combo = QComboBox()
        for key, label in SAMPLERS.items():
            combo.addItem(label, key)
        combo.setCurrentIndex(list(SAMPLERS).index(default))
        return combo

    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 4, 0)

        box = QGroupBox("Sampling")
        form = QFormLayout(box)
        self.label_combo = QComboBox()
        self.label_combo.addItem("Unconditional (no class)", None)
        for digit in range(10):
            self.label_combo.addItem(f"Digit {digit}", digit)
        self.label_combo.setCurrentIndex(4)
        self.guidance_spin = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5,
                                            value=DEFAULT_GUIDANCE, decimals=2)
        self.guidance_spin.setToolTip("Classifier-free guidance scale g: ε̂ = ε̂(∅) + g·(ε̂(digit) − "
                                      "ε̂(∅)). 0 ignores the digit, 1 is plain conditional.")
        self.sampler_combo = self._sampler_combo("ddim")
        self.sampler_combo.currentIndexChanged.connect(self._on_sampler_changed)
        self.steps_spin = QSpinBox(minimum=1, maximum=1000, value=50)
        self.steps_spin.setToolTip("Number of denoising steps (model evaluations); the model was "
                                   "trained with T = 1000")
        self.eta_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, value=0.0)
        self.eta_spin.setToolTip("DDIM η: 0 = deterministic (an ODE), 1 = as much fresh noise "
                                 "per step as DDPM")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.batch_spin = QSpinBox(minimum=1, maximum=64, value=16)
        self.batch_spin.setToolTip("How many samples at once (shown as a grid)")
        form.addRow("Digit", self.label_combo)
        form.addRow("Guidance scale", self.guidance_spin)
        form.addRow("Sampler", self.sampler_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("DDIM η", self.eta_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Batch size", self.batch_spin)
        column.addWidget(box)

        compare_box = QGroupBox("Compare mode")
        compare_form = QFormLayout(compare_box)
        self.compare_check = QCheckBox("Run a second sampler from the same seed")
        self.compare_check.setToolTip("Both runs start from the same x_T; the slider moves both by "
                                      "the same fraction of their run")
        self.compare_sampler_combo = self._sampler_combo("ddpm")
        self.compare_steps_spin = QSpinBox(minimum=1, maximum=1000, value=1000)
        compare_form.addRow(self.compare_check)
        compare_form.addRow("Second sampler", self.compare_sampler_combo)
        compare_form.addRow("Its steps", self.compare_steps_spin)
        self.compare_check.toggled.connect(self._on_compare_toggled)
        self._on_compare_toggled(False)
        column.addWidget(compare_box)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Sample")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop at the next step; the steps so far stay viewable")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        column.addLayout(buttons)

        extra_box = QGroupBox("Guidance sweep and DDIM inversion")
        extra_form = QFormLayout(extra_box)
        self.sweep_edit = QLineEdit(SWEEP_SCALES)
        self.sweep_edit.setToolTip("Guidance scales, separated by commas")
        self.sweep_button = QPushButton("Run sweep")
        self.sweep_button.clicked.connect(self.start_sweep)
        sweep_row = QHBoxLayout()
        sweep_row.addWidget(self.sweep_edit, 1)
        sweep_row.addWidget(self.sweep_button)
        extra_form.addRow("Scales", sweep_row)
        self.example_spin = QSpinBox(minimum=0, maximum=99, value=42)
        self.example_spin.setToolTip("One of the 100 held-out real digits shipped with the model "
                                     "(10 per class, never seen in training)")
        self.invert_button = QPushButton("Invert + regenerate")
        self.invert_button.clicked.connect(self.start_inversion)
        invert_row = QHBoxLayout()
        invert_row.addWidget(self.example_spin, 1)
        invert_row.addWidget(self.invert_button)
        extra_form.addRow("Real digit #", invert_row)
        self.extra_error = QLabel()
        self.extra_error.setStyleSheet("color: #b00020")
        self.extra_error.setWordWrap(True)
        extra_form.addRow(self.extra_error)
        column.addWidget(extra_box)

        column.addWidget(ExplanationPanel("reverse.html", expanded=True), 1)
        return scrolling_column(panel, 390, 430)

    def _build_views(self) -> QWidget:
        views = QWidget()
        layout = QVBoxLayout(views)
        layout.setContentsMargins(4, 0, 0, 0)
        self.status_label = QLabel("Press Sample to run the reverse process of the embedded "
                                   "digits model (x_T → x₀), every step recorded.")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("padding: 4px")
        # Two lines always reserved: a longer or shorter message does not move the images.
        self.status_label.setMinimumHeight(2 * self.status_label.fontMetrics().lineSpacing() + 8)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.status_label)

        # One tab per kind of result, so each gets the whole area: the run (one or two rows of
        # x_t, ε̂, x̂₀), the guidance sweep and the inversion. A finished job shows its tab.
        self.view_tabs = QTabWidget()
        self.view_tabs.setDocumentMode(True)
        layout.addWidget(self.view_tabs, 1)

        run_page = QWidget()
        run_layout = QVBoxLayout(run_page)
        run_layout.setContentsMargins(0, 4, 0, 0)
        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the recorded steps")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(lambda: setattr(self, "follow_live", False))
        self.step_label = ReadoutLine("no run yet", bold=False)
        self.step_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.step_label.setFixedWidth(max(self.step_label.text_width(sample)
                                          for sample in STEP_LABEL_SAMPLES))
        slider_row.addWidget(QLabel("Step"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.step_label)
        run_layout.addLayout(slider_row)

        self.rows_widget = QWidget()
        self.rows_grid = QGridLayout(self.rows_widget)
        self.rows_grid.setContentsMargins(0, 0, 0, 0)
        self.row_titles: list[QLabel] = []
        self.row_views: list[tuple[ImageGridView, ImageGridView, ImageGridView]] = []
        for row in range(2):
            title = ReadoutLine(bold=False)  # one line that changes live: never moves the views
            self.row_titles.append(title)
            self.rows_grid.addWidget(title, 2 * row, 0, 1, 3)
            triple = (ImageGridView("x_t", VIEW_TIPS["x_t"]),
                      ImageGridView("ε̂ (predicted noise)", VIEW_TIPS["eps"]),
                      ImageGridView("x̂₀ (predicted clean image)", VIEW_TIPS["x0"]))
            for column, view in enumerate(triple):
                self.rows_grid.addWidget(view, 2 * row + 1, column)
                if row:  # the second run sits right under the first: same columns, no titles
                    view.title.setVisible(False)
            self.row_views.append(triple)
        run_layout.addWidget(self.rows_widget, 1)
        self._show_rows(1)

        save_row = QHBoxLayout()
        self.sample_spin = QSpinBox(minimum=1, maximum=1)
        self.sample_spin.setToolTip("Which sample of the batch Save and Copy image use (counted "
                                    "left to right, top to bottom in the grid)")
        self.sample_spin.setSuffix(" of 1")
        self.sample_spin.valueChanged.connect(self._on_sample_choice)
        save_row.addWidget(QLabel("Sample"))
        save_row.addWidget(self.sample_spin)
        self.save_bar = SaveBar(self.settings, KIND_DIGITS, self.shown_sample_items,
                                self.all_sample_items)
        self.save_bar.save_button.setText("Save sample")
        self.save_bar.save_button.setToolTip("Save the chosen sample (64×64 PNG with its "
                                             "parameters) to the output folder")
        self.save_bar.save_all_button.setToolTip("Save every final sample of this run, one PNG each")
        save_row.addWidget(self.save_bar, 1)
        run_layout.addLayout(save_row)
        self.run_page = run_page
        self.view_tabs.addTab(run_page, "Sampling run")

        sweep_page = QWidget()
        sweep_layout = QVBoxLayout(sweep_page)
        sweep_layout.setContentsMargins(0, 4, 0, 0)
        sweep_layout.addWidget(QLabel("<b>Guidance sweep: one seed, several guidance scales</b>"))
        self.sweep_row = QHBoxLayout()
        sweep_layout.addLayout(self.sweep_row, 1)
        self.sweep_note = QLabel(
            "Same x_T in every column. Scale 0 ignores the digit (the unconditional model); 1 is "
            "the plain conditional model; larger scales push away from ∅ towards the digit "
            "(more uniform, less varied); too large a scale overshoots: saturated, broken strokes. "
            "Run one with Run sweep (on the left).")
        self.sweep_note.setWordWrap(True)
        self.sweep_note.setStyleSheet("color: #555")
        sweep_layout.addWidget(self.sweep_note)
        self.sweep_page = sweep_page
        self.view_tabs.addTab(sweep_page, "Guidance sweep")

        inversion_page = QWidget()
        inversion_layout = QVBoxLayout(inversion_page)
        inversion_layout.setContentsMargins(0, 4, 0, 0)
        inversion_layout.addWidget(QLabel("<b>DDIM inversion of a real digit</b>"))
        inversion_views = QHBoxLayout()
        self.inversion_views = (
            ImageGridView("real x₀", "A held-out real digit", size=110),
            ImageGridView("x_T found", "x_T from running deterministic DDIM backwards", size=110),
            ImageGridView("regenerated", "DDIM (η = 0) from that x_T", size=110))
        for view in self.inversion_views:
            inversion_views.addWidget(view)
        inversion_layout.addLayout(inversion_views, 1)
        self.inversion_note = QLabel("Deterministic DDIM is invertible: encode a real digit to "
                                     "x_T, then sample from it again (Invert + regenerate, on "
                                     "the left).")
        self.inversion_note.setWordWrap(True)
        self.inversion_note.setStyleSheet("color: #555")
        inversion_layout.addWidget(self.inversion_note)
        self.inversion_page = inversion_page
        self.view_tabs.addTab(inversion_page, "DDIM inversion")
        return views

    def _show_rows(self, count: int) -> None:
        for row in range(2):
            visible = row < count
            self.row_titles[row].setVisible(visible)
            for view in self.row_views[row]:
                view.setVisible(visible)
            self.rows_grid.setRowStretch(2 * row + 1, 1 if visible else 0)

    # -- controls --------------------------------------------------------------------------
    def _on_sampler_changed(self, *_) -> None:
        self.eta_spin.setEnabled(self.sampler_combo.currentData() == "ddim")

    def _on_compare_toggled(self, on: bool) -> None:
        self.compare_sampler_combo.setEnabled(on)
        self.compare_steps_spin.setEnabled(on)

    def _set_running(self, running: bool) -> None:
        starters = (self.run_button, self.sweep_button, self.invert_button)
        focus = QApplication.focusWidget()
        # A disabled button hands its focus to the next widget in the tab chain, which is the
        # Scales field (its text then selected): give it to the slider instead.
        if running and focus in starters:
            self.slider.setFocus(Qt.FocusReason.OtherFocusReason)
        for button in starters:
            button.setEnabled(not running)
        if not running and focus is self.cancel_button:
            self.run_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.cancel_button.setEnabled(running)

    def current_request(self, sampler: str | None = None, steps: int | None = None) -> ReverseRequest:
        sampler = sampler or self.sampler_combo.currentData()
        return ReverseRequest(
            label=self.label_combo.currentData(), guidance=self.guidance_spin.value(),
            sampler=sampler, steps=steps or self.steps_spin.value(),
            eta=self.eta_spin.value() if sampler == "ddim" else 0.0,
            seed=self.seed_spin.value(), batch_size=self.batch_spin.value())

    # -- runs ------------------------------------------------------------------------------
    def start_run(self):
        first = self.current_request()
        if self.compare_check.isChecked():
            second = self.current_request(self.compare_sampler_combo.currentData(),
                                          self.compare_steps_spin.value())
            request = CompareRequest(first, second)
            self.runs = [RunRecord(first), RunRecord(second)]
            description = (f"Comparing {first.sampler} {first.steps} and {second.sampler} "
                           f"{second.steps} steps")
        else:
            request = first
            self.runs = [RunRecord(first)]
            description = f"Sampling ({first.sampler}, {first.steps} steps)"
        self._show_rows(len(self.runs))
        self.view_tabs.setCurrentWidget(self.run_page)
        for row, run in enumerate(self.runs):
            self._set_row_title(row, run)
            for view in self.row_views[row]:
                view.set_images(None)
        self.finished_runs = []
        self.save_bar.set_has_images(False)
        self.row_views[0][0].set_highlight(None)
        self.follow_live = True
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.status_label.setText(f"{description}: starting…")
        return self._submit(request, description, self._on_run_done)

    def _submit(self, request, description, on_success):
        job = self.engine.submit(request, description)
        job.step.connect(self._on_step)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(on_success)
        job.cancelled.connect(self._on_cancelled)
        job.failed.connect(self._on_failed)
        job.finished.connect(lambda j=job: self._forget(j))
        self.job = job
        self._set_running(True)
        return job

    def _forget(self, job) -> None:
        if self.job is job:
            self.job = None
            self._set_running(False)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status_label.setText("Cancelling at the next step…")

    def _set_row_title(self, row: int, run: RunRecord) -> None:
        text = self._run_title(run)
        self.row_titles[row].setText(text)
        self.row_titles[row].setToolTip(text)  # the whole of it, should the row be too narrow

    def _run_title(self, run: RunRecord) -> str:
        r = run.request
        text = (f"{SAMPLERS[r.sampler]} · {run.steps_text()} · {label_text(r.label)} · guidance "
                f"{r.guidance:g} · seed {r.seed}")
        if r.sampler == "ddim":
            text += f" · η {r.eta:g}"
        if r.sampler in STOCHASTIC_SAMPLERS or (r.sampler == "ddim" and r.eta > 0):
            text += " · stochastic"
        if run.result is not None:
            text += f" · wall time {format_wall(run.result.wall_seconds)}"
        if run.x0_derived:
            text += " · x̂₀ derived from ε̂"
        return text

    def _on_step(self, step) -> None:
        if not hasattr(step, "x_t") or step.run_index >= len(self.runs):
            return
        self.runs[step.run_index].add_step(step)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_progress(self, update) -> None:
        self.status_label.setText(f"Running: {format_progress(update)} {update.message}")

    def _on_run_done(self, result) -> None:
        results = [result] if len(self.runs) == 1 else [result.first, result.second]
        for run, outcome in zip(self.runs, results, strict=True):
            run.finish(outcome)
        for row, run in enumerate(self.runs):
            self._set_row_title(row, run)
        times = " · ".join(f"{run.request.sampler} {run.steps_text()}: "
                           f"{format_wall(run.result.wall_seconds)}" for run in self.runs)
        rate = sum(len(r.timesteps) for r in self.runs) / max(
            1e-9, sum(r.result.wall_seconds for r in self.runs))
        unit = "steps/s" if all(r.calls_are_steps for r in self.runs) else "model calls/s"
        self.status_label.setText(f"Done. Wall time {times} ({rate:.0f} {unit}). Drag the "
                                  "slider to scrub through the steps.")
        self.follow_live = True
        self._redraw()
        self.finished_runs = list(self.runs)
        batch = self.finished_runs[0].request.batch_size
        self.sample_spin.setRange(1, batch)
        self.sample_spin.setSuffix(f" of {batch}")
        self.row_views[0][0].set_highlight(self.sample_spin.value() - 1)
        self.save_bar.images_ready()

    def _on_cancelled(self, partial) -> None:
        if partial is not None and len(self.runs) == 1 and hasattr(partial, "x_t"):
            self.runs[0].finish(partial, partial=True)
        run = max(self.runs, key=lambda r: len(r.timesteps), default=None)
        done = run.steps_text(len(run.timesteps)) if run is not None else "0 steps"
        self.status_label.setText(f"Cancelled after {done}; the recorded steps can be "
                                  "scrubbed.")
        self._redraw()

    def _on_failed(self, message: str) -> None:
        self.status_label.setText("Failed: " + message)

    # -- scrubbing -------------------------------------------------------------------------
    def _compare_mode(self) -> bool:
        return len(self.runs) == 2

    def _redraw(self) -> None:
        """Update the slider range to what is recorded; when following, jump to the newest."""
        if not self.runs or not any(r.positions for r in self.runs):
            return
        if self._compare_mode():
            maximum = SLIDER_RESOLUTION
        else:
            maximum = self.runs[0].positions - 1
        self.slider.blockSignals(True)
        self.slider.setRange(0, maximum)
        if self.follow_live:
            self.slider.setValue(self._live_value())
        self.slider.blockSignals(False)
        self.show_position(self.slider.value())

    def _live_value(self) -> int:
        if not self._compare_mode():
            return self.runs[0].positions - 1
        for run in reversed(self.runs):  # the run that is going now decides
            if run.positions:
                span = run.total + (1 if run.result is not None else 0)
                return int(round(SLIDER_RESOLUTION * (run.positions - 1) / max(1, span - 1)))
        return 0

    def _on_slider(self, value: int) -> None:
        self.show_position(value)

    def show_position(self, value: int) -> None:
        """Show the recorded step at a slider value (cheap: the arrays are already uint8)."""
        captions = []
        for row, run in enumerate(self.runs):
            if not run.positions:
                continue
            if self._compare_mode():
                span = (run.total + 1) if run.result is not None else max(run.total, 1)
                position = int(round(value / SLIDER_RESOLUTION * (span - 1)))
                position = min(position, run.positions - 1)
            else:
                position = value
            x_t, eps, x0, caption = run.views(position)
            views = self.row_views[row]
            views[0].set_images(x_t, caption)
            views[1].set_images(eps)
            views[2].set_images(x0)
            captions.append(caption)
        if self._compare_mode():
            self.step_label.setText(f"{value / SLIDER_RESOLUTION:.0%} of each run")
        elif captions:
            self.step_label.setText(captions[0])

    # -- saving and restoring --------------------------------------------------------------
    def _on_sample_choice(self, value: int) -> None:
        self.row_views[0][0].set_highlight(value - 1 if self.finished_runs else None)
        if self.finished_runs:
            self.save_bar.status.setText(f"Save sample and Copy image use sample {value} "
                                         "(left to right, top to bottom).")
            self.save_bar.status.setStyleSheet("color: #555")

    def _items(self, run: RunRecord) -> list[tuple]:
        # One PNG per sample: its own batch index, the run's request (which regenerates it).
        return sample_items(run.request, run.result.final_images, scale=SAVE_SCALE)

    def shown_sample_items(self) -> list[tuple]:
        if not self.finished_runs:
            return []
        items = self._items(self.finished_runs[0])
        return [items[min(self.sample_spin.value(), len(items)) - 1]]

    def all_sample_items(self) -> list[tuple]:
        return [item for run in self.finished_runs for item in self._items(run)]

    def restore_parameters(self, request: dict) -> bool:
        """Set every sampling control from a saved digits request; True when they now make
        exactly that request (the batch index of a saved sample picks the sample to show)."""
        try:
            wanted, skipped = request_from_record(ReverseRequest, request)
        except (ValueError, TypeError) as exc:
            self.status_label.setText(f"Could not restore these parameters: {exc}")
            return False
        self.compare_check.setChecked(False)  # a saved sample comes from a single run
        self.label_combo.setCurrentIndex(0 if wanted.label is None
                                         else self.label_combo.findData(wanted.label))
        self.guidance_spin.setValue(wanted.guidance)
        self.sampler_combo.setCurrentIndex(self.sampler_combo.findData(wanted.sampler))
        self.steps_spin.setValue(wanted.steps)
        self.eta_spin.setValue(wanted.eta)
        self.seed_spin.setValue(wanted.seed)
        self.batch_spin.setValue(wanted.batch_size)
        # η means nothing to the other samplers; the page always samples the shipped model.
        expected = dataclasses.replace(wanted, record=True, model_dir=None,
                                       eta=wanted.eta if wanted.sampler == "ddim" else 0.0)
        exact = self.current_request() == expected
        missing = [name for name in RESTORED_FIELDS if name in skipped]
        if exact and wanted.model_dir is None and not missing:
            self.status_label.setText(f"Restored: {self._run_title(RunRecord(wanted))}. "
                                      "Press Sample to regenerate it.")
            return True
        reasons = []
        if missing:
            reasons.append("the file does not say " + ", ".join(missing) + " (defaults used)")
        if wanted.model_dir is not None:
            reasons.append(f"it was made by the model in {wanted.model_dir}; this page samples "
                           "the shipped model")
        if not exact:
            reasons.append("some values are outside this page's ranges (guidance 0–20, batch "
                           "size 1–64) and were clipped")
        self.status_label.setText("Restored with differences: " + "; ".join(reasons) + ".")
        return False

    # -- sweep and inversion ---------------------------------------------------------------
    def start_sweep(self):
        try:
            scales = tuple(float(x) for x in re.split(r"[,\s;]+", self.sweep_edit.text().strip()) if x)
        except ValueError:
            self.extra_error.setText("Scales must be numbers separated by commas, e.g. 0, 1, 2, 4.")
            return None
        if not scales or len(scales) > 10:
            self.extra_error.setText("Give between 1 and 10 guidance scales.")
            return None
        self.extra_error.clear()
        label = self.label_combo.currentData()
        request = GuidanceSweepRequest(label=3 if label is None else label, scales=scales,
                                       sampler=self.sampler_combo.currentData(),
                                       steps=min(self.steps_spin.value(), 100),
                                       seed=self.seed_spin.value(), batch_size=4)
        return self._submit(request, "Guidance sweep", self._on_sweep_done)

    def _on_sweep_done(self, result) -> None:
        while self.sweep_row.count():
            widget = self.sweep_row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for scale, images in zip(result.scales, result.images, strict=True):
            view = ImageGridView(f"g = {scale:g}", f"guidance scale {scale:g}", size=110)
            view.set_images(images)
            self.sweep_row.addWidget(view)
        self.view_tabs.setCurrentWidget(self.sweep_page)
        self.status_label.setText(f"Guidance sweep done: digit {result.label}, scales "
                                  + ", ".join(f"{s:g}" for s in result.scales))

    def start_inversion(self):
        request = InversionRequest(example_index=self.example_spin.value(),
                                   steps=min(self.steps_spin.value(), 200))
        return self._submit(request, "DDIM inversion", self._on_inversion_done)

    def _on_inversion_done(self, result) -> None:
        original, latent, regenerated = self.inversion_views
        original.set_images(result.original, f"digit {result.label}")
        latent.set_images(result.latent, f"std {result.latent_std:.2f}")
        regenerated.set_images(result.reconstruction, f"MSE {result.mse:.4f}")
        self.inversion_note.setText(
            f"Reconstruction error: MSE {result.mse:.4f}, max |error| {result.max_abs_error:.3f} "
            f"(pixels in [−1, 1]). x_T has std {result.latent_std:.2f} (pure noise: 1).")
        self.view_tabs.setCurrentWidget(self.inversion_page)
        self.status_label.setText("DDIM inversion done.")


def format_wall(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 60 else format_seconds(seconds)
