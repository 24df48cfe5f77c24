"""2D toy tab: a drop of dye dissolving into noise, and a small network you train to undo it."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.toy2d.types import (
    DATASET_NAMES,
    DatasetSpec,
    FieldRequest,
    ForwardRequest,
    SampleRequest,
    TrainRequest,
    sampling_steps,
)
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.job_status import format_seconds
from playground_gui.widgets.plane import DrawableViewBox, VectorFieldItem

EXTENT = 3.0  # the planes show [−3, 3]²: unit-variance data and N(0, I) noise both fit
DATA_COLOR = (0, 114, 178)  # Okabe–Ito blue
SAMPLE_COLOR = (213, 94, 0)  # Okabe–Ito vermillion
TRAIL_COLOR = (0, 158, 115, 190)
FORWARD_POINTS = 1000
SDE_SENTENCE = (
    "Forward: dx = −½β(t)·x dt + √β(t) dW, an Ornstein–Uhlenbeck process. Run backwards in time, "
    "dx = [−½β·x − β·∇log p<sub>t</sub>(x)] dt + √β dW̄ (the reverse SDE; DDPM samples it). "
    "Dropping the noise and halving the score term gives the probability-flow ODE, with the same "
    "marginals p<sub>t</sub>: DDIM with η = 0 follows it, so each noise point has one fixed path."
)


class PassiveScatter(pg.ScatterPlotItem):
    """Points that let clicks through: on the drawing plane a click on an existing point must
    add a point (pyqtgraph's scatter takes clicks on its points for itself)."""

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        ev.ignore()


def reserve_lines(label: QLabel, lines: int) -> None:
    """Keep room for ``lines`` lines of text, so the controls below do not jump when the text
    changes between one line and several."""
    label.setMinimumHeight(lines * label.fontMetrics().lineSpacing() + 4)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)


def fixed_text_width(label: QLabel, widest: str) -> None:
    """One line, as wide as ``widest`` (plain text): a readout beside a slider must neither wrap
    nor change the slider's length as its text changes."""
    label.setWordWrap(False)
    label.setFixedWidth(label.fontMetrics().horizontalAdvance(widest) + 8)


