"""2D toy tab, the view: its widgets and their layout, nothing else (``tab`` wires them up)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.toy2d.types import DATASET_NAMES, DEFAULT_LANGEVIN_STEP_SIZE, DEFAULT_LANGEVIN_STEPS
from playground_gui.tabs.toy2d.binding import MODEL_KINDS
from playground_gui.tabs.toy2d.objective_view import add_objective_controls, ensure_flow_samplers
from playground_gui.tabs.toy2d.plane import (
    DrawableViewBox,
    PassiveScatter,
    VectorFieldItem,
    make_plane,
)
from playground_gui.tabs.toy2d.plots import DATA_COLOR, SAMPLE_COLOR, TRAIL_COLOR
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.plots import normal_pdf

SAMPLER_LABELS = {
    "ddpm": "DDPM (stochastic)", "ddim": "DDIM (deterministic at η = 0)",
    "euler": "Euler (ODE, = DDIM)", "heun": "Heun (ODE, 2nd order)",
    "dpmpp_2m": "DPM-Solver++ 2M (ODE, 2nd order)", "langevin": "Annealed Langevin",
    "pc": "Predictor–corrector (DDPM + Langevin)",
}

SDE_SENTENCE = (
    "Forward: dx = −½β(t)·x dt + √β(t) dW, an Ornstein–Uhlenbeck process. Run backwards in time, "
    "dx = [−½β·x − β·∇log p<sub>t</sub>(x)] dt + √β dW̄ (the reverse SDE; DDPM samples it). "
    "Dropping the noise and halving the score term gives the probability-flow ODE, with the same "
    "marginals p<sub>t</sub>: DDIM with η = 0 follows it, so each noise point has one fixed path."
)


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


class Toy2DView(QWidget):
    """The control column on the left; the forward and reverse planes above three small plots
    (x_t's marginal, the SDE paths, the loss) on the right."""

    def __init__(self, parent=None):
        super().__init__(parent)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        # Pages on the right: training and sampling here; the tab adds the samplers' page.
        self.pages = QTabWidget()
        self.pages.addTab(self._build_views(), "Train and sample")
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 1100])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)

        data_box = QGroupBox("Data")
        data_form = top_aligned_form(data_box)
        self.dataset_combo = QComboBox()
        for key, label in DATASET_NAMES.items():
            self.dataset_combo.addItem(label, key)
        self.dataset_combo.setCurrentIndex(list(DATASET_NAMES).index("two_moons"))
        narrow_combo(self.dataset_combo)
        data_form.addRow("Data set", self.dataset_combo)
        self.draw_hint = QLabel("Click or drag on the left plane to add points (grey). The "
                                "data set is your drawing plus a little jitter, centred and "
                                "scaled to unit variance (blue).")
        self.draw_hint.setWordWrap(True)
        self.clear_drawing_button = QPushButton("Clear drawing")
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

        train_box = QGroupBox("Training (MSE on the objective's target)")
        train_form = top_aligned_form(train_box)
        self.steps_spin = QSpinBox(minimum=10, maximum=200_000, value=10_000, singleStep=1000)
        self.steps_spin.setToolTip("Optimiser steps of batch 512; 10 000 fit most shapes well")
        self.lr_spin = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=0.1, value=0.003,
                                      singleStep=0.0005)
        self.lr_spin.setToolTip("Adam learning rate")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.seed_spin.setToolTip("Seeds the weights, the data and the noise: same seed, same run")
        train_form.addRow("Steps", self.steps_spin)
        train_form.addRow("Learning rate", self.lr_spin)
        train_form.addRow("Seed", self.seed_spin)
        add_objective_controls(self, train_form)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a new model from scratch")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End training now and keep the model as it is")
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        train_form.addRow(buttons)
        self.train_progress = QProgressBar()
        self.train_progress.setFormat("%v / %m steps")
        self.train_progress.setRange(0, self.steps_spin.value())
        self.train_progress.setValue(0)
        train_form.addRow(self.train_progress)
        self.train_status = QLabel("No model yet: press Train (about a minute for 10 000 steps).")
        self.train_status.setWordWrap(True)
        reserve_lines(self.train_status, 2)
        train_form.addRow(self.train_status)
        files = QHBoxLayout()
        self.save_button = QPushButton("Save model…")
        self.load_button = QPushButton("Load model…")
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)
        train_form.addRow(files)
        column.addWidget(train_box)

        sample_box = QGroupBox("Sampling (reverse process)")
        sample_form = top_aligned_form(sample_box)
        self.sampler_combo = QComboBox()
        for key, label in SAMPLER_LABELS.items():
            self.sampler_combo.addItem(label, key)
        ensure_flow_samplers(self.sampler_combo)  # Euler and Heun serve flow models too
        narrow_combo(self.sampler_combo)
        self.model_kind_combo = QComboBox()
        for key, label in MODEL_KINDS.items():
            self.model_kind_combo.addItem(label, key)
        narrow_combo(self.model_kind_combo)
        self.model_kind_combo.setToolTip(
            "Sample the trained network, or an exact model of the same data set and schedule: "
            "the Gaussian mixture's closed-form score, or the ideal denoiser of a finite set of "
            "training points (which memorises them)")
        self.training_points_spin = QSpinBox(minimum=1, maximum=10_000, value=200, singleStep=50)
        self.training_points_spin.setToolTip("How many training points the ideal denoiser knows")
        self.langevin_steps_spin = QSpinBox(minimum=0, maximum=1000, value=DEFAULT_LANGEVIN_STEPS)
        self.langevin_steps_spin.setToolTip("K: Langevin steps at every noise level (Langevin), "
                                            "or corrector steps after each DDPM step (PC)")
        self.langevin_step_spin = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=2.0,
                                                 value=DEFAULT_LANGEVIN_STEP_SIZE, singleStep=0.1)
        self.langevin_step_spin.setToolTip("δ, relative to the level's noise variance: "
                                           "x ← x + (δ_t/2)·∇log p_t + √δ_t·z, δ_t = δ·(1−ᾱ_t)")
        self.sample_steps_spin = QSpinBox(minimum=1, maximum=100_000, value=1000)
        self.sample_steps_spin.setToolTip("Reverse steps; DDPM is meant to take all T, "
                                          "DDIM skips through a subset")
        self.eta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, value=0.0,
                                       singleStep=0.1)
        self.eta_spin.setToolTip("DDIM's η: 0 = no noise (probability-flow ODE), 1 = DDPM-like")
        self.points_spin = QSpinBox(minimum=10, maximum=20_000, value=1000, singleStep=100)
        self.trails_spin = QSpinBox(minimum=0, maximum=50, value=5)
        self.trails_spin.setToolTip("Draw the whole path of this many points")
        self.model_label = QLabel("none yet")
        self.model_label.setWordWrap(True)
        self.model_label.setToolTip("What the model to sample was trained on, with its own noise "
                                    "schedule: sampling always uses the model's schedule")
        reserve_lines(self.model_label, 2)
        sample_form.addRow("Model", self.model_label)
        sample_form.addRow("Sample from", self.model_kind_combo)
        sample_form.addRow("Training points", self.training_points_spin)
        sample_form.addRow("Sampler", self.sampler_combo)
        sample_form.addRow("Reverse steps", self.sample_steps_spin)
        sample_form.addRow("DDIM η", self.eta_spin)
        sample_form.addRow("Langevin K", self.langevin_steps_spin)
        sample_form.addRow("Langevin δ", self.langevin_step_spin)
        sample_form.addRow("Points", self.points_spin)
        sample_form.addRow("Trails", self.trails_spin)
        self.sample_button = QPushButton("Sample")
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

        self.explanation = ExplanationPanel("toy2d.html", expanded=True)
        column.addWidget(self.explanation, 1)
        self.field_check = QCheckBox("Show the learned score field")
        self.field_check.setChecked(True)

        return scrolling_column(panel, 320, 440)

    def _build_views(self) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Vertical)

        planes = QWidget()
        planes_layout = QHBoxLayout(planes)
        planes_layout.setContentsMargins(0, 0, 0, 0)

        forward_column = QVBoxLayout()
        self.forward_view_box = DrawableViewBox()
        self.forward_plot = make_plane("Forward: data → noise, q(x<sub>t</sub> | x<sub>0</sub>)",
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
        self.reverse_plot = make_plane("Reverse: noise → samples (p<sub>θ</sub>)")
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
        self.reverse_slider = QSlider(Qt.Orientation.Horizontal)
        self.reverse_slider.setRange(0, 0)
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
        self.loss_plot.setTitle("Training loss, MSE on the target (log scale)", size="9pt")
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
