"""The U-Net view of the Reverse process page: click a block, see its feature maps (issue 14 §6)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page


def test_clicking_blocks_shows_their_feature_maps_and_they_follow_the_slider(qtbot, window):
    page = reverse_page(window)
    page.steps_spin.setValue(5)
    page.batch_spin.setValue(2)
    name, _ = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    panel = page.unet_page
    page.view_tabs.setCurrentWidget(panel)  # showing it reads the structure and asks for maps
    qtbot.waitUntil(lambda: panel.session.latest is not None, timeout=30_000)
    diagram = panel.diagram
    assert diagram.structure is not None
    first = panel.session.latest
    assert first.replayed and first.request.step == 4  # the slider rests on the final sample
    assert "final sample" in panel.status.text() or "Step 5" in panel.status.text()

    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton,
                     pos=diagram.center_of("conv_in").toPoint())
    assert panel.selected == "conv_in" and diagram.selected == "conv_in"
    conv_in = panel.canvas._array.copy()
    assert "32 channels · 16×16" in panel.caption.text()
    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton,
                     pos=diagram.center_of("mid_block.attentions.0").toPoint())
    assert panel.selected == "mid_block.attentions.0"
    assert "64 channels · 4×4" in panel.caption.text()
    assert panel.canvas._array.shape != conv_in.shape

    qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton,
                     pos=diagram.center_of("conv_in").toPoint())
    assert panel.step_slider.maximum() == 5 and panel.sample_spin.maximum() == 2
    panel.step_slider.setValue(0)  # the noisiest step: a new job, answered from the replayed run
    assert page.slider.value() == 0  # the panel's slider is the run's slider
    qtbot.waitUntil(lambda: panel.session.latest.request.step == 0, timeout=30_000)
    assert not panel.session.latest.replayed
    assert not np.array_equal(panel.canvas._array, conv_in)
    assert panel.status.text().startswith("Step 1 (t = 999)")