def narrow_combo(combo: QComboBox, characters: int = 12) -> None:
    """Let a combo box be narrower than its longest item (the list still shows it whole), so the
    control column fits its width at 1280×720 without a horizontal scroll bar."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)


def top_aligned_form(box: QGroupBox) -> QFormLayout:
    """A form whose row labels line up with the first line of multi-line fields."""
    form = QFormLayout(box)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return form


def normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _plane(title: str, view_box: pg.ViewBox | None = None) -> pg.PlotWidget:
    widget = pg.PlotWidget(viewBox=view_box)
    widget.setBackground("w")
    plot = widget.getPlotItem()
    plot.setTitle(title, size="10pt")
    plot.setAspectLocked(True)
    plot.setRange(xRange=(-EXTENT, EXTENT), yRange=(-EXTENT, EXTENT), padding=0)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)
    plot.setLabel("bottom", "x")
    plot.setLabel("left", "y")
    return widget


class Toy2DTab(QWidget):
    title = "2D toy diffusion"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.engine = context.engine
        self.schedules = context.schedules
        self.forward = None  # ForwardResult of the current data set and schedule
        self.model = None  # ToyModel to sample and draw fields from
        self.paused_state = None  # TrainState while paused
        self.sample_result = None
        self.losses = np.zeros(0, np.float32)
        self.drawn_points: list[np.ndarray] = []
        self._train_job = None
        self._pause_requested = False
        self._forward_job = None
        self._sample_job = None
        self._field_jobs: dict[str, object] = {}  # canvas name -> running FieldRequest job
        self._field_wanted: dict[str, int | None] = {}
        self.field_t: dict[str, int] = {}  # canvas name -> t of the field it shows

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 1100])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._forward_timer = QTimer(self, singleShot=True, interval=150)
        self._forward_timer.timeout.connect(self._request_forward)
        self._field_timer = QTimer(self, singleShot=True, interval=60)
        self._field_timer.timeout.connect(self._request_fields)
        self._play_timer = QTimer(self, interval=40)
        self._play_timer.timeout.connect(self._advance_playback)
        self.schedules.current_changed.connect(self._on_schedule_changed)
        self.schedules.changed.connect(self._on_schedule_changed)
        self._on_schedule_changed()
        self._on_dataset_changed()
        self._update_buttons()

    # -- layout ----------------------------------------------------------------------------
    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)

        data_box = QGroupBox("Data")
        data_form = top_aligned_form(data_box)
        self.dataset_combo = QComboBox()
        for key, label in DATASET_NAMES.items():
            self.dataset_combo.addItem(label, key)
        self.dataset_combo.setCurrentIndex(list(DATASET_NAMES).index("two_moons"))
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        narrow_combo(self.dataset_combo)
        data_form.addRow("Data set", self.dataset_combo)
        self.draw_hint = QLabel("Click or drag on the left plane to add points (grey). The "
                                "data set is your drawing plus a little jitter, centred and "
                                "scaled to unit variance (blue).")
        self.draw_hint.setWordWrap(True)
        self.clear_drawing_button = QPushButton("Clear drawing")
        self.clear_drawing_button.clicked.connect(self.clear_drawing)
        data_form.addRow(self.draw_hint)
        data_form.addRow(self.clear_drawing_button)
        self.schedule_label = QLabel()
        self.schedule_label.setWordWrap(True)
        self.schedule_label.setToolTip("The current schedule of the Noise schedules tab (choose "
                                       "or edit it there): the forward view and the next "
                                       "training use it. A trained model keeps its own.")
        reserve_lines(self.schedule_label, 2)
        data_form.addRow("Schedule", self.schedule_label)
        column.addWidget(data_box)

        train_box = QGroupBox("Training (ε-prediction, MSE)")
        train_form = top_aligned_form(train_box)
        self.steps_spin = QSpinBox(minimum=10, maximum=200_000, value=10_000, singleStep=1000)
        self.steps_spin.setToolTip("Optimiser steps of batch 512; 10 000 fit most shapes well")
        self.lr_spin = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=0.1, value=0.001,
                                      singleStep=0.0005)
        self.lr_spin.setToolTip("Adam learning rate")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.seed_spin.setToolTip("Seeds the weights, the data and the noise: same seed, same run")
        train_form.addRow("Steps", self.steps_spin)
        train_form.addRow("Learning rate", self.lr_spin)
        train_form.addRow("Seed", self.seed_spin)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a new model from scratch")
        self.train_button.clicked.connect(lambda: self.start_training())
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End training now and keep the model as it is")
        self.stop_button.clicked.connect(self.stop_training)
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        train_form.addRow(buttons)
        self.train_progress = QProgressBar()
        self.train_progress.setFormat("%v / %m steps")
        self.train_progress.setRange(0, self.steps_spin.value())
        self.train_progress.setValue(0)
        self.steps_spin.valueChanged.connect(
            lambda steps: None if self.training else self.train_progress.setRange(0, steps))
        train_form.addRow(self.train_progress)
        self.train_status = QLabel("No model yet: press Train (about a minute for 10 000 steps).")
        self.train_status.setWordWrap(True)
        reserve_lines(self.train_status, 2)
        train_form.addRow(self.train_status)
        files = QHBoxLayout()
        self.save_button = QPushButton("Save model…")
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button = QPushButton("Load model…")
        self.load_button.clicked.connect(self._load_dialog)
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)
        train_form.addRow(files)
        column.addWidget(train_box)

        sample_box = QGroupBox("Sampling (reverse process)")
        sample_form = top_aligned_form(sample_box)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItem("DDPM (stochastic)", "ddpm")
        self.sampler_combo.addItem("DDIM (deterministic at η = 0)", "ddim")
        self.sampler_combo.currentIndexChanged.connect(self._on_sampler_changed)
        narrow_combo(self.sampler_combo)
        self.sample_steps_spin = QSpinBox(minimum=1, maximum=100_000, value=1000)
        self.sample_steps_spin.setToolTip("Reverse steps; DDPM is meant to take all T, "
                                          "DDIM skips through a subset")
        self.eta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, value=0.0,
                                       singleStep=0.1)
        self.eta_spin.setToolTip("DDIM's η: 0 = no noise (probability-flow ODE), 1 = DDPM-like")
        self.points_spin = QSpinBox(minimum=10, maximum=20_000, value=1000, singleStep=100)
        self.trails_spin = QSpinBox(minimum=0, maximum=50, value=5)
        self.trails_spin.setToolTip("Draw the whole path of this many points")
        self.trails_spin.valueChanged.connect(lambda _: self._show_reverse_frame())
        self.model_label = QLabel("none yet")
        self.model_label.setWordWrap(True)
        self.model_label.setToolTip("What the model to sample was trained on, with its own noise "
                                    "schedule: sampling always uses the model's schedule")
        reserve_lines(self.model_label, 2)
        sample_form.addRow("Model", self.model_label)
        sample_form.addRow("Sampler", self.sampler_combo)
        sample_form.addRow("Reverse steps", self.sample_steps_spin)
        sample_form.addRow("DDIM η", self.eta_spin)
        sample_form.addRow("Points", self.points_spin)
        sample_form.addRow("Trails", self.trails_spin)
        self.sample_button = QPushButton("Sample")
        self.sample_button.clicked.connect(lambda: self.start_sampling())
        sample_form.addRow(self.sample_button)
        self.quality_label = QLabel("Quality appears after sampling.")
        self.quality_label.setWordWrap(True)
        reserve_lines(self.quality_label, 9)
        self.quality_label.setTextFormat(Qt.TextFormat.RichText)
        self.quality_label.setToolTip(
            "MMD² (RBF kernels) and mean nearest-neighbour distance from generated to real "
            "points. 'Real' is the same figure for fresh real samples: as good as it gets.")
        sample_form.addRow(self.quality_label)
        column.addWidget(sample_box)
        self._on_sampler_changed()

        self.explanation = ExplanationPanel("toy2d.html", expanded=True)
        column.addWidget(self.explanation, 1)
        self.field_check = QCheckBox("Show the learned score field")
        self.field_check.setChecked(True)
        self.field_check.toggled.connect(lambda _: self._schedule_fields())

        return scrolling_column(panel, 320, 440)

    def _build_views(self) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Vertical)

        planes = QWidget()
        planes_layout = QHBoxLayout(planes)
        planes_layout.setContentsMargins(0, 0, 0, 0)

        forward_column = QVBoxLayout()
        self.forward_view_box = DrawableViewBox()
        self.forward_view_box.points_added.connect(self._on_points_drawn)
        self.forward_plot = _plane("Forward: data → noise, q(x<sub>t</sub> | x<sub>0</sub>)",
                                   self.forward_view_box)
        self.forward_scatter = PassiveScatter(size=4, pen=None, brush=pg.mkBrush(*DATA_COLOR, 150))
        self.forward_plot.addItem(self.forward_scatter)
        self.forward_field = VectorFieldItem()
        self.forward_plot.addItem(self.forward_field)
        # The strokes as drawn, faint: the data set is the drawing centred and scaled to unit
        # variance (like every data set here), so the blue points sit a little elsewhere.
        self.drawn_scatter = PassiveScatter(size=5, pen=None, brush=pg.mkBrush(0, 0, 0, 70))
        self.forward_plot.addItem(self.drawn_scatter)
        forward_column.addWidget(self.forward_plot, 1)
        forward_row = QHBoxLayout()
        self.forward_slider = QSlider(Qt.Orientation.Horizontal)
        self.forward_slider.setRange(0, 0)
        self.forward_slider.valueChanged.connect(self._show_forward_frame)
        self.forward_label = QLabel("t = –")
        fixed_text_width(self.forward_label, "t = 99999: √ᾱ = 0.000, σ = √(1−ᾱ) = 1.000")
        # Placeholder on the plane, e.g. "Draw at least 3 points…" (too long for the readout).
        self.forward_placeholder = pg.TextItem("", color=(120, 120, 120), anchor=(0.5, 0.5))
        self.forward_plot.addItem(self.forward_placeholder)
        forward_row.addWidget(QLabel("t"))
        forward_row.addWidget(self.forward_slider, 1)
        forward_row.addWidget(self.forward_label)
        forward_column.addLayout(forward_row)
        forward_column.addWidget(self.field_check)
        planes_layout.addLayout(forward_column, 1)

        reverse_column = QVBoxLayout()
        self.reverse_plot = _plane("Reverse: noise → samples (p<sub>θ</sub>)")
        self.real_scatter = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(150, 150, 150, 110))
        self.reverse_plot.addItem(self.real_scatter)
        self.reverse_field = VectorFieldItem()
        self.reverse_plot.addItem(self.reverse_field)
        self.trail_curve = pg.PlotCurveItem(pen=pg.mkPen(TRAIL_COLOR, width=1.3), connect="finite")
        self.trail_curve.setZValue(5)  # above the generated points, which would hide short paths
        self.reverse_plot.addItem(self.trail_curve)
        self.sample_scatter = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*SAMPLE_COLOR, 170))
        self.reverse_plot.addItem(self.sample_scatter)
        self.trail_heads = pg.ScatterPlotItem(size=8, pen=pg.mkPen("k"), brush=pg.mkBrush(*TRAIL_COLOR))
        self.trail_heads.setZValue(6)
        self.reverse_plot.addItem(self.trail_heads)
        self.reverse_placeholder = pg.TextItem("Train a model, then Sample", color=(120, 120, 120),
                                               anchor=(0.5, 0.5))
        self.reverse_plot.addItem(self.reverse_placeholder)
        reverse_column.addWidget(self.reverse_plot, 1)
        reverse_row = QHBoxLayout()
        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.reverse_slider = QSlider(Qt.Orientation.Horizontal)
        self.reverse_slider.setRange(0, 0)
        self.reverse_slider.valueChanged.connect(self._show_reverse_frame)
        self.reverse_label = QLabel("step –")
        fixed_text_width(self.reverse_label, "frame 200/200: xt before step t = 99999")
        reverse_row.addWidget(self.play_button)
        reverse_row.addWidget(self.reverse_slider, 1)
        reverse_row.addWidget(self.reverse_label)
        reverse_column.addLayout(reverse_row)
        legend = QLabel(f"<span style='color:rgb{SAMPLE_COLOR}'>●</span> generated &nbsp; "
                        "<span style='color:grey'>●</span> real data &nbsp; "
                        f"<span style='color:rgb{TRAIL_COLOR[:3]}'>—</span> paths of a few points"
                        " &nbsp; <span style='color:rgb(120,60,160)'>→</span> score ∇log p<sub>t</sub>")
        legend.setTextFormat(Qt.TextFormat.RichText)
        reverse_column.addWidget(legend)
        planes_layout.addLayout(reverse_column, 1)
        splitter.addWidget(planes)

        bottom = pg.GraphicsLayoutWidget()
        bottom.setBackground("w")
        self.histogram_plot = bottom.addPlot(row=0, col=0)
        self.histogram_plot.setTitle("Marginal of x<sub>t</sub>'s first coordinate vs N(0, 1)",
                                     size="9pt")
        self.histogram_plot.setLabel("bottom", "x")
        self.histogram_plot.setLabel("left", "density")
        self.histogram_plot.getAxis("left").enableAutoSIPrefix(False)
        self.histogram_plot.setMenuEnabled(False)
        self.histogram_bars = pg.PlotCurveItem(x=[-4.0, 4.0], y=[0.0], stepMode="center", fillLevel=0,
                                               brush=pg.mkBrush(*DATA_COLOR, 90),
                                               pen=pg.mkPen(DATA_COLOR))
        self.histogram_plot.addItem(self.histogram_bars)
        grid = np.linspace(-4, 4, 200)
        self.histogram_plot.plot(grid, normal_pdf(grid), pen=pg.mkPen("k", width=1.5,
                                                                      style=Qt.PenStyle.DashLine))
        self.histogram_plot.setXRange(-4, 4, padding=0)

        self.paths_plot = bottom.addPlot(row=0, col=1)
        self.paths_plot.setTitle("SDE view: x-coordinate of 16 points, t = 0 … T", size="9pt")
        self.paths_plot.setLabel("bottom", "timestep t")
        self.paths_plot.setLabel("left", "x")
        self.paths_plot.setMenuEnabled(False)
        self.paths_t_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.paths_plot.addItem(self.paths_t_line, ignoreBounds=True)

        self.loss_plot = bottom.addPlot(row=0, col=2)
        self.loss_plot.setTitle("Training loss ‖ε − ε̂‖² (log scale)", size="9pt")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.setDownsampling(auto=True, mode="mean")
        self.loss_plot.setClipToView(True)
        self.loss_raw = self.loss_plot.plot(pen=pg.mkPen(160, 160, 160, 120))
        self.loss_smooth = self.loss_plot.plot(pen=pg.mkPen(*SAMPLE_COLOR, width=2))

        bottom_box = QWidget()
        bottom_layout = QVBoxLayout(bottom_box)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(bottom, 1)
        sde = QLabel(SDE_SENTENCE)
        sde.setWordWrap(True)
        sde.setTextFormat(Qt.TextFormat.RichText)
        sde.setStyleSheet("color: #333; padding: 2px 6px")
        bottom_layout.addWidget(sde)
        splitter.addWidget(bottom_box)
        splitter.setSizes([560, 300])
        return splitter

    # -- data and forward process -----------------------------------------------------------
    @property
    def dataset_name(self) -> str:
        return self.dataset_combo.currentData()

    def dataset_spec(self) -> DatasetSpec:
        """Raises ValueError (with a message for people) for a drawing with too few points."""
        if self.dataset_name == "custom":
            points = np.concatenate(self.drawn_points) if self.drawn_points else np.zeros((0, 2))
            return DatasetSpec("custom", points=points)
        return DatasetSpec(self.dataset_name)

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
        self.drawn_points.append(points)
        drawn = np.concatenate(self.drawn_points)
        self.drawn_scatter.setData(drawn[:, 0], drawn[:, 1])
        self._forward_timer.start()

    def clear_drawing(self) -> None:
        self.drawn_points.clear()
        self.drawn_scatter.setData([], [])
        self._forward_timer.start()

    def _on_schedule_changed(self, *_) -> None:
        self._show_schedules()
        self._follow_model_steps()
        self._forward_timer.start()

    def _show_schedules(self) -> None:
        self.schedule_label.setText(self.schedules.current.label)
        if self.model is None:
            self.model_label.setText("none yet")
            self.model_label.setToolTip("")
        else:  # the model samples with the schedule it was trained with, whatever is shared now
            schedule = self.model.schedule
            self.model_label.setText(
                f"{schedule.name}{' zero-SNR' if schedule.rescale_zero_snr else ''}, "
                f"T={schedule.num_train_timesteps} · {self.model.steps_trained} steps · "
                f"{self.model.dataset.label}")
            self.model_label.setToolTip(
                f"Trained {self.model.steps_trained} steps on {self.model.dataset.label} with "
                f"the schedule {schedule.label}, which sampling uses whatever the Noise "
                "schedules tab shows now")

    def _request_forward(self) -> None:
        try:
            dataset = self.dataset_spec()
        except ValueError as exc:
            self.forward = None
            self.forward_scatter.setData([], [])
            self.forward_label.setText("t = –")
            self.forward_placeholder.setText(str(exc))
            self.forward_placeholder.setVisible(True)
            return
        self.forward_placeholder.setVisible(False)
        if self._forward_job is not None:
            self._forward_job.cancel()
        request = ForwardRequest(dataset=dataset, schedule=self.schedules.current,
                                 num_points=FORWARD_POINTS, seed=self.seed_spin.value())
        job = self.engine.submit(request, "Noising the 2D data set")
        job.succeeded.connect(self._show_forward)
        job.finished.connect(lambda j=job: self._forget("_forward_job", j))
        self._forward_job = job

    def _forget(self, attribute: str, job) -> None:
        if getattr(self, attribute) is job:
            setattr(self, attribute, None)

    def _show_forward(self, result) -> None:
        self.forward = result
        position = self.forward_slider.value()
        self.forward_slider.setRange(0, len(result.timesteps) - 1)
        self.forward_slider.setValue(min(position, len(result.timesteps) - 1))
        self._draw_paths()
        self._show_forward_frame()

    def _draw_paths(self) -> None:
        for item in list(self.paths_plot.listDataItems()):
            self.paths_plot.removeItem(item)
        result = self.forward
        steps = np.arange(len(result.alphas_cumprod))
        start = result.data[: result.path_values.shape[1], 0]
        for index in range(result.path_values.shape[1]):
            self.paths_plot.plot(np.concatenate([[-1], steps]),
                                 np.concatenate([[start[index]], result.path_values[:, index]]),
                                 pen=pg.mkPen(*pg.intColor(index, 16).getRgb()[:3], 150))
        # ±2 standard deviations of x_t: ᾱ·Var(x_0) + (1 − ᾱ), flat for unit-variance data.
        spread = 2 * np.sqrt(result.alphas_cumprod * result.data[:, 0].var()
                             + 1 - result.alphas_cumprod)
        for sign in (1, -1):
            self.paths_plot.plot(steps, sign * spread,
                                 pen=pg.mkPen("k", width=1.5, style=Qt.PenStyle.DashLine))

    def current_forward_t(self) -> int:
        if self.forward is None:
            return 0
        return int(self.forward.timesteps[self.forward_slider.value()])

    def _show_forward_frame(self, *_) -> None:
        if self.forward is None:
            return
        index = self.forward_slider.value()
        points = self.forward.frames[index]
        self.forward_scatter.setData(points[:, 0], points[:, 1])
        t = int(self.forward.timesteps[index])
        if t < 0:
            self.forward_label.setText(
                "x<sub>0</sub>: your drawing, normalised"
                if self.dataset_name == "custom" else "x<sub>0</sub>: the data (before t = 0)")
        else:
            alpha_bar = float(self.forward.alphas_cumprod[t])
            self.forward_label.setText(f"t = {t}: √ᾱ = {math.sqrt(alpha_bar):.3f}, "
                                       f"σ = √(1−ᾱ) = {math.sqrt(1 - alpha_bar):.3f}")
        counts, edges = np.histogram(points[:, 0], bins=50, range=(-4, 4), density=True)
        self.histogram_bars.setData(edges, counts)
        self.paths_t_line.setValue(max(t, -1))
        self._schedule_fields()

    # -- training ---------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self._train_job is not None

    def start_training(self, resume=None) -> None:
        if self.training:
            return
        try:
            dataset = resume.model.dataset if resume is not None else self.dataset_spec()
            request = TrainRequest(
                dataset=dataset,
                schedule=resume.model.schedule if resume is not None else self.schedules.current,
                steps=resume.total_steps if resume is not None else self.steps_spin.value(),
                learning_rate=self.lr_spin.value(), seed=self.seed_spin.value(), resume=resume)
        except ValueError as exc:
            self.train_status.setText(f"<span style='color:#b00020'>{exc}</span>")
            return
        if resume is None:
            self.paused_state = None
            self.losses = np.zeros(0, np.float32)
            self.loss_raw.setData([], [])
            self.loss_smooth.setData([], [])
        self._pause_requested = False
        self.train_progress.setRange(0, request.steps)
        self.train_progress.setValue(resume.steps_done if resume is not None else 0)
        self.train_status.setText("Training… (PyTorch loads first if this is the first job)")
        job = self.engine.submit(request, "Training the 2D model")
        job.step.connect(self._on_train_partial)
        job.progress.connect(self._on_train_progress)
        job.succeeded.connect(self._on_train_finished)
        job.cancelled.connect(self._on_train_cancelled)
        job.failed.connect(lambda message: self.train_status.setText(
            f"<span style='color:#b00020'>Training failed: {message}</span>"))
        job.finished.connect(lambda j=job: (self._forget("_train_job", j), self._update_buttons()))
        self._train_job = job
        self._update_buttons()

    def toggle_pause(self) -> None:
        if self.training:
            self._pause_requested = True
            self._train_job.cancel()
        elif self.paused_state is not None:
            self.start_training(resume=self.paused_state)

    def stop_training(self) -> None:
        if self.training:
            self._pause_requested = False
            self._train_job.cancel()
        elif self.paused_state is not None:
            state, self.paused_state = self.paused_state, None
            self._show_stopped(state)

    def _on_train_partial(self, partial) -> None:
        end = partial.first_step + len(partial.losses)
        if len(self.losses) < end:
            self.losses = np.concatenate([self.losses, np.zeros(end - len(self.losses), np.float32)])
        self.losses[partial.first_step:end] = partial.losses
        self._draw_losses()

    def _draw_losses(self) -> None:
        count = len(self.losses)
        if not count:
            return
        steps = np.arange(1, count + 1)
        self.loss_raw.setData(steps, self.losses)
        window = max(1, min(200, count // 10))
        cumulative = np.cumsum(np.concatenate([[0.0], self.losses.astype(np.float64)]))
        smooth = (cumulative[window:] - cumulative[:-window]) / window
        self.loss_smooth.setData(steps[window - 1:], smooth)

    def _on_train_progress(self, update) -> None:
        self.train_progress.setValue(update.done)
        rate = f"{update.rate:.0f} steps/s" if update.rate else ""
        eta = (f", {format_seconds(update.eta_seconds)} left"
               if update.eta_seconds is not None and update.done < update.total else "")
        self.train_status.setText(f"Step {update.done} of {update.total}, {update.message}"
                                  f"{', ' + rate if rate else ''}{eta}")

    def _on_train_finished(self, state) -> None:
        self._train_job = None  # done now, though its ``finished`` signal comes next
        self.train_progress.setValue(state.steps_done)
        self.losses = state.losses
        self._draw_losses()
        self._accept_model(state.model, f"Trained {state.steps_done} steps; final loss "
                                        f"{state.losses[-min(200, len(state.losses)):].mean():.4f}.")

    def _on_train_cancelled(self, state) -> None:
        self._train_job = None
        if state is None:
            self.train_status.setText("Training was cancelled before it started.")
            return
        # Progress reports lag the job by a step or a few: the state is the truth.
        self.train_progress.setValue(state.steps_done)
        self.losses = state.losses
        self._draw_losses()
        if self._pause_requested:
            self.paused_state = state
            self.model = state.model
            self._show_schedules()
            self._follow_model_steps()
            self.train_status.setText(f"Paused at step {state.steps_done} of {state.total_steps}: "
                                      "Resume continues here; you can sample meanwhile.")
            self._schedule_fields()
        else:
            self._show_stopped(state)

    def _show_stopped(self, state) -> None:
        # Stop means stop: no sample starts by itself (a finished training does sample).
        self._accept_model(state.model, f"Stopped after {state.steps_done} steps. Press Sample "
                                        "to see what it learned.", sample=False)

    def _accept_model(self, model, message: str, sample: bool = True) -> None:
        self.model = model
        self.paused_state = None
        self.train_status.setText(message)
        self._show_schedules()
        self._follow_model_steps()
        self._update_buttons()
        if sample:
            self.start_sampling()
        else:
            self._schedule_fields()

    def _update_buttons(self) -> None:
        training = self.training
        self.train_button.setEnabled(not training)
        self.pause_button.setEnabled(training or self.paused_state is not None)
        self.pause_button.setText("Resume" if self.paused_state is not None and not training
                                  else "Pause")
        self.stop_button.setEnabled(training or self.paused_state is not None)
        for widget in (self.dataset_combo, self.steps_spin, self.lr_spin, self.seed_spin,
                       self.load_button):
            widget.setEnabled(not training)
        self.forward_view_box.drawing = self.dataset_name == "custom" and not training
        has_model = self.model is not None
        self.save_button.setEnabled(has_model and not training)
        self.sample_button.setEnabled(has_model and not training)

    # -- save / load -------------------------------------------------------------------------
    def save_model(self, path: str) -> None:
        from engine.toy2d.storage import save_model

        save_model(self.model, path)

    def load_model(self, path: str) -> None:
        """Raises ValueError with a message for people; nothing changes then."""
        from engine.toy2d.storage import load_model

        model = load_model(path)
        self.paused_state = None
        if model.dataset.name == "custom":
            self.drawn_points = [np.asarray(model.dataset.points)]
        self.dataset_combo.setCurrentIndex(list(DATASET_NAMES).index(model.dataset.name))
        self.losses = np.zeros(0, np.float32)
        self.loss_raw.setData([], [])
        self.loss_smooth.setData([], [])
        self.train_progress.setRange(0, max(1, model.steps_trained))
        self.train_progress.setValue(model.steps_trained)
        self._accept_model(model, "Loaded the model (its loss curve is not stored); sampling it.")

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
        ddim = self.sampler_combo.currentData() == "ddim"
        self.eta_spin.setEnabled(ddim)
        self._steps_default = 50 if ddim else sampling_steps(self._sampling_schedule())
        self.sample_steps_spin.setValue(self._steps_default)

    def _sampling_schedule(self):
        return self.model.schedule if self.model is not None else self.schedules.current

    def _follow_model_steps(self) -> None:
        """DDPM's step count follows the model's schedule unless the user chose another."""
        if (self.sampler_combo.currentData() == "ddpm"
                and self.sample_steps_spin.value() == self._steps_default):
            self._on_sampler_changed()

    def start_sampling(self) -> None:
        if self.model is None or self.training:
            return
        if self._sample_job is not None:
            self._sample_job.cancel()
        self._play_timer.stop()
        self.play_button.setChecked(False)
        request = SampleRequest(model=self.model, sampler=self.sampler_combo.currentData(),
                                num_points=self.points_spin.value(),
                                num_inference_steps=self.sample_steps_spin.value(),
                                eta=self.eta_spin.value(), seed=self.seed_spin.value())
        self.quality_label.setText("Sampling…")
        job = self.engine.submit(request, f"Sampling with {request.sampler.upper()}")
        job.succeeded.connect(self._show_samples)
        job.failed.connect(lambda message, j=job: self._on_sample_ended(
            j, f"<span style='color:#b00020'>Sampling failed: {message}</span>"))
        job.cancelled.connect(lambda _partial, j=job: self._on_sample_ended(
            j, "Sampling was cancelled."))
        job.finished.connect(lambda j=job: self._forget("_sample_job", j))
        self._sample_job = job

    def _on_sample_ended(self, job, text: str) -> None:
        if self._sample_job is job:  # not a run that a newer one replaced
            self.quality_label.setText(text)

    def _show_samples(self, result) -> None:
        self.sample_result = result
        self.reverse_placeholder.setVisible(False)
        self.real_scatter.setData(result.real[:, 0], result.real[:, 1])
        self.reverse_slider.setRange(0, len(result.timesteps) - 1)
        self.reverse_slider.setValue(len(result.timesteps) - 1)
        self._show_reverse_frame()
        q = result.quality
        self.quality_label.setText(
            f"<b>Quality</b> ({result.sampler.upper()}, {result.num_inference_steps} steps, "
            f"{len(result.real)} points)<br>"
            f"MMD²: <b>{q.mmd:.4f}</b> &nbsp;(real vs real: {q.mmd_real_reference:.4f})<br>"
            f"mean NN distance: <b>{q.nn_distance:.3f}</b> &nbsp;(real: "
            f"{q.nn_distance_real_reference:.3f})<br><small>Lower is better; the real-vs-real "
            "figure is what a perfect model would get with this many points.</small>"
            + (f"<br><small>{result.start_note}</small>" if result.start_note else ""))

    def current_reverse_t(self) -> int:
        if self.sample_result is None:
            return 0
        return max(0, int(self.sample_result.timesteps[self.reverse_slider.value()]))

    def _show_reverse_frame(self, *_) -> None:
        result = self.sample_result
        if result is None:
            return
        index = self.reverse_slider.value()
        points = result.trajectory[index]
        self.sample_scatter.setData(points[:, 0], points[:, 1])
        trails = min(self.trails_spin.value(), points.shape[0])
        if trails:
            paths = result.trajectory[: index + 1, :trails]  # (frames, trails, 2)
            # One curve for all trails: NaN rows break the line between points (connect=finite).
            padded = np.concatenate([paths, np.full((1, trails, 2), np.nan)], axis=0)
            flat = padded.transpose(1, 0, 2).reshape(-1, 2)
            self.trail_curve.setData(flat[:, 0], flat[:, 1], connect="finite")
            self.trail_heads.setData(points[:trails, 0], points[:trails, 1])
        else:
            self.trail_curve.setData([], [])
            self.trail_heads.setData([], [])
        t = int(result.timesteps[index])
        last = len(result.timesteps) - 1
        self.reverse_label.setText(f"frame {index}/{last}: " +
                                   ("x<sub>0</sub>, the samples" if t < 0 else
                                    f"x<sub>t</sub> before step t = {t}"))
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
        if self.model is None or not self.field_check.isChecked():
            self.forward_field.clear_field()
            self.reverse_field.clear_field()
            return
        self._field_timer.start()

    def _request_fields(self) -> None:
        if self.model is None or self.training:
            return  # the one engine thread is busy training; fields follow when it is done
        self._request_field("forward", self.current_forward_t())
        if self.sample_result is not None and not self._play_timer.isActive():
            self._request_field("reverse", self.current_reverse_t())

    def _request_field(self, canvas: str, t: int) -> None:
        # One job per canvas at a time; the latest wanted t is fetched when it returns.
        if self._field_jobs.get(canvas) is not None:
            self._field_wanted[canvas] = t
            return
        self._field_wanted[canvas] = None
        job = self.engine.submit(FieldRequest(model=self.model, t=t, extent=EXTENT * 0.9, grid=19),
                                 "Evaluating the score field")
        job.succeeded.connect(lambda result, c=canvas: self._show_field(c, result))
        job.finished.connect(lambda c=canvas: self._on_field_done(c))
        self._field_jobs[canvas] = job

    def _on_field_done(self, canvas: str) -> None:
        self._field_jobs[canvas] = None
        wanted = self._field_wanted.get(canvas)
        if wanted is not None:
            self._request_field(canvas, wanted)

    def _show_field(self, canvas: str, result) -> None:
        item = self.forward_field if canvas == "forward" else self.reverse_field
        if not self.field_check.isChecked():
            item.clear_field()
            return
        # Arrows point along the score −ε̂/σ; their length shows |ε̂| (bounded, unlike the
        # score, which grows like 1/σ as t → 0), at most ~0.9 of the grid spacing.
        spacing = 2 * result.positions[:, 0].max() / (math.isqrt(len(result.positions)) - 1)
        vectors = -result.epsilon * (0.4 * spacing)
        length = np.hypot(vectors[:, 0], vectors[:, 1])
        vectors *= np.minimum(1.0, 0.8 * spacing / np.maximum(length, 1e-9))[:, None]
        item.set_field(result.positions, vectors)
        self.field_t[canvas] = result.t
