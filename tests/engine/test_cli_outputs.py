"""What CLI commands write, when things go wrong at write time: a full disk, a name another
process took meanwhile, several runs into one folder. Nothing is ever lost silently.

A full disk is simulated at the atomic writer's lowest level: ``engine.png.saving._write_all``
raises ``OSError(ENOSPC)`` for files in one folder, exactly as ``os.write`` does when the disk
fills (no small tmpfs is available here). Everything above it (temp files, links, messages,
the fallback folder) is the real code.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import engine.png.saving
from engine.cli.outputs import OutputWriter
from engine.png.a1111 import GenerationParameters
from engine.png.chunks import read_png_metadata
from engine.png.saving import save_image_as
from playground_gui.app import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="finds a descriptor's file through /proc")


def disk_full_in(monkeypatch, folder: Path, after: int = 0):
    """Writes into ``folder`` fail with ENOSPC after ``after`` files have been written there."""
    real = engine.png.saving._write_all
    count = {"n": 0}

    def write_all(fd, data):
        target = Path(os.readlink(f"/proc/self/fd/{fd}")).parent
        if target == folder.resolve():
            count["n"] += 1
            if count["n"] > after:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(engine.png.saving, "_write_all", write_all)


def test_sample_out_dir_on_a_full_disk_keeps_every_image_in_a_named_folder(
        tmp_path, monkeypatch, capsys, private_home):
    full = tmp_path / "full"
    full.mkdir()
    disk_full_in(monkeypatch, full, after=1)
    code = main(["sample", "--steps", "2", "--n", "4", "--seed", "3", "--out-dir", str(full)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is full" in err and "kept" not in err
    assert sorted(p.name for p in full.glob("*.png")) == ["0000.png"]
    assert not list(full.glob(".saving-*"))  # no temp file left behind
    fallback = next((private_home / "unsaved").iterdir())
    assert str(fallback) in err  # the message names where the other three are
    assert sorted(p.name for p in fallback.iterdir()) == ["0001.png", "0002.png", "0003.png"]
    assert read_png_metadata(fallback / "0003.png").parameters.extra["Batch index"] == "3"


def test_when_no_folder_can_take_an_image_the_message_says_it_is_lost(tmp_path, monkeypatch,
                                                                      capsys):
    full = tmp_path / "full"
    full.mkdir()
    disk_full_in(monkeypatch, full)
    writer = OutputWriter(fallbacks=lambda: [full / "fallback"])  # the same full disk
    disk_full_in(monkeypatch, full / "fallback")
    image = np.zeros((8, 8), np.uint8)
    for name in ("a.png", "b.png"):
        assert writer.write(full / name, lambda path, overwrite: save_image_as(
            path, image, GenerationParameters(prompt="x"), overwrite=overwrite)) is None
    assert writer.report() == 2
    err = capsys.readouterr().err
    assert "2 could not be written anywhere" in err and "kept" not in err


def test_generate_batch_on_a_full_disk_writes_what_it_can(tiny_sd, tmp_path, monkeypatch,
                                                          capsys, private_home):
    full = tmp_path / "full"
    full.mkdir()
    disk_full_in(monkeypatch, full, after=1)
    code = main(["generate", "--model", str(tiny_sd), "--prompt", "a cat", "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "1", "--batch-size", "3",
                 "--out", str(full / "g.png"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2 and "kept" not in captured.err
    assert [p.name for p in full.glob("*.png")] == ["g-1.png"]
    fallback = next((private_home / "unsaved").iterdir())
    assert sorted(p.name for p in fallback.iterdir()) == ["g-2.png", "g-3.png"]
    assert str(fallback) in captured.err and str(fallback / "g-3.png") in captured.out
    assert read_png_metadata(fallback / "g-3.png").parameters.seed == 3


def test_a_name_taken_during_the_run_goes_to_a_free_name_that_is_printed(tmp_path, monkeypatch,
                                                                         capsys):
    import engine.digits.sampling

    out = tmp_path / "each"
    real = engine.digits.sampling.run_reverse

    def another_process_writes_meanwhile(request, reporter):
        result = real(request, reporter)
        out.mkdir(exist_ok=True)
        (out / "0001.png").write_bytes(b"someone else's file")
        return result

    monkeypatch.setattr(engine.digits.sampling, "run_reverse", another_process_writes_meanwhile)
    assert main(["sample", "--steps", "1", "--n", "3", "--out-dir", str(out)]) == 0
    err = capsys.readouterr().err
    assert (out / "0001.png").read_bytes() == b"someone else's file"  # not replaced
    assert sorted(p.name for p in out.iterdir()) == ["0000.png", "0001 (2).png", "0001.png",
                                                     "0002.png"]
    assert f"{out / '0001 (2).png'}" in err


def test_concurrent_writers_into_one_folder_lose_nothing(tmp_path):
    """Four runs writing the same fixed names 0000.png … at the same time (threads here; the
    no-replace link is the same between processes): every image ends up on disk."""
    folder = tmp_path / "shared"
    writers = [OutputWriter() for _ in range(4)]
    barrier = threading.Barrier(4)

    def run(index: int) -> None:
        barrier.wait()
        for number in range(16):
            image = np.full((4, 4), index * 16 + number, np.uint8)
            writers[index].write(folder / f"{number:04d}.png", lambda path, overwrite, image=image:
                                 save_image_as(path, image, GenerationParameters(prompt="x"),
                                               overwrite=overwrite))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    files = list(folder.glob("*.png"))
    assert len(files) == 64
    assert all(writer.complete and len(writer.written) == 16 for writer in writers)
    from PIL import Image

    values = set()
    for path in files:
        with Image.open(path) as image:
            values.add(int(np.asarray(image)[0, 0]))
    assert values == set(range(64))  # 64 different images, none replaced another


def test_stale_temp_files_of_killed_runs_are_removed(tmp_path):
    import time

    old = tmp_path / ".saving-0123abcd.png.tmp"
    old_marker = tmp_path / ".saving-00007.reserved"
    fresh = tmp_path / ".saving-fresh.png.tmp"  # may belong to a save in progress
    for path in (old, old_marker, fresh):
        path.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for path in (old, old_marker):
        os.utime(path, (two_hours_ago, two_hours_ago))
    save_image_as(tmp_path / "new.png", np.zeros((4, 4), np.uint8),
                  GenerationParameters(prompt="x"))
    assert not old.exists() and not old_marker.exists()
    assert fresh.exists() and (tmp_path / "new.png").is_file()


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    from engine.fixtures.tiny_sd import save_tiny_pipeline

    folder, _ = save_tiny_pipeline(tmp_path_factory.mktemp("tiny"))
    return folder
