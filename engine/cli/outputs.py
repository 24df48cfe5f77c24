"""Where CLI commands write: one rule for images, folders of images and CSVs.

- Names are fixed and documented (``FILE.png``; ``FILE-1.png``, ``FILE-2.png`` … for a batch;
  ``DIR/0000.png`` … for ``sample --out-dir``; the CSV names given).
- Every target is checked before any work starts (``check_targets``): a name must be given,
  images must end in ``.png`` (their parameters live in PNG text chunks), an existing file is
  refused unless ``--overwrite``, and the folder must be one we can write to.
- At write time, minutes later, nothing is lost (``OutputWriter``): a name that another process
  took meanwhile goes to a free name next to it (``0003 (2).png``), which is printed; when the
  folder cannot take a file (disk full, permission, read-only disk), that file and the rest go
  to a fallback folder that the message names. A command line cannot keep an image in memory
  after it exits, so it never says an image is "kept" unless it is on disk somewhere.

Torch-free.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.png.saving import SaveError

IMAGE = "image"  # must end in .png
TABLE = "csv"
FILE = "file"
_SHOWN_LIMIT = 5
FALLBACK_SUBFOLDER = "unsaved"


def check_targets(paths: Sequence[str | Path], overwrite: bool, option: str = "--out",
                  kind: str = IMAGE) -> str | None:
    """None when every path can be written, else one message saying what is wrong and what to
    do. Call it before the work starts: nothing is written here."""
    if not paths:
        return None
    texts = [str(path) for path in paths]
    if any(not text.strip() for text in texts):
        return f"{option} needs a file name (it was empty)"
    resolved = [Path(text) for text in texts]
    if len({os.path.abspath(text) for text in texts}) < len(texts):
        return f"{option}: two outputs have the same name ({', '.join(texts)}); choose different names"
    for path in resolved:
        if kind == IMAGE and path.suffix.lower() != ".png":
            return (f"{option} {path}: images are written as PNG (the parameters live in PNG "
                    f"text chunks); choose a name ending in .png, e.g. {path.with_suffix('.png')}")
        if path.is_dir():
            return f"{option} {path} is a folder; give a file name inside it"
    existing = [str(path) for path in resolved if path.exists() or path.is_symlink()]
    if existing and not overwrite:
        shown = ", ".join(existing[:_SHOWN_LIMIT])
        more = f" and {len(existing) - _SHOWN_LIMIT} more" if len(existing) > _SHOWN_LIMIT else ""
        verb = "exists" if len(existing) == 1 else "exist"
        return (f"{shown}{more} already {verb}; choose another {option} or pass --overwrite "
                "(nothing was written)")
    for folder in sorted({_folder_of(path) for path in resolved}, key=str):
        problem = folder_problem(folder)
        if problem:
            return problem
    return None


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or the folder created), or None. The folder
    itself is not created here (no side effects before the run)."""
    probe = Path(folder)
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"cannot write to {folder}: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        if _read_only_file_system(probe):
            return f"cannot write to {folder}: {probe} is on a read-only disk; choose another folder"
        return f"cannot write to {folder}: you do not have permission to write to {probe}"
    return None


def _read_only_file_system(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1))
    except (OSError, AttributeError):
        return False


def batch_paths(out: str | Path, count: int) -> list[Path]:
    """``FILE.png`` for one image; ``FILE-1.png`` … ``FILE-N.png`` for a batch."""
    path = Path(out)
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{index + 1}{path.suffix or '.png'}")
            for index in range(count)]


def folder_paths(folder: str | Path, count: int) -> list[Path]:
    """``DIR/0000.png`` … for ``sample --out-dir``."""
    return [Path(folder) / f"{index:04d}.png" for index in range(count)]


def free_name(path: Path) -> Path:
    """``name (2).png``, ``name (3).png`` …: the first that does not exist yet (the caller's
    write still refuses to replace, so a race only moves it one name further)."""
    for number in range(2, 10_000):
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
    return path.with_name(f"{path.stem} ({time.time_ns()}){path.suffix}")


def write_produced_as(path: str | Path, produce: Callable[[Path], object],
                 overwrite: bool = False) -> Path:
    """A file written by ``produce(scratch_path)`` (a function that writes a file by name: a
    CSV writer, safetensors' save_file), given the name ``path`` atomically like an image
    (``SaveError`` when it cannot be)."""
    from engine.png.saving import write_bytes_as

    with tempfile.TemporaryDirectory(prefix="diffusion-playground-") as scratch:
        scratch_path = Path(scratch) / Path(path).name
        produce(scratch_path)
        data = scratch_path.read_bytes()
    return write_bytes_as(path, data, overwrite)


