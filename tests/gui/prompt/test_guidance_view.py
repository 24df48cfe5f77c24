"""The Prompt tab's Guidance page: the two branches at the step the slider shows, the norms
plot with the cut-off, and the options built into the request and restored from a record."""

from __future__ import annotations

import numpy as np

from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def test_guidance_page_follows_the_step_slider_and_marks_the_cutoff(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=4)
    tab.negative_edit.setPlainText("blue")
    tab.guidance_cutoff_spin.setValue(0.5)
    tab.guidance_rescale_spin.setValue(0.7)
    request = tab.build_request(1)
    assert (request.guidance_cutoff, request.guidance_rescale) == (0.5, 0.7)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    view = tab.guidance_view
    # The final step (after the cut-off at model call 2): the prompt's branch alone.
    assert view.frame.step == 4 and view.frame.unconditional is None
    assert view.cells[0].text() == "not run" and view.cells[1].pixmap() is not None
    assert "cut off after model call 2 of 4" in view.caption.text()
    assert "negative prompt “blue”" in view.caption.text()
    assert view.plot.cutoff_band.isVisible() and view.plot.cutoff_band.getRegion() == (2.5, 4.5)
    assert view.plot.values.shape == (4, 4) and np.isnan(view.plot.values[2:, 0]).all()

    tab.step_slider.setValue(1)  # a guided step: both branches, their difference
    frame = view.frame
    assert frame.step == 1 and frame.unconditional is not None
    assert np.allclose(frame.difference, frame.conditional - frame.unconditional)
    assert not view.cells[0].pixmap().isNull() and "±" in view.cell_captions[2].text()
    assert view.plot.step_line.value() == 1

    # Restoring a record without the options (older images) puts the defaults back.
    record = {"prompt": "x", "mode": "txt2img", "guidance_scale": 7.0}
    tab.restore_parameters(record)
    assert (tab.guidance_cutoff_spin.value(), tab.guidance_rescale_spin.value()) == (1.0, 0.0)
    tab.restore_parameters({**record, "guidance_cutoff": 0.25, "guidance_rescale": 0.5})
    assert (tab.guidance_cutoff_spin.value(), tab.guidance_rescale_spin.value()) == (0.25, 0.5)
    tab.restore_parameters({"foreign_parameters": {"prompt": "x", "extra": {
        "CFG cut-off": "0.4", "CFG rescale": "0.6"}}})
    assert (tab.guidance_cutoff_spin.value(), tab.guidance_rescale_spin.value()) == (0.4, 0.6)
