"""2D toy tab: a drop of dye dissolving into noise, and a small network you train to undo it.

The view's widgets wired to the session: controls start runs with the settings that
``binding.CONTROLS`` reads, and the session's results are painted into the plots.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

from engine.toy2d.types import DEFAULT_STEPS, LANGEVIN_SAMPLERS, sampling_steps
from playground_gui.formatting import format_seconds
from playground_gui.tabs.toy2d import plots
from playground_gui.tabs.toy2d.binding import CONTROLS
from playground_gui.tabs.toy2d.lab_page import SamplerLabPage
from playground_gui.tabs.toy2d.objective_view import ObjectiveComparisonWindow, fitting_sampler
from playground_gui.tabs.toy2d.session import Toy2DSession
from playground_gui.tabs.toy2d.view import Toy2DView


class Toy2DTab(Toy2DView):
    title = "2D toy diffusion"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.schedules = context.schedules
        self.session = Toy2DSession(context.engine, context.schedules, parent=self)
        self.field_t: dict[str, int] = {}  # canvas name -> t of the field it shows
        self._steps_default = 0
        self.objective_window = None  # ObjectiveComparisonWindow, made when first opened

        self._forward_timer = QTimer(self, singleShot=True, interval=150)
        self._forward_timer.timeout.connect(self._request_forward)
        self._field_timer = QTimer(self, singleShot=True, interval=60)
        self._field_timer.timeout.connect(self._request_fields)
        self._play_timer = QTimer(self, interval=40)
        self._play_timer.timeout.connect(self._advance_playback)
        self.lab_page = SamplerLabPage(context.engine, self)
        self.pages.addTab(self.lab_page, "Samplers and exact scores")
        self._connect_controls()
        self._connect_session()
        self._on_model_kind_changed()
        self._on_sampler_changed()
        self._on_schedule_changed()
        self._on_dataset_changed()
        self._update_buttons()

    def _connect_controls(self) -> None:
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.clear_drawing_button.clicked.connect(self.clear_drawing)
        self.forward_view_box.points_added.connect(self._on_points_drawn)
        self.forward_slider.valueChanged.connect(self._show_forward_frame)
        self.train_button.clicked.connect(lambda: self.start_training())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.session.stop)
        self.steps_spin.valueChanged.connect(
            lambda steps: None if self.session.training else self.train_progress.setRange(0, steps))
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button.clicked.connect(self._load_dialog)
        self.sampler_combo.currentIndexChanged.connect(self._on_sampler_changed)
        self.model_kind_combo.currentIndexChanged.connect(self._on_model_kind_changed)
        self.training_points_spin.valueChanged.connect(lambda _: self._schedule_fields())
        self.sample_button.clicked.connect(lambda: self.start_sampling())
        self.compare_button.clicked.connect(self.show_objective_comparison)
        self.trails_spin.valueChanged.connect(lambda _: self._show_reverse_frame())
        self.reverse_slider.valueChanged.connect(self._show_reverse_frame)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.field_check.toggled.connect(lambda _: self._schedule_fields())
        self.schedules.current_changed.connect(self._on_schedule_changed)
        self.schedules.changed.connect(self._on_schedule_changed)

    def _connect_session(self) -> None:
        session = self.session
        session.forward_changed.connect(self._show_forward)
        session.losses_changed.connect(self._draw_losses)
        session.train_progress.connect(self._on_train_progress)
        session.train_ended.connect(self._on_train_ended)
        session.training_changed.connect(self._update_buttons)
        session.samples_ready.connect(self._show_samples)
        session.sampling_ended.connect(self._on_sampling_ended)
        session.field_ready.connect(self._show_field)

    # -- data and forward process -----------------------------------------------------------
    @property
    def dataset_name(self) -> str:
        return self.dataset_combo.currentData()

    def _on_dataset_changed(self) -> None:
        drawing = self.dataset_name == "custom"
        self.forward_view_box.drawing = drawing
        self.draw_hint.setVisible(drawing)
        self.clear_drawing_button.setVisible(drawing)
        self.drawn_scatter.setVisible(drawing)
        if drawing:
            # Show the canvas as drawn, in the plane's own coordinates, not the noised frame.
            self.forward_slider.setValue(0)
        self._forward_timer.start()

    def _on_points_drawn(self, points: np.ndarray) -> None:
        drawn = self.session.add_points(points)
        self.drawn_scatter.setData(drawn[:, 0], drawn[:, 1])
        self._forward_timer.start()

    def clear_drawing(self) -> None:
        self.session.clear_drawing()
        self.drawn_scatter.setData([], [])
        self._forward_timer.start()

    def _on_schedule_changed(self, *_) -> None:
        self._show_schedules()
        self._follow_model_steps()
        self._forward_timer.start()

    def _show_schedules(self) -> None:
        self.schedule_label.setText(self.schedules.current.label)
        text, tooltip = plots.model_caption(self.session.model)
        self.model_label.setText(text)
        self.model_label.setToolTip(tooltip)

    def _request_forward(self) -> None:
        try:
            self.session.update_forward(CONTROLS.read(self))
        except ValueError as exc:
            self.forward_scatter.setData([], [])
            self.forward_label.setText("t = –")
            self.forward_placeholder.setText(str(exc))
            self.forward_placeholder.setVisible(True)
        else:
            self.forward_placeholder.setVisible(False)

    def _show_forward(self, result) -> None:
        position = self.forward_slider.value()
        self.forward_slider.setRange(0, len(result.timesteps) - 1)
        self.forward_slider.setValue(min(position, len(result.timesteps) - 1))
        plots.draw_paths(self.paths_plot, result)
        self._show_forward_frame()

    def current_forward_t(self) -> int:
        forward = self.session.forward
        return 0 if forward is None else int(forward.timesteps[self.forward_slider.value()])

    def _show_forward_frame(self, *_) -> None:
        forward = self.session.forward
        if forward is None:
            return
        index = self.forward_slider.value()
        points = forward.frames[index]
        self.forward_scatter.setData(points[:, 0], points[:, 1])
        t = int(forward.timesteps[index])
        self.forward_label.setText(plots.forward_readout(t, forward.alphas_cumprod,
                                                         self.dataset_name == "custom"))
        counts, edges = np.histogram(points[:, 0], bins=50, range=(-4, 4), density=True)
        self.histogram_bars.setData(edges, counts)
        self.paths_t_line.setValue(max(t, -1))
        self._schedule_fields()

    # -- training ---------------------------------------------------------------------------
    def start_training(self, resume: bool = False) -> None:
        try:
            request = self.session.start_training(CONTROLS.read(self), resume=resume)
        except ValueError as exc:
            self.train_status.setText(plots.error_text(str(exc)))
            return
        if request is None:
            return
        self.train_progress.setRange(0, request.steps)
        self.train_progress.setValue(request.resume.steps_done if request.resume else 0)
        handle = self.session.train_slot.current
        ahead = self.session.train_slot.engine.waiting_behind(handle) if handle is not None else None
        if ahead is None:
            self._training_started()
        else:  # one engine thread: say what it waits for, not "Training…" at 0 steps
            self.train_status.setText(f"Waiting for {ahead.label} to finish (one job runs at a "
                                      "time); Stop withdraws this run.")
            handle.started.connect(self._training_started)

    def _training_started(self) -> None:
        if self.session.training:
            self.train_status.setText("Training… (PyTorch loads first if this is the first job)")

    def toggle_pause(self) -> None:
        if self.session.training:
            self.session.pause()
        elif self.session.paused_state is not None:
            self.start_training(resume=True)

    def stop_training(self) -> None:
        self.session.stop()

    def _draw_losses(self) -> None:
        losses = self.session.losses
        if not len(losses):
            self.loss_raw.setData([], [])
            self.loss_smooth.setData([], [])
            return
        self.loss_raw.setData(np.arange(1, len(losses) + 1), losses)
        self.loss_smooth.setData(*plots.smoothed(losses))

    def _on_train_progress(self, update) -> None:
        self.train_progress.setValue(update.done)
        rate = f"{update.rate:.0f} steps/s" if update.rate else ""
        eta = (f", {format_seconds(update.eta_seconds)} left"
               if update.eta_seconds is not None and update.done < update.total else "")
        self.train_status.setText(f"Step {update.done} of {update.total}"
                                  f"{plots.on_device(self.session.train_device)}, {update.message}"
                                  f"{', ' + rate if rate else ''}{eta}")

    def _on_train_ended(self, outcome: str, payload) -> None:
        if outcome == "failed":
            self.train_status.setText(plots.error_text(f"Training failed: {payload}"))
            return
        if outcome == "cancelled":
            self.train_status.setText("Training was cancelled before it started.")
            return
        state, device = payload, plots.on_device(self.session.train_device)
        self.train_progress.setValue(state.steps_done)
        if outcome == "paused":
            self._fit_sampler_to_model()
            self._show_schedules()
            self._follow_model_steps()
            self.train_status.setText(f"Paused at step {state.steps_done} of {state.total_steps}: "
                                      "Resume continues here; you can sample meanwhile.")
            self._schedule_fields()
        elif outcome == "finished":
            final = state.losses[-min(200, len(state.losses)):].mean()
            self._accept_model(f"Trained {state.steps_done} steps{device}; final loss {final:.4f}.")
        else:  # Stop means stop: no sample starts by itself (a finished training does sample).
            self._accept_model(f"Stopped after {state.steps_done} steps{device}. Press Sample to "
                               "see what it learned.", sample=False)

    def _accept_model(self, message: str, sample: bool = True) -> None:
        self.train_status.setText(message)
        self._fit_sampler_to_model()
        self._show_schedules()
        self._follow_model_steps()
        self._update_buttons()
        if sample:
            self.start_sampling()
        else:
            self._schedule_fields()

    def _update_buttons(self) -> None:
        training, paused = self.session.training, self.session.paused_state is not None
        self.train_button.setEnabled(not training)
        self.pause_button.setEnabled(training or paused)
        self.pause_button.setText("Resume" if paused and not training else "Pause")
        self.stop_button.setEnabled(training or paused)
        for widget in (self.dataset_combo, self.steps_spin, self.lr_spin, self.seed_spin,
                       self.objective_combo, self.load_button):
            widget.setEnabled(not training)
        self.forward_view_box.drawing = self.dataset_name == "custom" and not training
        has_model = self.session.model is not None
        self.save_button.setEnabled(has_model and not training)
        exact = self.model_kind_combo.currentData() != "trained"
        self.sample_button.setEnabled((has_model or exact) and not training)
        self.lab_page.update_buttons()

    # -- save / load -------------------------------------------------------------------------
    def save_model(self, path: str) -> None:
        self.session.save_model(path)

    def load_model(self, path: str) -> None:
        """Raises ValueError with a message for people; nothing changes then."""
        model = self.session.load_model(path)
        CONTROLS.restore(self, {"dataset": model.dataset.name, "objective": model.objective})
        self.train_progress.setRange(0, max(1, model.steps_trained))
        self.train_progress.setValue(model.steps_trained)
        self._accept_model("Loaded the model (its loss curve is not stored); sampling it.")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the 2D model", "toy2d.safetensors",
                                              "safetensors (*.safetensors)")
        if not path:
            return
        try:
            self.save_model(path)
        except OSError as exc:
            self.window().show_error("Saving failed", f"Could not write {path}: {exc.strerror or exc}")
        else:
            self.window().statusBar().showMessage(f"Saved {path}", 5000)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a 2D model", "",
                                              "safetensors (*.safetensors)")
        if not path:
            return
        try:
            self.load_model(path)
        except ValueError as exc:
            self.window().show_error("Loading failed", str(exc))

    # -- sampling ----------------------------------------------------------------------------
    def _on_sampler_changed(self) -> None:
        sampler = self.sampler_combo.currentData()
        self.eta_spin.setEnabled(sampler == "ddim")
        for spin in (self.langevin_steps_spin, self.langevin_step_spin):
            spin.setEnabled(sampler in LANGEVIN_SAMPLERS)
        model = self.session.model
        trained = model is not None and self.model_kind_combo.currentData() == "trained"
        objective = model.objective if trained else "eps"  # an exact model predicts ε
        # Flow's Euler and Heun take 50 steps too (DEFAULT_STEPS); DDPM all usable T.
        self._steps_default = DEFAULT_STEPS.get(sampler) or sampling_steps(
            model.schedule if model is not None else self.schedules.current, objective)
        self.sample_steps_spin.setValue(self._steps_default)

    def _on_model_kind_changed(self) -> None:
        self.training_points_spin.setEnabled(self.model_kind_combo.currentData() == "ideal")
        self._update_buttons()
        self._schedule_fields()

    def _follow_model_steps(self) -> None:
        """DDPM's step count follows the model's schedule unless the user chose another."""
        if (self.sampler_combo.currentData() == "ddpm"
                and self.sample_steps_spin.value() == self._steps_default):
            self._on_sampler_changed()

    def start_sampling(self) -> None:
        if self.session.training:
            return
        self._play_timer.stop()
        self.play_button.setChecked(False)
        try:  # a sampler the model's objective cannot use: check_combination's sentence
            started = self.session.start_sampling(CONTROLS.read(self))
        except ValueError as exc:
            self.quality_label.setText(plots.error_text(str(exc)))
            return
        if started is not None:
            self.quality_label.setText("Sampling…")

    def _fit_sampler_to_model(self) -> None:
        """A flow-matching model samples with Euler/Heun, the DDPM family with its samplers."""
        model = self.session.model
        if model is not None and self.model_kind_combo.currentData() == "trained":
            sampler = fitting_sampler(model.objective, self.sampler_combo.currentData())
            self.sampler_combo.setCurrentIndex(self.sampler_combo.findData(sampler))

    def show_objective_comparison(self) -> None:
        if self.objective_window is None:
            self.objective_window = ObjectiveComparisonWindow(
                self.session.train_slot.engine,
                lambda: (self.session.dataset_spec(self.dataset_name), self.schedules.current,
                         self.seed_spin.value()), parent=self)
        self.objective_window.show()
        self.objective_window.raise_()

    def _on_sampling_ended(self, outcome: str, message: str) -> None:
        self.quality_label.setText(plots.error_text(f"Sampling failed: {message}")
                                   if outcome == "failed" else "Sampling was cancelled.")

    def _show_samples(self, result) -> None:
        self.reverse_placeholder.setVisible(False)
        self.real_scatter.setData(result.real[:, 0], result.real[:, 1])
        self.reverse_slider.setRange(0, len(result.timesteps) - 1)
        self.reverse_slider.setValue(len(result.timesteps) - 1)
        self._show_reverse_frame()
        self.quality_label.setText(plots.quality_text(result))

    def current_reverse_t(self) -> int:
        result = self.session.sample_result
        return 0 if result is None else max(0, int(result.timesteps[self.reverse_slider.value()]))

    def _show_reverse_frame(self, *_) -> None:
        result = self.session.sample_result
        if result is None:
            return
        index = self.reverse_slider.value()
        points = result.trajectory[index]
        self.sample_scatter.setData(points[:, 0], points[:, 1])
        trails = min(self.trails_spin.value(), points.shape[0])
        if trails:
            line = plots.trail_line(result.trajectory, index, trails)
            self.trail_curve.setData(line[:, 0], line[:, 1], connect="finite")
            self.trail_heads.setData(points[:trails, 0], points[:trails, 1])
        else:
            self.trail_curve.setData([], [])
            self.trail_heads.setData([], [])
        self.reverse_label.setText(plots.reverse_readout(index, len(result.timesteps) - 1,
                                                         int(result.timesteps[index])))
        self._schedule_fields()

    def _on_play_toggled(self, playing: bool) -> None:
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")
        if playing:
            if self.reverse_slider.value() >= self.reverse_slider.maximum():
                self.reverse_slider.setValue(0)
            self._play_timer.start()
        else:
            self._play_timer.stop()
            self._schedule_fields()  # fields are skipped while playing; catch up now

    def _advance_playback(self) -> None:
        if self.reverse_slider.value() >= self.reverse_slider.maximum():
            self.play_button.setChecked(False)
            return
        self.reverse_slider.setValue(self.reverse_slider.value() + 1)

    # -- score fields --------------------------------------------------------------------------
    def _schedule_fields(self) -> None:
        no_model = self.session.model is None and self.model_kind_combo.currentData() == "trained"
        if no_model or not self.field_check.isChecked():
            self.forward_field.clear_field()
            self.reverse_field.clear_field()
            return
        self._field_timer.start()

    def _request_fields(self) -> None:
        settings = CONTROLS.read(self)
        self.session.request_field("forward", self.current_forward_t(), settings)
        if self.session.sample_result is not None and not self._play_timer.isActive():
            self.session.request_field("reverse", self.current_reverse_t(), settings)

    def _show_field(self, canvas: str, result) -> None:
        item = self.forward_field if canvas == "forward" else self.reverse_field
        if not self.field_check.isChecked():
            item.clear_field()
            return
        item.set_field(*plots.field_arrows(result))
        self.field_t[canvas] = result.t
