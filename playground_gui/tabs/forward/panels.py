"""The forward page's two panels, widgets and layout only: the control column on the left,
the pictures, slider, readout and histogram on the right. Each control becomes an attribute of
the page (the binding and the page's handlers find them there)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.forward.types import IMAGE_SOURCES
from engine.images import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE
from playground_gui.tabs.forward.histogram import HistogramPlot
from playground_gui.tabs.forward.readouts import (
    MARKOV_CAPTION_SAMPLES,
    MARKOV_NOTE,
    READOUT_SAMPLES,
)
from playground_gui.tabs.forward.spectrum_panel import ForwardSpectrumPanel
from playground_gui.tabs.forward.targets_panel import TargetsPanel
from playground_gui.widgets.control_column import form_group, scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.frame_view import FrameView, ReadoutLine
from playground_gui.widgets.images import RGB32

SPEEDS = (25, 50, 100, 250, 500, 1000)  # timesteps per second
DEFAULT_SPEED = 250
LOWER_VIEWS_HEIGHT = 132  # histogram / spectrum / targets, tab bar included, until dragged


def compact(combo: QComboBox) -> None:
    """A combo box whose long entries do not widen the whole control column."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(14)
    combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)


def build_controls(page) -> QWidget:
    panel = QWidget()
    column = QVBoxLayout(panel)
    column.setContentsMargins(0, 0, 6, 0)
    column.addWidget(_image_box(page))
    column.addWidget(_schedule_box(page))
    column.addWidget(_noise_box(page))
    column.addWidget(_export_box(page))
    column.addWidget(ExplanationPanel("forward.html", expanded=True), 1)
    scroll = scrolling_column(panel, panel.minimumSizeHint().width() + 16, 400,
                              horizontal_scroll=False)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    return scroll


def _image_box(page) -> QGroupBox:
    box, form = form_group("Image x₀")
    page.source_combo = QComboBox()
    for key, (label, _) in IMAGE_SOURCES.items():
        page.source_combo.addItem(label, key)
    page.source_combo.setToolTip("Built-in samples, or your own file (Open… or drag and drop)")
    compact(page.source_combo)
    page.open_button = QPushButton("Open…")
    page.open_button.setToolTip("Open any image file; you can also drop one onto this page")
    form.addRow(page.source_combo)  # the whole width: the names are long
    drop_hint = QLabel("or drop a file here")
    drop_hint.setStyleSheet("color: #555")
    open_row = QHBoxLayout()
    open_row.addWidget(page.open_button)
    open_row.addWidget(drop_hint, 1)
    form.addRow(open_row)
    page.size_spin = QSpinBox(minimum=MIN_WORKING_SIZE, maximum=MAX_WORKING_SIZE,
                              value=DEFAULT_WORKING_SIZE, singleStep=64, suffix=" px")
    page.size_spin.setToolTip("Working size: the longest side after resizing (aspect kept)")
    page.grayscale_check = QCheckBox("Grayscale")
    size_row = QHBoxLayout()
    size_row.addWidget(page.size_spin)
    size_row.addWidget(page.grayscale_check)
    form.addRow("Working size", size_row)
    page.image_info = QLabel("No image yet")
    page.image_info.setWordWrap(True)
    page.image_info.setStyleSheet("color: #555")
    form.addRow(page.image_info)
    return box


def _schedule_box(page) -> QGroupBox:
    box, form = form_group("Schedule (shared with Noise schedules)")
    page.schedule_combo = QComboBox()
    page.schedule_combo.setToolTip("The schedules overlaid in the Noise schedules tab; "
                                   "picking one here selects it there too")
    compact(page.schedule_combo)
    form.addRow(page.schedule_combo)  # the whole width, as the labels are long
    page.timesteps_spin = QSpinBox(minimum=2, maximum=100_000, value=1000, singleStep=100)
    page.timesteps_spin.setToolTip("T, the number of timesteps of the selected schedule")
    page.timesteps_spin.setKeyboardTracking(False)
    form.addRow("Timesteps T", page.timesteps_spin)
    return box


def _noise_box(page) -> QGroupBox:
    box, form = form_group("Noise ε and playback")
    page.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
    page.seed_spin.setKeyboardTracking(False)
    page.seed_spin.setToolTip("ε is drawn with torch from this seed (the CLI's --seed)")
    page.reroll_button = QPushButton("New noise")
    page.reroll_button.setToolTip("Draw a new ε (a new random seed)")
    seed_row = QHBoxLayout()
    seed_row.addWidget(page.seed_spin, 1)
    seed_row.addWidget(page.reroll_button)
    form.addRow("Seed", seed_row)
    page.speed_combo = QComboBox()
    for speed in SPEEDS:
        page.speed_combo.addItem(f"{speed} steps/s", speed)
    page.speed_combo.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
    form.addRow("Play speed", page.speed_combo)
    page.markov_check = QCheckBox("Markov chain next to the closed form")
    page.markov_check.setToolTip("Also build x_t step by step, with fresh noise at every step")
    form.addRow(page.markov_check)
    return box


