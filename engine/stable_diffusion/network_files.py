"""LoRA and textual-inversion files as users keep them: folders, prompt tags, hashes (torch-free).

Everything here reads file names and safetensors *headers* only (the JSON before the tensors),
never tensors and never a pickle, so the GUI can list a folder without the engine. The
torch side (loading into the pipeline) is ``lora.py``.

``<lora:name:0.8>`` in a prompt picks ``name`` from the LoRA folder with weight 0.8, as
AUTOMATIC1111 does; the tag is removed from the text the model reads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserFacingError
from engine.stable_diffusion.types import PICKLE_SUFFIXES

NETWORK_SUFFIXES = (".safetensors",) + PICKLE_SUFFIXES
MAX_HEADER_BYTES = 100 * 2**20  # a safetensors header larger than this is not a real file
MAX_FOLDER_FILES = 5000  # a folder walk stops here (someone pointed it at their home folder)

_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_weighted_path(text: str) -> tuple[str, float]:
    """``FILE[:WEIGHT]`` → (FILE, WEIGHT): the weight is what follows the last ``:`` when it is
    a number, so ``C:\\loras\\ink.safetensors`` is a path and ``…ink.safetensors:0.7`` a weight."""
    head, sep, tail = text.rpartition(":")
    if sep and head and _NUMBER_RE.fullmatch(tail.strip()):
        return head, float(tail)
    return text, 1.0


# -- headers and kinds -------------------------------------------------------------------------
def safetensors_header(path: str | os.PathLike) -> dict:
    """The JSON header of a .safetensors file (tensor names → dtype/shape, ``__metadata__``)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 2 <= size <= MAX_HEADER_BYTES:
                raise ValueError("bad header size")
            header = json.loads(handle.read(size))
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"{path.name} is not a readable .safetensors file ({exc}).") from exc
    if not isinstance(header, dict):
        raise UserFacingError(f"{path.name} is not a readable .safetensors file.")
    return header


def network_kind(keys) -> str:
    """"lora", "embedding" or "other", from the tensor names of a file."""
    keys = [k for k in keys if k != "__metadata__"]
    if any(marker in k for k in keys for marker in ("lora_down", "lora_up", "lora_A", "lora_B",
                                                    "lora.down", "lora.up")):
        return "lora"
    if keys and (set(keys) <= {"emb_params", "clip_l", "clip_g", "string_to_param"}
                 or len(keys) == 1):
        return "embedding"
    return "other"


@dataclass(frozen=True)
class NetworkEntry:
    """One file of a LoRA/embedding folder, as the GUI lists it."""

    path: str
    name: str  # the file's stem: the name in ``<lora:name:w>`` and an embedding's trigger word
    kind: str  # "lora" | "embedding" | "other" | "pickle" (not opened: it could run code)
    size_bytes: int


def scan_folder(folder: str | os.PathLike) -> list[NetworkEntry]:
    """The LoRA and embedding files under ``folder`` (recursive, as A1111), sorted by name."""
    root = Path(os.path.expanduser(str(folder)))
    if not root.is_dir():
        raise UserFacingError(f"The LoRA folder {root} does not exist; choose a folder.")
    entries: list[NetworkEntry] = []
    for count, path in enumerate(sorted(root.rglob("*"))):
        if count >= MAX_FOLDER_FILES:
            break
        suffix = path.suffix.lower()
        if suffix not in NETWORK_SUFFIXES or not path.is_file():
            continue
        if suffix == ".safetensors":
            try:
                kind = network_kind(safetensors_header(path))
            except UserFacingError:
                continue
        else:
            kind = "pickle"
        entries.append(NetworkEntry(str(path), path.stem, kind, path.stat().st_size))
    return sorted(entries, key=lambda e: e.name.lower())


def find_lora(folder: str | None, name: str) -> Path:
    """The file ``<lora:name:…>`` means: ``name``'s stem in the folder (safetensors first)."""
    if not folder:
        raise UserFacingError(f"The prompt asks for <lora:{name}:…> but no LoRA folder is set "
                              "(Prompt tab: LoRA folder; command line: --lora-dir DIR).")
    entries = [e for e in scan_folder(folder) if e.kind in ("lora", "pickle")]
    for same in (lambda e: e.name == name, lambda e: e.name.lower() == name.lower()):
        matches = sorted((e for e in entries if same(e)),
                         key=lambda e: not e.path.endswith(".safetensors"))
        if matches:
            return Path(matches[0].path)
    raise UserFacingError(f"No LoRA called “{name}” in {folder} (looked for {name}.safetensors "
                          "in it and its subfolders).")


def check_weight(weight, what: str) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
            or not math.isfinite(weight):
        raise UserFacingError(f"The weight of {what} must be a finite number.")
    return float(weight)


# -- hashes (the A1111 convention) -------------------------------------------------------------
_hash_cache: dict[tuple, str] = {}


def _sha256(path: Path, skip_header: bool) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, skip_header)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            if skip_header:  # the "addnet" hash: the tensor data only, not the header
                handle.seek(8 + int.from_bytes(handle.read(8), "little"))
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def lora_hash(path: str | os.PathLike) -> str:
    """A1111's ``Lora hashes`` value: the first 12 hex digits of the sha256 of a .safetensors
    file's tensor data (after the header, so editing the metadata keeps the hash), or of the
    whole file for other formats."""
    path = Path(path)
    return _sha256(path, path.suffix.lower() == ".safetensors")[:12]


def embedding_hash(path: str | os.PathLike) -> str:
    """A1111's ``TI hashes`` value: the first 12 hex digits of the whole file's sha256."""
    return _sha256(Path(path), False)[:12]


def hashes_text(pairs) -> str:
    """``[(name, hash), …]`` → ``name: hash, name2: hash2`` (quoted by the A1111 writer)."""
    return ", ".join(f"{name}: {digest}" for name, digest in pairs)


def parse_hashes_text(text: str) -> dict[str, str]:
    """The inverse of ``hashes_text`` (A1111's ``Lora hashes`` / ``TI hashes``)."""
    result = {}
    for part in text.split(","):
        name, sep, digest = part.rpartition(":")
        if sep and name.strip():
            result[name.strip()] = digest.strip()
    return result
