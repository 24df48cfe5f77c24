"""Issue 16 §2 in the Prompt tab: the LoRA folder and list, weights into the request, the PNG
and back, the "what changed" page."""

from __future__ import annotations

import numpy as np
import pytest

from engine.fixtures.tiny_lora import save_embedding, save_kohya_lora
from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_STABLE_DIFFUSION
from engine.stable_diffusion.network_files import lora_hash
from engine.stable_diffusion.types import NetworkFile
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


@pytest.fixture(scope="module")
def lora_folder(tmp_path_factory, tiny_folder):
    folder = tmp_path_factory.mktemp("loras")
    save_kohya_lora(tiny_folder, folder / "ink.safetensors")
    save_embedding(tiny_folder, folder / "mystyle.safetensors")
    (folder / "old.pt").write_bytes(b"never opened")
    return folder


def rows_by_name(tab):
    return {row.entry.name: row for row in tab.lora_panel.rows}


def test_lora_list_weights_png_and_restore(qtbot, window, settings, tiny_folder, lora_folder):
    qtbot.waitUntil(lambda: window.engine_info is not None, timeout=60_000)
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.random_seed.setChecked(False)
    tab.seed_spin.setValue(5)
    tab.lora_panel.folder_edit.setText(str(lora_folder))
    rows = rows_by_name(tab)
    assert {name: row.entry.kind for name, row in rows.items()} == {
        "ink": "lora", "mystyle": "embedding", "old": "pickle"}
    assert not rows["old"].check.isEnabled()  # a pickle needs its own consent first
    assert settings.value("prompt/lora_dir") == str(lora_folder)
    rows["ink"].check.setChecked(True)
    rows["ink"].slider.setValue(60)  # the slider drives the weight
    assert rows["ink"].spin.value() == 0.6
    request = tab.build_request(5)
    assert request.loras == (NetworkFile(str(lora_folder / "ink.safetensors"), 0.6),)
    assert request.lora_dir == str(lora_folder)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    assert result.parameters["loras"][0]["weight"] == 0.6
    (path,) = tab.save_bar.save_current()
    parameters = read_png_metadata(path).parameters
    assert parameters.extra["Lora hashes"] == f"ink: {lora_hash(lora_folder / 'ink.safetensors')}"
    assert parameters.extra["Lora weights"] == "ink: 0.6"

    # Untick, then restore the image's record: the LoRA is ticked again at its weight.
    rows["ink"].check.setChecked(False)
    assert tab.build_request(5).loras == ()
    record = read_png_metadata(path).request
    assert tab.restore_parameters(record) is True
    assert tab.build_request(5) == request

    # Another tool's text: the <lora:…> tag stays in the prompt, a different file is a note.
    foreign = {"prompt": "a cat <lora:ink:0.5>", "extra": {"Lora hashes": "ink: 000000000000"}}
    assert window.restore(KIND_STABLE_DIFFUSION, {"foreign_parameters": foreign}) is False
    assert "another version" in tab.status_label.text()
    assert tab.build_request(5).loras == ()  # the tag, not the list, carries it
    assert tab.model_prompt() == "a cat "  # what the token view shows

    # What changed: ‖ΔW‖/‖W‖ per layer on the LoRA page.
    with qtbot.waitSignal(tab.session.lora_delta_done, timeout=120_000):
        rows_by_name(tab)["ink"].delta_button.click()
    view = tab.lora_view
    assert view.result.name == "ink" and len(view.result.layers) > 10
    assert np.all(np.isfinite(view.result.relative))
    assert "layers adapted" in view.caption.text() and "Changed most" in view.top.toPlainText()
