"""Our own record of a request: dataclass ↔ JSON, stored in the ``diffusion-playground`` chunk.

The chunk holds the complete request as JSON with a ``kind`` naming the tab or model that made
it, so the app restores every control exactly (the A1111 text in ``engine.png.a1111`` is lossy).
Standard library only.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import UnionType as _UnionType
from typing import Any

from engine.png.a1111 import APP_VERSION, GenerationParameters

RECORD_KEY = "diffusion-playground"  # our JSON chunk keyword (a PNG keyword: 1–79 Latin-1 chars)
RECORD_FORMAT = 1

# The ``kind`` each image-making tab writes and restores (one spelling for everyone).
KIND_DIGITS = "digits"  # the embedded class-conditional digits model (reverse process)
KIND_STABLE_DIFFUSION = "stable-diffusion"  # the Prompt tab: txt2img, img2img, inpaint, outpaint
KIND_FORWARD = "forward"  # forward-process (noising) exports

MAX_JSON_DEPTH = 64


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Plain JSON data from a request: dataclasses become dicts, tuples lists, numpy scalars
    numbers. Arrays (init images, masks) are not embedded: a marker with their shape stands in,
    so the restoring tab knows the input existed."""
    if _depth > MAX_JSON_DEPTH:
        raise ValueError("the request is nested too deeply to store")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), _depth + 1)
                for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v, _depth + 1) for v in value]
    if isinstance(value, Path):
        return str(value)
    shape = getattr(value, "shape", None)
    if shape is not None and getattr(value, "ndim", 0) > 0:
        return {"omitted": "array", "shape": [int(s) for s in shape], "dtype": str(value.dtype)}
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return to_jsonable(item(), _depth + 1)
    return str(value)


def request_from_record(request_type: type, data: dict[str, Any]):
    """Rebuild a (frozen) request dataclass from its stored JSON: the inverse of ``to_jsonable``
    for what JSON can hold. Lists become tuples where the field is a tuple, nested dataclasses
    are rebuilt, unknown keys are ignored, and fields that are missing or were arrays (not
    stored) keep their defaults. Returns ``(request, skipped_field_names)``; the dataclass's
    own validation (``__post_init__``) still runs, so bad values raise ``ValueError``/``TypeError``.
    """
    import typing

    try:
        hints = typing.get_type_hints(request_type)
    except Exception:  # annotations naming types that are not importable here: take values as-is
        hints = {}
    values: dict[str, Any] = {}
    skipped: list[str] = []
    for f in dataclasses.fields(request_type):
        if f.name not in data:
            skipped.append(f.name)
            continue
        value = data[f.name]
        if isinstance(value, dict) and value.get("omitted") == "array":
            skipped.append(f.name)
            continue
        values[f.name] = _rebuild(hints.get(f.name), value)
    return request_type(**values), skipped


def _rebuild(hint: Any, value: Any) -> Any:
    import typing

    candidates = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) \
        else (hint,)
    for candidate in candidates:
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate) \
                and isinstance(value, dict):
            return request_from_record(candidate, value)[0]
        origin = typing.get_origin(candidate)
        if (candidate is tuple or origin is tuple) and isinstance(value, list):
            args = typing.get_args(candidate)
            inner = args[0] if args and (len(args) == 2 and args[1] is Ellipsis) else None
            return tuple(_rebuild(inner, item) for item in value)
    return value


def make_record(kind: str, request: Any, parameters: GenerationParameters) -> dict[str, Any]:
    """The JSON chunk: what made the image (``kind``), the full request, and the parameters."""
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        raise ValueError("kind must be a short non-empty name such as 'digits'")
    return {
        "format": RECORD_FORMAT,
        "app": APP_VERSION,
        "kind": kind,
        "request": to_jsonable(request) if request is not None else {},
        "parameters": to_jsonable(parameters),
    }

