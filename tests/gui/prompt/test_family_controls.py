"""The model box names the loaded model's family; the zero-terminal-SNR checkbox and a single
file's prediction type reach the request and come back from a saved record."""

from __future__ import annotations

from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import prompt_tab


def test_family_named_and_prediction_options_bound(qtbot, window, tiny_folder, tmp_path):
    tab = prompt_tab(window)
    tab.picker.set_location(tiny_folder)
    name, info = wait_for_job(qtbot, tab.load_model(), timeout=120_000)
    assert name == "succeeded" and info.family.name == "SD 1.x"
    assert "<b>SD 1.x</b>" in tab.picker.info.text()
    assert not tab.picker.prediction.isEnabled()  # a folder's scheduler config says it
    tab.zero_snr_check.setChecked(True)
    assert "ε" in tab.zero_snr_check.toolTip()
    assert tab.build_request(1).zero_snr is True

    single = str(tmp_path / "sd21-768.safetensors")
    tab._restore_record({"source": {"location": single, "prediction_type": "v_prediction"}})
    assert tab.zero_snr_check.isChecked() is False  # a record without it: off
    assert tab.picker.prediction.isEnabled()
    assert tab.build_request(1).source.prediction_type == "v_prediction"
    tab._restore_record({"source": {"location": single}, "zero_snr": True})
    assert tab.zero_snr_check.isChecked()
    assert tab.build_request(1).source.prediction_type is None  # the config's own
