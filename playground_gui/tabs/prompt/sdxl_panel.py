"""The Prompt tab's "SDXL conditioning" group (engine/stable_diffusion/sdxl_types.py) and the
refiner's mark on the step slider.

The group is shown only while an SDXL model is loaded (or no model is known yet, so a restored
record's values still count); with another model it is hidden and the request carries no SDXL
options. Its values are one nested ``GenerationRequest.sdxl``, so they are read and restored
here rather than through the flat binding table (binding.py calls these).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPainter, QPolygon
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from engine.stable_diffusion.families import SDXL
from engine.stable_diffusion.sdxl_types import (
    DEFAULT_REFINER_SWITCH,
    MAX_CONDITIONING_SIZE,
    SdxlOptions,
    sdxl_from_texts,
)

EXPLANATION = (
    "SDXL was trained with each source image's size and crop as extra inputs. Here they are "
    "knobs: a small original size asks for what upscaled small images looked like (soft, "
    "blurry); a crop offset for a cut-out (subjects cut off at the top or left); a small "
    "negative original size makes guidance steer away from that look. 0 = the output size. "
    "The refiner, a second SDXL model trained on the last, low-noise steps, takes over at the "
    "switch (0.8: the base runs 80 % of the steps); the step slider shows both as one run.")

# (request field, label, tooltip, special text for 0) of the size pairs
_PAIRS = (
    ("original_size", "Original size", "The source image's size the model is told of "
     "(width × height)", "output"),
    ("target_size", "Target size", "The size the model is told it makes", "output"),
    ("crop_top_left", "Crop top-left", "The crop offset (x, y) the model is told of; 0,0 = "
     "centred, whole subjects", ""),
    ("negative_original_size", "Negative original", "The source size the negative branch is "
     "told of (e.g. 512 × 512 steers away from low-resolution looks)", "off"),
)


def _pair_row(view, name: str, tooltip: str, special: str) -> QHBoxLayout:
    row = QHBoxLayout()
    spins = []
    for axis in ("x", "y") if name == "crop_top_left" else ("W", "H"):
        spin = QSpinBox(minimum=0, maximum=MAX_CONDITIONING_SIZE, value=0, singleStep=64,
                        prefix=f"{axis} ")
        if special:
            spin.setSpecialValueText(special)
        spin.setToolTip(tooltip)
        spins.append(spin)
        row.addWidget(spin)
    setattr(view, f"sdxl_{name}_spins", spins)
    return row


def build_sdxl_box(view) -> QGroupBox:
    # The explanation sits below the form, not in it: a word-wrapped row of a form that starts
    # hidden kept a stale height and overlapped the row above once shown.
    box = QGroupBox("SDXL conditioning")
    form = QFormLayout()
    outer = QVBoxLayout(box)
    outer.addLayout(form)
    view.sdxl_box = box
    view.sdxl_model = None  # True/False once a model is loaded: is it SDXL?
    for name, label, tooltip, special in _PAIRS:
        form.addRow(label, _pair_row(view, name, tooltip, special))
    refiner_row = QHBoxLayout()
    view.refiner_edit = QLineEdit()
    view.refiner_edit.setPlaceholderText("none (the base runs every step)")
    view.refiner_edit.setToolTip("An SDXL refiner: a diffusers folder or downloaded hub id, e.g. "
                                 "stabilityai/stable-diffusion-xl-refiner-1.0 (about 6 GB "
                                 "in fp16). It shares the base's VAE and second text encoder. "
                                 "Text → image only.")
    browse = QPushButton("…")
    browse.setFixedWidth(28)
    browse.setToolTip("Choose a refiner folder")
    browse.clicked.connect(lambda: _browse_refiner(view))
    view.refiner_switch_spin = QDoubleSpinBox(minimum=0.05, maximum=0.95, singleStep=0.05,
                                              value=DEFAULT_REFINER_SWITCH, decimals=2)
    view.refiner_switch_spin.setToolTip("The fraction of the steps the base runs before the "
                                        "refiner takes over (A1111's “Refiner switch at”)")
    refiner_row.addWidget(view.refiner_edit, 1)
    refiner_row.addWidget(browse)
    refiner_row.addWidget(QLabel("at"))
    refiner_row.addWidget(view.refiner_switch_spin)
    form.addRow("Refiner", refiner_row)
    view.mode_combo.currentIndexChanged.connect(lambda _: _enable_refiner(view))
    explanation = QLabel(EXPLANATION)
    explanation.setWordWrap(True)
    explanation.setStyleSheet("color: #555")
    outer.addWidget(explanation)
    box.setVisible(False)
    return box


def _enable_refiner(view) -> None:
    txt2img = view.mode_combo.currentData() == "txt2img"
    for widget in (view.refiner_edit, view.refiner_switch_spin):
        widget.setEnabled(txt2img)
        widget.setToolTip(widget.toolTip().split(" (text → image only)")[0]
                          + ("" if txt2img else " (text → image only)"))


def _browse_refiner(view) -> None:
    folder = QFileDialog.getExistingDirectory(view, "Choose an SDXL refiner folder")
    if folder:
        view.refiner_edit.setText(folder)


def show_for_model(view, info) -> None:
    """Show the group for an SDXL model (``ModelInfo``), hide it for any other."""
    family = getattr(info, "family", None)
    view.sdxl_model = family is not None and family.name == SDXL
    view.sdxl_box.setVisible(view.sdxl_model)


def read_sdxl(view) -> SdxlOptions | None:
    """The group's values as ``GenerationRequest.sdxl``: None when all are at their defaults or
    a model that is not SDXL is loaded (raises ValueError with a sentence for bad values)."""
    if view.sdxl_model is False:
        return None
    values = {}
    for name, *_ in _PAIRS:
        pair = tuple(spin.value() for spin in getattr(view, f"sdxl_{name}_spins"))
        if name == "crop_top_left":
            values[name] = pair
        elif any(pair):
            values[name] = pair
    refiner = view.refiner_edit.text().strip()
    if refiner and view.mode_combo.currentData() == "txt2img":  # (its row is greyed otherwise)
        values.update(refiner=refiner, refiner_switch=round(view.refiner_switch_spin.value(), 2))
    options = SdxlOptions(**values)
    return options if options.active else None


def set_sdxl(view, options: SdxlOptions | None) -> None:
    options = options or SdxlOptions()
    for name, *_ in _PAIRS:
        pair = getattr(options, name) or (0, 0)
        for spin, value in zip(getattr(view, f"sdxl_{name}_spins"), pair, strict=True):
            spin.setValue(int(value))
    view.refiner_edit.setText(options.refiner or "")
    view.refiner_switch_spin.setValue(options.refiner_switch)


def restore_sdxl(view, stored) -> list[str]:
    """Our record's ``sdxl`` (a dict, or None: all defaults); notes on what could not be set."""
    if stored is None:
        set_sdxl(view, None)
        return []
    from engine.png.record import request_from_record

    try:
        options = request_from_record(SdxlOptions, stored)[0] if isinstance(stored, dict) \
            else None
    except (TypeError, ValueError) as exc:
        return [f"the SDXL options are not valid ({exc})"]
    set_sdxl(view, options)
    if options is None:
        return ["the SDXL options are not valid"]
    if options.active:  # made with an SDXL model: shown and used until a model says otherwise
        view.sdxl_model = True if view.sdxl_model else None
        view.sdxl_box.setVisible(True)
    return []


