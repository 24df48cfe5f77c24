"""The Reverse process page's Guidance tab: the digits model's two branches at the step shown,
its slider twinned with the page's, the cut-off in the plot; the options restore."""

from __future__ import annotations

import numpy as np

from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page


def test_guidance_tab_scrubs_with_the_page_slider_and_shows_the_cutoff(qtbot, window):
    page = reverse_page(window)
    page.steps_spin.setValue(4)
    page.batch_spin.setValue(2)
    page.guidance_spin.setValue(3.0)
    page.guidance_cutoff_spin.setValue(0.5)
    page.guidance_rescale_spin.setValue(0.7)
    name, result = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded" and result.guided_steps == 2
    view = page.guidance_page
    page.view_tabs.setCurrentWidget(view)
    assert view.slider.maximum() == page.slider.maximum() == 4
    view.slider.setValue(1)  # the twin moves the page's slider, and the page redraws both
    assert page.slider.value() == 1
    assert np.array_equal(view.step.conditional, result.guidance[1].conditional)
    assert view.views[0]._array is not None and view.views[2]._array is not None
    assert "cut off after model call 2" in view.caption.text()
    page.slider.setValue(3)  # after the cut-off: the digit's branch alone
    assert view.slider.value() == 3 and view.views[0]._array is None
    assert "the digit's branch alone" in view.caption.text()
    assert view.plot.cutoff_band.isVisible() and view.plot.values.shape == (4, 4)
    assert np.isnan(view.plot.values[2:, 0]).all() and np.isfinite(view.plot.values[:2]).all()

    # A record from before the options restores exactly, with the defaults put back.
    record = {"label": 3, "guidance": 1.5, "sampler": "ddim", "steps": 10, "eta": 0.0,
              "seed": 1, "batch_size": 2}
    assert page.restore_parameters(record) is True
    assert (page.guidance_cutoff_spin.value(), page.guidance_rescale_spin.value()) == (1.0, 0.0)
    assert page.restore_parameters({**record, "guidance_cutoff": 0.3}) is True
    assert page.current_request().guidance_cutoff == 0.3