def fallback_folders() -> list[Path]:
    """Where files go when their folder cannot take them: the app's data folder, then the
    system's temp folder (often another disk)."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    folders = []
    try:
        from engine.paths import user_data_dir

        folders.append(user_data_dir() / FALLBACK_SUBFOLDER / stamp)
    except OSError:
        pass
    folders.append(Path(tempfile.gettempdir()) / "diffusion-playground-unsaved" / stamp)
    return folders


@dataclass
class OutputWriter:
    """Writes a run's files one by one and never loses one silently.

    ``write(path, writer)`` calls ``writer(actual_path, overwrite)``, which must write the file
    atomically to exactly that path (``engine.png.saving.save_image_as`` / ``write_file_as``) and
    raise ``SaveError`` when it cannot. Returns where the file went, or None if nowhere."""

    overwrite: bool = False
    fallbacks: Callable[[], list[Path]] = fallback_folders
    written: list[tuple[Path, Path]] = field(default_factory=list)  # (asked, actual)
    renamed: list[tuple[Path, Path]] = field(default_factory=list)
    diverted: list[tuple[Path, Path]] = field(default_factory=list)
    lost: list[Path] = field(default_factory=list)
    reason: str | None = None  # why the asked-for folder could not take files
    fallback_reason: str | None = None
    _fallback: Path | None = None
    _fallback_failed: bool = False

    def write(self, path: str | Path, writer: Callable[[Path, bool], object]) -> Path | None:
        path = Path(path)
        if self.reason is None:
            actual = self._write_here(path, writer)
            if actual is not None:
                self.written.append((path, actual))
                if actual != path:
                    self.renamed.append((path, actual))
                return actual
        return self._divert(path, writer)

    def _write_here(self, path: Path, writer) -> Path | None:
        target = path
        for _attempt in range(50):
            try:
                writer(target, self.overwrite)
                return target
            except SaveError as exc:
                if exc.exists:  # taken meanwhile (another process): a free name next to it
                    target = free_name(path)
                    continue
                self.reason = exc.reason
                return None
            except OSError as exc:  # e.g. the scratch space of write_produced_as
                self.reason = f"cannot write {target}: {exc.strerror or exc}"
                return None
        self.reason = f"no free name next to {path}"
        return None

    def _divert(self, path: Path, writer) -> Path | None:
        if not self._fallback_failed and self._fallback is None:
            self._fallback = self._first_usable_fallback()
        if self._fallback is None:
            self.lost.append(path)
            return None
        target = self._fallback / path.name
        for _attempt in range(50):
            try:
                writer(target, False)
                self.diverted.append((path, target))
                return target
            except SaveError as exc:
                if exc.exists:
                    target = free_name(self._fallback / path.name)
                    continue
                self.fallback_reason = exc.reason
                break
            except OSError as exc:
                self.fallback_reason = f"cannot write {target}: {exc.strerror or exc}"
                break
        self.lost.append(path)
        return None

    def _first_usable_fallback(self) -> Path | None:
        for folder in self.fallbacks():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.fallback_reason = f"cannot create {folder}: {exc.strerror or exc}"
                continue
            if os.access(folder, os.W_OK | os.X_OK):
                return folder
        self._fallback_failed = True
        return None

    # -- what to tell the user ---------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """Every file is where it was asked to go (a renamed one counts: it is printed)."""
        return not self.diverted and not self.lost

    def report(self, stream=None) -> int:
        """Print the renames and any failure; 0 when every file is in the asked-for folder,
        2 otherwise (the message says where each file is, or that it could not be written)."""
        stream = stream or sys.stderr
        for asked, actual in self.renamed:
            print(f"warning: {asked} was taken while this ran (another process?); wrote "
                  f"{actual} instead", file=stream)
        if self.complete:
            return 0
        total = len(self.written) + len(self.diverted) + len(self.lost)
        lines = [f"error: {self.reason}"]
        if self.written:
            lines.append(f"Wrote {len(self.written)} of {total} files where asked"
                         f" ({_names(actual for _, actual in self.written)}).")
        if self.diverted:
            folder = self.diverted[0][1].parent
            count = len(self.diverted)
            lines.append(f"{count} {'is' if count == 1 else 'are'} safe in {folder} instead "
                         f"({_names(target.name for _, target in self.diverted)}); move "
                         f"{'it' if count == 1 else 'them'} where you want.")
        if self.lost:
            why = f" ({self.fallback_reason})" if self.fallback_reason else ""
            lines.append(f"{len(self.lost)} could not be written anywhere, also not in a "
                         f"fallback folder{why}: {_names(self.lost)}. Free some space or choose "
                         "another folder and run again.")
        print("\n".join(lines), file=stream)
        return 2


def _names(items: Iterable, limit: int = _SHOWN_LIMIT) -> str:
    names = [str(item) for item in items]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
