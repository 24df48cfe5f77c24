"""``python main.py info FILE.png [--json]``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from engine.images import make_test_card as make_card
from engine.png.a1111 import GenerationParameters
from engine.png.saving import save_image
from playground_gui.app import main

REPO = Path(__file__).resolve().parents[2]


def saved(tmp_path) -> Path:
    parameters = GenerationParameters(prompt="a cat, on a mat\nsecond line", negative_prompt="dog",
                                      steps=25, sampler="DDIM", cfg_scale=3.5, seed=42, width=24,
                                      height=24, model="digits", extra={"Digit": "7"})
    return save_image(make_card(24), parameters, {"label": 7}, tmp_path, kind="digits")


def test_info_prints_the_parameters(tmp_path, capsys):
    path = saved(tmp_path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Made by: diffusion-playground" in out and "kind 'digits'" in out
    assert "Prompt:          a cat, on a mat\n                 second line" in out
    for line in ["Steps:           25", "Sampler:         DDIM", "CFG scale:       3.5",
                 "Seed:            42", "Size:            24x24", "Digit:           7"]:
        assert line in out


def test_info_json(tmp_path, capsys):
    path = saved(tmp_path)
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "digits" and data["request"] == {"label": 7}
    assert data["parameters"]["seed"] == 42 and data["parameters"]["extra"] == {"Digit": "7"}
    assert data["parameters_text"].startswith("a cat, on a mat\nsecond line\nNegative prompt: dog")


def test_info_on_foreign_and_bad_files(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.fromarray(make_card(8)).save(plain)
    assert main(["info", str(plain)]) == 1
    assert "No generation parameters" in capsys.readouterr().out
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\xff" * 40)
    assert main(["info", str(junk)]) == 1  # readable start, nothing in it: warnings, no crash
    assert "warning:" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert main(["info", str(text)]) == 2
    assert "not a PNG" in capsys.readouterr().err


def test_info_from_the_command_line_without_torch(tmp_path):
    path = saved(tmp_path)
    code = ("import sys, runpy; sys.argv = ['main.py', 'info', sys.argv[1]]; "
            "import playground_gui.app as app; rc = app.main(); "
            "assert 'torch' not in sys.modules, 'info must not load torch'; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Seed:            42" in result.stdout

