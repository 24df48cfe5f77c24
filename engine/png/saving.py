"""Saving images with their parameters: never overwrite, never leave half a file.

- The default output folder is ``<Pictures>/Diffusion Playground`` (the XDG pictures folder on
  Linux, the Known Folder on Windows, ~/Pictures on macOS); ``DIFFUSION_PLAYGROUND_OUTPUT_DIR``
  overrides it (tests, portable installs) and the GUI remembers the user's own choice.
- Names are ``00042-<seed>.png``: one more than the highest number in the folder.
- The PNG is encoded in memory, written to a hidden temp file in the same folder, fsynced, then
  given its final name with ``os.link``, which fails instead of replacing an existing file. Two
  savers that pick the same number both succeed: the second one simply takes the next number.
- Failures (permission, full disk, read-only or missing folder) raise ``SaveError`` with a
  sentence for the user; nothing is left behind and the caller still holds the image.

Torch-free and Qt-free.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UserFacingError
from engine.png.a1111 import GenerationParameters
from engine.png.encode import encode_png

OUTPUT_DIR_ENV = "DIFFUSION_PLAYGROUND_OUTPUT_DIR"
OUTPUT_SUBFOLDER = "Diffusion Playground"
NUMBER_DIGITS = 5
MAX_ATTEMPTS = 1000
_NUMBERED = re.compile(r"^(\d+)(?:-[^/\\]*)?\.png$", re.IGNORECASE)
_TEMP_PREFIX = ".saving-"


class SaveError(UserFacingError):
    """Saving failed; the message says why and what to do (for the GUI, which still holds the
    image). ``reason`` is the bare sentence about what failed, without the promise that the
    image is kept: a command line that exits cannot keep it. ``errno`` is the OS error number
    (None when not an OS error); ``exists`` is True when the target name was taken."""

    def __init__(self, message: str, reason: str | None = None, errno: int | None = None,
                 exists: bool = False):
        super().__init__(message)
        self.reason = reason or message
        self.errno = errno
        self.exists = exists


@dataclass(frozen=True)
class SaveItem:
    """One image to save, with what made it: the unit the GUI's save bar works with."""

    image: Any  # numpy array (uint8, or float in [0, 1]) or PIL image
    parameters: GenerationParameters
    kind: str  # the tab/model that restores it: "digits", "stable-diffusion", "forward", …
    request: Any = None  # the complete request (dataclass or dict); stored as JSON


# -- where ----------------------------------------------------------------------------------

def pictures_dir() -> Path:
    """The user's Pictures folder on this platform (it may not exist yet)."""
    home = Path.home()
    if sys.platform == "win32":
        known = _windows_pictures()
        return known if known else home / "Pictures"
    if sys.platform == "darwin":
        return home / "Pictures"
    return _xdg_pictures(home) or home / "Pictures"


def _xdg_pictures(home: Path) -> Path | None:
    value = os.environ.get("XDG_PICTURES_DIR")
    if not value:
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "user-dirs.dirs"
        try:
            text = config.read_text(encoding="utf-8", errors="replace")[:65536]
        except OSError:
            return None
        for line in text.splitlines():
            if line.strip().startswith("XDG_PICTURES_DIR="):
                try:
                    parts = shlex.split(line.split("=", 1)[1])
                except ValueError:
                    return None
                value = parts[0] if parts else ""
                break
    if not value:
        return None
    value = value.replace("$HOME", str(home)).replace("${HOME}", str(home))
    path = Path(value).expanduser()
    # user-dirs.dirs sets XDG_PICTURES_DIR="$HOME/" when the folder is disabled.
    return path if path.is_absolute() and path != home else None


def _windows_pictures() -> Path | None:  # pragma: no cover - Windows only
    try:
        import ctypes
        from ctypes import wintypes

        class GUID(ctypes.Structure):
            _fields_ = [("Data1", wintypes.DWORD), ("Data2", wintypes.WORD),
                        ("Data3", wintypes.WORD), ("Data4", wintypes.BYTE * 8)]

        # FOLDERID_Pictures {33E28130-4E1E-4676-835A-98395C3BC3BB}
        folder_id = GUID(0x33E28130, 0x4E1E, 0x4676,
                         (wintypes.BYTE * 8)(0x83, 0x5A, 0x98, 0x39, 0x5C, 0x3B, 0xC3, 0xBB))
        result = ctypes.c_wchar_p()
        if ctypes.windll.shell32.SHGetKnownFolderPath(ctypes.byref(folder_id), 0, None,
                                                      ctypes.byref(result)) != 0:
            return None
        path = Path(result.value)
        ctypes.windll.ole32.CoTaskMemFree(result)
        return path
    except Exception:
        return None


