"""The schedules tab's loss-weight view: the weight each training objective puts on the per-step
MSE, against log-SNR, for every overlaid schedule (widgets; the formulas are
``engine.schedules.loss_weights``, fed with the curves the tab shows, numpy's first look
included).

Zero terminal SNR is drawn as it is: its last timestep has SNR = 0, log-SNR = −∞, which no axis
reaches, so it gets a column of its own at the plot's left edge, labelled −∞, apart from the
finite log-SNRs; a weight there that is infinite is a ▲ at the top edge, one that is 0 a ▼ at
the bottom edge (a log axis has no 0 either).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.schedules.loss_weights import DEFAULT_GAMMA, OBJECTIVES, loss_weight, snr
from playground_gui.tabs.schedules.session import color_for

STYLES = {
    "epsilon": Qt.PenStyle.SolidLine,
    "x0": Qt.PenStyle.DashLine,
    "v": Qt.PenStyle.DotLine,
    "min_snr": Qt.PenStyle.DashDotLine,
}
NAMES = {"epsilon": "ε", "x0": "x₀", "v": "v", "min_snr": "min-SNR-γ"}
FORMULAS = {  # per scale: what each weight is
    "epsilon": {"epsilon": "1", "x0": "1/SNR", "v": "1 + 1/SNR", "min_snr": "min(SNR, γ)/SNR"},
    "x0": {"epsilon": "SNR", "x0": "1", "v": "SNR + 1", "min_snr": "min(SNR, γ)"},
}
SCALE_LABELS = {"epsilon": "the ε-MSE ‖ε − ε̂‖²", "x0": "the x₀-MSE ‖x₀ − x̂₀‖²"}
INFINITY_GAP = 3.0  # nats between the smallest finite log-SNR shown and the −∞ column
NOTE = (
    "<p>Every objective trains the same network on the same noised images; they differ only in "
    "how much each noise level counts. Written as a weight on one MSE, ε-prediction, x₀-prediction, "
    "v-prediction and min-SNR-γ (Hang et al. 2023) are the curves on the left: on the ε-MSE "
    "x₀-prediction puts weight 1/SNR (almost all of it on nearly clean images), v puts 1 + 1/SNR, "
    "min-SNR-γ caps the x₀ weight at γ. On the x₀-MSE (the convention of Kingma et al. 2021 and "
    "of the min-SNR paper) the same weights read SNR, 1, SNR + 1 and min(SNR, γ).</p>"
    "<p>Against log-SNR the weights do not depend on the schedule: a schedule only decides which "
    "log-SNRs training visits, and how often, when it draws t uniformly (the curves' extent).</p>"
    "<p><b>Zero terminal SNR:</b> the last step has SNR = 0, log-SNR = −∞. It is drawn in the "
    "column marked −∞ at the left edge; ▲ there means an infinite weight (x₀ and v on the ε-MSE: "
    "ε-prediction learns nothing where x<sub>t</sub> is pure noise), ▼ a weight of 0.</p>")


def shown_log_snr(snr_values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(snr_values)


class LossWeightsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        self.scale_combo = QComboBox()
        self.scale_combo.addItem("the ε-MSE", "epsilon")
        self.scale_combo.addItem("the x₀-MSE", "x0")
        self.scale_combo.setToolTip("Which per-step error the weights multiply: the two scales "
                                    "differ by a factor SNR")
        self.gamma_spin = QDoubleSpinBox(minimum=0.1, maximum=1000.0, value=DEFAULT_GAMMA,
                                         decimals=1, singleStep=0.5, prefix="γ = ")
        self.gamma_spin.setToolTip("min-SNR-γ's cap (Hang et al. 2023 use 5)")
        controls.addWidget(QLabel("Weight on"))
        controls.addWidget(self.scale_combo)
        self.objective_checks: dict[str, QCheckBox] = {}
        for objective in OBJECTIVES:
            check = QCheckBox(NAMES[objective], checked=True)
            self.objective_checks[objective] = check
            controls.addWidget(check)
            check.toggled.connect(self.redraw)
        controls.addWidget(self.gamma_spin)
        controls.addStretch(1)
        self.scale_combo.currentIndexChanged.connect(self.redraw)
        self.gamma_spin.valueChanged.connect(self.redraw)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setLogMode(x=False, y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "log-SNR = ln(ᾱ<sub>t</sub>/(1−ᾱ<sub>t</sub>)), nats "
                                     "(high noise on the left)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.legend = self.plot.addLegend(offset=(-8, 8), labelTextSize="9pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.infinity_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            "#999", width=1, style=Qt.PenStyle.DashLine))
        self.infinity_line.setVisible(False)
        self.plot.addItem(self.infinity_line, ignoreBounds=True)
        self.note = QTextBrowser()
        self.note.setFrameShape(QFrame.Shape.NoFrame)
        self.note.setStyleSheet("background: transparent")
        self.note.setFixedWidth(330)
        self.formula_label = QLabel()
        self.formula_label.setStyleSheet("padding: 2px")

        left = QVBoxLayout()
        left.addLayout(controls)
        left.addWidget(self.plot, 1)
        left.addWidget(self.formula_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 1)
        layout.addWidget(self.note)
        self.note.setHtml(NOTE)
        self.curves = ()
        self.infinity_x: float | None = None  # where the −∞ column is drawn, if any
        self.infinite_points: list[tuple[str, str, float]] = []  # (schedule, objective, weight)

    def sizeHint(self) -> QSize:
        return QSize(900, 400)

    @property
    def scale(self) -> str:
        return self.scale_combo.currentData()

    def objectives(self) -> list[str]:
        return [o for o in OBJECTIVES if self.objective_checks[o].isChecked()]

    def show_curves(self, curves) -> None:
        """The ScheduleCurves the tab shows (numpy's first look, then the engine's)."""
        self.curves = tuple(curves)
        self.redraw()

    def redraw(self, *_) -> None:
        self.plot.clear()  # keeps the legend object, empties it with the items
        self.legend.clear()
        self.plot.addItem(self.infinity_line, ignoreBounds=True)
        gamma, scale = self.gamma_spin.value(), self.scale
        objectives = self.objectives()
        self.formula_label.setText(
            f"Weight on {SCALE_LABELS[scale]}: " + " · ".join(
                f"{NAMES[o]}: {FORMULAS[scale][o]}" for o in objectives))
        drawn = []  # (index, label, log_snr, {objective: weights})
        for index, curves in enumerate(self.curves):
            values = snr(curves.alphas_cumprod)
            drawn.append((index, curves.spec.label, shown_log_snr(values),
                          {o: loss_weight(o, values, scale, gamma) for o in objectives}))
        finite = [w[np.isfinite(w) & (w > 0)] for *_, weights in drawn for w in weights.values()]
        finite = np.concatenate(finite) if finite else np.array([])
        if finite.size == 0:
            return
        low, high = float(finite.min()), float(finite.max())
        low, high = low / 3, high * 3  # room for the ▼ and ▲ of the −∞ column
        log_snrs = np.concatenate([x[np.isfinite(x)] for _, _, x, _ in drawn])
        left, right = float(log_snrs.min()), float(log_snrs.max())
        has_zero_snr = any(np.isneginf(x).any() for _, _, x, _ in drawn)
        self.infinity_x = left - INFINITY_GAP if has_zero_snr else None
        self.infinite_points = []
        for index, label, log_snr, weights in reversed(drawn):  # the first one on top
            finite_x = np.isfinite(log_snr)
            for objective, weight in weights.items():
                pen = pg.mkPen(color_for(index), width=2, style=STYLES[objective])
                item = self.plot.plot(log_snr[finite_x], weight[finite_x], pen=pen)
                item.setObjectName(f"{index}:{objective}")  # tests find a curve by this
                if index == 0:
                    self.legend.addItem(item, f"{NAMES[objective]}: {FORMULAS[scale][objective]}")
                if self.infinity_x is not None and not finite_x.all():
                    self._draw_at_infinity(index, label, objective, weight[~finite_x][-1],
                                           log_snr[finite_x][-1], weight[finite_x][-1], low, high)
        self.infinity_line.setVisible(self.infinity_x is not None)
        if self.infinity_x is not None:
            self.infinity_line.setValue(self.infinity_x)
        x_low = self.infinity_x if self.infinity_x is not None else left
        self.plot.setXRange(x_low, right, padding=0.03)
        self.plot.setYRange(math.log10(low), math.log10(high), padding=0.05)
        self.plot.getAxis("bottom").setTicks(self._ticks(left, right))

    def _draw_at_infinity(self, index, label, objective, weight, last_x, last_weight, low, high):
        """The zero-SNR step of one curve, in the −∞ column (▲ ∞, ▼ 0, ● otherwise), joined
        by a thin dotted line to the curve's last finite point."""
        self.infinite_points.append((label, objective, float(weight)))
        if np.isinf(weight):
            y, symbol = high, "t1"
        elif weight <= 0:
            y, symbol = low, "t"
        else:
            y, symbol = float(weight), "o"
        color = color_for(index)
        self.plot.plot([last_x, self.infinity_x], [last_weight if last_weight > 0 else low, y],
                       pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine))
        self.plot.plot([self.infinity_x], [y], pen=None, symbol=symbol, symbolSize=10,
                       symbolBrush=color, symbolPen=color)

    def _ticks(self, left: float, right: float):
        step = 5 if right - left > 12 else 2
        major = [(float(v), f"{v:g}") for v in range(math.ceil(left / step) * step,
                                                     math.floor(right) + 1, step)]
        if self.infinity_x is not None:
            major.append((self.infinity_x, "−∞"))
        return [major, []]
