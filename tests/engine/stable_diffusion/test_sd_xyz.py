"""X/Y/Z plot (engine/stable_diffusion/xyz.py, generate --grid): parsing, cell order, and cells
that are exactly the single runs (pixels and PNG record) on the tiny pipeline."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from engine.fixtures.tiny_lora import save_kohya_lora
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.types import JOB_HANDLERS, NetworkFile, XyzGridRequest
from engine.stable_diffusion.xyz import cell_requests, parse_axis, split_values
from engine.stable_diffusion.xyz_job import xyz_grid_job
from tests.engine.stable_diffusion.sd_fixtures import tiny_request


def test_values_split_on_commas_and_a_quoted_value_keeps_its_comma():
    assert split_values('cat, dog,"cat, dog"') == ["cat", "dog", "cat, dog"]
    assert parse_axis("guidance=1, 7.5") == ("guidance", (1.0, 7.5))
    assert parse_axis("scheduler=Euler a,ddim") == ("scheduler", ("Euler ancestral", "DDIM"))
    # The hires fix's fields exist (hires.py): its axes are numbers like the others.
    assert parse_axis("hires-scale=1.5,2") == ("hires-scale", (1.5, 2.0))


@pytest.mark.parametrize("text, message", [
    ("colour=1,2", "NAME one of"),
    ("steps=2,x", "'x' is not a whole number"),
    ("guidance=nan", "not a finite number"),
    ("steps=", "give the values"),
])
def test_a_bad_axis_is_a_sentence(text, message):
    with pytest.raises(ValueError, match=message):
        parse_axis(text)


def test_cells_go_x_fastest_then_y_then_z_and_bad_values_are_refused_before_any_run(tiny_folder):
    base = tiny_request(tiny_folder, prompt="a cat on a hill")
    axes = (parse_axis("steps=1,2"), parse_axis("prompt=cat,dog"), parse_axis("seed=3,4"))
    cells = cell_requests(base, axes, seed=9)
    assert [(c.steps, c.prompt, c.seed) for c in cells[:5]] == [
        (1, "a cat on a hill", 3), (2, "a cat on a hill", 3), (1, "a dog on a hill", 3),
        (2, "a dog on a hill", 3), (1, "a cat on a hill", 4)]
    assert {c.guidance_scale for c in cells} == {base.guidance_scale}
    with pytest.raises(ValueError, match="not in the prompt"):
        cell_requests(base, (parse_axis("prompt=horse,dog"),), 9)
    # Prompt S/R replaces in the negative prompt too (as AUTOMATIC1111's), and a word only
    # there is a valid search.
    both = tiny_request(tiny_folder, prompt="a cat", negative_prompt="a blurry cat")
    assert [(c.prompt, c.negative_prompt) for c in
            cell_requests(both, (parse_axis("prompt=cat,dog"),), 9)] == [
        ("a cat", "a blurry cat"), ("a dog", "a blurry dog")]
    only_negative = tiny_request(tiny_folder, prompt="a cat", negative_prompt="blurry")
    assert [c.negative_prompt for c in cell_requests(
        only_negative, (parse_axis("prompt=blurry,grainy"),), 9)] == ["blurry", "grainy"]
    with pytest.raises(ValueError, match="first --lora"):
        cell_requests(base, (parse_axis("lora=0,1"),), 9)
    with pytest.raises(ValueError, match="Steps must be"):  # the request's own check
        cell_requests(base, (parse_axis("steps=0,2"),), 9)
    with pytest.raises(ValueError, match="one axis only"):
        cell_requests(base, (parse_axis("steps=1"), parse_axis("steps=2")), 9)


def test_a_2x2_grid_has_the_pixels_and_records_of_the_single_runs(tiny_folder, tmp_path,
                                                                  capsys):
    from engine.png.chunks import read_png_metadata
    from playground_gui.app import main

    common = ["generate", "--model", tiny_folder.location, "--steps", "2", "--width", "64",
              "--height", "64", "--device", "cpu", "--quiet", "--prompt", "a photo of a cat"]
    out = tmp_path / "grid"
    assert main(common + ["--grid", "guidance=1,7.5", "--grid", "prompt=cat,dog",
                          "--out-dir", str(out)]) == 0
    seed = int(re.search(r"seed (\d+) \(drawn once", capsys.readouterr().out).group(1))
    cells = [(1, "cat"), (7.5, "cat"), (1, "dog"), (7.5, "dog")]
    for index, (guidance, animal) in enumerate(cells):
        single = tmp_path / f"single{index}.png"
        assert main(common[:-1] + [f"a photo of a {animal}", "--guidance", str(guidance),
                                   "--seed", str(seed), "--out", str(single)]) == 0
        cell = out / f"{index:04d}.png"
        assert np.array_equal(np.asarray(Image.open(cell)), np.asarray(Image.open(single)))
        assert read_png_metadata(cell).request == read_png_metadata(single).request
        assert read_png_metadata(cell).parameters_text == read_png_metadata(single).parameters_text
    first = np.asarray(Image.open(out / "0000.png"))
    assert not np.array_equal(first, np.asarray(Image.open(out / "0003.png")))
    grid = Image.open(out / "grid.png")
    assert grid.width > 2 * 64 and grid.height > 2 * 64  # the cells plus their labels
    # Existing files are refused before the model loads; nothing changes.
    before = (out / "grid.png").read_bytes()
    assert main(common + ["--grid", "guidance=1,7.5", "--grid", "prompt=cat,dog",
                          "--out-dir", str(out)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (out / "grid.png").read_bytes() == before


def test_the_grid_job_varies_the_first_loras_weight(tiny_folder, tmp_path):
    lora = str(save_kohya_lora(tiny_folder.location, tmp_path / "ink.safetensors"))
    assert JOB_HANDLERS[XyzGridRequest].endswith("xyz_job:xyz_grid_job")
    base = tiny_request(tiny_folder, loras=(NetworkFile(lora, 1.0),))
    result = xyz_grid_job(XyzGridRequest(base, (parse_axis("lora=0,1"),)), Reporter())
    plain = run_generation(tiny_request(tiny_folder), Reporter()).images[0]
    assert np.array_equal(result.results[0].images[0], plain)  # weight 0 = the base model
    assert not np.array_equal(result.results[1].images[0], plain)
    assert [r.loras[0].weight for r in result.requests] == [0.0, 1.0]
    assert result.seed == 7 and result.grid.shape[1] == 2 * 64