def default_output_folder() -> Path:
    override = os.environ.get(OUTPUT_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return pictures_dir() / OUTPUT_SUBFOLDER


# -- names ----------------------------------------------------------------------------------

def image_number(name: str) -> int | None:
    """42 for ``00042-1234.png`` (or ``00042.png``); None for names that are not ours."""
    match = _NUMBERED.match(name)
    return int(match.group(1)) if match else None


def next_number(folder: Path) -> int:
    highest = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                number = image_number(entry.name)
                if number is not None:
                    highest = max(highest, number)
    except FileNotFoundError:
        pass
    return highest + 1


def file_name(number: int, seed: int | None) -> str:
    suffix = f"-{seed}" if seed is not None else ""
    return f"{number:0{NUMBER_DIGITS}d}{suffix}.png"


def list_images(folder: Path) -> list[Path]:
    """PNG files in the folder, newest first (modification time, then our number, then name);
    hidden and temporary files are left out."""
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.lower().endswith(".png"):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    mtime = entry.stat().st_mtime_ns
                except OSError:
                    continue
                found.append((mtime, image_number(entry.name) or 0, entry.name, Path(entry.path)))
    except OSError:
        return []
    found.sort(reverse=True)
    return [path for *_, path in found]


# -- writing --------------------------------------------------------------------------------

def save_image(image, parameters: GenerationParameters, request: Any = None,
               folder: str | Path | None = None, kind: str = "image") -> Path:
    """Save one image as ``NNNNN-<seed>.png`` in ``folder`` (default: the output folder) with its
    parameters text and, as JSON, ``request`` tagged with ``kind``. Returns the new path.

    Never overwrites; raises ``SaveError`` (a ``UserFacingError``) when the image cannot be
    written, leaving no partial file. ``ValueError`` means the image itself is unusable."""
    folder = Path(folder) if folder is not None else default_output_folder()
    data = encode_png(image, parameters, kind, request)
    _ensure_folder(folder)
    temp = _write_temp(folder, lambda fd: _write_all(fd, data))
    try:
        number = next_number(folder)
        for _attempt in range(MAX_ATTEMPTS):
            reserved = number
            if not _reserve(folder, reserved):
                number += 1  # another saver is writing this number right now
                continue
            try:
                # Re-scan while holding the number: a saver that finished a moment ago is seen.
                fresh = next_number(folder)
                if fresh > reserved:
                    number = fresh
                    continue
                target = folder / file_name(reserved, parameters.seed)
                try:
                    _link_no_replace(temp, target)
                except FileExistsError:
                    number += 1
                    continue
                except OSError as exc:
                    raise _save_error(exc, folder) from exc
                _fsync_folder(folder)
                return target
            finally:
                _remove_quietly(_reservation(folder, reserved))
        raise SaveError(f"Could not find a free file name in {folder} after {MAX_ATTEMPTS} tries.")
    finally:
        _remove_quietly(temp)


def save_item(item: SaveItem, folder: str | Path | None = None) -> Path:
    return save_image(item.image, item.parameters, item.request, folder, item.kind)


def save_image_as(path: str | Path, image, parameters: GenerationParameters, request: Any = None,
                  kind: str = "image", overwrite: bool = False) -> Path:
    """Save to an exact path (CLI ``--out``), atomically. Without ``overwrite`` an existing file
    is an error; with it, the old file is replaced in one step (never half-written)."""
    data = encode_png(image, parameters, kind, request)
    return write_bytes_as(path, data, overwrite)


def write_bytes_as(path: str | Path, data: bytes, overwrite: bool = False) -> Path:
    """``data`` under the exact name ``path``, atomically (see ``write_file_as``)."""
    return write_file_as(path, lambda fd: _write_all(fd, data), overwrite)


def write_file_as(path: str | Path, write, overwrite: bool = False) -> Path:
    """Write a file under the exact name ``path`` through ``write(fd)`` (an open binary file
    descriptor), atomically: the data goes to a hidden temp file in the same folder, is
    fsynced, then takes the name. Without ``overwrite`` an existing file is a ``SaveError``
    with ``exists`` set (nothing is replaced); with it, the old file is replaced in one step."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    _ensure_folder(folder)
    temp = _write_temp(folder, write)
    try:
        if overwrite:
            os.replace(temp, path)
        else:
            _link_no_replace(temp, path)
        _fsync_folder(folder)
    except FileExistsError:
        raise SaveError(f"{path} already exists; choose another name (nothing was overwritten).",
                        f"{path} already exists", errno.EEXIST, exists=True) from None
    except OSError as exc:
        raise _save_error(exc, folder) from exc
    finally:
        _remove_quietly(temp)
    return path


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file where the folder should be
        reason = f"Cannot save to {folder}: a file of that name is in the way."
        raise SaveError(f"{reason} Choose another output folder; the image is kept, so you can "
                        "retry.", reason, errno.ENOTDIR) from exc
    except OSError as exc:
        raise _save_error(exc, folder) from exc


def _reservation(folder: Path, number: int) -> Path:
    return folder / f"{_TEMP_PREFIX}{number:0{NUMBER_DIGITS}d}.reserved"


def _reserve(folder: Path, number: int) -> bool:
    """Claim a number (not only a name: ``00042-1.png`` and ``00042-2.png`` would both be new
    names) with an O_EXCL marker file; False when another saver holds it. A marker left by a
    crash only makes that number be skipped."""
    try:
        os.close(os.open(_reservation(folder, number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False
    except OSError as exc:
        raise _save_error(exc, folder) from exc
    return True


def _write_temp(folder: Path, write) -> Path:
    remove_stale_temp_files(folder)
    temp = folder / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.png.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as exc:
        raise _save_error(exc, folder) from exc
    try:
        try:
            write(fd)
            os.fsync(fd)  # the bytes are on disk before the name appears
        finally:
            os.close(fd)
    except OSError as exc:
        _remove_quietly(temp)
        raise _save_error(exc, folder) from exc
    return temp


#: Hidden temp files and number reservations older than this were left by a killed run.
STALE_TEMP_SECONDS = 3600
_cleaned_folders: set[str] = set()


def remove_stale_temp_files(folder: Path, max_age: float = STALE_TEMP_SECONDS) -> int:
    """Remove our hidden ``.saving-*`` files (temp PNGs, number reservations) older than
    ``max_age`` seconds: a run killed mid-save leaves them behind. Once per folder and process;
    returns how many were removed. Younger ones may belong to a save in progress."""
    key = str(Path(folder).resolve()) if max_age == STALE_TEMP_SECONDS else ""
    if key and key in _cleaned_folders:
        return 0
    removed = 0
    cutoff = time.time() - max_age
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if not (name.startswith(_TEMP_PREFIX)
                        and (name.endswith(".tmp") or name.endswith(".reserved"))):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False) and \
                            entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        return removed
    if key:
        _cleaned_folders.add(key)
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _link_no_replace(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` unless ``target`` exists (then FileExistsError)."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        # Some file systems (FAT, some network shares) have no hard links: reserve the name
        # with O_EXCL instead, then move the finished file over our own reservation.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS, errno.EINVAL):
            raise
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    try:
        os.replace(source, target)
    except OSError:
        _remove_quietly(target)
        raise


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_KEEP = "The image is kept, so you can retry."


def _save_error(exc: OSError, folder: Path) -> SaveError:
    """The GUI's message (it keeps the image for a retry) and the bare ``reason``."""
    code = exc.errno
    advice = "Choose another output folder."
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        reason = f"The disk holding {folder} is full."
        advice = "Free some space or choose another output folder, then save again."
    elif code in (errno.EACCES, errno.EPERM):
        reason = f"You do not have permission to write to {folder}."
        advice = "Choose another output folder (Gallery tab → Change…)."
    elif code == errno.EROFS:
        reason = f"{folder} is on a read-only disk."
    elif code in (errno.ENOENT, errno.ENOTDIR):
        reason = (f"The output folder {folder} cannot be created (part of its path is missing or "
                  "is a file).")
    else:
        reason = f"Could not save to {folder}: {exc.strerror or exc}."
    return SaveError(f"{reason} {advice} {_KEEP}", reason, code)
