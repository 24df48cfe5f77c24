"""The Prompt tab's Walk page with the tiny random-weight pipeline (issue 14 §3)."""

from __future__ import annotations

import numpy as np

from playground_gui.tabs.prompt.walk_view import walk_note
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def generate(qtbot, tab, seed: int) -> np.ndarray:
    tab.seed_spin.setValue(seed)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    return result.images[0]


def test_walk_between_seeds_and_prompts_ends_at_the_single_images(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.random_seed.setChecked(False)
    tab.seed_spin.setValue(7)
    page = tab.walk_page
    tab.pages.setCurrentWidget(page)
    page.seed_b_spin.setValue(8)
    page.frames_spin.setValue(3)
    name, frames = wait_for_job(qtbot, page.start_walk(), timeout=120_000)
    assert name == "succeeded" and len(frames) == 3
    # The walk loaded the model: the model box says which, not "Not loaded yet".
    qtbot.waitUntil(lambda: "StableDiffusionPipeline" in tab.picker.info.text(), timeout=30_000)
    shown = page.frames_view.frames
    assert page.frames_view.frame_label.text() == "frame 3/3 · seed 8"
    assert np.array_equal(shown[0], generate(qtbot, tab, 7))
    assert np.array_equal(shown[2], generate(qtbot, tab, 8))
    assert not np.array_equal(shown[1], shown[0])

    # Between two prompts from one seed: the first frame stays seed 7's image of prompt A.
    first = shown[0].copy()
    tab.seed_spin.setValue(7)
    page.seed_check.setChecked(False)
    page.prompt_b_edit.setText("a completely different prompt")
    name, frames = wait_for_job(qtbot, page.start_walk(), timeout=120_000)
    assert name == "succeeded"
    assert np.array_equal(page.frames_view.frames[0], first)
    assert not np.array_equal(page.frames_view.frames[2], first)

    page.prompt_b_edit.clear()
    assert page.start_walk() is None
    assert "second seed or a second prompt" in page.note.text()
    page.seed_check.setChecked(True)
    tab.scheduler_combo.setCurrentText("Euler ancestral")
    assert "every frame uses seed 7's per-step noise" in walk_note(page.walk_request())
