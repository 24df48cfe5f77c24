"""Issue 13: the model picker's precision and compile controls build the request's options and
come back from a saved record."""

from __future__ import annotations

from types import SimpleNamespace

from playground_gui.tabs.prompt.binding import restore_source
from playground_gui.tabs.prompt.model_picker import PromptModelPicker


def test_precision_and_compile_reach_the_options_and_are_restored(qtbot):
    picker = PromptModelPicker()
    qtbot.addWidget(picker)
    assert picker.options("cpu").dtype is None and not picker.options("cpu").compile_unet
    assert picker.set_precision("bfloat16")
    picker.compile_unet.setChecked(True)
    options = picker.options("cpu")
    assert options.dtype == "bfloat16" and options.compile_unet

    view = SimpleNamespace(picker=picker)
    notes = restore_source(view, None, {"dtype": None, "compile_unet": False})
    assert notes == [] and picker.options("cpu").dtype is None
    assert not picker.compile_unet.isChecked()
    notes = restore_source(view, None, {"dtype": "float64", "compile_unet": True})
    assert picker.options("cpu").dtype is None and picker.compile_unet.isChecked()
    assert notes == ["the precision float64 is not offered here (automatic is used)"]
    # A record from before these options: nothing said, automatic precision.
    picker.set_precision("float32")
    assert restore_source(view, None, {"attention_slicing": False}) == []
    assert picker.options("cpu").dtype is None
