"""The 2D toy's training objectives: the objective control, flow's samplers in the sampler menu,
and a window that shows ε and v with zero terminal SNR next to flow matching, from one noise.

``add_objective_controls`` and ``ensure_flow_samplers`` are the hooks into the tab's view; the
window (``ObjectiveComparisonWindow``) holds its own widgets and its session.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.toy2d.objectives import check_combination
from engine.toy2d.types import FLOW_SAMPLERS, OBJECTIVES, default_sampler
from playground_gui.tabs.toy2d.plane import make_plane
from playground_gui.tabs.toy2d.plots import SAMPLE_COLOR, TRAIL_COLOR, error_text
from playground_gui.widgets.explanation import ExplanationPanel

OBJECTIVE_TIPS = {
    "eps": "The network guesses the noise ε (DDPM's choice)",
    "x0": "The network guesses the clean point x₀ directly",
    "v": "The network guesses v = √ᾱ·ε − √(1−ᾱ)·x₀ (finite even at zero terminal SNR)",
    "flow": "Flow matching: x_t = (1−t)·x₀ + t·ε, the network guesses the velocity ε − x₀; "
            "sample with Euler or Heun",
}
FLOW_LABELS = {"euler": "Euler (flow matching)", "heun": "Heun (flow matching)"}
TRAILS = 12  # paths drawn per plane: the same noise points in all three


def add_objective_controls(view, form: QFormLayout) -> None:
    """The objective menu (``view.objective_combo``) and the comparison button
    (``view.compare_button``), as rows of the training form."""
    view.objective_combo = QComboBox()
    for key, label in OBJECTIVES.items():
        view.objective_combo.addItem(label, key)
        view.objective_combo.setItemData(view.objective_combo.count() - 1, OBJECTIVE_TIPS[key],
                                         Qt.ItemDataRole.ToolTipRole)
    view.objective_combo.setToolTip("What the network learns to predict (the next training)")
    view.compare_button = QPushButton("Compare objectives…")
    view.compare_button.setToolTip("Train ε, v (zero terminal SNR) and flow matching briefly and "
                                   "draw their paths from the same noise side by side")
    form.addRow("Objective", view.objective_combo)
    form.addRow(view.compare_button)


def ensure_flow_samplers(combo: QComboBox) -> None:
    """Flow matching's samplers in the sampler menu (kept when the menu already has them)."""
    for key in FLOW_SAMPLERS:
        if combo.findData(key) < 0:
            combo.addItem(FLOW_LABELS[key], key)


def fitting_sampler(objective: str, sampler: str) -> str:
    """``sampler`` when ``objective`` can use it, else the objective's default sampler."""
    return sampler if check_combination(objective, sampler, False) is None \
        else default_sampler(objective)


def training_paths(objective: str, noise: np.ndarray, samples: np.ndarray,
                   count: int = 40) -> np.ndarray:
    """The path the objective trains on between each noise point and its sample, as one
    polyline with NaN breaks: flow's x_t = (1−t)·x₀ + t·ε is a straight segment, the DDPM
    family's x_t = √ᾱ·x₀ + √(1−ᾱ)·ε an arc (ᾱ from 0 to 1)."""
    s = np.linspace(0.0, 1.0, count)[:, None, None]  # 0 at the noise, 1 at the sample
    if objective == "flow":
        paths = s * samples[None] + (1 - s) * noise[None]
    else:
        paths = np.sqrt(s) * samples[None] + np.sqrt(1 - s) * noise[None]
    padded = np.concatenate([paths, np.full((1, *paths.shape[1:]), np.nan)])
    return padded.transpose(1, 0, 2).reshape(-1, 2)


def caption(panel) -> str:
    """What one plane shows, in a few lines (rich text)."""
    result = panel.result
    q = result.quality
    lines = [f"<b>{OBJECTIVES[panel.objective]}</b> · {panel.schedule_label}"]
    if panel.objective == "flow":
        lines.append(f"Euler, {result.num_inference_steps} steps from t = 1 (pure noise) to 0")
    else:
        last = result.num_train_timesteps - 1
        where = ("ᾱ = 0 there: x̂<sub>0</sub> = −v̂ is finite" if result.start_t == last else
                 f"not {last}: ᾱ = 0 there and x̂<sub>0</sub> would divide by 0")
        lines.append(f"DDIM, {result.num_inference_steps} steps from t = {result.start_t} "
                     f"({where})")
        lines.append("first x̂<sub>0</sub> unclipped: median ‖x̂<sub>0</sub>‖ = "
                     f"{panel.first_x0_spread:.3g}")
    lines.append(f"path straightness {panel.straightness:.2f} · NN distance {q.nn_distance:.3f} "
                 f"(real {q.nn_distance_real_reference:.3f})")
    return "<br>".join(lines)


