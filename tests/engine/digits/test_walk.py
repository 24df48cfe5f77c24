"""Latent walks and variation seeds of the digits model (issue 14, section 3)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.digits.types import ReverseRequest, WalkFrame, WalkRequest
from engine.errors import Cancelled
from engine.jobs import run_job
from engine.png.chunks import read_png_metadata
from engine.png.record import request_from_record
from engine.reporting import Reporter
from playground_gui.app import main

SETTINGS = ["--model", "digits", "--label", "3", "--sampler", "ddim", "--steps", "20"]


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image)


def test_walk_endpoints_are_the_single_seed_images_pixel_for_pixel(tmp_path, capsys):
    out = tmp_path / "walk"
    assert main(["walk", *SETTINGS, "--seeds", "1,2", "--frames", "5", "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{i:04d}.png" for i in range(5)]
    for seed, frame in ((1, "0000.png"), (2, "0004.png")):
        single = tmp_path / f"seed{seed}.png"
        assert main(["sample", *SETTINGS, "--seed", str(seed), "--n", "1", "--out",
                     str(single)]) == 0
        assert np.array_equal(pixels(out / frame), pixels(single))
    frames = [pixels(out / f"{i:04d}.png") for i in range(5)]
    assert not np.array_equal(frames[0], frames[4])
    assert all(not np.array_equal(frames[i], frames[i + 1]) for i in range(4))
    assert "wrote 5 frames (seed 1 to seed 2)" in capsys.readouterr().out


def test_each_frame_carries_parameters_that_regenerate_it(tmp_path):
    out = tmp_path / "walk"
    assert main(["walk", "--label", "7", "--seeds", "5,9", "--frames", "3", "--steps", "4",
                 "--scale", "1", "--out-dir", str(out)]) == 0
    metadata = read_png_metadata(out / "0001.png")
    assert metadata.kind == "digits" and not metadata.warnings
    text = metadata.parameters_text
    assert "Seed: 5" in text and "Variation seed: 9, Variation seed strength: 0.5" in text
    assert "Walk frame: 1/2" in text
    assert "Variation seed" not in read_png_metadata(out / "0000.png").parameters_text
    restored, _ = request_from_record(ReverseRequest, metadata.request)
    assert restored.variation_seed == 9 and restored.variation_strength == 0.5
    again = run_job(restored, Reporter())
    assert np.array_equal(again.final_images[0], pixels(out / "0001.png"))


def test_walk_job_reports_each_frame_and_a_stochastic_sampler_is_said(tmp_path, capsys):
    frames = []
    request = WalkRequest(label=2, seeds=(3, 4), frames=3, sampler="euler_a", steps=3)
    assert request.stochastic and not WalkRequest(seeds=(3, 4), steps=3).stochastic
    assert WalkRequest(seeds=(3, 4), sampler="ddim", eta=0.5).stochastic
    result = run_job(request, Reporter(on_partial=frames.append))
    assert result.frames.shape == (3, 16, 16) and result.frames.dtype == np.uint8
    assert [f.index for f in frames] == [0, 1, 2] and isinstance(frames[0], WalkFrame)
    assert [r.variation_strength for r in result.frame_requests] == [0.0, 0.5, 1.0]
    # Every frame keeps the first seed (its per-step noise); only x_T moves.
    assert {r.seed for r in result.frame_requests} == {3}
    assert main(["walk", "--seeds", "3,4", "--frames", "2", "--sampler", "euler_a", "--steps",
                 "2", "--out-dir", str(tmp_path / "w")]) == 0
    assert "every frame uses seed 3's per-step noise" in capsys.readouterr().err


def test_cancelled_walk_keeps_the_finished_frames():
    reporter = Reporter()
    frames = []

    def on_frame(frame):
        frames.append(frame)
        if frame.index == 1:
            reporter.cancel_event.set()

    reporter._on_partial = on_frame
    with pytest.raises(Cancelled) as caught:
        run_job(WalkRequest(seeds=(1, 2), frames=5, steps=2), reporter)
    assert caught.value.partial.frames.shape == (2, 16, 16)


def test_walk_refuses_bad_input_before_sampling(tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "0001.png").write_bytes(b"taken")
    assert main(["walk", "--seeds", "1,2", "--frames", "3", "--out-dir", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and len(list(out.iterdir())) == 1
    assert main(["walk", "--seeds", "1", "--out-dir", str(out)]) == 2
    assert "two seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["walk", "--seeds", "1,2,3", "--out-dir", str(out)])
    assert main(["walk", "--seeds", "1,2", "--prompt", "a cat", "--out-dir", str(out)]) == 2
    assert "--label" in capsys.readouterr().err
    with pytest.raises(ValueError, match="2 to"):
        WalkRequest(frames=1)


def test_ctrl_c_during_a_walk_writes_the_finished_frames(tmp_path, monkeypatch, capsys):
    from tests.engine.test_cli_cancel import interrupt_at

    interrupt_at(monkeypatch, 5, "ddim")  # in the third frame (2 steps each)
    out = tmp_path / "w"
    code = main(["walk", "--seeds", "1,2", "--frames", "6", "--steps", "2", "--out-dir", str(out)])
    assert code == 130
    assert "wrote 2 of 6 frames" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["0000.png", "0001.png"]


def test_variation_strength_zero_gives_exactly_the_plain_image(tmp_path):
    plain = run_job(ReverseRequest(label=4, seed=11, steps=5, batch_size=3, record=False),
                    Reporter())
    zero = run_job(ReverseRequest(label=4, seed=11, steps=5, batch_size=3, record=False,
                                  variation_seed=12, variation_strength=0.0), Reporter())
    some = run_job(ReverseRequest(label=4, seed=11, steps=5, batch_size=3, record=False,
                                  variation_seed=12, variation_strength=0.3), Reporter())
    assert np.array_equal(zero.final_images, plain.final_images)
    assert not np.array_equal(some.final_images, plain.final_images)


def test_sample_variation_options_are_stored_in_the_png(tmp_path, capsys):
    out = tmp_path / "v.png"
    assert main(["sample", "--label", "1", "--steps", "3", "--n", "1", "--seed", "4",
                 "--variation-seed", "8", "--variation-strength", "0.25", "--out", str(out)]) == 0
    metadata = read_png_metadata(out)
    assert "Seed: 4, Size: 64x64" in metadata.parameters_text
    assert "Variation seed: 8, Variation seed strength: 0.25" in metadata.parameters_text
    assert metadata.request["variation_seed"] == 8
    assert metadata.request["variation_strength"] == 0.25
    restored, _ = request_from_record(ReverseRequest, metadata.request)
    assert np.array_equal(run_job(restored, Reporter()).final_images[0], pixels(out)[::4, ::4])
    assert main(["sample", "--variation-seed", "8", "--n", "1", "--out", str(tmp_path / "x.png")]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["sample", "--variation-seed", "8", "--variation-strength", "1.5", "--n", "1",
                 "--out", str(tmp_path / "x.png")]) == 2
