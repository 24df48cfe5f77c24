"""The attention view on the Prompt tab: a click on a token shows its map over the image, the
step slider and "mean over all steps" change it, and a click on the image probes self-attention
(the tiny random-weight pipeline, through the real worker thread)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument

from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def click_chip(qtbot, token_view, word: str) -> None:
    """A real mouse click on the chip that shows ``word``."""
    chips = token_view.chips
    cursor = chips.document().find(word, 0, QTextDocument.FindFlag.FindWholeWords)
    assert not cursor.isNull(), word
    qtbot.mouseClick(chips.viewport(), Qt.MouseButton.LeftButton,
                     pos=chips.cursorRect(cursor).center())


def test_click_a_token_and_a_pixel(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=3)
    tab.prompt_edit.setPlainText("a photo of a cat")
    assert tab.attention_check.isChecked()  # recorded by default
    tab.pages.setCurrentIndex(1)
    tab.resize(1400, 900)
    tab.show()
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded" and result.attention is not None
    view = tab.attention_view
    assert np.array_equal(view.shown, result.images[0])  # nothing picked yet: the image

    click_chip(qtbot, tab.token_view, "cat")
    assert view.selected == [4] and 4 in tab.token_view.selected
    at_last_step = view.shown.copy()
    assert at_last_step.shape == (64, 64, 3) and not np.array_equal(at_last_step, result.images[0])
    assert "“cat”" in view.caption.text() and "step 3" in view.caption.text()

    tab.step_slider.setValue(1)  # the slider's step: another map
    assert "step 1" in view.caption.text() and not np.array_equal(view.shown, at_last_step)
    # Once the VAE has decoded that step's x̂₀, the map lies over it.
    qtbot.waitUntil(lambda: "x̂₀ at this step" in view.caption.text(), timeout=60_000)
    view.when_combo.setCurrentIndex(view.when_combo.findData("mean"))
    assert "mean over all steps" in view.caption.text()

    click_chip(qtbot, tab.token_view, "photo")  # two tokens: colours
    assert view.selected == [4, 1] and "chip's colour" in view.caption.text()

    # A pixel: where that position attends in self-attention.
    canvas = view.canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(canvas.width() // 2 - 40,
                                                                  canvas.height() // 2 - 40))
    first = view.shown.copy()
    assert view.probe_point is not None and "Self-attention at the 16×16 level" in view.caption.text()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(canvas.width() // 2 + 40,
                                                                  canvas.height() // 2 + 40))
    assert not np.array_equal(view.shown, first)