class ObjectiveComparisonWindow(QWidget):
    """Three planes side by side with their captions, the explanation, and run controls. The
    tab supplies the data set and schedule through ``settings`` (a callable giving
    (DatasetSpec, ScheduleSpec, seed)) so the comparison follows the tab's choices."""

    def __init__(self, engine, settings, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        from playground_gui.tabs.toy2d.objective_session import ObjectiveComparisonSession

        self.setWindowTitle("2D toy: training objectives side by side")
        self.resize(1300, 760)
        self.settings = settings
        self.session = ObjectiveComparisonSession(engine, parent=self)
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.steps_spin = QSpinBox(minimum=100, maximum=100_000, value=3000, singleStep=500)
        self.steps_spin.setToolTip("Training steps for each of the three models (batch 512)")
        self.run_button = QPushButton("Train and compare")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.status = QLabel("Uses the tab's data set, seed and schedule (ε and v take it "
                             "rescaled to zero terminal SNR).")
        self.status.setWordWrap(True)
        controls.addWidget(QLabel("Steps per model"))
        controls.addWidget(self.steps_spin)
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.progress_bar, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        planes = QHBoxLayout()
        self.planes, self.captions, self.items = [], [], []
        for title in ("ε-prediction, zero SNR", "v-prediction, zero SNR",
                      "Flow matching (rectified flow)"):
            column = QVBoxLayout()
            plane = make_plane(title)
            real = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(150, 150, 150, 110))
            samples = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*SAMPLE_COLOR, 170))
            trails = pg.PlotCurveItem(pen=pg.mkPen(TRAIL_COLOR, width=1.4), connect="finite")
            reference = pg.PlotCurveItem(pen=pg.mkPen((90, 90, 90), width=1,
                                                      style=Qt.PenStyle.DashLine),
                                         connect="finite")
            starts = pg.ScatterPlotItem(size=8, pen=pg.mkPen("k", width=1.2), brush=None)
            ends = pg.ScatterPlotItem(size=7, pen=pg.mkPen("k"), brush=pg.mkBrush(*TRAIL_COLOR))
            for item in (real, samples, reference, trails, starts, ends):
                plane.addItem(item)
            trails.setZValue(5)
            ends.setZValue(6)
            text = QLabel("–")
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setWordWrap(True)
            text.setMinimumHeight(5 * text.fontMetrics().lineSpacing())
            text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            column.addWidget(plane, 1)
            column.addWidget(text)
            planes.addLayout(column, 1)
            self.planes.append(plane)
            self.captions.append(text)
            self.items.append((real, samples, trails, starts, ends, reference))
        layout.addLayout(planes, 1)
        self.explanation = ExplanationPanel("toy2d_objectives.html", expanded=True)
        self.explanation.body.setMaximumHeight(190)
        layout.addWidget(self.explanation)

        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.session.cancel)
        self.session.progress.connect(self._on_progress)
        self.session.ready.connect(self.show_result)
        self.session.ended.connect(self._on_ended)
        self.session.running_changed.connect(self._on_running)

    def start(self) -> None:
        try:
            dataset, schedule, seed = self.settings()
            request = self.session.start(dataset, schedule, self.steps_spin.value(), seed)
        except ValueError as exc:
            self.status.setText(error_text(str(exc)))
            return
        if request is not None:
            self.progress_bar.setRange(0, 3 * request.steps)
            self.progress_bar.setValue(0)
            self.status.setText(f"Training three models on {dataset.label}, {request.steps} "
                                "steps each (one job runs at a time: it may wait for another)…")

    def _on_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_progress(self, update) -> None:
        self.progress_bar.setValue(update.done)
        self.status.setText(f"Step {update.done} of {update.total}: {update.message}")

    def _on_ended(self, outcome: str, message: str) -> None:
        self.status.setText(error_text(f"The comparison failed: {message}")
                            if outcome == "failed" else "Cancelled.")

    def show_result(self, result) -> None:
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.status.setText("Same noise, three objectives: compare where each starts, its first "
                            "x̂<sub>0</sub> and how straight its paths are.")
        for panel, text, (real, samples, trails, starts, ends, reference) in zip(
                result.panels, self.captions, self.items, strict=True):
            trajectory = panel.result.trajectory
            count = min(TRAILS, trajectory.shape[1])
            paths = np.concatenate([trajectory[:, :count], np.full((1, count, 2), np.nan)])
            line = paths.transpose(1, 0, 2).reshape(-1, 2)
            real.setData(panel.result.real[:, 0], panel.result.real[:, 1])
            samples.setData(trajectory[-1, :, 0], trajectory[-1, :, 1])
            trails.setData(line[:, 0], line[:, 1], connect="finite")
            starts.setData(trajectory[0, :count, 0], trajectory[0, :count, 1])
            ends.setData(trajectory[-1, :count, 0], trajectory[-1, :count, 1])
            guide = training_paths(panel.objective, trajectory[0, :count], trajectory[-1, :count])
            reference.setData(guide[:, 0], guide[:, 1], connect="finite")
            text.setText(caption(panel))
