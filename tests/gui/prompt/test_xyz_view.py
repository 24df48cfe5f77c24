"""The Prompt tab's X/Y/Z page with the tiny random-weight pipeline (issue 16 §3)."""

from __future__ import annotations

import numpy as np

from engine.png.chunks import read_png_metadata
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def test_a_grid_whose_cells_restore_and_save_as_single_runs(qtbot, window, tiny_folder, tmp_path):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.prompt_edit.setPlainText("a photo of a cat")
    tab.random_seed.setChecked(False)
    tab.seed_spin.setValue(7)
    page = tab.xyz_page
    page.axis_combos[1].setCurrentIndex(page.axis_combos[1].findData("prompt"))
    page.axis_edits[1].setText("cat, horse")
    page.axis_edits[0].setText("x, 2")
    assert page.start() is None and "'x' is not a finite number" in page.note.text()
    page.axis_edits[0].setText("1, 7.5")
    name, result = wait_for_job(qtbot, page.start(), timeout=120_000)
    assert name == "succeeded" and len(result.results) == 4
    qtbot.waitUntil(lambda: "StableDiffusionPipeline" in tab.picker.info.text(), timeout=5_000)
    assert page.cell_list.count() == 4
    assert page.cell_list.item(3).text() == "0003 · CFG: 7.5, prompt: horse"
    cell = result.results[3].images[0]

    page.cell_list.setCurrentRow(3)
    assert page.restore_cell()
    assert tab.prompt_edit.toPlainText() == "a photo of a horse"
    assert tab.guidance_spin.value() == 7.5
    name, single = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded" and np.array_equal(single.images[0], cell)

    job = page.save_cell(str(tmp_path / "cell.png"))
    job.wait()
    assert job.error is None
    assert read_png_metadata(tmp_path / "cell.png").request == page.cell_item().request
