"""The CLI, run through the same ``main()`` that the app's entry point uses."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from engine.schedules.curves import compute_curves
from engine.schedules.types import ScheduleSpec
from playground_gui.app import main


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_schedule_command_writes_the_documented_columns(tmp_path, capsys):
    out = tmp_path / "cosine.csv"
    assert main(["schedule", "--name", "cosine", "--timesteps", "50", "--csv", str(out)]) == 0
    rows = read_csv(out)
    assert rows[0] == ["t", "beta", "alpha_bar", "sqrt_alpha_bar", "sqrt_one_minus_alpha_bar",
                       "log_snr"]
    assert len(rows) == 51 and rows[1][0] == "0" and rows[-1][0] == "49"
    expected = compute_curves(ScheduleSpec.preset("cosine", 50))
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], expected.alphas_cumprod)
    assert "wrote 50 rows" in capsys.readouterr().out


def test_schedule_command_zero_snr_writes_minus_infinity(tmp_path):
    out = tmp_path / "z.csv"
    args = ["schedule", "--name", "linear", "--timesteps", "20", "--beta-start", "0.001",
            "--beta-end", "0.05", "--zero-snr", "--csv", str(out)]
    assert main(args) == 0
    rows = read_csv(out)
    assert float(rows[1][1]) == pytest.approx(0.001, rel=1e-3)  # the rescale barely moves β_0
    assert rows[-1][2] == "0.0" and rows[-1][5] == "-inf"


def test_schedule_command_rejects_bad_betas_with_a_message(tmp_path, capsys):
    code = main(["schedule", "--name", "linear", "--beta-start", "0.1", "--beta-end", "0.01",
                 "--csv", str(tmp_path / "x.csv")])
    assert code == 2
    assert "β_end must not be smaller" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_schedule_command_reports_unwritable_output(tmp_path, capsys):
    (tmp_path / "a-file").write_text("in the way")
    code = main(["schedule", "--csv", str(tmp_path / "a-file" / "x.csv")])
    assert code == 2
    assert "cannot write" in capsys.readouterr().err
    # A missing folder is created, as for images.
    assert main(["schedule", "--csv", str(tmp_path / "new-folder" / "x.csv")]) == 0
    assert (tmp_path / "new-folder" / "x.csv").is_file()


def test_devices_command_lists_every_kind(capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    for kind in ("cuda", "mps", "cpu"):
        assert f"\n{kind} " in out
    assert "automatic choice:" in out


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "schedule" in out and "devices" in out and "--smoke-test" in out


def test_the_global_device_reaches_generate_and_its_own_option_too():
    from playground_gui.app import build_parser

    parser = build_parser()
    common = ["--prompt", "a", "--out", "x.png"]
    assert parser.parse_args(["--device", "cpu", "generate", *common]).device == "cpu"
    assert parser.parse_args(["generate", "--device", "cpu", *common]).device == "cpu"
    assert parser.parse_args(["generate", *common]).device is None  # automatic


def test_generate_speed_and_precision_options_reach_the_request():
    from engine.cli.generate_command import build_request
    from playground_gui.app import build_parser

    parser = build_parser()
    common = ["generate", "--prompt", "a", "--out", "x.png"]
    options = build_request(parser.parse_args(common)).options
    assert (options.dtype, options.compile_unet, options.channels_last) == (None, False, False)
    args = parser.parse_args([*common, "--dtype", "bfloat16", "--compile", "--channels-last"])
    options = build_request(args).options
    assert (options.dtype, options.compile_unet, options.channels_last) == ("bfloat16", True, True)
    with pytest.raises(SystemExit):
        parser.parse_args([*common, "--dtype", "float64"])
