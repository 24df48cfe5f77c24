"""The Prompt tab's Decoders page and "Preview decoder" field (decoders_view.py), on the tiny SD
pipeline (64 px, 32² latents) and a tiny random TAESD folder."""

from __future__ import annotations

from engine.stable_diffusion.parameters import request_record
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def test_taesd_previews_and_the_three_decoders_at_the_step_shown(qtbot, window, tiny_folder,
                                                                  tmp_path):
    from engine.fixtures.tiny_taesd import save_tiny_taesd

    taesd = str(save_tiny_taesd(tmp_path))
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.preview_decoder_edit.setText(f" {taesd} ")
    request = tab.build_request(seed=3)
    assert request.preview_decoder == taesd
    previews = []
    job = tab.session.generate(request)
    job.step.connect(previews.append)
    name, result = wait_for_job(qtbot, job, timeout=120_000)
    assert name == "succeeded", result
    assert [p.preview.shape for p in previews] == [(64, 64, 3)] * 2  # full size, every step
    assert result.preview_decoder.used and result.preview_decoder.previews == 2

    page = tab.decoders_page
    tab.pages.setCurrentWidget(page)  # shown: the step at the slider decodes three ways
    qtbot.waitUntil(lambda: (0, 2, taesd) in page.cache, timeout=60_000)
    shapes = {kind: view.image.shape for kind, view in page.views.items()}
    assert shapes == {"latent_rgb": (32, 32, 3), "tiny": (64, 64, 3), "vae": (64, 64, 3)}
    assert "ms per step" in page.views["vae"].caption.text()
    assert "During the run: preview decoder" in page.status.text()
    tab.step_slider.setValue(1)
    qtbot.waitUntil(lambda: (0, 1, taesd) in page.cache, timeout=60_000)

    tab.preview_decoder_edit.clear()  # restored from the image's record
    tab.restore_parameters(request_record(request, 3))
    assert tab.preview_decoder_edit.text() == taesd
