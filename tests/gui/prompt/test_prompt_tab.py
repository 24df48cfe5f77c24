"""The Prompt tab with a tiny random-weight pipeline, through the real worker thread."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.conftest import wait_for_job
from tests.gui.test_engine_lifecycle import long_request


def prompt_tab(window):
    from playground_gui.tabs.prompt.view import PromptTab

    for index in range(window.tabs.count()):
        if isinstance(window.tabs.widget(index), PromptTab):
            window.tabs.setCurrentIndex(index)
            return window.tabs.widget(index)
    raise AssertionError("no Prompt tab")


def configure(tab, folder, steps=3):
    tab.picker.set_location(folder)
    tab.steps_spin.setValue(steps)
    tab.width_spin.setValue(64)
    tab.height_spin.setValue(64)
    tab.scheduler_combo.setCurrentText("Euler")


def test_generate_preview_and_scrub(qtbot, window, tiny_folder, tmp_path):
    tab = prompt_tab(window)
    configure(tab, tiny_folder)
    previews = []
    job = tab.generate()
    job.step.connect(previews.append)
    name, result = wait_for_job(qtbot, job, timeout=120_000)
    assert name == "succeeded", result
    assert len(previews) >= 2  # live previews arrived while it ran (the first may precede connect)
    assert tab.image_view.image.shape == (64, 64, 3)
    assert np.array_equal(tab.image_view.image, result.images[0])
    assert tab.step_slider.isEnabled() and tab.step_slider.maximum() == 3
    assert "seed" in tab.image_view.caption.text()
    assert tab.image_view.caption.text().endswith(" · CPU float32")  # where the run computed

    # Scrub to step 1: a quick sketch at once, then the VAE decode, cached.
    tab.step_slider.setValue(1)
    assert tab.image_view.image.shape == (32, 32, 3)
    qtbot.waitUntil(lambda: (0, 1, "x0") in tab.frames, timeout=60_000)
    assert tab.image_view.image.shape == (64, 64, 3)
    assert "decoded" in tab.image_view.caption.text()
    tab.step_slider.setValue(3)
    tab.step_slider.setValue(1)  # back: served from the cache, no new job
    assert np.array_equal(tab.image_view.image, tab.frames[(0, 1, "x0")])

    # The seed is shown and reusable; saving writes the parameters.
    tab.reuse_seed()
    assert not tab.random_seed.isChecked() and tab.seed_spin.value() == result.seed
    out = tmp_path / "saved.png"
    tab.save_image(str(out)).wait()  # written on the save bar's writer thread
    from PIL import Image

    with Image.open(out) as image:
        assert f"Seed: {result.seed}" in image.text["parameters"]


def test_inpaint_needs_a_mask_and_cancel_returns_partial(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=150)  # plenty: a loaded machine still stops part-way
    tab.set_init_image(np.full((64, 64, 3), 90, np.uint8))
    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("inpaint"))
    assert tab.generate() is None and "Paint" in tab.status_label.text()

    painter = tab.painter
    painter.brush_size = 10
    from PySide6.QtCore import QPointF

    painter.paint_stroke(QPointF(10, 10), QPointF(50, 10))
    mask = painter.mask()
    assert mask[10, 30] == 255 and mask[50, 30] == 0
    painter.invert()
    assert painter.mask()[10, 30] == 0 and painter.mask()[50, 30] == 255

    job = tab.generate()
    job.step.connect(lambda preview: job.cancel())  # cancel at the first step
    name, partial = wait_for_job(qtbot, job, timeout=120_000)
    assert name == "cancelled"
    # The unfinished image comes back as latents, decoded on demand (not before the job ends).
    assert partial.steps_done < 150 and partial.images == () and partial.partial_latents is not None
    # It stopped part-way: fewer steps than the 112 asked for (strength 0.75 × 150), and as
    # many as it recorded, so the slider scrubs exactly the steps that ran.
    (recorded,) = partial.step_latents
    assert 1 <= partial.steps_done < 112 and partial.steps_done == recorded.shape[0]
    assert len(partial.timesteps) == partial.steps_done
    # ... and the tab decodes it once the job has ended, then shows it with its seed.
    qtbot.waitUntil(lambda: tab.result is not None and len(tab.result.images) == 1, timeout=60_000)
    assert tab.result.cancelled and tab.result.seeds == (job.request.seed,)
    assert f"Cancelled after {partial.steps_done} model call(s) of 112 steps" in tab.status_label.text()
    assert tab.step_slider.maximum() == max(1, partial.steps_done)
    assert f"cancelled after {partial.steps_done} model call(s)" in tab.image_view.caption.text()
    assert tab.generate_button.isEnabled()
    painter.clear()
    assert painter.mask().max() == 0


def test_tokens_view_shows_chunks_beyond_75(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    tab.picker.set_location(tiny_folder)
    tab.prompt_edit.setPlainText(" ".join(["cat"] * 80))
    qtbot.waitUntil(lambda: tab.token_view.info is not None and tab.token_view.info.count == 80,
                    timeout=60_000)
    # SD 1.x/2.x read long prompts in chunks of 75 (issue 16): nothing is cut off
    assert tab.token_view.warning.text() == ""
    assert tab.token_count.text() == "80 tokens in 2 chunks of 75"
    assert "chunk 2:" in tab.token_view.chips.toHtml()
    # prompt editing's fraction follows the steps box
    tab.steps_spin.setValue(10)
    tab.prompt_edit.setPlainText("a [cat:dog:0.5]")
    qtbot.waitUntil(lambda: tab.token_view.info is not None and tab.token_view.info.later != ()
                    and tab.token_view.info.later[0].steps == "6–10", timeout=60_000)


def test_round_trip_and_comparison_grid(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=1)
    tab.set_init_image(np.full((48, 80, 3), 200, np.uint8))
    name, result = wait_for_job(qtbot, tab.round_trip(), timeout=120_000)
    assert name == "succeeded"
    assert tab.round_trip_output.image.shape == (48, 80, 3)
    assert "PSNR" in tab.round_trip_output.caption.text()

    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("txt2img"))
    tab.compare_vary.setCurrentIndex(tab.compare_vary.findData("scheduler"))
    tab.compare_values.setText("DDIM, Nonsense")
    assert tab.run_comparison() is None and "Nonsense" in tab.status_label.text()
    tab.compare_values.setText("DDIM, Euler")
    name, grid = wait_for_job(qtbot, tab.run_comparison(), timeout=120_000)
    assert name == "succeeded" and grid.values == ("DDIM", "Euler")
    assert tab.compare_view.image.shape == (64 + 22, 128, 3)


def test_closing_the_window_mid_run_stops_within_a_step(qtbot, window, tiny_folder):
    import time

    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=150)  # the most allowed (as AUTOMATIC1111)
    job = tab.generate()
    steps = []
    job.step.connect(steps.append)
    qtbot.waitUntil(lambda: bool(steps), timeout=120_000)
    started = time.perf_counter()
    window.close()  # cancels the job and joins the engine thread
    assert not window.engine._thread.isRunning()
    assert time.perf_counter() - started < 10  # one 64 px step takes well under a second

# -- messages that tell the truth (queued runs, Cancel, PNDM, native size, stale text) -----------

def test_pndm_names_its_extra_model_call(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=3)
    tab.scheduler_combo.setCurrentText("PNDM")
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    assert len(result.timesteps) == 4  # PNDM calls the UNet once more than it has steps
    assert "final image after 3 steps (4 model calls)" in tab.image_view.caption.text()
    assert "3 steps (4 model calls)" in tab.status_label.text()
    assert tab.step_slider.maximum() == 4
    tab.step_slider.setValue(2)
    assert "model call 2/4 of 3 steps" in tab.image_view.caption.text()
    assert tab.step_label.text() == "Model call 2/4 of 3 steps"  # said once, fits its row

    # "Saved …" belongs to that run: the next run clears it.
    tab.save_bar.save_current().wait()  # written on the writer thread
    assert tab.save_bar.status.text().startswith("Saved ")
    job = tab.generate()
    assert tab.save_bar.status.text() == ""
    wait_for_job(qtbot, job, timeout=120_000)


def test_a_queued_run_says_what_it_waits_for_and_cancels_at_once(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder)
    qtbot.waitUntil(lambda: not window.engine.pending_jobs, timeout=120_000)
    slow = window.engine.submit(long_request(), "Long job", "Noise schedules")
    steps = []
    slow.progress.connect(steps.append)
    qtbot.waitUntil(lambda: bool(steps), timeout=60_000)
    job = tab.generate()
    assert "waiting for Long job (Noise schedules) to finish" in tab.status_label.text()
    tab.cancel()
    assert tab.cancel_button.text() == "Cancelling…" and not tab.cancel_button.isEnabled()
    assert tab.status_label.text().startswith("Cancelling…")
    qtbot.waitUntil(lambda: job.done, timeout=500)  # withdrawn: no need to wait for Long job
    assert tab.status_label.text() == "Cancelled before it started."
    assert tab.generate_button.isEnabled() and tab.cancel_button.text() == "Cancel"
    slow.cancel()
    wait_for_job(qtbot, slow, timeout=20_000)


def test_the_size_follows_the_model_unless_chosen(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    tab.picker.set_location(tiny_folder)
    assert (tab.width_spin.value(), tab.size_chosen) == (512, False)
    name, info = wait_for_job(qtbot, tab.load_model(), timeout=120_000)
    assert name == "succeeded"
    assert tab.width_spin.value() == tab.height_spin.value() == info.default_size != 512
    assert "is kept" not in tab.picker.info.text()

    tab.width_spin.setValue(128)  # the user's choice stays, with a note
    wait_for_job(qtbot, tab.load_model(), timeout=120_000)
    assert tab.width_spin.value() == 128
    assert f"trained at {info.default_size} px" in tab.picker.info.text()


def test_a_model_error_goes_when_another_source_is_picked(qtbot, window, tmp_path):
    tab = prompt_tab(window)
    missing = tmp_path / ("a-very-long-folder-name-" * 4) / "model"
    tab.picker.set_location(str(missing))
    name, message = wait_for_job(qtbot, tab.load_model(), timeout=60_000)
    assert name == "failed"
    assert "Not loaded" in tab.picker.info.text()
    assert tab.picker.info.toolTip() == "Not loaded: " + message  # the full text, to copy
    # Long paths wrap (a break after every slash) instead of being clipped.
    assert "/\u200b" in tab.picker.info.text()
    tab.picker.set_location(str(tmp_path))
    assert "Not loaded yet" in tab.picker.info.text()


def test_input_images_honour_exif_orientation(qtbot, window, tmp_path):
    tab = prompt_tab(window)
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    Image.fromarray(np.zeros((40, 80, 3), np.uint8)).save(path, exif=exif)
    tab.open_image(str(path))
    height, width = tab.init_image.shape[:2]
    assert height > width

    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)
    tab.open_image(str(bomb))
    assert "too large" in tab.status_label.text() or "pixels" in tab.status_label.text()
    assert tab.init_image.shape[0] > tab.init_image.shape[1]  # the last good input is kept


def test_overlay_option_reaches_the_request_and_restores(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.set_init_image(np.full((64, 64, 3), 90, np.uint8))
    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("outpaint"))
    assert tab.overlay_check.isVisibleTo(tab)
    tab.overlay_check.setChecked(False)
    request = tab.build_request(1)
    assert request.overlay is False and request.parameters()["overlay"] is False
    tab._restore_record({"mode": "outpaint", "overlay": True})
    assert tab.overlay_check.isChecked()
    tab.overlay_check.setChecked(False)
    tab._restore_record({"mode": "outpaint"})  # written before the option: it was on
    assert tab.overlay_check.isChecked()


def test_a_waiting_model_load_says_what_it_waits_for_as_the_queue_moves(qtbot, window,
                                                                         tiny_folder):
    tab = prompt_tab(window)
    qtbot.waitUntil(lambda: not window.engine.pending_jobs, timeout=120_000)
    first = window.engine.submit(long_request(), "Long job", "Noise schedules")
    second = window.engine.submit(long_request(), "Second job", "Noise schedules")
    steps = []
    first.progress.connect(steps.append)
    qtbot.waitUntil(lambda: bool(steps), timeout=60_000)
    tab.picker.set_location(tiny_folder)
    tab.load_model()
    assert "after Long job (Noise schedules)" in tab.picker.info.text()
    first.cancel()  # the second job runs now: the load waits for that one
    qtbot.waitUntil(lambda: "after Second job (Noise schedules)" in tab.picker.info.text(),
                    timeout=20_000)
    second.cancel()
    qtbot.waitUntil(lambda: "after" not in tab.picker.info.text(), timeout=60_000)


def test_the_step_recording_budget_is_a_control_that_reaches_the_request(qtbot, window):
    tab = prompt_tab(window)
    assert tab.recording_budget_spin.value() == 512  # the engine's default, stated in the README
    tab.recording_budget_spin.setValue(0)
    assert tab.build_request(1).recording_budget_mb == 0  # "off": nothing recorded
    tab._restore_record({"recording_budget_mb": 1024})
    assert tab.recording_budget_spin.value() == 1024


def test_a_first_run_that_loads_the_model_makes_the_size_follow_it(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    tab.picker.set_location(tiny_folder)
    tab.steps_spin.setValue(1)
    tab.set_size(128, 128)  # a size the app set, not the user (as the 512 default is)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    native = result.model_info.default_size
    assert native != 128
    # The run takes the model's own size (SDXL: 1024, not the 512 shown before it loaded) …
    assert name == "succeeded" and result.images[0].shape[:2] == (native, native)
    assert (tab.width_spin.value(), tab.height_spin.value()) == (native, native)
    assert "your choice" not in tab.picker.info.text()
    # … and its record says so, as the PNG will.
    assert tab.session.result_request.width == native and not tab.session.result_request.native_size
    assert result.parameters["width"] == native
    # A size the user chose is theirs, loaded model or not.
    tab.width_spin.setValue(96)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert result.images[0].shape[:2] == (native, 96)
