"""The declarative request ↔ controls table: one list of fields builds and restores."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from playground_gui.binding import Binding, Field


class View(QWidget):
    def __init__(self):
        super().__init__()
        self.steps = QSpinBox()
        self.steps.setRange(1, 150)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 30.0)
        self.sampler = QComboBox()
        self.sampler.addItem("DDIM", "ddim")
        self.sampler.addItem("Euler a", "euler_a")
        self.prompt = QPlainTextEdit()
        self.tiling = QCheckBox()
        self.margins = (QSpinBox(), QSpinBox())


BINDING = Binding(
    Field("steps", "steps"),
    Field("guidance_scale", "guidance", label="CFG scale"),
    Field("scheduler", "sampler"),
    Field("prompt", "prompt"),
    Field("vae_tiling", "tiling"),
    Field("outpaint", "margins"),
)


def test_restore_then_read_round_trips_every_field(qtbot):
    view = View()
    qtbot.addWidget(view)
    record = {"steps": 42, "guidance_scale": 6.5, "scheduler": "euler_a", "prompt": "a fox",
              "vae_tiling": True, "outpaint": [8, 16]}
    assert BINDING.restore(view, record) == []
    assert BINDING.read(view) == {**record, "outpaint": (8, 16)}


def test_values_a_control_cannot_show_are_refused_with_a_note(qtbot):
    view = View()
    qtbot.addWidget(view)
    before = BINDING.read(view)
    notes = BINDING.restore(view, {"steps": 1000, "guidance_scale": True, "scheduler": "nope",
                                   "prompt": 3, "vae_tiling": "yes", "outpaint": [1]})
    assert len(notes) == 6
    assert any(note.startswith("CFG scale") for note in notes)  # the label names the value
    assert BINDING.read(view) == before  # nothing was half-set


def test_whole_floats_restore_into_integer_boxes_and_missing_keys_are_left_alone(qtbot):
    view = View()
    qtbot.addWidget(view)
    view.prompt.setPlainText("kept")
    assert BINDING.restore(view, {"steps": 30.0}) == []
    assert view.steps.value() == 30 and view.prompt.toPlainText() == "kept"
    assert BINDING.restore(view, {"steps": 30.5}) != []