def _export_box(page) -> QGroupBox:
    box = QGroupBox("Export (closed form)")
    grid = QGridLayout(box)
    page.frame_button = QPushButton("Frame PNG…")
    page.frame_button.setToolTip("x_t at the current t, at the working size")
    page.strip_button = QPushButton("Strip PNG…")
    page.strip_button.setToolTip("N frames at evenly spaced t, side by side")
    page.strip_count = QSpinBox(minimum=2, maximum=30, value=10, prefix="N = ")
    page.animation_button = QPushButton("Animation GIF / WebP…")
    page.animation_button.setToolTip("The whole forward process, 60 frames, longest side 256 px")
    grid.addWidget(page.frame_button, 0, 0)
    grid.addWidget(page.strip_button, 1, 0)
    grid.addWidget(page.strip_count, 1, 1)
    grid.addWidget(page.animation_button, 2, 0, 1, 2)
    return box


def build_views(page) -> QWidget:
    """The pictures, slider and readout above; the histogram / spectrum / targets below, in a
    splitter whose handle gives the lower views more room when wanted."""
    views = QWidget()
    layout = QVBoxLayout(views)
    layout.setContentsMargins(0, 0, 0, 0)
    page.status_label = QLabel("Starting the engine (PyTorch loads once, in the background)…")
    page.status_label.setWordWrap(True)
    page.status_label.setStyleSheet("color: #555; padding: 2px")
    # Two lines always reserved: a longer message does not push the image down.
    page.status_label.setMinimumHeight(2 * page.status_label.fontMetrics().lineSpacing() + 4)
    layout.addWidget(page.status_label)
    layout.addLayout(_images(page), 4)
    page.markov_progress = QProgressBar()
    page.markov_progress.setFormat("Markov chain: %v / %m steps")
    page.markov_note = QLabel(MARKOV_NOTE)
    page.markov_note.setWordWrap(True)
    page.markov_note.setStyleSheet("background: #fff8e1; padding: 4px")
    layout.addWidget(page.markov_progress)
    layout.addWidget(page.markov_note)
    layout.addLayout(_slider_row(page))
    page.readout = ReadoutLine()
    page.readout.fit(READOUT_SAMPLES)
    page.readout.setToolTip("Signal and noise shares (standard deviations) and the "
                            "signal-to-noise ratio SNR = ᾱₜ/(1−ᾱₜ) at t")
    layout.addWidget(page.readout)
    page.views_splitter = splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.setChildrenCollapsible(False)
    splitter.addWidget(views)
    splitter.addWidget(_analysis_tabs(page))
    # A taller window goes to the pictures; the lower views keep their height unless dragged.
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 0)
    splitter.setSizes([600, LOWER_VIEWS_HEIGHT])
    return splitter


def _analysis_tabs(page) -> QTabWidget:
    """Under the slider, one view at a time: the histogram of x_t's values, x_t's power
    spectrum, and the prediction targets ε, x₀, v."""
    page.analysis_tabs = tabs = QTabWidget()
    tabs.setDocumentMode(True)
    page.histogram = HistogramPlot()
    page.spectrum_panel = ForwardSpectrumPanel()
    page.targets_panel = TargetsPanel()
    tabs.addTab(page.histogram, "Histogram")
    tabs.addTab(page.spectrum_panel, "Power spectrum")
    tabs.addTab(page.targets_panel, "Prediction targets ε, x₀, v")
    tabs.setTabToolTip(1, "x_t's radially averaged power spectrum, log–log: which spatial "
                          "frequencies the noise has drowned at this t")
    tabs.setTabToolTip(2, "What a network can be trained to predict, and how each converts "
                          "into the others")
    return tabs


def _images(page) -> QGridLayout:
    page.images_grid = images = QGridLayout()
    images.setSpacing(6)
    page.frame_caption = QLabel("xₜ (closed form)")
    page.frame_view = FrameView("The noised image appears here", four_channel=RGB32)
    page.markov_caption = ReadoutLine("xₜ (Markov chain)", bold=False, centred=True, lines=2)
    page.markov_caption.fit(MARKOV_CAPTION_SAMPLES)
    page.markov_caption.setToolTip("The chain keeps every step while they fit in memory; "
                                   "otherwise one frame per so many steps, the nearest shown")
    page.markov_view = FrameView("Building the chain step by step…")
    page.clean_caption = QLabel("x₀ (clean)")
    page.clean_view = FrameView("", minimum=72)
    page.noise_caption = QLabel("ε (the fixed noise)")
    page.noise_view = FrameView("", minimum=72)
    for caption in (page.frame_caption, page.clean_caption, page.noise_caption):
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    images.addWidget(page.frame_caption, 0, 0)
    images.addWidget(page.frame_view, 1, 0, 3, 1)
    images.addWidget(page.markov_caption, 0, 1)
    images.addWidget(page.markov_view, 1, 1, 3, 1)
    images.addWidget(page.clean_caption, 0, 2)
    images.addWidget(page.clean_view, 1, 2)
    images.addWidget(page.noise_caption, 2, 2)
    images.addWidget(page.noise_view, 3, 2)
    images.setColumnStretch(0, 4)
    images.setColumnStretch(1, 4)
    images.setColumnStretch(2, 1)
    return images


def _slider_row(page) -> QHBoxLayout:
    row = QHBoxLayout()
    page.play_button = QPushButton()
    page.play_button.setToolTip("Play / pause (Space)")
    page.play_button.setCheckable(True)
    page.slider = QSlider(Qt.Orientation.Horizontal)
    page.slider.setRange(0, 999)
    page.slider.setToolTip("Timestep t. Keys: ←/→ one step, Page Up/Down a tenth, Home/End")
    page.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    page.t_spin = QSpinBox(minimum=0, maximum=999, prefix="t = ")
    row.addWidget(page.play_button)
    row.addWidget(page.slider, 1)
    row.addWidget(page.t_spin)
    return row
