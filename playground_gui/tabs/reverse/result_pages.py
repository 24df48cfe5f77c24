"""The Reverse process page's result area: one page per kind of result (widgets only).

``RunPanel``: the step slider, one or two rows of x_t, ε̂, x̂₀ and the save row. ``SweepPanel``:
one grid per guidance scale. ``InversionPanel``: the real digit, the x_T found and the digit
regenerated from it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.png.record import KIND_DIGITS
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.image_grid import ImageGridView
from playground_gui.widgets.save_bar import SaveBar

# The longest texts the step label shows: it keeps room for them, so the slider never moves.
STEP_LABEL_SAMPLES = ("model call 1000/1000 · t = 999", "final sample, after 1000 steps",
                      "final sample, after 999 steps (1000 model calls)", "100% of each run")
VIEW_TIPS = {
    "x_t": "The sample the sampler holds at this step (on the variance-preserving scale the "
           "U-Net sees; the last step shows the final sample)",
    "eps": "ε̂: the noise the U-Net predicts in x_t (grey = 0, white = +3, black = −3)",
    "x0": "x̂₀: the clean image implied by ε̂, x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (samplers that give "
          "none, such as PNDM, DPM-Solver++ and UniPC, have it derived here from ε̂)",
}
SMALL_VIEW = 110  # the sweep's and the inversion's grids


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555")
    return label


class RunPanel(QWidget):
    """Slider and step label, two rows of (x_t, ε̂, x̂₀) with a title each, the save row."""

    def __init__(self, settings, chosen_items, all_items, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the recorded steps")
        self.step_label = ReadoutLine("no run yet", bold=False)
        self.step_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.step_label.setFixedWidth(max(self.step_label.text_width(sample)
                                          for sample in STEP_LABEL_SAMPLES))
        slider_row.addWidget(QLabel("Step"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.step_label)
        layout.addLayout(slider_row)

        self.rows_widget = QWidget()
        self.rows_grid = QGridLayout(self.rows_widget)
        self.rows_grid.setContentsMargins(0, 0, 0, 0)
        self.row_titles: list[ReadoutLine] = []
        self.row_views: list[tuple[ImageGridView, ImageGridView, ImageGridView]] = []
        for row in range(2):
            title = ReadoutLine(bold=False)  # one line that changes live: never moves the views
            self.row_titles.append(title)
            self.rows_grid.addWidget(title, 2 * row, 0, 1, 3)
            triple = (ImageGridView("x_t", VIEW_TIPS["x_t"]),
                      ImageGridView("ε̂ (predicted noise)", VIEW_TIPS["eps"]),
                      ImageGridView("x̂₀ (predicted clean image)", VIEW_TIPS["x0"]))
            for column, view in enumerate(triple):
                self.rows_grid.addWidget(view, 2 * row + 1, column)
                if row:  # the second run sits right under the first: same columns, no titles
                    view.title.setVisible(False)
            self.row_views.append(triple)
        layout.addWidget(self.rows_widget, 1)
        self.show_rows(1)

        save_row = QHBoxLayout()
        self.sample_spin = QSpinBox(minimum=1, maximum=1)
        self.sample_spin.setToolTip("Which sample of the batch Save and Copy image use (counted "
                                    "left to right, top to bottom in the grid)")
        self.sample_spin.setSuffix(" of 1")
        save_row.addWidget(QLabel("Sample"))
        save_row.addWidget(self.sample_spin)
        self.save_bar = SaveBar(settings, KIND_DIGITS, chosen_items, all_items)
        self.save_bar.save_button.setText("Save sample")
        self.save_bar.save_button.setToolTip("Save the chosen sample (64×64 PNG with its "
                                             "parameters) to the output folder")
        self.save_bar.save_all_button.setToolTip("Save every final sample of this run, one PNG each")
        save_row.addWidget(self.save_bar, 1)
        layout.addLayout(save_row)

    def show_rows(self, count: int) -> None:
        for row in range(2):
            visible = row < count
            self.row_titles[row].setVisible(visible)
            for view in self.row_views[row]:
                view.setVisible(visible)
            self.rows_grid.setRowStretch(2 * row + 1, 1 if visible else 0)

    def set_row_title(self, row: int, text: str) -> None:
        self.row_titles[row].setText(text)
        self.row_titles[row].setToolTip(text)  # the whole of it, should the row be too narrow


class SweepPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(QLabel("<b>Guidance sweep: one seed, several guidance scales</b>"))
        self.sweep_row = QHBoxLayout()
        layout.addLayout(self.sweep_row, 1)
        self.sweep_note = _note(
            "Same x_T in every column. Scale 0 ignores the digit (the unconditional model); 1 is "
            "the plain conditional model; larger scales push away from ∅ towards the digit "
            "(more uniform, less varied); too large a scale overshoots: saturated, broken strokes. "
            "Run one with Run sweep (on the left).")
        layout.addWidget(self.sweep_note)

    def show_result(self, result) -> None:
        while self.sweep_row.count():
            widget = self.sweep_row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for scale, images in zip(result.scales, result.images, strict=True):
            view = ImageGridView(f"g = {scale:g}", f"guidance scale {scale:g}",
                                 size=SMALL_VIEW)
            view.set_images(images)
            self.sweep_row.addWidget(view)


class InversionPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(QLabel("<b>DDIM inversion of a real digit</b>"))
        row = QHBoxLayout()
        self.inversion_views = (
            ImageGridView("real x₀", "A held-out real digit", size=SMALL_VIEW),
            ImageGridView("x_T found", "x_T from running deterministic DDIM backwards",
                          size=SMALL_VIEW),
            ImageGridView("regenerated", "DDIM (η = 0) from that x_T", size=SMALL_VIEW))
        for view in self.inversion_views:
            row.addWidget(view)
        layout.addLayout(row, 1)
        self.inversion_note = _note("Deterministic DDIM is invertible: encode a real digit to "
                                    "x_T, then sample from it again (Invert + regenerate, on "
                                    "the left).")
        layout.addWidget(self.inversion_note)

    def show_result(self, result) -> None:
        original, latent, regenerated = self.inversion_views
        original.set_images(result.original, f"digit {result.label}")
        latent.set_images(result.latent, f"std {result.latent_std:.2f}")
        regenerated.set_images(result.reconstruction, f"MSE {result.mse:.4f}")
        self.inversion_note.setText(
            f"Reconstruction error: MSE {result.mse:.4f}, max |error| {result.max_abs_error:.3f} "
            f"(pixels in [−1, 1]). x_T has std {result.latent_std:.2f} (pure noise: 1).")
