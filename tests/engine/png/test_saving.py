"""Saving: collision-free names, atomic writes, clear errors, the default folder."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import engine.png.saving as saving
from engine.images import make_test_card as make_card
from engine.png.a1111 import GenerationParameters
from engine.png.chunks import read_png_metadata
from engine.png.saving import (
    SaveError,
    SaveItem,
    default_output_folder,
    list_images,
    pictures_dir,
    save_image,
    save_image_as,
    save_item,
)

IMAGE = make_card(24)


def params(seed: int | None = 7) -> GenerationParameters:
    return GenerationParameters(prompt="a test card", steps=10, seed=seed, width=24, height=24)


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_names_continue_after_the_highest_number(tmp_path):
    (tmp_path / "00041-999.png").write_bytes(b"an older image")
    (tmp_path / "holiday.png").write_bytes(b"not ours")
    (tmp_path / "00007.png").write_bytes(b"ours, without seed")
    first = save_image(IMAGE, params(1234), {"x": 1}, tmp_path, kind="digits")
    second = save_image(IMAGE, params(None), None, tmp_path, kind="digits")
    assert first.name == "00042-1234.png"
    assert second.name == "00043.png"
    assert (tmp_path / "00041-999.png").read_bytes() == b"an older image"
    metadata = read_png_metadata(first)
    assert metadata.kind == "digits" and metadata.request == {"x": 1}
    assert metadata.parameters.seed == 1234
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_taken_number_is_never_overwritten(tmp_path, monkeypatch):
    # Another program creates the chosen name between our first scan and our reservation: the
    # re-scan made while holding the number sees it (the os.link collision: the next test).
    real = saving.next_number
    calls = []

    def stale_scan(folder):
        calls.append(1)
        if len(calls) == 1:
            (folder / "00001-7.png").write_bytes(b"someone else's file")
            return 1
        return real(folder)

    monkeypatch.setattr(saving, "next_number", stale_scan)
    path = save_image(IMAGE, params(), None, tmp_path, kind="digits")
    assert path.name == "00002-7.png"
    assert (tmp_path / "00001-7.png").read_bytes() == b"someone else's file"



def test_a_file_appearing_at_the_target_just_before_the_link_moves_the_image_on(tmp_path,
                                                                               monkeypatch):
    # Another program creates the exact target name after our reservation and re-scan, right
    # before os.link: the link must fail rather than replace it, and the image takes the next
    # free number with nothing lost and nothing left behind.
    real_link = os.link
    targets = []

    def racing_link(source, target, *args, **kwargs):
        targets.append(Path(target).name)
        if len(targets) == 1:
            Path(target).write_bytes(b"someone else's file")
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(saving.os, "link", racing_link)
    path = save_image(IMAGE, params(), {"x": 1}, tmp_path, kind="digits")
    assert targets == ["00001-7.png", "00002-7.png"]  # the first link really collided
    assert path == tmp_path / "00002-7.png"
    assert (tmp_path / "00001-7.png").read_bytes() == b"someone else's file"
    metadata = read_png_metadata(path)
    assert metadata.kind == "digits" and metadata.request == {"x": 1}
    assert metadata.parameters.seed == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00001-7.png", "00002-7.png"]

def test_concurrent_threads_never_collide(tmp_path):
    barrier = threading.Barrier(8)

    def work(index):
        barrier.wait()
        return [save_image(IMAGE, params(index), {"i": index, "k": k}, tmp_path, kind="digits")
                for k in range(4)]

    with ThreadPoolExecutor(8) as pool:
        paths = [p for chunk in pool.map(work, range(8)) for p in chunk]
    # Every image got its own number (gaps are allowed: a saver that loses a race moves on).
    assert len({saving.image_number(p.name) for p in paths}) == 32
    for path in paths:
        request = read_png_metadata(path).request
        assert path.name.endswith(f"-{request['i']}.png")


def _save_in_process(folder: str, seed: int) -> list[str]:
    return [save_image(IMAGE, params(seed), None, folder, kind="digits").name for _ in range(5)]


def test_concurrent_processes_never_collide(tmp_path):
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold Qt
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        names = [n for chunk in pool.map(_save_in_process, [str(tmp_path)] * 2, [1, 2])
                 for n in chunk]
    assert len({saving.image_number(name) for name in names}) == 10
    assert len(list(tmp_path.glob("*.png"))) == 10


def test_full_disk_leaves_nothing_behind(tmp_path, monkeypatch):
    existing = save_image(IMAGE, params(), None, tmp_path, kind="digits")
    before = folder_snapshot(tmp_path)
    real_write = os.write

    def write_half_then_fail(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saving.os, "write", write_half_then_fail)
    with pytest.raises(SaveError, match="full") as caught:
        save_image(IMAGE, params(), None, tmp_path, kind="digits")
    assert "kept" in str(caught.value)
    assert folder_snapshot(tmp_path) == before  # no partial file, the older image intact
    assert existing.exists()


def test_failure_at_fsync_or_rename_leaves_nothing_behind(tmp_path, monkeypatch):
    before = folder_snapshot(tmp_path)
    monkeypatch.setattr(saving.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(SaveError, match="I/O error"):
        save_image(IMAGE, params(), None, tmp_path, kind="digits")
    assert folder_snapshot(tmp_path) == before
    monkeypatch.undo()
    monkeypatch.setattr(saving.os, "link", lambda a, b: (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(SaveError, match="permission"):
        save_image(IMAGE, params(), None, tmp_path, kind="digits")
    assert folder_snapshot(tmp_path) == before


def test_file_systems_without_hard_links_still_never_overwrite(tmp_path, monkeypatch):
    monkeypatch.setattr(saving.os, "link", lambda a, b: (_ for _ in ()).throw(
        OSError(errno.EPERM, "Operation not permitted")))
    first = save_image(IMAGE, params(), None, tmp_path, kind="digits")
    second = save_image(IMAGE, params(), None, tmp_path, kind="digits")
    assert (first.name, second.name) == ("00001-7.png", "00002-7.png")
    assert read_png_metadata(second).parameters.seed == 7
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores folder permissions")
def test_unwritable_folder_real_permissions(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SaveError, match="permission"):
            save_image(IMAGE, params(), None, locked, kind="digits")
    finally:
        locked.chmod(0o700)


def test_unwritable_folder_message(tmp_path, monkeypatch):
    real_open = os.open

    def refuse_creation(path, flags, *args):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(saving.os, "open", refuse_creation)
    with pytest.raises(SaveError) as caught:
        save_image(IMAGE, params(), None, tmp_path, kind="digits")
    message = str(caught.value)
    assert "permission" in message and str(tmp_path) in message and "another output folder" in message
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_of_the_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(SaveError, match="another output folder"):
        save_image(IMAGE, params(), None, blocker / "sub", kind="digits")
    with pytest.raises(SaveError, match="in the way"):
        save_image(IMAGE, params(), None, blocker, kind="digits")


def test_bad_images_are_refused_before_touching_the_disk(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        save_image(np.zeros((4, 4, 2), np.uint8), params(), None, tmp_path, kind="digits")
    assert list(tmp_path.iterdir()) == []


def test_float_and_grey_images(tmp_path):
    grey = save_item(SaveItem(np.linspace(0, 1, 64).reshape(8, 8), params(), "digits"), tmp_path)
    from PIL import Image

    with Image.open(grey) as image:
        assert image.mode == "L" and image.getpixel((7, 7)) == 255


def test_save_as_exact_path(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(SaveError, match="already exists"):
        save_image_as(target, IMAGE, params(), kind="digits")
    assert target.read_bytes() == b"precious"
    save_image_as(target, IMAGE, params(), kind="digits", overwrite=True)
    assert read_png_metadata(target).kind == "digits"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_list_images_newest_first(tmp_path):
    paths = [save_image(IMAGE, params(i), None, tmp_path, kind="digits") for i in range(3)]
    for age, path in enumerate(reversed(paths)):
        os.utime(path, ns=(10**18 - age * 10**9, 10**18 - age * 10**9))
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert list_images(tmp_path) == list(reversed(paths))
    assert list_images(tmp_path / "missing") == []


def test_default_folder_follows_the_platform_conventions(tmp_path, monkeypatch):
    monkeypatch.delenv(saving.OUTPUT_DIR_ENV, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.setattr(saving.sys, "platform", "linux")
    monkeypatch.delenv("XDG_PICTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert pictures_dir() == tmp_path / "Pictures"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "user-dirs.dirs").write_text(
        '# written by xdg-user-dirs-update\nXDG_PICTURES_DIR="$HOME/Bilder"\n')
    assert pictures_dir() == tmp_path / "Bilder"
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "Fotos"))
    assert default_output_folder() == tmp_path / "Fotos" / "Diffusion Playground"
    monkeypatch.setattr(saving.sys, "platform", "darwin")
    assert pictures_dir() == tmp_path / "Pictures"
    monkeypatch.setenv(saving.OUTPUT_DIR_ENV, str(tmp_path / "elsewhere"))
    assert default_output_folder() == tmp_path / "elsewhere"
