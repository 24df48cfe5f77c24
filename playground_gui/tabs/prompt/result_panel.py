"""The Prompt tab's middle column: the image (live preview, result, scrubbed step), the step
slider with what it shows, and the thumbnails of a batch.

``build_result_view(view)`` makes the widgets and hangs them on the view; the view connects
them.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from playground_gui.tabs.prompt.image_view import PromptImageView

SCRUB_KINDS = {"x0": "predicted clean image x̂₀", "xt": "noisy latents x_t"}


def build_result_view(view) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    view.image_view = PromptImageView("No image yet.\nLive previews appear here during a run.")
    layout.addWidget(view.image_view, 1)
    # The slider has the column's whole width to itself (at 1280×720 it shared a row with
    # the combo box and shrank to its handle); what it shows sits on the row below.
    view.step_slider = QSlider(Qt.Orientation.Horizontal)
    view.step_slider.setEnabled(False)
    view.step_slider.setMinimumWidth(160)
    view.step_slider.setToolTip("Scrub through the recorded steps of the finished run")
    layout.addWidget(view.step_slider)
    scrub = QHBoxLayout()
    view.step_label = QLabel("Step: no run yet")
    view.step_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    scrub.addWidget(view.step_label, 1)
    view.scrub_kind = QComboBox()
    for key, label in SCRUB_KINDS.items():
        view.scrub_kind.addItem(label, key)
    view.scrub_kind.setToolTip("x̂₀: what the model thinks the final image is at this step. "
                               "x_t: the actual noisy latents at this step")
    scrub.addWidget(view.scrub_kind)
    layout.addLayout(scrub)
    view.thumbnails = QListWidget()
    view.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
    view.thumbnails.setFlow(QListWidget.Flow.LeftToRight)
    view.thumbnails.setWrapping(False)
    view.thumbnails.setIconSize(QSize(64, 64))
    view.thumbnails.setFixedHeight(96)
    view.thumbnails.setVisible(False)
    layout.addWidget(view.thumbnails)
    return box
