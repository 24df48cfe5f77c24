"""``generate --previews-out DIR [--preview-decoder FOLDER_OR_ID]`` (engine/cli/generate_previews.py)
on the tiny SD pipeline (64 px images, 32² latents) and tiny random TAESD folders."""

from __future__ import annotations

import numpy as np
from PIL import Image

from playground_gui.app import main


def _generate(tiny_folder, tmp_path, *extra):
    return main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "3",
                 "--width", "64", "--height", "64", "--seed", "5", "--device", "cpu",
                 "--scheduler", "Euler", "--out", str(tmp_path / "out.png"), "--quiet", *extra])


def _sizes(folder):
    found = {}
    for path in sorted(folder.iterdir()):
        with Image.open(path) as image:
            found[path.name] = image.size
    return found


def test_with_a_decoder_one_full_resolution_preview_per_step(tiny_folder, taesd_folders,
                                                              tmp_path, capsys):
    folder = tmp_path / "previews"
    assert _generate(tiny_folder, tmp_path, "--previews-out", str(folder),
                     "--preview-decoder", str(taesd_folders[4])) == 0
    assert _sizes(folder) == {"0000.png": (64, 64), "0001.png": (64, 64), "0002.png": (64, 64)}
    out = capsys.readouterr().out
    assert "wrote 3 previews" in out and "through the preview decoder" in out
    # The decoder's cost on its own line, apart from the recording overhead
    assert "3 preview(s) at 64×64 px" in out and "not counted in the recording overhead" in out
    # Previews differ from step to step (x̂₀ sharpens), and they are not the final image
    first, last = (np.asarray(Image.open(folder / n)) for n in ("0000.png", "0002.png"))
    assert not np.array_equal(first, last)


def test_without_a_decoder_a_batch_gets_latent_size_previews_named_image_step(
        tiny_folder, tmp_path, capsys):
    folder = tmp_path / "previews"
    assert _generate(tiny_folder, tmp_path, "--previews-out", str(folder), "--batch-size", "2",
                     "--batch-count", "2", "--steps", "2") == 0
    names = [f"{image:04d}-{step:04d}.png" for image in range(4) for step in range(2)]
    assert _sizes(folder) == dict.fromkeys(names, (32, 32))  # the latents' size
    assert "through the latent→RGB map at latent size" in capsys.readouterr().out
    # Existing previews are not replaced without --overwrite (checked before the run)
    assert _generate(tiny_folder, tmp_path, "--previews-out", str(folder)) == 2
    assert "already holds previews (0000-0000.png, 0000-0001.png, 0001-0000.png …)" in \
        capsys.readouterr().err


def test_a_decoder_for_other_latents_falls_back_with_a_warning(tiny_folder, taesd_folders,
                                                                tmp_path, capsys):
    folder = tmp_path / "previews"
    assert _generate(tiny_folder, tmp_path, "--previews-out", str(folder), "--steps", "1",
                     "--preview-decoder", str(taesd_folders[16])) == 0
    assert _sizes(folder) == {"0000.png": (32, 32)}
    err = capsys.readouterr().err
    assert "decodes 16-channel latents" in err and "use madebyollin/taesd as its preview" in err


def test_preview_options_are_checked_before_anything_loads(tmp_path, capsys):
    base = ["generate", "--model", str(tmp_path / "missing"), "--prompt", "x", "--out",
            str(tmp_path / "x.png")]
    assert main([*base, "--preview-decoder", "madebyollin/taesd"]) == 2
    assert "--preview-decoder needs --previews-out DIR" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main([*base, "--previews-out", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
