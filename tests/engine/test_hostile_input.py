"""Hostile and careless input on the command line: each case once gave a traceback, lost data
or misled, and must now give a clear sentence (and lose nothing). In-process through the CLI's
``main(argv)``; subprocesses only where the process's own streams matter (console encoding)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from playground_gui.app import main

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "cat\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x1b[0m\x9b31m\x7f\u202eevil\nline two\tok"


def run(argv, capsys):
    """(exit code, stdout, stderr); argparse's exit 2 counts as an exit code."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def png_with_text(path: Path, text: str) -> Path:
    info = PngInfo()
    info.add_itxt("parameters", text + "\nSteps: 20, Sampler: Euler, Seed: 1, Size: 8x8")
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


# -- info -------------------------------------------------------------------------------------

def test_info_escapes_every_terminal_control_character(tmp_path, capsys):
    path = png_with_text(tmp_path / "evil.png", HOSTILE)
    code, out, _ = run(["info", path], capsys)
    assert code == 0
    for raw in ("\x1b", "\x07", "\x9b", "\x7f", "\u202e"):
        assert raw not in out
    assert "\\x1b]0;pwned\\x07" in out and "\\x9b31m" in out and "\\x7f" in out
    assert "line two\tok" in out  # newline and tab are kept


def test_info_json_escapes_del_and_c1_too_and_stays_valid_json(tmp_path, capsys):
    path = png_with_text(tmp_path / "evil.png", HOSTILE)
    code, out, _ = run(["info", path, "--json"], capsys)
    assert code == 0
    for raw in ("\x1b", "\x9b", "\x7f", "\u202e"):
        assert raw not in out
    assert json.loads(out)["parameters"]["prompt"].startswith("cat\x1b]0;pwned")


def test_info_without_a_name_and_on_a_folder_says_so(tmp_path, capsys):
    code, _, err = run(["info", ""], capsys)
    assert code == 2 and "No file name was given" in err
    code, _, err = run(["info", tmp_path], capsys)
    assert code == 2 and f"{tmp_path} is a folder" in err


# -- output names -----------------------------------------------------------------------------

def test_forward_refuses_empty_and_non_png_output_names(tmp_path, capsys):
    image = tmp_path / "in.png"
    Image.new("RGB", (64, 64), "red").save(image)
    code, _, err = run(["forward", "--image", image, "--t", "5", "--out", ""], capsys)
    assert code == 2 and "--out needs a file name" in err
    code, _, err = run(["forward", "--image", image, "--t", "5", "--out", tmp_path / "x.jpg"],
                       capsys)
    assert code == 2 and "ending in .png" in err and not (tmp_path / "x.jpg").exists()
    code, _, err = run(["forward", "--image", tmp_path, "--t", "5", "--out", tmp_path / "x.png"],
                       capsys)
    assert code == 2 and "is a folder, not an image file" in err


def test_sample_refuses_a_taken_out_before_sampling(tmp_path, monkeypatch, capsys):
    import engine.digits.sampling

    def must_not_sample(*args):
        raise AssertionError("sampled before checking the output")

    monkeypatch.setattr(engine.digits.sampling, "run_reverse", must_not_sample)
    taken = tmp_path / "grid.png"
    taken.write_bytes(b"mine")
    code, _, err = run(["sample", "--steps", "1000", "--n", "64", "--out", taken], capsys)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    folder = tmp_path / "each"
    folder.mkdir()
    (folder / "0002.png").write_bytes(b"mine")
    code, _, err = run(["sample", "--n", "4", "--out-dir", folder], capsys)
    assert code == 2 and "0002.png already exists" in err
    assert [p.name for p in folder.iterdir()] == ["0002.png"]
    code, _, err = run(["sample", "--n", "4", "--out", tmp_path / "grid.jpg"], capsys)
    assert code == 2 and "ending in .png" in err


def test_sample_out_dir_that_is_a_file_gets_a_sentence(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("a file")
    assert main(["sample", "--n", "2", "--out-dir", str(blocker)]) == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err


def test_sample_overwrite_replaces_fixed_names(tmp_path, capsys):
    folder = tmp_path / "each"
    folder.mkdir()
    (folder / "0001.png").write_bytes(b"old")
    code, _, _ = run(["sample", "--steps", "1", "--n", "2", "--out-dir", folder, "--overwrite"],
                     capsys)
    assert code == 0 and (folder / "0001.png").read_bytes().startswith(b"\x89PNG")


def test_schedule_csv_is_not_silently_overwritten(tmp_path, capsys):
    csv = tmp_path / "s.csv"
    csv.write_text("mine")
    code, _, err = run(["schedule", "--csv", csv], capsys)
    assert code == 2 and "already exists" in err and csv.read_text() == "mine"
    code, _, _ = run(["schedule", "--timesteps", "10", "--csv", csv, "--overwrite"], capsys)
    assert code == 0 and csv.read_text().startswith("t,beta")
    code, _, err = run(["schedule", "--csv", ""], capsys)
    assert code == 2 and "needs a file name" in err


def test_toy2d_checks_both_csvs_before_training(tmp_path, capsys):
    taken = tmp_path / "real.csv"
    taken.write_text("mine")
    code, _, err = run(["toy2d", "--dataset", "two_moons", "--steps", "100000",
                        "--out", tmp_path / "g.csv", "--real-out", taken], capsys)
    assert code == 2 and "already exists" in err and taken.read_text() == "mine"


def test_train_refuses_a_folder_that_holds_a_model_before_training(tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"an earlier model")
    code, _, err = run(["train", "digits", "--steps", "100000", "--out", folder], capsys)
    assert code == 2 and "model.safetensors already exists" in err and "--overwrite" in err
    assert (folder / "model.safetensors").read_bytes() == b"an earlier model"


# -- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ["sample", "--out", "x.png"],
    ["forward", "--image", "x.png", "--t", "1", "--out", "y.png"],
    ["toy2d", "--dataset", "two_moons", "--out", "a.csv", "--real-out", "b.csv"],
])
def test_seeds_outside_32_bits_are_refused_with_the_range(command, capsys):
    code, _, err = run(command + ["--seed", "99999999999999999999999"], capsys)
    assert code == 2 and "seeds are 0 … 4294967295" in err
    code, _, err = run(command + ["--seed", "-1"], capsys)
    assert code == 2 and "out of range" in err


