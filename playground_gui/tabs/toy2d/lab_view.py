"""The 2D toy's samplers page, the view: its widgets and layout, nothing else (``lab_page``
wires them). Six panels, each with a line saying what it shows: ODE vs SDE paths, Langevin
chains, the ideal denoiser's samples on its training points (top); the learned field's error
over t, the sampler lab's error against N, nearest-training-point distances (bottom)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from playground_gui.tabs.toy2d.plane import make_plane
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel

CAPTIONS = {
    "paths": "Same start (□), one ODE path (thick: DDIM, η = 0) and several SDE paths (thin: "
             "DDPM, fresh noise each draw, ends ●). Both have the same marginals p<sub>t</sub>.",
    "chains": "Every move of a few chains: x ← x + (δ/2)·∇log p<sub>t</sub> + √δ·z, K steps "
              "per noise level, faint early (wide jumps at high noise), strong late (jitter on "
              "the shape); □ start, ★ end.",
    "memorisation": "Ideal denoiser's samples (orange) land on its training points (blue "
                    "rings); the trained MLP's (green) fall between them.",
    "error": "Training loss at t = floor (what even the exact ε̂* leaves) + the network's "
             "own error ‖ε̂<sub>θ</sub> − ε̂*‖², which is what sampling feels.",
    "lab": "Endpoint error against N (log–log) with the exact model, Karras σ (ρ = 7), "
           "against RK4: slope −1 for DDIM (Euler), −2 for Heun and DPM-Solver++ 2M.",
    "histogram": "Distance to the nearest training point (log₁₀): a spike near 0 is "
                 "memorisation; fresh real points show the data's own spacing.",
}


def _plot(title: str, x_label: str, y_label: str, log_x=False, log_y=False,
          legend_offset=(-5, 5)) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setBackground("w")
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.setLogMode(x=log_x, y=log_y)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.addLegend(offset=legend_offset, labelTextSize="8pt")
    return widget


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setStyleSheet("color: #333; font-size: 9pt")
    return label


class SamplerLabView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_panels())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([270, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        note = QLabel("These use the model picked under <b>Sample from</b> (trained MLP or an "
                      "exact model) and the Langevin K and δ of the left column.")
        note.setWordWrap(True)
        column.addWidget(note)

        paths_box = QGroupBox("ODE and SDE from the same noise")
        form = QFormLayout(paths_box)
        self.path_points_spin = QSpinBox(minimum=1, maximum=50, value=4)
        self.path_draws_spin = QSpinBox(minimum=1, maximum=20, value=3)
        self.path_steps_spin = QSpinBox(minimum=2, maximum=1000, value=100)
        self.paths_button = QPushButton("Draw paths")
        form.addRow("Starting points", self.path_points_spin)
        form.addRow("SDE draws each", self.path_draws_spin)
        form.addRow("Steps", self.path_steps_spin)
        form.addRow(self.paths_button)
        column.addWidget(paths_box)

        chains_box = QGroupBox("Langevin chains")
        form = QFormLayout(chains_box)
        self.chain_sampler_combo = QComboBox()
        self.chain_sampler_combo.addItem("Annealed Langevin", "langevin")
        self.chain_sampler_combo.addItem("Predictor–corrector", "pc")
        self.chain_count_spin = QSpinBox(minimum=1, maximum=50, value=5)
        self.chain_levels_spin = QSpinBox(minimum=1, maximum=1000, value=30)
        self.chain_levels_spin.setToolTip("Noise levels (Langevin) or DDPM steps (PC)")
        self.chains_button = QPushButton("Run chains")
        form.addRow("Sampler", self.chain_sampler_combo)
        form.addRow("Chains", self.chain_count_spin)
        form.addRow("Noise levels", self.chain_levels_spin)
        form.addRow(self.chains_button)
        column.addWidget(chains_box)

        exact_box = QGroupBox("Exact scores")
        form = QFormLayout(exact_box)
        self.error_button = QPushButton("Learned vs exact over t")
        self.error_button.setToolTip("Needs a trained model; compares it with the exact ε̂ "
                                     "of its data set and schedule")
        self.memorisation_button = QPushButton("Ideal denoiser: memorisation")
        self.memorisation_button.setToolTip("Samples the ideal denoiser of the left column's "
                                            "training points (and the trained MLP, if any)")
        form.addRow(self.error_button)
        form.addRow(self.memorisation_button)
        column.addWidget(exact_box)

        lab_box = QGroupBox("Error against step count")
        form = QFormLayout(lab_box)
        self.lab_steps_edit = QLineEdit("8,16,32,64")
        self.lab_steps_edit.setToolTip("Step counts N, comma-separated (at least two)")
        self.lab_button = QPushButton("Run sampler lab")
        self.lab_progress = QProgressBar()
        self.lab_progress.setRange(0, 1)
        self.lab_progress.setValue(0)
        form.addRow("Steps N", self.lab_steps_edit)
        form.addRow(self.lab_button)
        form.addRow(self.lab_progress)
        column.addWidget(lab_box)

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        column.addWidget(self.status_label)
        self.explanation = ExplanationPanel("toy2d_samplers.html", expanded=True)
        column.addWidget(self.explanation, 1)
        return scrolling_column(panel, 250, 330)

    def _build_panels(self) -> QWidget:
        panels = QWidget()
        grid = QGridLayout(panels)
        grid.setContentsMargins(0, 0, 0, 0)
        self.paths_plot = make_plane("ODE vs SDE paths")
        self.chains_plot = make_plane("Langevin chains")
        self.memorisation_plot = make_plane("Ideal denoiser vs MLP")
        self.error_plot = _plot("Learned vs exact ε̂", "timestep t", "mean squared",
                                log_y=True)
        self.lab_plot = _plot("Error against steps N", "N", "mean error",
                              log_x=True, log_y=True)
        self.histogram_plot = _plot("Nearest training point", "log₁₀ distance",
                                    "points", legend_offset=(5, 5))
        widgets = {"paths": self.paths_plot, "chains": self.chains_plot,
                   "memorisation": self.memorisation_plot, "error": self.error_plot,
                   "lab": self.lab_plot, "histogram": self.histogram_plot}
        for index, (key, widget) in enumerate(widgets.items()):
            cell = QVBoxLayout()
            cell.addWidget(widget, 1)
            cell.addWidget(_caption(CAPTIONS[key]))
            row, col = divmod(index, 3)
            grid.addLayout(cell, row, col)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        return panels
