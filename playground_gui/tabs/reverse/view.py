"""Reverse process page: sample digits with the embedded model and scrub through every step.

Views: x_t (what the sampler holds), ε̂ (the noise the U-Net predicts) and x̂₀ (the clean image
that prediction implies), for a whole batch, at any step; live while the run goes. Plus compare
mode (two samplers, one seed, one slider by fraction of the run), a guidance sweep and DDIM
inversion of a real digit. Finished samples are saved (one PNG per sample, each carrying the
run's request) with the shared save bar, and a saved sample restores every control.

This module is the widgets and their wiring: the runs and jobs are in ``session.py``, the
request ↔ control table in ``binding.py``, the result pages in ``result_pages.py``.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.digits.types import DEFAULT_GUIDANCE, SAMPLERS
from engine.png.record import KIND_DIGITS
from playground_gui.formatting import format_progress
from playground_gui.tabs.reverse import binding
from playground_gui.tabs.reverse.result_pages import InversionPanel, RunPanel, SweepPanel
from playground_gui.tabs.reverse.session import ReverseSession, RunRecord
from playground_gui.tabs.reverse.spectrum_view import ReverseSpectrumPanel
from playground_gui.tabs.reverse.unet_view import UNetPanel
from playground_gui.tabs.reverse.variation import add_variation_rows
from playground_gui.tabs.reverse.walk_panel import WalkPanel
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel

SWEEP_SCALES = "0, 1, 1.5, 3, 6"


class ReversePage(QWidget):
    title = "Reverse process"
    restores_kinds = frozenset({KIND_DIGITS})  # see playground_gui/restore.py

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.engine = context.engine
        self.settings = context.window.settings
        self.session = ReverseSession(self.engine, self)
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
        self._connect_session()
        self._on_sampler_changed()
        self._set_running(False)

    @property
    def job(self):
        """The running job's handle, or None."""
        return self.session.job

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
        self.label_combo.addItem(binding.NO_CLASS, None)
        for digit in range(10):
            self.label_combo.addItem(f"Digit {digit}", digit)
        self.label_combo.setCurrentIndex(4)
        low, high = binding.GUIDANCE_RANGE
        self.guidance_spin = QDoubleSpinBox(minimum=low, maximum=high, singleStep=0.5,
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
        self.seed_spin = QSpinBox(minimum=binding.SEED_RANGE[0], maximum=binding.SEED_RANGE[1],
                                  value=0)
        self.batch_spin = QSpinBox(minimum=binding.BATCH_RANGE[0],
                                   maximum=binding.BATCH_RANGE[1], value=16)
        self.batch_spin.setToolTip("How many samples at once (shown as a grid)")
        form.addRow("Digit", self.label_combo)
        form.addRow("Guidance scale", self.guidance_spin)
        form.addRow("Sampler", self.sampler_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("DDIM η", self.eta_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Batch size", self.batch_spin)
        add_variation_rows(self, form, binding.SEED_RANGE)
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
        self.run_page = RunPanel(self.settings, self.shown_sample_items, self.all_sample_items)
        self.sweep_page = SweepPanel()
        self.inversion_page = InversionPanel()
        self.view_tabs.addTab(self.run_page, "Sampling run")
        self.view_tabs.addTab(self.sweep_page, "Guidance sweep")
        self.view_tabs.addTab(self.inversion_page, "DDIM inversion")
        self.walk_page = WalkPanel(self.engine, self)  # frames between two seeds' noises
        self.view_tabs.addTab(self.walk_page, "Latent walk")
        self.unet_page = UNetPanel(self.engine)  # the U-Net's blocks at the slider's step
        self.view_tabs.addTab(self.unet_page, "U-Net inside")
        # The parts other code and the tests reach for.
        run = self.run_page
        self.slider, self.step_label = run.slider, run.step_label
        self.row_titles, self.row_views = run.row_titles, run.row_views
        self.sample_spin, self.save_bar = run.sample_spin, run.save_bar
        self.sweep_row = self.sweep_page.sweep_row
        self.slider.valueChanged.connect(self.show_position)
        self.slider.sliderPressed.connect(lambda: setattr(self, "follow_live", False))
        self.sample_spin.valueChanged.connect(self._on_sample_choice)
        self.unet_page.step_slider.valueChanged.connect(self.slider.setValue)
        self.unet_page.sample_spin.valueChanged.connect(self.sample_spin.setValue)
        self.spectrum_page = ReverseSpectrumPanel(self)  # follows self.slider on its own
        self.view_tabs.addTab(self.spectrum_page, "Spectrum")
        return views

    def _connect_session(self) -> None:
        session = self.session
        session.running_changed.connect(self._set_running)
        session.progress.connect(lambda update: self.status_label.setText(
            f"Running: {format_progress(update)} {update.message}"))
        session.steps_recorded.connect(self._schedule_redraw)
        session.run_done.connect(self._on_run_done)
        session.run_cancelled.connect(self._on_cancelled)
        session.sweep_done.connect(self._on_sweep_done)
        session.inversion_done.connect(self._on_inversion_done)
        session.failed.connect(lambda message: self.status_label.setText("Failed: " + message))

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

    def current_request(self):
        return binding.current_request(self)

    # -- runs ------------------------------------------------------------------------------
    def start_run(self):
        first, second = binding.requests(self)
        job = self.session.start_run(first, second)
        if job is None:
            return None
        runs = self.session.runs
        self.run_page.show_rows(len(runs))
        self.view_tabs.setCurrentWidget(self.run_page)
        for row, run in enumerate(runs):
            self.run_page.set_row_title(row, run.title())
            for view in self.row_views[row]:
                view.set_images(None)
        self.save_bar.set_has_images(False)
        self.row_views[0][0].set_highlight(None)
        self.follow_live = True
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, 0)
        self.status_label.setText(f"{job.description}: starting…")
        return job

    def cancel(self) -> None:
        if self.session.cancel():
            self.status_label.setText("Cancelling at the next step…")

    def _on_run_done(self) -> None:
        for row, run in enumerate(self.session.runs):
            self.run_page.set_row_title(row, run.title())
        self.status_label.setText(self.session.done_text())
        self.follow_live = True
        self._redraw()
        batch = self.session.sample_count()
        self.sample_spin.setRange(1, batch)
        self.sample_spin.setSuffix(f" of {batch}")
        self.row_views[0][0].set_highlight(self.sample_spin.value() - 1)
        self.save_bar.images_ready()
        self._follow_in_unet()  # the sample range is known now

    def _on_cancelled(self) -> None:
        self.status_label.setText(self.session.cancelled_text())
        self._redraw()

    # -- scrubbing -------------------------------------------------------------------------
    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        """Update the slider range to what is recorded; when following, jump to the newest."""
        if not self.session.has_steps():
            return
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, self.session.slider_maximum())
            if self.follow_live:
                self.slider.setValue(self.session.live_value())
        self.show_position(self.slider.value())

    def show_position(self, value: int) -> None:
        """Show the recorded step at a slider value (cheap: the arrays are already uint8)."""
        frames = self.session.frames(value)
        for row, (x_t, eps, x0, caption) in frames:
            views = self.row_views[row]
            views[0].set_images(x_t, caption)
            views[1].set_images(eps)
            views[2].set_images(x0)
        text = self.session.step_text(value, frames)
        if text is not None:
            self.step_label.setText(text)
        self._follow_in_unet()

    def _follow_in_unet(self) -> None:
        self.unet_page.follow(self.session, self.slider, self.sample_spin)

    # -- saving and restoring --------------------------------------------------------------
    def _on_sample_choice(self, value: int) -> None:
        finished = bool(self.session.finished_runs)
        self.row_views[0][0].set_highlight(value - 1 if finished else None)
        self._follow_in_unet()
        if finished:
            self.save_bar.status.setText(f"Save sample and Copy image use sample {value} "
                                         "(left to right, top to bottom).")
            self.save_bar.status.setStyleSheet("color: #555")

    def shown_sample_items(self) -> list[tuple]:
        return self.session.chosen_sample_items(self.sample_spin.value())

    def all_sample_items(self) -> list[tuple]:
        return self.session.all_sample_items()

    def restore_parameters(self, request: dict) -> bool:
        """Set every sampling control from a saved digits request; True when they now make
        exactly that request (the batch index of a saved sample picks the sample to show)."""
        try:
            restored = binding.restore(self, request)
        except (ValueError, TypeError) as exc:
            self.status_label.setText(f"Could not restore these parameters: {exc}")
            return False
        if restored.exact:
            self.status_label.setText(f"Restored: {RunRecord(restored.request).title()}. "
                                      "Press Sample to regenerate it.")
            return True
        self.status_label.setText("Restored with differences: " + "; ".join(restored.reasons)
                                  + ".")
        return False

    # -- sweep and inversion ---------------------------------------------------------------
    def start_sweep(self):
        try:
            request = binding.sweep_request(self)
        except ValueError as exc:
            self.extra_error.setText(str(exc))
            return None
        self.extra_error.clear()
        return self.session.start_sweep(request)

    def _on_sweep_done(self, result) -> None:
        self.sweep_page.show_result(result)
        self.view_tabs.setCurrentWidget(self.sweep_page)
        self.status_label.setText(f"Guidance sweep done: digit {result.label}, scales "
                                  + ", ".join(f"{s:g}" for s in result.scales))

    def start_inversion(self):
        return self.session.start_inversion(binding.inversion_request(self))

    def _on_inversion_done(self, result) -> None:
        self.inversion_page.show_result(result)
        self.view_tabs.setCurrentWidget(self.inversion_page)
        self.status_label.setText("DDIM inversion done.")