def test_the_largest_seed_works(tmp_path, capsys):
    image = tmp_path / "in.png"
    Image.new("RGB", (64, 64), "red").save(image)
    code, _, _ = run(["forward", "--image", image, "--t", "5", "--size", "64",
                      "--seed", "4294967295", "--out", tmp_path / "x.png"], capsys)
    assert code == 0


@pytest.mark.parametrize("scale", ["100000", "0", "-3"])
def test_sample_scale_is_validated(scale, tmp_path, capsys):
    code, _, err = run(["sample", "--scale", scale, "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "use 1 … 32" in err


def test_sample_grid_size_is_bounded(tmp_path, capsys):
    code, _, err = run(["sample", "--scale", "32", "--n", "1024", "--out", tmp_path / "g.png"],
                       capsys)
    assert code == 2 and "at most 8192" in err


# -- files that are not what they claim -------------------------------------------------------

@pytest.fixture
def model_copy(tmp_path):
    from engine.digits.model import shipped_model_dir

    folder = tmp_path / "model"
    shutil.copytree(shipped_model_dir(), folder)
    return folder


def test_corrupted_digits_weights_give_a_sentence(model_copy, tmp_path, capsys):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])  # truncated
    code, _, err = run(["sample", "--model-dir", model_copy, "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "damaged or not a safetensors file" in err
    assert "Traceback" not in err


def test_a_bad_schedule_config_gives_a_sentence(model_copy, tmp_path, capsys):
    config_path = model_copy / "config.json"
    config = json.loads(config_path.read_text())
    config["scheduler"]["num_train_timesteps"] = -5
    config_path.write_text(json.dumps(config))
    code, _, err = run(["sample", "--model-dir", model_copy, "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "num_train_timesteps must be a whole number" in err


def test_nan_weights_are_an_error_not_a_black_grid(model_copy, tmp_path, capsys):
    from safetensors.numpy import load_file, save_file

    weights = model_copy / "model.safetensors"
    tensors = {k: np.full_like(v, np.nan) if v.dtype.kind == "f" else v
               for k, v in load_file(str(weights)).items()}
    save_file(tensors, str(weights))
    code, _, err = run(["sample", "--model-dir", model_copy, "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "NaN or infinite" in err and not (tmp_path / "g.png").exists()


def test_an_init_image_over_the_pixel_limit_gives_a_sentence(tmp_path, capsys):
    from tests.engine.test_images import png_header_only

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20000, 20000))  # 400 MP claimed
    code, _, err = run(["generate", "--model", tmp_path / "no-model", "--prompt", "x",
                        "--init-image", bomb, "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "too large to open safely" in err


def test_a_huge_init_image_is_decoded_reduced(tmp_path):
    from engine.images import read_image_array

    path = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(path, quality=80)
    pixels = read_image_array(path, "RGB", (512, 512))
    assert 512 <= min(pixels.shape[:2]) and max(pixels.shape[:2]) <= 1024  # not 4000×3000
    assert tuple(pixels[0, 0]) == pytest.approx((10, 200, 30), abs=3)
    mask = read_image_array(path, "L", (512, 512))
    assert mask.ndim == 2 and mask.shape == pixels.shape[:2]


# -- the process's surroundings -----------------------------------------------------------------

def test_an_unwritable_data_folder_does_not_break_commands(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DIFFUSION_PLAYGROUND_HOME", str(blocker / "home"))
    path = png_with_text(tmp_path / "p.png", "a cat")
    import engine.logs

    monkeypatch.setattr(engine.logs, "_handler", None)
    code, out, err = run(["info", path], capsys)
    assert code == 0 and "a cat" in out
    assert "cannot write the log file" in err and "stderr" in err


def test_a_console_that_cannot_encode_gets_escapes_not_an_error(tmp_path):
    path = png_with_text(tmp_path / "p.png", "√ᾱ ε 日本 a cat")
    env = dict(os.environ, PYTHONIOENCODING="cp1252", DIFFUSION_PLAYGROUND_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "main.py", "info", str(path)], cwd=REPO, env=env,
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode("cp1252", "replace")
    assert b"UnicodeEncodeError" not in result.stderr
    assert b"\\u221a" in result.stdout and b"a cat" in result.stdout
    result = subprocess.run([sys.executable, "main.py", "forward", "--help"], cwd=REPO, env=env,
                            capture_output=True, timeout=60)
    assert result.returncode == 0 and b"UnicodeEncodeError" not in result.stderr


def test_a_closed_pipe_stops_info_quietly(tmp_path):
    """`info FILE | head -1`: no traceback when the reader closes the pipe early."""
    import subprocess
    import sys

    from engine.images import make_test_card
    from engine.png.a1111 import GenerationParameters
    from engine.png.saving import save_image_as

    path = tmp_path / "long.png"
    save_image_as(path, make_test_card(32), GenerationParameters(prompt="word " * 20000, seed=1))
    command = (f"{sys.executable} {REPO / 'main.py'} info {path} | head -c 10 > /dev/null")
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DIFFUSION_PLAYGROUND_HOME": str(tmp_path / "home")})
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