def restore_sdxl_foreign(view, extra: dict) -> list[str]:
    """Another tool's A1111 pairs: the micro-conditioning; a named refiner is left to the user."""
    values, notes = sdxl_from_texts(extra)
    try:
        set_sdxl(view, SdxlOptions(**values))
    except ValueError as exc:
        set_sdxl(view, None)
        notes.append(f"the SDXL options are not valid ({exc})")
    return notes


# -- the refiner on the step slider ----------------------------------------------------------
def refiner_step_text(result, position: int) -> str:
    """" · refiner" / " · base" after a step's place when the run had a refiner, else ""."""
    record = getattr(result, "refiner", None)
    if record is None:
        return ""
    return " · refiner" if result.step_number(position) >= record.switch_step else " · base"


class RefinerMarker(QWidget):
    """A mark under the step slider where the refiner took over (hidden without a refiner)."""

    COLOUR = QColor("#c05000")

    def __init__(self, slider, session, parent=None):
        super().__init__(parent)
        self.slider = slider
        self.session = session
        self.position = None  # slider value of the refiner's first step
        self.setFixedHeight(16)
        self.setVisible(False)
        session.result_changed.connect(self.update_from_result)

    def update_from_result(self, result=None) -> None:
        result = self.session.result if result is None else result
        record = getattr(result, "refiner", None)
        self.position = None
        if record is not None:
            # The slider counts recorded rows; the first row at or after the switch step.
            self.position = next((row for row, step in enumerate(result.recorded_steps, 1)
                                  if step >= record.switch_step), None)
            self.setToolTip(f"The refiner {record.name} took over at step {record.switch_step} "
                            f"(switch at {record.switch:g}); the base made steps 1–"
                            f"{record.base_model_calls}")
        self.setVisible(self.position is not None)
        self.update()

    def paintEvent(self, event) -> None:
        if self.position is None:
            return
        option = QStyleOptionSlider()
        self.slider.initStyleOption(option)
        groove = self.slider.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self.slider)
        handle = self.slider.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self.slider)
        span = max(1, groove.width() - handle.width())
        x = groove.x() + handle.width() // 2 + QStyle.sliderPositionFromValue(
            self.slider.minimum(), self.slider.maximum(), self.position, span)
        x += self.slider.x() - self.x()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.COLOUR)
        painter.drawPolygon(QPolygon([QPoint(x, 0), QPoint(x - 5, 7), QPoint(x + 5, 7)]))
        painter.setPen(self.COLOUR)
        painter.drawText(x + 8, 12, "refiner →")
        painter.end()
