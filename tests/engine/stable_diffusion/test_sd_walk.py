"""Stable Diffusion walks on the tiny pipeline: both ends are the images `generate` makes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.png.chunks import read_png_metadata
from playground_gui.app import main

SIZE = ["--steps", "2", "--width", "64", "--height", "64", "--device", "cpu"]


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image)


def generate(tmp_path, source, prompt, seed, name):
    out = tmp_path / name
    assert main(["generate", "--model", source.location, "--prompt", prompt, "--seed", str(seed),
                 *SIZE, "--out", str(out), "--quiet"]) == 0
    return pixels(out)


def test_seed_walk_ends_are_the_generated_images(tiny_folder, tmp_path, capsys):
    out = tmp_path / "walk"
    assert main(["--device", "cpu", "walk", "--model", tiny_folder.location, "--prompt",
                 "a cat", "--seeds", "1,2", "--frames", "3", "--steps", "2", "--width", "64",
                 "--height", "64", "--out-dir", str(out)]) == 0
    frames = [pixels(out / f"{i:04d}.png") for i in range(3)]
    assert np.array_equal(frames[0], generate(tmp_path, tiny_folder, "a cat", 1, "a.png"))
    assert np.array_equal(frames[2], generate(tmp_path, tiny_folder, "a cat", 2, "b.png"))
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[1], frames[2])
    text = read_png_metadata(out / "0001.png").parameters_text
    assert "Seed: 1" in text and "Variation seed: 2, Variation seed strength: 0.5" in text


def test_prompt_walk_ends_are_the_generated_images(tiny_folder, tmp_path):
    out = tmp_path / "walk"
    assert main(["--device", "cpu", "walk", "--model", tiny_folder.location, "--prompt",
                 "a cat", "--prompt-to", "a red dog", "--seeds", "5", "--frames", "2",
                 "--steps", "2", "--width", "64", "--height", "64", "--out-dir", str(out)]) == 0
    assert np.array_equal(pixels(out / "0000.png"), generate(tmp_path, tiny_folder, "a cat", 5,
                                                             "a.png"))
    assert np.array_equal(pixels(out / "0001.png"), generate(tmp_path, tiny_folder,
                                                             "a red dog", 5, "b.png"))
    metadata = read_png_metadata(out / "0001.png")
    assert "Walk prompt to: a red dog" in metadata.parameters_text
    assert metadata.request["walk"]["fraction"] == 1.0
