"""The "Forward process" page: an image dissolving into Gaussian noise, scrubbed at display rate.

The engine returns x₀, one seeded ε and the schedule's ᾱ once; every slider move is then a
numpy expression into a preallocated buffer (engine.forward.frames.FrameRenderer) that the view
paints without copying. The Markov chain, which has no shortcut, runs in the engine thread.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserFacingError
from engine.forward.export import export_record, frame_strip, parameters_text, save_forward_png
from engine.forward.frames import (
    HISTOGRAM_CENTRES,
    HISTOGRAM_EDGES,
    FrameRenderer,
    evenly_spaced_timesteps,
)
from engine.forward.types import (
    IMAGE_SOURCES,
    AnimationRequest,
    ForwardRequest,
    LoadImageRequest,
    MarkovRequest,
)
from engine.images import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE, to_uint8
from engine.png.record import KIND_FORWARD, request_from_record
from engine.schedules.types import ScheduleSpec
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.frame_view import FrameView, ReadoutLine
from playground_gui.widgets.images import RGB32
from playground_gui.widgets.plots import normal_pdf

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff *.ppm *.pgm *.tga);;"
                "All files (*)")
SPEEDS = (25, 50, 100, 250, 500, 1000)  # timesteps per second
DEFAULT_SPEED = 250
PLAY_INTERVAL_MS = 16
STEER_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
              Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}
MARKOV_NOTE = (
    "<b>Same distribution, different route.</b> Left: one jump, x<sub>t</sub> = √ᾱ<sub>t</sub>·x₀ + "
    "√(1−ᾱ<sub>t</sub>)·ε. Right: t+1 small steps x<sub>t</sub> = √(1−β<sub>t</sub>)·x<sub>t−1</sub> + "
    "√β<sub>t</sub>·ε<sub>t</sub>, each with fresh noise. Independent Gaussian steps add up to one "
    "Gaussian, so both are samples of N(√ᾱ<sub>t</sub>·x₀, (1−ᾱ<sub>t</sub>)·I): the grain differs, "
    "the histograms match. That is why training can jump straight to any t.")


def readout_text(t: int, num_timesteps: int, signal: float, noise: float, snr: str,
                 log_snr: str) -> str:
    return (f"t = {t} of {num_timesteps}  ·  signal √ᾱₜ = {signal:.4f}  ·  noise √(1−ᾱₜ) = "
            f"{noise:.4f}  ·  SNR = {snr}  ·  log-SNR = {log_snr}")


# The widest readouts there can be: the readout keeps room for them, so nothing is cut off.
READOUT_SAMPLES = (readout_text(99_998, 99_999, 0.0001, 0.9999, "1.234e-05", "−11.302"),
                   readout_text(0, 100_000, 0.9999, 0.0100, "9997.341", "+9.210"))


def markov_caption(stride: int, kept_t: int) -> str:
    kept = "every step kept" if stride == 1 else f"1 frame per {stride} steps kept"
    return f"xₜ (Markov chain)\n{kept} · showing t = {kept_t}"


MARKOV_CAPTION_SAMPLES = (markov_caption(100, 99_999),)


def format_snr(alpha_bar: float) -> tuple[str, str]:
    if alpha_bar >= 1.0:
        return "∞", "∞"
    if alpha_bar <= 0.0:
        return "0", "−∞"
    snr = alpha_bar / (1.0 - alpha_bar)
    snr_text = f"{snr:.3e}" if snr < 1e-2 or snr >= 1e4 else f"{snr:.3f}"
    return snr_text, f"{math.log(alpha_bar) - math.log1p(-alpha_bar):+.3f}"


class ForwardPage(QWidget):
    title = "Forward process"
    restores_kinds = {KIND_FORWARD}

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.engine = context.engine
        self.schedules = context.schedules
        self.loaded = None  # engine.images.LoadedImage now shown
        self.loaded_request: LoadImageRequest | None = None
        self._pending_load: LoadImageRequest | None = None
        self.result = None  # engine.forward.types.ForwardResult
        self.renderer: FrameRenderer | None = None
        self.markov = None  # engine.forward.types.MarkovResult
        self.seed = 0
        self._jobs: dict[str, object] = {}  # kind -> JobHandle of the newest job of that kind
        self._noise_pixels = None
        self._markov_index_shown = None
        self._hist_dirty = False
        self._restore_t: int | None = None  # t to show once a restored image is computed
        self._restore_note = ""  # what a restore could not do, kept in the status line

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 1000])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self._play_timer = QTimer(self, interval=PLAY_INTERVAL_MS)
        self._play_timer.timeout.connect(self._advance)
        self._play_clock = QElapsedTimer()
        self._play_position = 0.0
        self._histogram_timer = QTimer(self, singleShot=True, interval=30)
        self._histogram_timer.timeout.connect(self.refresh_histogram)
        self._schedule_timer = QTimer(self, singleShot=True, interval=150)
        self._schedule_timer.timeout.connect(self._request_forward)
        self._reload_timer = QTimer(self, singleShot=True, interval=250)
        self._reload_timer.timeout.connect(self._reload)

        self.schedules.changed.connect(self._on_schedules_changed)
        self.schedules.current_changed.connect(self._on_current_schedule_changed)
        self._on_schedules_changed()
        self.load_source(next(iter(IMAGE_SOURCES)))

    # -- layout ----------------------------------------------------------------------------
    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 6, 0)

        image_box = QGroupBox("Image x₀")
        image_form = QFormLayout(image_box)
        self.source_combo = QComboBox()
        for key, (label, _) in IMAGE_SOURCES.items():
            self.source_combo.addItem(label, key)
        self.source_combo.setToolTip("Built-in samples, or your own file (Open… or drag and drop)")
        self._compact(self.source_combo)
        self.source_combo.activated.connect(self._on_source_chosen)
        open_button = QPushButton("Open…")
        open_button.setToolTip("Open any image file; you can also drop one onto this page")
        open_button.clicked.connect(self._open_dialog)
        image_form.addRow(self.source_combo)  # the whole width: the names are long
        drop_hint = QLabel("or drop a file here")
        drop_hint.setStyleSheet("color: #555")
        open_row = QHBoxLayout()
        open_row.addWidget(open_button)
        open_row.addWidget(drop_hint, 1)
        image_form.addRow(open_row)
        self.size_spin = QSpinBox(minimum=MIN_WORKING_SIZE, maximum=MAX_WORKING_SIZE,
                                  value=DEFAULT_WORKING_SIZE, singleStep=64, suffix=" px")
        self.size_spin.setToolTip("Working size: the longest side after resizing (aspect kept)")
        self.size_spin.valueChanged.connect(lambda _: self._reload_timer.start())
        self.grayscale_check = QCheckBox("Grayscale")
        self.grayscale_check.toggled.connect(lambda _: self._reload_timer.start())
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_spin)
        size_row.addWidget(self.grayscale_check)
        image_form.addRow("Working size", size_row)
        self.image_info = QLabel("No image yet")
        self.image_info.setWordWrap(True)
        self.image_info.setStyleSheet("color: #555")
        image_form.addRow(self.image_info)
        column.addWidget(image_box)

        schedule_box = QGroupBox("Schedule (shared with Noise schedules)")
        schedule_form = QFormLayout(schedule_box)
        self.schedule_combo = QComboBox()
        self.schedule_combo.setToolTip("The schedules overlaid in the Noise schedules tab; "
                                       "picking one here selects it there too")
        self.schedule_combo.activated.connect(self.schedules.set_current_index)
        self._compact(self.schedule_combo)
        schedule_form.addRow(self.schedule_combo)  # the whole width, as the labels are long
        self.timesteps_spin = QSpinBox(minimum=2, maximum=100_000, value=1000, singleStep=100)
        self.timesteps_spin.setToolTip("T, the number of timesteps of the selected schedule")
        self.timesteps_spin.setKeyboardTracking(False)
        self.timesteps_spin.valueChanged.connect(self._on_timesteps_changed)
        schedule_form.addRow("Timesteps T", self.timesteps_spin)
        column.addWidget(schedule_box)

        noise_box = QGroupBox("Noise ε and playback")
        noise_form = QFormLayout(noise_box)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("ε is drawn with torch from this seed (the CLI's --seed)")
        self.seed_spin.valueChanged.connect(self._on_seed_changed)
        reroll = QPushButton("New noise")
        reroll.setToolTip("Draw a new ε (a new random seed)")
        reroll.clicked.connect(self.reroll_noise)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(reroll)
        noise_form.addRow("Seed", seed_row)
        self.speed_combo = QComboBox()
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed} steps/s", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        noise_form.addRow("Play speed", self.speed_combo)
        self.markov_check = QCheckBox("Markov chain next to the closed form")
        self.markov_check.setToolTip("Also build x_t step by step, with fresh noise at every step")
        self.markov_check.toggled.connect(self._on_markov_toggled)
        noise_form.addRow(self.markov_check)
        column.addWidget(noise_box)

        export_box = QGroupBox("Export (closed form)")
        export_grid = QGridLayout(export_box)
        self.frame_button = QPushButton("Frame PNG…")
        self.frame_button.setToolTip("x_t at the current t, at the working size")
        self.frame_button.clicked.connect(self._export_frame_dialog)
        self.strip_button = QPushButton("Strip PNG…")
        self.strip_button.setToolTip("N frames at evenly spaced t, side by side")
        self.strip_button.clicked.connect(self._export_strip_dialog)
        self.strip_count = QSpinBox(minimum=2, maximum=30, value=10, prefix="N = ")
        self.animation_button = QPushButton("Animation GIF / WebP…")
        self.animation_button.setToolTip("The whole forward process, 60 frames, longest side 256 px")
        self.animation_button.clicked.connect(self._export_animation_dialog)
        export_grid.addWidget(self.frame_button, 0, 0)
        export_grid.addWidget(self.strip_button, 1, 0)
        export_grid.addWidget(self.strip_count, 1, 1)
        export_grid.addWidget(self.animation_button, 2, 0, 1, 2)
        column.addWidget(export_box)

        column.addWidget(ExplanationPanel("forward.html", expanded=True), 1)
        scroll = scrolling_column(panel, panel.minimumSizeHint().width() + 16, 400,
                                  horizontal_scroll=False)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        return scroll

    @staticmethod
    def _compact(combo: QComboBox) -> None:
        """A combo box whose long entries do not widen the whole control column."""
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(14)
        combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)

    def _build_views(self) -> QWidget:
        views = QWidget()
        layout = QVBoxLayout(views)
        layout.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel("Starting the engine (PyTorch loads once, in the background)…")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: #555; padding: 2px")
        # Two lines always reserved: a longer message does not push the image down.
        self.status_label.setMinimumHeight(2 * self.status_label.fontMetrics().lineSpacing() + 4)
        layout.addWidget(self.status_label)

        self.images_grid = images = QGridLayout()
        images.setSpacing(6)
        self.frame_caption = QLabel("xₜ (closed form)")
        self.frame_view = FrameView("The noised image appears here", four_channel=RGB32)
        self.frame_view.resized.connect(self._on_frame_view_resized)
        self.markov_caption = ReadoutLine("xₜ (Markov chain)", bold=False, centred=True, lines=2)
        self.markov_caption.fit(MARKOV_CAPTION_SAMPLES)
        self.markov_caption.setToolTip("The chain keeps every step while they fit in memory; "
                                       "otherwise one frame per so many steps, the nearest shown")
        self.markov_view = FrameView("Building the chain step by step…")
        self.clean_caption = QLabel("x₀ (clean)")
        self.clean_view = FrameView("", minimum=72)
        self.noise_caption = QLabel("ε (the fixed noise)")
        self.noise_view = FrameView("", minimum=72)
        for caption in (self.frame_caption, self.clean_caption, self.noise_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        images.addWidget(self.frame_caption, 0, 0)
        images.addWidget(self.frame_view, 1, 0, 3, 1)
        images.addWidget(self.markov_caption, 0, 1)
        images.addWidget(self.markov_view, 1, 1, 3, 1)
        images.addWidget(self.clean_caption, 0, 2)
        images.addWidget(self.clean_view, 1, 2)
        images.addWidget(self.noise_caption, 2, 2)
        images.addWidget(self.noise_view, 3, 2)
        images.setColumnStretch(0, 4)
        images.setColumnStretch(1, 4)
        images.setColumnStretch(2, 1)
        layout.addLayout(images, 4)
        self.markov_progress = QProgressBar()
        self.markov_progress.setFormat("Markov chain: %v / %m steps")
        self.markov_note = QLabel(MARKOV_NOTE)
        self.markov_note.setWordWrap(True)
        self.markov_note.setStyleSheet("background: #fff8e1; padding: 4px")
        layout.addWidget(self.markov_progress)
        layout.addWidget(self.markov_note)

        slider_row = QHBoxLayout()
        self.play_button = QPushButton()
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setCheckable(True)
        self._show_play_state(False)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 999)
        self.slider.setToolTip("Timestep t. Keys: ←/→ one step, Page Up/Down a tenth, Home/End")
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.valueChanged.connect(self.show_timestep)
        self.t_spin = QSpinBox(minimum=0, maximum=999, prefix="t = ")
        self.t_spin.valueChanged.connect(self.slider.setValue)
        slider_row.addWidget(self.play_button)
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.t_spin)
        layout.addLayout(slider_row)
        self.readout = ReadoutLine()
        self.readout.fit(READOUT_SAMPLES)
        self.readout.setToolTip("Signal and noise shares (standard deviations) and the "
                                "signal-to-noise ratio SNR = ᾱₜ/(1−ᾱₜ) at t")
        layout.addWidget(self.readout)

        self.histogram = pg.PlotWidget(background="w")
        self.histogram.setMenuEnabled(False)
        self.histogram.setMouseEnabled(x=False, y=False)
        self.histogram.hideButtons()
        self.histogram.setLabel("bottom", "value of x<sub>t</sub> (all pixels and channels)")
        self.histogram.setLabel("left", "density")
        self.histogram.setXRange(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1], padding=0)
        self.histogram.showGrid(x=True, y=True, alpha=0.2)
        self.histogram.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.histogram.addLegend(offset=(-8, 6), labelTextSize="9pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.hist_curve = self.histogram.plot(
            HISTOGRAM_EDGES, np.zeros(len(HISTOGRAM_CENTRES)), stepMode="center", fillLevel=0,
            brush=pg.mkBrush(0, 114, 178, 90), pen=pg.mkPen("#0072B2", width=1),
            name="x<sub>t</sub>, closed form")
        self.markov_curve = self.histogram.plot(
            HISTOGRAM_EDGES, np.zeros(len(HISTOGRAM_CENTRES)), stepMode="center",
            pen=pg.mkPen("#D55E00", width=2))
        self.markov_curve.setVisible(False)
        xs = np.linspace(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1], 400)
        self.histogram.plot(xs, normal_pdf(xs), name="N(0, 1) density",
                            pen=pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine))
        self._hist_top = 0.5
        self.histogram.setYRange(0, self._hist_top, padding=0)
        for name in ("left", "bottom"):
            # Axes and grid change only with the range: paint them once into a pixmap.
            self.histogram.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.histogram.setAntialiasing(False)  # a step outline is axis-aligned anyway
        self.histogram.setMinimumHeight(120)
        layout.addWidget(self.histogram, 1)
        self._set_markov_visible(False)
        return views

    # -- image loading ---------------------------------------------------------------------
    def load_source(self, key: str) -> None:
        self._restore_note = ""
        self._load(LoadImageRequest(source_key=key, working_size=self.size_spin.value(),
                                    grayscale=self.grayscale_check.isChecked()))

    def load_file(self, path: str) -> None:
        self._restore_note = ""
        self._load(LoadImageRequest(path=str(path), working_size=self.size_spin.value(),
                                    grayscale=self.grayscale_check.isChecked()))

    def _reload(self) -> None:
        # The newest request, even if it is still loading: a size change right after picking
        # a source must not bring the previous source back.
        request = self._pending_load or self.loaded_request
        if request is not None:
            self._load(dataclasses.replace(request, working_size=self.size_spin.value(),
                                           grayscale=self.grayscale_check.isChecked()))

    def _load(self, request: LoadImageRequest) -> None:
        name = Path(request.path).name if request.path else IMAGE_SOURCES[request.source_key][0]
        self._set_status(f"Loading {name}…")
        self._pending_load = request
        job = self._submit("load", request, f"Loading {name}")
        job.succeeded.connect(lambda loaded, r=request: self._on_loaded(r, loaded))
        job.failed.connect(self._on_load_failed)

    def _on_loaded(self, request: LoadImageRequest, loaded) -> None:
        self.loaded, self.loaded_request = loaded, request
        if self._pending_load == request:
            self._pending_load = None
        self.clean_view.set_array(loaded.pixels)
        self.image_info.setText(loaded.description)
        self._sync_source_combo()
        self._request_forward()

    def _on_load_failed(self, message: str) -> None:
        # The previous image stays loaded; the main window shows the message in a dialog too.
        self._pending_load = None
        kept = f" Still showing {self.loaded.source}." if self.loaded is not None else ""
        self._set_status(f"Could not load the image: {message}{kept}", error=True)
        self._sync_source_combo()

    def _sync_source_combo(self) -> None:
        """Point the source combo at what is loaded (a file gets its own entry)."""
        request = self.loaded_request
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

    # -- schedule (shared state) -----------------------------------------------------------
    def _on_schedules_changed(self) -> None:
        self.schedule_combo.blockSignals(True)
        self.schedule_combo.clear()
        for spec in self.schedules.specs:
            self.schedule_combo.addItem(spec.label)
        self.schedule_combo.blockSignals(False)
        self._on_current_schedule_changed(self.schedules.current_index)

    def _on_current_schedule_changed(self, index: int) -> None:
        self.schedule_combo.setCurrentIndex(index)
        self.timesteps_spin.blockSignals(True)
        self.timesteps_spin.setValue(self.schedules.current.num_train_timesteps)
        self.timesteps_spin.blockSignals(False)
        if self.result is None or self.result.spec != self.schedules.current:
            self._schedule_timer.start()

    def _on_timesteps_changed(self, value: int) -> None:
        spec = self.schedules.current
        if value != spec.num_train_timesteps:
            self.schedules.set_current_spec(dataclasses.replace(spec, num_train_timesteps=value))

    # -- noise -----------------------------------------------------------------------------
    def reroll_noise(self) -> None:
        self.seed_spin.setValue(random.randrange(2**31 - 1))

    def _on_seed_changed(self, value: int) -> None:
        self._restore_note = ""
        self.seed = value
        self._request_forward()

    # -- engine ----------------------------------------------------------------------------
    def _submit(self, kind: str, request, description: str):
        previous = self._jobs.get(kind)
        if previous is not None:
            previous.cancel()  # only the newest request of a kind matters
        job = self.engine.submit(request, description)
        self._jobs[kind] = job
        job.finished.connect(lambda k=kind, j=job: self._forget(k, j))
        return job

    def _forget(self, kind: str, job) -> None:
        if self._jobs.get(kind) is job:
            del self._jobs[kind]

    def _is_newest(self, kind: str, job) -> bool:
        return self._jobs.get(kind) is job

    def _request_forward(self) -> None:
        if self.loaded is None:
            return
        request = ForwardRequest(self.loaded.pixels, self.schedules.current, self.seed)
        self._set_status(f"Drawing noise and computing ᾱ for {request.spec.label}…")
        job = self._submit("forward", request, "Forward process")
        job.succeeded.connect(lambda result, j=job, image=self.loaded: self._on_forward(j, image, result))
        job.failed.connect(lambda message: self._set_status(f"Could not compute: {message}", error=True))
        if self.markov_check.isChecked():
            self._request_markov()

    def _on_forward(self, job, loaded, result) -> None:
        self.result = result
        self.renderer = FrameRenderer(result.x0, result.noise, result.alphas_cumprod,
                                      self.frame_view.device_size())
        self._noise_pixels = to_uint8(result.noise)
        self.noise_view.set_array(self._noise_pixels)
        self.frame_view.set_array(self.renderer.buffer)
        last = self.renderer.num_timesteps - 1
        t = min(self.slider.value(), last)
        for widget in (self.slider, self.t_spin):
            widget.blockSignals(True)
            widget.setMaximum(last)
            widget.setValue(t)
            widget.blockSignals(False)
        self.slider.setPageStep(max(1, self.renderer.num_timesteps // 10))
        if self._restore_t is not None and self._pending_load is None:
            t = min(self._restore_t, last)
            self._restore_t = None
            for widget in (self.slider, self.t_spin):
                widget.blockSignals(True)
                widget.setValue(t)
                widget.blockSignals(False)
        self._set_status(f"{loaded.source} · {result.spec.label} · seed {result.seed}. "
                         "Drag the slider or use ←/→, Page Up/Down, Home/End."
                         + (f" ⚠ {self._restore_note}" if self._restore_note else ""),
                         error=bool(self._restore_note))
        self.show_timestep(t)

    def _on_frame_view_resized(self) -> None:
        """Render only the pixels the view can show (a big image in a small view)."""
        renderer = self.renderer
        if renderer is None:
            return
        before = renderer.display_size
        renderer.set_display_size(*self.frame_view.device_size())
        if renderer.display_size != before:
            self.frame_view.set_array(renderer.buffer)
            renderer.render(self.slider.value())

    def _on_markov_toggled(self, on: bool) -> None:
        self._set_markov_visible(on)
        if on and (self.markov is None or self.markov.spec != self.schedules.current
                   or self.markov.seed != self.seed):
            self._request_markov()
        elif not on and "markov" in self._jobs:
            self._jobs["markov"].cancel()
        self.show_timestep(self.slider.value())

    def _set_markov_visible(self, on: bool) -> None:
        for widget in (self.markov_caption, self.markov_view, self.markov_note):
            widget.setVisible(on)
        self.markov_progress.setVisible(on and "markov" in self._jobs)
        self.markov_curve.setVisible(on and self.markov is not None)
        # A hidden column must not keep its share of the width.
        self.images_grid.setColumnStretch(1, 4 if on else 0)
        if on and self.legend.getLabel(self.markov_curve) is None:
            self.legend.addItem(self.markov_curve, "x<sub>t</sub>, Markov chain")
        elif not on:
            self.legend.removeItem(self.markov_curve)

    def _request_markov(self) -> None:
        if self.loaded is None:
            return
        self.markov = None
        self.markov_view.set_array(None)
        self.markov_curve.setVisible(False)
        request = MarkovRequest(self.loaded.pixels, self.schedules.current, self.seed)
        job = self._submit("markov", request, "Markov chain")
        self.markov_progress.setRange(0, request.spec.num_train_timesteps)
        self.markov_progress.setValue(0)
        self.markov_progress.setVisible(True)
        job.progress.connect(lambda update: self.markov_progress.setValue(update.done))
        job.succeeded.connect(self._on_markov)
        job.finished.connect(lambda: self.markov_progress.setVisible("markov" in self._jobs))

    def _on_markov(self, result) -> None:
        self.markov = result
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
            self.t_spin.blockSignals(True)
            self.t_spin.setValue(t)
            self.t_spin.blockSignals(False)
        renderer = self.renderer
        if renderer is None or t >= renderer.num_timesteps:
            return
        renderer.render(t)
        self.frame_view.update()
        alpha_bar = float(renderer.alphas_cumprod[t])
        signal, noise = renderer.coefficients(t)
        snr, log_snr = format_snr(alpha_bar)
        self.readout.setText(readout_text(t, renderer.num_timesteps, signal, noise, snr, log_snr))
        if self.markov_check.isChecked() and self.markov is not None:
            index = self.markov.index_for(t)
            if index != self._markov_index_shown:
                self._markov_index_shown = index
                self.markov_view.set_array(self.markov.frames[index])
            self.markov_caption.setText(markov_caption(self.markov.stride,
                                                       int(self.markov.timesteps[index])))
        # The histogram follows at up to ~30 Hz: painting the plot costs more than the image,
        # and the eye reads its shape, not every intermediate step.
        if not self._histogram_timer.isActive():
            self._histogram_timer.start()

    def refresh_histogram(self) -> None:
        renderer = self.renderer
        if renderer is None:
            return
        t = min(self.slider.value(), renderer.num_timesteps - 1)
        densities = [renderer.histogram(t)]
        self.hist_curve.setData(HISTOGRAM_EDGES, densities[0])
        if self.markov_check.isChecked() and self.markov is not None:
            densities.append(self.markov.histograms[self.markov.index_for(t)])
            self.markov_curve.setData(HISTOGRAM_EDGES, densities[1])
        # Rescale y only when the peak leaves the range or uses under half of it: a steady
        # axis is easier to read and is not redrawn on every frame.
        peak = max(0.45, max(float(d.max()) for d in densities))
        if not 0.5 * self._hist_top < peak <= self._hist_top:
            self._hist_top = peak * 1.15
            self.histogram.setYRange(0, self._hist_top, padding=0)

    # -- playback and keys -----------------------------------------------------------------
    def _show_play_state(self, playing: bool) -> None:
        # The style's own icons: a glyph such as ⏸ is missing from many fonts (an empty box).
        icon = (QStyle.StandardPixmap.SP_MediaPause if playing
                else QStyle.StandardPixmap.SP_MediaPlay)
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def _on_play_toggled(self, playing: bool) -> None:
        self._show_play_state(playing)
        if playing:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self._play_position = float(self.slider.value())
            self._play_clock.start()
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def _advance(self) -> None:
        elapsed = self._play_clock.restart() / 1000.0
        self._play_position += elapsed * float(self.speed_combo.currentData())
        t = min(int(self._play_position), self.slider.maximum())
        self.slider.setValue(t)
        if t >= self.slider.maximum():
            self.play_button.setChecked(False)

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
    def frame_record(self, t=None, export: str = "frame") -> dict:
        """What the exports store: enough for restore_parameters to show the same x_t."""
        request = self.loaded_request
        return export_record(
            self.result.spec, self.result.seed, self.loaded.source,
            source_key=request.source_key if request else None,
            path=request.path if request else None,
            working_size=request.working_size if request else self.size_spin.value(),
            grayscale=request.grayscale if request else self.grayscale_check.isChecked(),
            t=t, export=export)

    def export_frame(self, path: str) -> None:
        t = self.slider.value()
        save_forward_png(path, self.renderer.pixels(t), self.frame_record(t))

    def export_strip(self, path: str, count: int) -> None:
        steps = evenly_spaced_timesteps(self.renderer.num_timesteps, count)
        save_forward_png(path, frame_strip(self.renderer, steps),
                         self.frame_record([int(t) for t in steps], export="strip"))

    def export_animation(self, path: str):
        request = AnimationRequest(path, self.result.x0, self.result.noise,
                                   self.result.alphas_cumprod,
                                   parameters=parameters_text(
                                       self.frame_record(export="animation")))
        job = self._submit("animation", request, "Writing the animation")
        started = time.perf_counter()
        job.succeeded.connect(lambda p: self._saved(f"{p} ({time.perf_counter() - started:.1f} s)"))
        return job

    def _export_frame_dialog(self) -> None:
        if self.renderer is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the current frame", f"forward_t{self.slider.value()}.png",
            "PNG images (*.png)")
        if path:
            self._run_export(lambda: self.export_frame(path), path)

    def _export_strip_dialog(self) -> None:
        if self.renderer is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export a strip of frames",
                                              "forward_strip.png", "PNG images (*.png)")
        if path:
            self._run_export(lambda: self.export_strip(path, self.strip_count.value()), path)

    def _export_animation_dialog(self) -> None:
        if self.renderer is None:
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
        notes: list[str] = []
        schedule = request.get("schedule")
        if isinstance(schedule, dict):
            try:
                spec, _ = request_from_record(ScheduleSpec, schedule)
            except (TypeError, ValueError) as exc:
                notes.append(f"the schedule ({exc})")
            else:
                if spec in self.schedules.specs:
                    self.schedules.set_current_index(self.schedules.specs.index(spec))
                else:
                    self.schedules.set_current_spec(spec)
        seed = request.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool) and \
                self.seed_spin.minimum() <= seed <= self.seed_spin.maximum():
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(seed)
            self.seed_spin.blockSignals(False)
            self.seed = seed
        elif seed is not None:
            notes.append(f"the seed {seed!r}")
        size = request.get("working_size")
        self.size_spin.blockSignals(True)
        self.grayscale_check.blockSignals(True)
        if isinstance(size, int) and MIN_WORKING_SIZE <= size <= MAX_WORKING_SIZE:
            self.size_spin.setValue(size)
        elif size is not None:
            notes.append(f"the working size {size!r}")
        self.grayscale_check.setChecked(bool(request.get("grayscale", False)))
        self.size_spin.blockSignals(False)
        self.grayscale_check.blockSignals(False)
        t = request.get("t")
        self._restore_t = t if isinstance(t, int) and not isinstance(t, bool) and t >= 0 else None

        key, path = request.get("source_key"), request.get("path")
        load = None
        if key in IMAGE_SOURCES:
            load = LoadImageRequest(source_key=key, working_size=self.size_spin.value(),
                                    grayscale=self.grayscale_check.isChecked())
        elif isinstance(path, str) and path:
            if Path(path).is_file():
                load = LoadImageRequest(path=path, working_size=self.size_spin.value(),
                                        grayscale=self.grayscale_check.isChecked())
            else:
                shown = self.loaded.source if self.loaded is not None else "the current image"
                notes.append(f"the image {path} no longer exists (still showing {shown})")
        else:
            notes.append(f"the image {request.get('source', '')!r} (not a built-in sample)")
        current = self.loaded_request
        if load is None and current is not None and (current.path is None
                                                     or Path(current.path).is_file()):
            # The image shown stays, at the restored size and colour.
            load = dataclasses.replace(current, working_size=self.size_spin.value(),
                                       grayscale=self.grayscale_check.isChecked())
        if load is not None:
            self._load(load)
        else:
            self._request_forward()
        self._restore_note = ("Restored, except " + "; ".join(notes) + ".") if notes else ""
        if notes:
            self._set_status(self._restore_note, error=True)
        return not notes

    # -- status ----------------------------------------------------------------------------
    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {'#b00020' if error else '#555'}; padding: 2px")
