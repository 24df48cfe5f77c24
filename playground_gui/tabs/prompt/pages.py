"""The Prompt tab's right column: Input & mask, Tokens & attention, Latents, VAE round trip, Compare.

``build_pages(view)`` makes the pages and hangs their widgets on the view; the view connects
them. Each page scrolls inside the column: what a page shows after a run (latents, tokens)
never widens the column and squeezes the image.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground_gui.tabs.prompt.attention_view import AttentionView
from playground_gui.tabs.prompt.image_view import PromptImageView
from playground_gui.tabs.prompt.latent_view import PromptLatentView
from playground_gui.tabs.prompt.lora_view import LoraDeltaView
from playground_gui.tabs.prompt.mask_painter import MaskPainter
from playground_gui.tabs.prompt.token_view import PromptTokenView

COMPARE_DEFAULTS = {"guidance_scale": "1, 3, 7.5, 12", "steps": "5, 10, 20, 30",
                    "scheduler": "DDIM, Euler ancestral, DPM-Solver++ 2M Karras, UniPC"}
INPUT_PAGE = 0
LORA_PAGE = 5


def build_pages(view) -> QTabWidget:
    view.pages = QTabWidget()
    view.token_view = PromptTokenView()
    view.attention_view = AttentionView()
    view.attention_check = view.attention_view.record_check  # bound: capture_attention
    view.latent_view = PromptLatentView()
    view.lora_view = LoraDeltaView()
    for page, title in ((_input_page(view), "Input && mask"),
                        (_tokens_page(view), "Tokens && attention"),
                        (view.latent_view, "Latents"),
                        (_round_trip_page(view), "VAE round trip"),
                        (_compare_page(view), "Compare"),
                        (view.lora_view, "LoRA")):
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        view.pages.addTab(scroll, title)
    view.pages.setMinimumWidth(320)
    return view.pages


def _input_page(view) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    row = QHBoxLayout()
    view.open_image_button = QPushButton("Open image…")
    view.use_result_button = QPushButton("Use shown result")
    view.use_result_button.setEnabled(False)
    row.addWidget(view.open_image_button)
    row.addWidget(view.use_result_button)
    row.addStretch(1)
    layout.addLayout(row)
    tools = QHBoxLayout()
    view.painter = MaskPainter()
    view.brush_spin = QSpinBox(minimum=1, maximum=512, value=24, prefix="brush ", suffix=" px")
    view.brush_spin.valueChanged.connect(lambda v: setattr(view.painter, "brush_size", v))
    view.eraser_check = QCheckBox("Eraser")
    view.eraser_check.toggled.connect(lambda on: setattr(view.painter, "erasing", on))
    invert = QPushButton("Invert")
    invert.clicked.connect(view.painter.invert)
    clear = QPushButton("Clear")
    clear.clicked.connect(view.painter.clear)
    for widget in (view.brush_spin, view.eraser_check, invert, clear):
        tools.addWidget(widget)
    tools.addStretch(1)
    layout.addLayout(tools)
    view.mask_info = QLabel()
    view.mask_info.setWordWrap(True)
    layout.addWidget(view.painter, 1)
    layout.addWidget(view.mask_info)
    return page


def _tokens_page(view) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(view.token_view)
    layout.addWidget(view.attention_view, 1)
    return page


def _round_trip_page(view) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    intro = QLabel("Encode an image into latents and decode it back: what survives is what "
                   "the autoencoder keeps; the diffusion model only ever sees the latents.")
    intro.setWordWrap(True)
    layout.addWidget(intro)
    view.round_trip_button = QPushButton("Round-trip the input image (or the shown result)")
    layout.addWidget(view.round_trip_button)
    pair = QHBoxLayout()
    view.round_trip_original = PromptImageView("original")
    view.round_trip_output = PromptImageView("after encode → decode")
    pair.addWidget(view.round_trip_original)
    pair.addWidget(view.round_trip_output)
    layout.addLayout(pair, 1)
    view.round_trip_latents = PromptLatentView(cell=72)
    layout.addWidget(view.round_trip_latents)
    return page


def _compare_page(view) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    row = QHBoxLayout()
    view.compare_vary = QComboBox()
    view.compare_vary.addItem("guidance scale", "guidance_scale")
    view.compare_vary.addItem("steps", "steps")
    view.compare_vary.addItem("scheduler", "scheduler")
    view.compare_values = QLineEdit(COMPARE_DEFAULTS["guidance_scale"])
    view.compare_vary.currentIndexChanged.connect(
        lambda _: view.compare_values.setText(COMPARE_DEFAULTS[view.compare_vary.currentData()]))
    view.compare_button = QPushButton("Run grid")
    row.addWidget(QLabel("Vary"))
    row.addWidget(view.compare_vary)
    row.addWidget(view.compare_values, 1)
    row.addWidget(view.compare_button)
    layout.addLayout(row)
    hint = QLabel("Same prompt, seed and other settings for every image (the seed field, or a "
                  "random one shown in the caption).")
    hint.setWordWrap(True)
    hint.setStyleSheet("color: #555")
    layout.addWidget(hint)
    view.compare_view = PromptImageView("The labelled grid appears here.")
    layout.addWidget(view.compare_view, 1)
    return page
