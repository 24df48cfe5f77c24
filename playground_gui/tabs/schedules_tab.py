"""Noise-schedule tab: β, ᾱ, √ᾱ, √(1−ᾱ) and log-SNR of several schedules, overlaid."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.images import make_test_card
from engine.schedules.csv_export import write_schedule_csv
from engine.schedules.types import DEFAULT_BETAS, SCHEDULE_NAMES, ScheduleRequest, ScheduleSpec
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.images import pixmap_from_array

# Colour-blind-friendly palette (Okabe–Ito), one colour per overlaid schedule.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

# Readout columns: key of ScheduleCurves.table(), header.
QUANTITIES = [
    ("beta", "β<sub>t</sub>"),
    ("alpha_bar", "ᾱ<sub>t</sub>"),
    ("log_snr", "log-SNR"),
    ("sqrt_alpha_bar", "√ᾱ<sub>t</sub>"),
    ("sqrt_one_minus_alpha_bar", "√(1−ᾱ<sub>t</sub>)"),
]
# Plots: key, title, y label, [(quantity, pen style)]. Signal and noise shares share a plot:
# they cross where SNR = 1, which is where log-SNR crosses 0.
PLOTS = [
    ("beta", "β<sub>t</sub>: variance of the noise added at step t", "β",
     [("beta", Qt.PenStyle.SolidLine)]),
    ("alpha_bar", "ᾱ<sub>t</sub> = ∏(1−β<sub>s</sub>): signal variance left", "ᾱ",
     [("alpha_bar", Qt.PenStyle.SolidLine)]),
    ("log_snr", "log-SNR = ln(ᾱ<sub>t</sub> / (1−ᾱ<sub>t</sub>))", "log-SNR (nats)",
     [("log_snr", Qt.PenStyle.SolidLine)]),
    ("shares", "√ᾱ<sub>t</sub> signal (solid) and √(1−ᾱ<sub>t</sub>) noise (dashed)",
     "share (std. dev.)",
     [("sqrt_alpha_bar", Qt.PenStyle.SolidLine), ("sqrt_one_minus_alpha_bar", Qt.PenStyle.DashLine)]),
]
READOUT_HINT = "Hover over a plot to read exact values at a timestep."
STRIP_STEPS = 10
THUMBNAIL = 64  # ten per row fit beside the names at 1280 px


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def format_value(value: float) -> str:
    if math.isinf(value):
        return "−∞" if value < 0 else "∞"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.3e}"
    return f"{value:.5f}"


def readout_html(t: int, rows, hint: str = "") -> str:
    """The hover table: ``rows`` are (label, values in QUANTITIES order, or None past its T)."""
    header = "".join(f"<th align='right'>&nbsp;{title}&nbsp;</th>" for _, title in QUANTITIES)
    lines = []
    for index, (label, values) in enumerate(rows):
        if values is None:
            cells = "<td colspan=5 align='center'>t beyond this schedule's T</td>"
        else:
            cells = "".join(f"<td align='right'>&nbsp;{format_value(value)}&nbsp;</td>"
                            for value in values)
        lines.append(f"<tr><td><span style='color:{color_for(index)}'>■</span> "
                     f"{label}</td>{cells}</tr>")
    hint = f" <span style='color:#555'>({hint})</span>" if hint else ""
    return (f"<b>t = {t}</b>{hint}<table cellspacing=0><tr><th></th>{header}</tr>" + "".join(lines)
            + "</table>")


class SchedulesTab(QWidget):
    title = "Noise schedules"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.engine = context.engine
        self.schedules = context.schedules
        self.curves = ()  # ScheduleCurves of the last finished job, in list order
        self.strips = ()
        self.hover_t: int | None = None
        self._job = None
        self._updating_editor = False
        self._strip_image = make_test_card(96)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])  # room for "sigmoid (T=1000, β 0.0001–0.02, zero-SNR)"
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._refresh_timer = QTimer(self, singleShot=True, interval=120)
        self._refresh_timer.timeout.connect(self._request_curves)
        self.schedules.changed.connect(self._on_schedules_changed)
        self.schedules.current_changed.connect(self._on_current_changed)
        self._on_schedules_changed()
        self._on_current_changed(self.schedules.current_index)

    # -- layout ----------------------------------------------------------------------------
    def _build_controls(self) -> QWidget:
        panel = QWidget()
        panel.setMinimumWidth(300)
        panel.setMaximumWidth(420)
        column = QVBoxLayout(panel)

        overlay_box = QGroupBox("Overlaid schedules")
        overlay_layout = QVBoxLayout(overlay_box)
        self.schedule_list = QListWidget()
        self.schedule_list.setMaximumHeight(130)
        self.schedule_list.currentRowChanged.connect(self._on_row_selected)
        overlay_layout.addWidget(self.schedule_list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Overlay another schedule")
        self.add_button.clicked.connect(self._add_schedule)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self.schedules.remove(self.schedules.current_index))
        reset_button = QPushButton("Reset")
        reset_button.setToolTip("Back to linear, cosine and scaled_linear")
        reset_button.clicked.connect(self.schedules.reset)
        for button in (self.add_button, self.remove_button, reset_button):
            buttons.addWidget(button)
        overlay_layout.addLayout(buttons)
        column.addWidget(overlay_box)

        editor_box = QGroupBox("Selected schedule")
        form = QFormLayout(editor_box)
        self.name_combo = QComboBox()
        self.name_combo.addItems(list(SCHEDULE_NAMES))
        self.name_combo.setToolTip("diffusers beta_schedule: linear, scaled_linear, "
                                   "squaredcos_cap_v2 (cosine) or sigmoid")
        self.timesteps_spin = QSpinBox(minimum=2, maximum=100_000, value=1000, singleStep=100)
        self.timesteps_spin.setToolTip("T, the number of training timesteps")
        self.beta_start_spin = self._beta_spin()
        self.beta_end_spin = self._beta_spin()
        self.zero_snr_check = QCheckBox("Rescale to zero terminal SNR")
        self.zero_snr_check.setToolTip("diffusers' rescale_betas_zero_snr: ᾱ at t = T−1 becomes 0")
        form.addRow("Schedule", self.name_combo)
        form.addRow("Timesteps T", self.timesteps_spin)
        form.addRow("β start", self.beta_start_spin)
        form.addRow("β end", self.beta_end_spin)
        form.addRow(self.zero_snr_check)
        self.editor_error = QLabel()
        self.editor_error.setStyleSheet("color: #b00020")
        self.editor_error.setWordWrap(True)
        form.addRow(self.editor_error)
        self.name_combo.currentTextChanged.connect(self._on_name_changed)
        for spin in (self.timesteps_spin, self.beta_start_spin, self.beta_end_spin):
            spin.valueChanged.connect(self._apply_editor)
        self.zero_snr_check.toggled.connect(self._apply_editor)
        column.addWidget(editor_box)

        view_box = QGroupBox("View and export")
        view_layout = QVBoxLayout(view_box)
        self.log_beta_check = QCheckBox("Logarithmic β axis", checked=True)
        self.log_beta_check.setToolTip("β spans orders of magnitude; a log axis shows its start")
        self.log_beta_check.toggled.connect(lambda on: self.plots["beta"].setLogMode(y=on))
        view_layout.addWidget(self.log_beta_check)
        export_row = QHBoxLayout()
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("t, β, ᾱ, √ᾱ, √(1−ᾱ), log-SNR for every overlaid schedule")
        self.csv_button.clicked.connect(self._export_csv_dialog)
        self.png_button = QPushButton("Export plots PNG…")
        self.png_button.clicked.connect(self._export_png_dialog)
        export_row.addWidget(self.csv_button)
        export_row.addWidget(self.png_button)
        view_layout.addLayout(export_row)
        column.addWidget(view_box)

        column.addWidget(ExplanationPanel("schedules.html", expanded=True), 1)
        return panel

    def _beta_spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(decimals=6, minimum=0.000001, maximum=0.999, singleStep=0.0001)
        spin.setToolTip("Ignored by cosine, which is defined through ᾱ directly")
        return spin

    def _build_views(self) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Vertical)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel("Starting the engine (PyTorch and diffusers load once, "
                                   "in the background)…")
        self.status_label.setStyleSheet("color: #555; padding: 4px")
        top_layout.addWidget(self.status_label)
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        self.crosshairs: list[pg.InfiniteLine] = []
        for index, (key, title, y_label, _) in enumerate(PLOTS):
            plot = self.plot_widget.addPlot(row=index // 2, col=index % 2)
            plot.setTitle(title, size="10pt")
            plot.setLabel("bottom", "timestep t")
            plot.setLabel("left", y_label)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            plot.vb.setMouseEnabled(x=True, y=False)
            if self.plots:
                plot.setXLink(self.plots["beta"])
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.crosshairs.append(line)
            self.plots[key] = plot
        self.plots["beta"].setLogMode(y=True)
        # ᾱ falls from 1 to 0, so its top-right corner is free for the legend.
        self.legend = self.plots["alpha_bar"].addLegend(offset=(-8, 8), labelTextSize="9pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        top_layout.addWidget(self.plot_widget, 1)
        self.readout = QLabel(READOUT_HINT)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet("padding: 4px")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Its height is reserved for the whole table (see _reserve_readout_height), and its
        # width never pushes the plots: hovering must not resize them.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        top_layout.addWidget(self.readout)
        splitter.addWidget(top)

        strip_box = QGroupBox(f"One image noised at {STRIP_STEPS} evenly spaced timesteps, per schedule "
                              "(same noise ε everywhere)")
        strip_layout = QVBoxLayout(strip_box)
        self.strip_area = QScrollArea()
        self.strip_area.setWidgetResizable(True)
        self.strip_container = QWidget()
        self.strip_grid = QGridLayout(self.strip_container)
        self.strip_grid.setHorizontalSpacing(4)
        self.strip_area.setWidget(self.strip_container)
        strip_layout.addWidget(self.strip_area)
        splitter.addWidget(strip_box)
        splitter.setSizes([600, 190])  # the plots first; the strip scrolls
        return splitter

    # -- editor ↔ shared state -------------------------------------------------------------
    def _on_schedules_changed(self) -> None:
        self.schedule_list.blockSignals(True)
        self.schedule_list.clear()
        for index, spec in enumerate(self.schedules.specs):
            swatch = QPixmap(14, 14)
            swatch.fill(QColor(color_for(index)))
            self.schedule_list.addItem(spec.label)
            self.schedule_list.item(index).setIcon(QIcon(swatch))
        self.schedule_list.setCurrentRow(self.schedules.current_index)
        self.schedule_list.blockSignals(False)
        self.remove_button.setEnabled(len(self.schedules.specs) > 1)
        self._reserve_readout_height(len(self.schedules.specs))
        self._load_editor(self.schedules.current)  # another tab may have changed it (e.g. T)
        self._refresh_timer.start()

    def _on_current_changed(self, index: int) -> None:
        self.schedule_list.blockSignals(True)
        self.schedule_list.setCurrentRow(index)
        self.schedule_list.blockSignals(False)
        self._load_editor(self.schedules.current)

    def _on_row_selected(self, row: int) -> None:
        if row >= 0:
            self.schedules.set_current_index(row)

    def _load_editor(self, spec: ScheduleSpec) -> None:
        self._updating_editor = True
        self.name_combo.setCurrentText(spec.name)
        self.timesteps_spin.setValue(spec.num_train_timesteps)
        self.beta_start_spin.setValue(spec.beta_start)
        self.beta_end_spin.setValue(spec.beta_end)
        self.zero_snr_check.setChecked(spec.rescale_zero_snr)
        self._set_beta_enabled(spec.name != "cosine")
        self.editor_error.clear()
        self._updating_editor = False

    def _set_beta_enabled(self, enabled: bool) -> None:
        self.beta_start_spin.setEnabled(enabled)
        self.beta_end_spin.setEnabled(enabled)

    def _on_name_changed(self, name: str) -> None:
        if self._updating_editor:
            return
        # Each schedule family has its own natural β range (scaled_linear is Stable Diffusion's).
        self._updating_editor = True
        start, end = DEFAULT_BETAS[name]
        self.beta_start_spin.setValue(start)
        self.beta_end_spin.setValue(end)
        self._set_beta_enabled(name != "cosine")
        self._updating_editor = False
        self._apply_editor()

    def _apply_editor(self, *_) -> None:
        if self._updating_editor:
            return
        try:
            spec = ScheduleSpec(
                name=self.name_combo.currentText(),
                num_train_timesteps=self.timesteps_spin.value(),
                beta_start=self.beta_start_spin.value(),
                beta_end=self.beta_end_spin.value(),
                rescale_zero_snr=self.zero_snr_check.isChecked(),
            )
        except ValueError as exc:
            self.editor_error.setText(str(exc))
            return
        self.editor_error.clear()
        self.schedules.set_current_spec(spec)

    def _add_schedule(self) -> None:
        shown = {spec.name for spec in self.schedules.specs}
        name = next((n for n in SCHEDULE_NAMES if n not in shown), "linear")
        self.schedules.append(ScheduleSpec.preset(name))

    # -- engine ----------------------------------------------------------------------------
    def _request_curves(self) -> None:
        if self.engine.is_shut_down:
            return  # the window closed before the debounce timer fired
        if self._job is not None:
            self._job.cancel()  # only the newest set of schedules matters
        request = ScheduleRequest(specs=self.schedules.specs, strip_image=self._strip_image,
                                  strip_steps=STRIP_STEPS, seed=0)
        job = self.engine.submit(request, "Computing noise schedules")
        job.succeeded.connect(self._show_result)
        job.failed.connect(lambda message: self.status_label.setText("Could not compute: " + message))
        job.finished.connect(lambda j=job: self._forget_job(j))
        self._job = job

    def _forget_job(self, job) -> None:
        if self._job is job:
            self._job = None

    def _show_result(self, result) -> None:
        self.curves = result.curves
        self.strips = result.strips
        self.status_label.setVisible(False)
        self._draw_curves()
        self._draw_strips()
        # Until the pointer picks a t, the table shows the middle one (its room is kept anyway).
        self._update_readout(self.hover_t)

    def _draw_curves(self) -> None:
        for plot in self.plots.values():
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self.legend.clear()
        for index, curves in enumerate(self.curves):
            table = curves.table()
            for plot_key, _, _, lines in PLOTS:
                for key, style in lines:
                    # −∞ (zero terminal SNR) cannot be drawn: leave a gap instead.
                    values = np.where(np.isfinite(table[key]), table[key], np.nan)
                    pen = pg.mkPen(color_for(index), width=2, style=style)
                    item = self.plots[plot_key].plot(table["t"], values, pen=pen, connect="finite")
                    if key == "alpha_bar":
                        self.legend.addItem(item, curves.spec.label)
        longest = max(len(c.betas) for c in self.curves)
        self.plots["beta"].setXRange(0, longest - 1, padding=0.02)

    def _draw_strips(self) -> None:
        while self.strip_grid.count():
            widget = self.strip_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for row, (curves, strip) in enumerate(zip(self.curves, self.strips, strict=True)):
            if strip is None:
                continue
            name = QLabel(f"<b style='color:{color_for(row)}'>{curves.spec.name}</b>"
                          f"<br><small>{curves.spec.label[len(curves.spec.name):].strip(' ()')}</small>")
            name.setFixedWidth(130)
            name.setWordWrap(True)
            self.strip_grid.addWidget(name, row, 0)
            for column, (t, image) in enumerate(zip(strip.timesteps, strip.images, strict=True)):
                cell = QLabel()
                cell.setPixmap(pixmap_from_array(image).scaled(
                    THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation))
                alpha_bar = curves.alphas_cumprod[t]
                cell.setToolTip(f"t = {t}: √ᾱ = {math.sqrt(alpha_bar):.3f}, "
                                f"√(1−ᾱ) = {math.sqrt(1 - alpha_bar):.3f}")
                caption = QLabel(f"t = {t}")
                caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
                box = QWidget()
                box_layout = QVBoxLayout(box)
                box_layout.setContentsMargins(0, 0, 0, 0)
                box_layout.setSpacing(1)
                box_layout.addWidget(cell)
                box_layout.addWidget(caption)
                self.strip_grid.addWidget(box, row, column + 1)
        self.strip_grid.setColumnStretch(STRIP_STEPS + 1, 1)
        self.strip_grid.setRowStretch(len(self.curves), 1)

    # -- crosshair -------------------------------------------------------------------------
    def _on_mouse_moved(self, position) -> None:
        if not self.curves:
            return
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(position):
                x = plot.vb.mapSceneToView(position).x()
                longest = max(len(c.betas) for c in self.curves)
                self.set_hover_timestep(int(round(min(max(x, 0), longest - 1))))
                return

    def set_hover_timestep(self, t: int | None) -> None:
        self.hover_t = t
        for line in self.crosshairs:
            line.setVisible(t is not None)
            if t is not None:
                line.setValue(t)
        self._update_readout(t)

    def _update_readout(self, t: int | None) -> None:
        if not self.curves:
            return
        hint = ""
        if t is None:
            t = max(len(c.betas) for c in self.curves) // 2
            hint = "hover over a plot to read another timestep"
        rows = []
        for curves in self.curves:
            if t >= len(curves.betas):
                rows.append((curves.spec.label, None))
            else:
                table = curves.table()
                rows.append((curves.spec.label, [table[key][t] for key, _ in QUANTITIES]))
        self.readout.setText(readout_html(t, rows, hint))

    def _reserve_readout_height(self, count: int) -> None:
        """Fix the readout's height to that of a table of ``count`` schedules, hint or not:
        the plots above keep their size whatever it shows (it changes only with the count)."""
        shown = self.readout.text()
        sample = [("linear (T=1000, β 0.0001–0.02)", [-1.234e-05] * len(QUANTITIES))] * count
        self.readout.setText(readout_html(99_999, sample, "hover over a plot"))
        height = self.readout.sizeHint().height()
        self.readout.setText(shown)
        self.readout.setFixedHeight(height)

    # -- export ----------------------------------------------------------------------------
    def export_csv(self, path: str) -> None:
        write_schedule_csv(path, self.curves, with_schedule_column=len(self.curves) > 1)

    def export_png(self, path: str) -> None:
        if not self.plot_widget.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def _export_csv_dialog(self) -> None:
        if not self.curves:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export schedules as CSV", "schedules.csv",
                                              "CSV files (*.csv)")
        if path:
            self._run_export(self.export_csv, path)

    def _export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plots as PNG", "schedules.png",
                                              "PNG images (*.png)")
        if path:
            self._run_export(self.export_png, path)

    def _run_export(self, export, path: str) -> None:
        try:
            export(path)
        except OSError as exc:
            self.window().show_error("Export failed", f"Could not write {path}: {exc.strerror or exc}")
        else:
            self.window().statusBar().showMessage(f"Saved {path}", 5000)
