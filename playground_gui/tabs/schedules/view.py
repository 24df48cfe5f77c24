"""Noise-schedule tab: β, ᾱ, √ᾱ, √(1−ᾱ) and log-SNR of several schedules, overlaid.

Widgets and layout only: the curves and their job are the session's (session.py), the editor's
fields ↔ controls the binding's (binding.py).
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import asdict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker, Qt
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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.schedules.types import DEFAULT_BETAS, SCHEDULE_NAMES, ScheduleSpec
from playground_gui.tabs.schedules.binding import BETA_RANGE, SCHEDULE_BINDING, TIMESTEPS_RANGE
from playground_gui.tabs.schedules.loss_weights import LossWeightsPanel
from playground_gui.tabs.schedules.session import (
    QUANTITIES,
    STRIP_STEPS,
    SchedulesSession,
    color_for,
    next_preset,
    readout_html,
    strip_timesteps,
)
from playground_gui.tabs.schedules.throttle import LatestOnly
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.images import pixmap_from_array

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
PROVISIONAL_NOTE = ("First look: numpy's closed forms of diffusers' formulas. diffusers' own curves "
                    "and the noised images follow once PyTorch has loaded…")
ENGINE_NOTE = "Curves from diffusers' DDPMScheduler, the schedules the engine noises and samples with."
READOUT_HINT = "Hover over a plot to read exact values at a timestep."
THUMBNAIL = 64  # ten per row fit beside the names at 1280 px


class SchedulesTab(QWidget):
    title = "Noise schedules"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.schedules = context.schedules
        self.session = SchedulesSession(context.engine, context.schedules, self)
        self.hover_t: int | None = None

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])  # room for "sigmoid (T=1000, β 0.0001–0.02, zero-SNR)"
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        # Mouse moves arrive much faster than repaints: handle the newest, ~60 times a second.
        self.pointer = LatestOnly(parent=self)
        self.pointer.fired.connect(self._on_pointer)
        self.plot_widget.scene().sigMouseMoved.connect(lambda position: self.pointer.push(QPointF(position)))
        self.session.result_changed.connect(self._show_result)
        self.session.first_look_changed.connect(self._show_result)
        self.session.failed.connect(lambda message: self._say("Could not compute: " + message))
        self.schedules.changed.connect(self._on_schedules_changed)
        self.schedules.current_changed.connect(self._on_current_changed)
        self._on_schedules_changed()
        self._on_current_changed(self.schedules.current_index)
        self._show_result()  # the first look: numpy's curves, drawn before torch is imported

    @property
    def curves(self):
        """ScheduleCurves of the last finished job, in list order."""
        return self.session.curves

    @property
    def strips(self):
        return self.session.strips

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
        self.add_button.clicked.connect(lambda: self.schedules.append(next_preset(self.schedules.specs)))
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
        self.timesteps_spin = QSpinBox(minimum=TIMESTEPS_RANGE[0], maximum=TIMESTEPS_RANGE[1],
                                       value=1000, singleStep=100)
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
        spin = QDoubleSpinBox(decimals=6, minimum=BETA_RANGE[0], maximum=BETA_RANGE[1],
                              singleStep=0.0001)
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
        # One line whose room never goes away: the plots below must not jump when the engine's
        # curves replace the first look (the full text of a long message is in the tooltip).
        self.status_label.setFixedHeight(self.status_label.fontMetrics().lineSpacing() + 8)
        # …and no width of its own: a long message must not widen the window.
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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
        curves_page = QWidget()  # the curves over t and their readout; loss weights beside
        curves_layout = QVBoxLayout(curves_page)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.plot_widget, 1)
        self.readout = QLabel(READOUT_HINT)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet("padding: 4px")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Its height is reserved for the whole table (see _reserve_readout_height), and its
        # width never pushes the plots: hovering must not resize them.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        curves_layout.addWidget(self.readout)
        self.view_tabs = QTabWidget()
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.addTab(curves_page, "Curves over t")
        self.loss_weights = LossWeightsPanel()
        self.view_tabs.addTab(self.loss_weights, "Loss weight per objective vs log-SNR")
        top_layout.addWidget(self.view_tabs, 1)
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
        with QSignalBlocker(self.schedule_list):
            self.schedule_list.clear()
            for index, spec in enumerate(self.schedules.specs):
                swatch = QPixmap(14, 14)
                swatch.fill(QColor(color_for(index)))
                self.schedule_list.addItem(spec.label)
                self.schedule_list.item(index).setIcon(QIcon(swatch))
            self.schedule_list.setCurrentRow(self.schedules.current_index)
        self.remove_button.setEnabled(len(self.schedules.specs) > 1)
        self._reserve_readout_height(len(self.schedules.specs))
        self._load_editor(self.schedules.current)  # another tab may have changed it (e.g. T)

    def _on_current_changed(self, index: int) -> None:
        with QSignalBlocker(self.schedule_list):
            self.schedule_list.setCurrentRow(index)
        self._load_editor(self.schedules.current)

    def _on_row_selected(self, row: int) -> None:
        if row >= 0:
            self.schedules.set_current_index(row)

    def _editor_controls(self) -> list[QWidget]:
        return [getattr(self, field.control) for field in SCHEDULE_BINDING.fields]

    def _load_editor(self, spec: ScheduleSpec) -> None:
        """Show ``spec`` in the editor without writing it back to the shared set."""
        with ExitStack() as stack:
            for control in self._editor_controls():
                stack.enter_context(QSignalBlocker(control))
            SCHEDULE_BINDING.restore(self, asdict(spec))
        self._set_beta_enabled(spec.name != "cosine")
        self.editor_error.clear()

    def _set_beta_enabled(self, enabled: bool) -> None:
        self.beta_start_spin.setEnabled(enabled)
        self.beta_end_spin.setEnabled(enabled)

    def _on_name_changed(self, name: str) -> None:
        # Each schedule family has its own natural β range (scaled_linear is Stable Diffusion's).
        start, end = DEFAULT_BETAS[name]
        with QSignalBlocker(self.beta_start_spin), QSignalBlocker(self.beta_end_spin):
            self.beta_start_spin.setValue(start)
            self.beta_end_spin.setValue(end)
        self._set_beta_enabled(name != "cosine")
        self._apply_editor()

    def _apply_editor(self, *_) -> None:
        try:
            spec = ScheduleSpec(**SCHEDULE_BINDING.read(self))
        except ValueError as exc:
            self.editor_error.setText(str(exc))
            return
        self.editor_error.clear()
        self.schedules.set_current_spec(spec)

    def has_curves(self) -> bool:
        """Every plot has its curves, with data (the first-look benchmark asks)."""
        return all(plot.listDataItems() and all(len(item.yData) for item in plot.listDataItems())
                   for plot in self.plots.values())

    def _say(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    # -- drawing the session's result ------------------------------------------------------
    def _show_result(self) -> None:
        # The first look (numpy's curves) says what is still to come; the engine's hide the note.
        self._say(PROVISIONAL_NOTE if self.session.provisional else ENGINE_NOTE)
        self._draw_curves()
        self.loss_weights.show_curves(self.curves)
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
        self.plots["beta"].setXRange(0, self.session.longest - 1, padding=0.02)

    def _draw_strips(self) -> None:
        while self.strip_grid.count():
            widget = self.strip_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for row, (curves, strip) in enumerate(zip(self.curves, self.strips, strict=True)):
            if strip is None and not self.session.provisional:
                continue
            name = QLabel(f"<b style='color:{color_for(row)}'>{curves.spec.name}</b>"
                          f"<br><small>{curves.spec.label[len(curves.spec.name):].strip(' ()')}</small>")
            name.setFixedWidth(130)
            name.setWordWrap(True)
            self.strip_grid.addWidget(name, row, 0)
            if strip is None:  # the first look: the strip's layout, its images still to come
                steps = strip_timesteps(curves.spec.num_train_timesteps)
                images = [None] * len(steps)
            else:
                steps, images = strip.timesteps, strip.images
            for column, (t, image) in enumerate(zip(steps, images, strict=True)):
                cell = QLabel()
                cell.setFixedSize(THUMBNAIL, THUMBNAIL)  # placeholder and image take the same room
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                if image is None:
                    cell.setStyleSheet("background: #e4e4e4; border: 1px dashed #b0b0b0")
                else:
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
    def _on_pointer(self, position: QPointF) -> None:
        """The newest pointer position (throttled): move the crosshair to its timestep."""
        if not self.curves:
            return
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(position):
                self.set_hover_timestep(self.session.timestep_at(plot.vb.mapSceneToView(position).x()))
                return

    def set_hover_timestep(self, t: int | None) -> None:
        self.hover_t = t
        for line in self.crosshairs:
            line.setVisible(t is not None)
            if t is not None:
                line.setValue(t)
        self._update_readout(t)

    def _update_readout(self, t: int | None) -> None:
        if self.curves:
            self.readout.setText(self.session.readout(t))

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
        self.session.export_csv(path)

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
