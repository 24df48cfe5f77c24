"""The "Forward process" page: an image dissolving into Gaussian noise, scrubbed at display rate.

Widgets only: the panels (``panels.py``) and what they show. The image, the closed form's
result and renderer, the Markov chain, exports and restores are the session's
(``session.py``); the controls ↔ request fields table is ``binding.py``.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserFacingError
from engine.forward.types import IMAGE_SOURCES
from engine.png.record import KIND_FORWARD
from playground_gui.tabs.forward.binding import (
    image_options,
    load_request,
    restore_controls,
)
from playground_gui.tabs.forward.panels import build_controls, build_views
from playground_gui.tabs.forward.playback import Playback
from playground_gui.tabs.forward.readouts import format_snr, markov_caption, readout_text
from playground_gui.tabs.forward.session import ForwardSession

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff *.ppm *.pgm *.tga);;"
                "All files (*)")
HISTOGRAM_INTERVAL_MS = 30  # the histogram follows the slider at up to ~30 Hz
RELOAD_SETTLE_MS = 250  # size and colour changes reload the image once they rest this long
STEER_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
              Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}


class ForwardPage(QWidget):
    title = "Forward process"
    restores_kinds = {KIND_FORWARD}

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.schedules = context.schedules
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(build_controls(self))
        splitter.addWidget(build_views(self))
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.hist_curve, self.markov_curve = self.histogram.hist_curve, self.histogram.markov_curve
        self.session = ForwardSession(context.engine, self.schedules,
                                      view_size=self.frame_view.device_size, parent=self)
        self._markov_index_shown = None
        self._set_markov_visible(False)
        self.playback = Playback(self.slider, self.play_button, self.speed_combo, self)
        self._play_timer = self.playback.timer
        self._histogram_timer = QTimer(self, singleShot=True, interval=HISTOGRAM_INTERVAL_MS)
        self._histogram_timer.timeout.connect(self.refresh_analysis)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_SETTLE_MS)
        self._reload_timer.timeout.connect(
            lambda: self.session.reload(**image_options(self)))
        self._connect()
        self._on_schedules_changed()
        self.load_source(next(iter(IMAGE_SOURCES)))

    def _connect(self) -> None:
        session = self.session
        session.status.connect(self._set_status)
        session.image_loaded.connect(self._on_loaded)
        session.load_failed.connect(lambda _message: self._sync_source_combo())
        session.forward_ready.connect(self._on_forward)
        session.markov_started.connect(self._on_markov_started)
        session.markov_progress.connect(self.markov_progress.setValue)
        session.markov_ready.connect(self._on_markov)
        session.markov_running_changed.connect(self.markov_progress.setVisible)
        session.saved.connect(self._saved)
        self.source_combo.activated.connect(self._on_source_chosen)
        self.open_button.clicked.connect(self._open_dialog)
        self.size_spin.valueChanged.connect(lambda _: self._reload_timer.start())
        self.grayscale_check.toggled.connect(lambda _: self._reload_timer.start())
        self.schedule_combo.activated.connect(self.schedules.set_current_index)
        self.timesteps_spin.valueChanged.connect(self._on_timesteps_changed)
        self.seed_spin.valueChanged.connect(self.session.set_seed)
        self.reroll_button.clicked.connect(self.reroll_noise)
        self.markov_check.toggled.connect(self._on_markov_toggled)
        self.frame_button.clicked.connect(self._export_frame_dialog)
        self.strip_button.clicked.connect(self._export_strip_dialog)
        self.animation_button.clicked.connect(self._export_animation_dialog)
        self.frame_view.resized.connect(self._on_frame_view_resized)
        self.slider.valueChanged.connect(self.show_timestep)
        self.analysis_tabs.currentChanged.connect(lambda _: self.refresh_analysis())
        self.t_spin.valueChanged.connect(self.slider.setValue)
        self.schedules.changed.connect(self._on_schedules_changed)
        self.schedules.current_changed.connect(self._on_current_schedule_changed)

    # -- image loading ---------------------------------------------------------------------
    def load_source(self, key: str) -> None:
        self.session.restore_note = ""
        self.session.load(load_request(self, source_key=key))

    def load_file(self, path: str) -> None:
        self.session.restore_note = ""
        self.session.load(load_request(self, path=str(path)))

    def _on_loaded(self, loaded) -> None:
        self.clean_view.set_array(loaded.pixels)
        self.image_info.setText(loaded.description)
        self._sync_source_combo()

    def _sync_source_combo(self) -> None:
        """Point the source combo at what is loaded (a file gets its own entry)."""
        request = self.session.loaded_request
        if request is None:
            return
        if request.path is not None:
            data = "file:" + request.path
            index = self.source_combo.findData(data)
            if index < 0:
                # One "file" entry at most: replace the previous one.
                for row in range(self.source_combo.count()):
                    if str(self.source_combo.itemData(row)).startswith("file:"):
                        self.source_combo.removeItem(row)
                        break
                self.source_combo.addItem(f"File: {Path(request.path).name}", data)
                index = self.source_combo.count() - 1
        else:
            index = self.source_combo.findData(request.source_key)
        self.source_combo.setCurrentIndex(index)

    def _on_source_chosen(self, index: int) -> None:
        data = str(self.source_combo.itemData(index))
        if data.startswith("file:"):
            self.load_file(data[len("file:"):])
        else:
            self.load_source(data)

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        if path:
            self.load_file(path)

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.load_file(paths[0])

    # -- schedule (shared state) and noise -------------------------------------------------
    def _on_schedules_changed(self) -> None:
        with QSignalBlocker(self.schedule_combo):
            self.schedule_combo.clear()
            for spec in self.schedules.specs:
                self.schedule_combo.addItem(spec.label)
        self._on_current_schedule_changed(self.schedules.current_index)

    def _on_current_schedule_changed(self, index: int) -> None:
        self.schedule_combo.setCurrentIndex(index)
        with QSignalBlocker(self.timesteps_spin):
            self.timesteps_spin.setValue(self.schedules.current.num_train_timesteps)
        self.session.schedule_changed()

    def _on_timesteps_changed(self, value: int) -> None:
        spec = self.schedules.current
        if value != spec.num_train_timesteps:
            self.schedules.set_current_spec(dataclasses.replace(spec, num_train_timesteps=value))

    def reroll_noise(self) -> None:
        self.seed_spin.setValue(random.randrange(2**31 - 1))

    # -- results ---------------------------------------------------------------------------
    def _set_timestep_range(self, last: int, t: int) -> None:
        """Slider and t box to 0 … last showing t, without re-rendering on the way."""
        for widget in (self.slider, self.t_spin):
            with QSignalBlocker(widget):
                widget.setMaximum(last)
                widget.setValue(t)

    def _on_forward(self, _result) -> None:
        renderer = self.session.renderer
        self.noise_view.set_array(self.session.noise_pixels)
        self.frame_view.set_array(renderer.buffer)
        last = renderer.num_timesteps - 1
        t = min(self.slider.value(), last)
        restored = self.session.take_restore_t()
        if restored is not None:
            t = min(restored, last)
        self._set_timestep_range(last, t)
        self.slider.setPageStep(max(1, renderer.num_timesteps // 10))
        self.spectrum_panel.set_parts(self.session.result.spectrum)
        self.targets_panel.set_images(self.session.result.x0, self.session.result.noise)
        self.show_timestep(t)

    def _on_frame_view_resized(self) -> None:
        """Render only the pixels the view can show (a big image in a small view)."""
        if self.session.set_view_size(*self.frame_view.device_size()):
            self.frame_view.set_array(self.session.renderer.buffer)
            self.session.renderer.render(self.slider.value())

    def _on_markov_toggled(self, on: bool) -> None:
        self.session.show_markov = on
        self._set_markov_visible(on)
        if on and self.session.markov_outdated():
            self.session.request_markov()
        elif not on:
            self.session.cancel_markov()
        self.show_timestep(self.slider.value())

    def _set_markov_visible(self, on: bool) -> None:
        for widget in (self.markov_caption, self.markov_view, self.markov_note):
            widget.setVisible(on)
        self.markov_progress.setVisible(on and self.session.markov_running)
        self.markov_curve.setVisible(on and self.session.markov is not None)
        # A hidden column must not keep its share of the width.
        self.images_grid.setColumnStretch(1, 4 if on else 0)
        self.histogram.set_markov_listed(on)

    def _on_markov_started(self, total: int) -> None:
        self.markov_view.set_array(None)
        self.markov_curve.setVisible(False)
        self.markov_progress.setRange(0, total)
        self.markov_progress.setValue(0)
        self.markov_progress.setVisible(True)

    def _on_markov(self, _result) -> None:
        self._markov_index_shown = None
        self.markov_progress.setVisible(False)
        self.markov_curve.setVisible(self.markov_check.isChecked())
        self.show_timestep(self.slider.value())

    # -- the frame -------------------------------------------------------------------------
    def show_timestep(self, t: int) -> None:
        """Render x_t into the view's buffer and update readouts and histogram (GUI thread)."""
        if self.slider.value() != t:
            self.slider.setValue(t)  # comes back here through valueChanged
            return
        if self.t_spin.value() != t:
            with QSignalBlocker(self.t_spin):
                self.t_spin.setValue(t)
        renderer, markov = self.session.renderer, self.session.markov
        if renderer is None or t >= renderer.num_timesteps:
            return
        renderer.render(t)
        self.frame_view.update()
        signal, noise = renderer.coefficients(t)
        snr, log_snr = format_snr(float(renderer.alphas_cumprod[t]))
        self.readout.setText(readout_text(t, renderer.num_timesteps, signal, noise, snr, log_snr))
        if self.markov_check.isChecked() and markov is not None:
            index = markov.index_for(t)
            if index != self._markov_index_shown:
                self._markov_index_shown = index
                self.markov_view.set_array(markov.frames[index])
            self.markov_caption.setText(markov_caption(markov.stride, int(markov.timesteps[index])))
        # The histogram (or spectrum, or targets) follows at up to ~30 Hz: painting the plot
        # costs more than the image, and the eye reads its shape, not every intermediate step.
        if not self._histogram_timer.isActive():
            self._histogram_timer.start()

    def refresh_analysis(self) -> None:
        """The view under the slider that is shown, at the slider's t."""
        shown = self.analysis_tabs.currentWidget()
        if shown is self.histogram:
            self.refresh_histogram()
            return
        renderer = self.session.renderer
        if renderer is None:
            return
        t = min(self.slider.value(), renderer.num_timesteps - 1)
        if shown is self.spectrum_panel:
            self.spectrum_panel.show_at(*renderer.coefficients(t))
        elif shown is self.targets_panel:
            self.targets_panel.show_at(t, float(renderer.alphas_cumprod[t]))

    def refresh_histogram(self) -> None:
        renderer, markov = self.session.renderer, self.session.markov
        if renderer is None:
            return
        t = min(self.slider.value(), renderer.num_timesteps - 1)
        chain = (markov.histograms[markov.index_for(t)]
                 if self.markov_check.isChecked() and markov is not None else None)
        self.histogram.show_densities(renderer.histogram(t), chain)

    # -- keys and visibility ---------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.play_button.toggle()
        elif event.key() in STEER_KEYS:
            QApplication.sendEvent(self.slider, event)
        else:
            super().keyPressEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.slider.setFocus()

    def hideEvent(self, event) -> None:
        self.play_button.setChecked(False)  # no animation running behind another tab
        super().hideEvent(event)

    # -- export ----------------------------------------------------------------------------
    def export_frame(self, path: str) -> None:
        self.session.export_frame(path, self.slider.value())

    def export_strip(self, path: str, count: int) -> None:
        self.session.export_strip(path, count)

    def export_animation(self, path: str):
        return self.session.export_animation(path)

    def _export_frame_dialog(self) -> None:
        if self.session.renderer is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the current frame", f"forward_t{self.slider.value()}.png",
            "PNG images (*.png)")
        if path:
            self._run_export(lambda: self.export_frame(path), path)

    def _export_strip_dialog(self) -> None:
        if self.session.renderer is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export a strip of frames",
                                              "forward_strip.png", "PNG images (*.png)")
        if path:
            self._run_export(lambda: self.export_strip(path, self.strip_count.value()), path)

    def _export_animation_dialog(self) -> None:
        if self.session.renderer is None:
            return
        path, chosen = QFileDialog.getSaveFileName(self, "Export the forward process",
                                                   "forward.gif", "GIF (*.gif);;WebP (*.webp)")
        if path:
            if Path(path).suffix.lower() not in (".gif", ".webp"):
                path += ".webp" if "webp" in chosen.lower() else ".gif"
            self.export_animation(path)

    def _run_export(self, export, path: str) -> None:
        try:
            export()
        except UserFacingError as exc:
            self.window().show_error("Export failed", str(exc))
        else:
            self._saved(path)

    def _saved(self, what: str) -> None:
        self.window().statusBar().showMessage(f"Saved {what}", 5000)

    # -- restore (the gallery, File → Open parameters) ------------------------------------
    def restore_parameters(self, request: dict) -> bool:
        """Show what a saved export showed: source, schedule (T), t, seed, size, grayscale.
        A user file that no longer exists is reported; everything else is still restored."""
        if not isinstance(request, dict):
            raise ValueError("the stored request is not a set of parameters")
        notes = self.session.restore_schedule(request.get("schedule"))
        notes += restore_controls(self, request)
        self.session.seed = self.seed_spin.value()
        notes += self.session.restore_image(request, **image_options(self))
        return self.session.finish_restore(notes)

    # -- status ----------------------------------------------------------------------------
    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {'#b00020' if error else '#555'}; padding: 2px")
