"""The AUTOMATIC1111 ("A1111") parameters text: written the way A1111 does, read from anyone.

The ``parameters`` PNG text chunk::

    a prompt, possibly
    over several lines
    Negative prompt: blurry
    Steps: 20, Sampler: DDIM, Schedule type: Karras, CFG scale: 7.5, Seed: 42, Size: 512x512, ...

Values containing ``,`` ``:`` or a newline are JSON-quoted (as A1111's ``quote()`` does). The
text is lossy by design; ``engine.png.record`` keeps the exact request. Standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from engine import __version__

PARAMETERS_KEY = "parameters"  # the A1111 chunk keyword
APP_VERSION = f"diffusion-playground {__version__}"


@dataclass(frozen=True)
class GenerationParameters:
    """What the A1111 parameters text can say. ``None`` means "not stated".

    ``extra`` keeps every other ``Key: value`` pair, in order, as text (A1111 writes many:
    ``Model hash``, ``Clip skip``, ``Lora hashes`` …); tabs may add their own, e.g. ``Digit``.
    """

    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = None
    sampler: str | None = None
    schedule_type: str | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    model: str | None = None
    denoising_strength: float | None = None
    version: str | None = APP_VERSION
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParameters:
        """Tolerant inverse of ``to_dict``: unknown keys go to ``extra``, bad types are dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {"version": None}
        extra: dict[str, str] = {}
        for key, value in data.items():
            if key == "extra" and isinstance(value, dict):
                extra.update({str(k): str(v) for k, v in value.items()})
            elif key in known:
                values[key] = value
            else:
                extra[str(key)] = str(value)
        cleaned = {}
        for f in dataclasses.fields(cls):
            if f.name not in values or f.name == "extra":
                continue
            value = _coerce(f.name, values[f.name])
            if value is not _INVALID:
                cleaned[f.name] = value
        return cls(**cleaned, extra=extra)


_INVALID = object()
_STRING_FIELDS = {"prompt", "negative_prompt", "sampler", "schedule_type", "model", "version"}
_INT_FIELDS = {"steps", "seed", "width", "height"}
_FLOAT_FIELDS = {"cfg_scale", "denoising_strength"}


def _coerce(name: str, value: Any) -> Any:
    if value is None:
        return "" if name in ("prompt", "negative_prompt") else None
    if name in _STRING_FIELDS:
        return value if isinstance(value, str) else _INVALID
    if name in _INT_FIELDS:
        return value if isinstance(value, int) and not isinstance(value, bool) else _INVALID
    if name in _FLOAT_FIELDS:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return _INVALID
    return _INVALID


# The A1111 names of our fields, in the order A1111 writes them.
_SETTING_NAMES = [
    ("steps", "Steps"),
    ("sampler", "Sampler"),
    ("schedule_type", "Schedule type"),
    ("cfg_scale", "CFG scale"),
    ("seed", "Seed"),
    ("size", "Size"),
    ("model", "Model"),
    ("denoising_strength", "Denoising strength"),
    ("version", "Version"),
]
_NEGATIVE_PREFIX = "Negative prompt:"

# Keys as A1111 accepts them (modules/infotext_utils.py: ``\w[\w \-/]+``).
_KEY_RE = re.compile(r"\w[\w \-/]+")
_SIZE_RE = re.compile(r"^(\d{1,9})x(\d{1,9})$")


def quote_value(text: str) -> str:
    """A1111's ``quote()``, plus quoting of values our parser could otherwise not give back
    exactly (leading/trailing spaces, a leading quote mark)."""
    needs = (
        "," in text or ":" in text or any(ord(c) < 32 for c in text)
        or text != text.strip() or text.startswith('"') or text == ""
    )
    return json.dumps(text, ensure_ascii=False) if needs else text


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, str):
            return value
    return text


def _format_number(value: float) -> str:
    # 7.0 -> "7" as A1111 writes it; otherwise the shortest text that reads back exactly.
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def _clean_key(key: str) -> str:
    """Extra keys must survive the ``Key: value`` grammar: no separators, start with a letter."""
    key = re.sub(r"[^\w \-/]", " ", str(key)).strip()
    key = re.sub(r"\s+", " ", key)
    if not key or not re.match(r"\w", key):
        key = "Field " + key
    return key if len(key) >= 2 else key + "_"


def format_parameters(parameters: GenerationParameters) -> str:
    """The A1111 text: prompt, ``Negative prompt: …`` (omitted when empty), one settings line."""
    settings: list[str] = []
    for name, label in _SETTING_NAMES:
        if name == "size":
            if parameters.width is not None and parameters.height is not None:
                settings.append(f"Size: {parameters.width}x{parameters.height}")
            continue
        value = getattr(parameters, name)
        if value is None:
            continue
        text = _format_number(value) if isinstance(value, float) else str(value)
        settings.append(f"{label}: {quote_value(text)}")
    used = {label for _, label in _SETTING_NAMES}
    for key, value in parameters.extra.items():
        key = _clean_key(key)
        if key in used:
            continue  # never let an extra shadow a real field when read back
        used.add(key)
        settings.append(f"{key}: {quote_value(str(value))}")
    lines = [parameters.prompt]
    if parameters.negative_prompt:
        lines.append(f"{_NEGATIVE_PREFIX} {parameters.negative_prompt}")
    lines.append(", ".join(settings))
    return "\n".join(lines)


def split_settings(line: str) -> list[tuple[str, str]]:
    r"""``Key: value, Key: "quoted, value", …`` → [(key, raw value)], like A1111's regex
    ``\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`` but in one linear pass: that
    regex backtracks quadratically on long key-like runs, which a hostile file could exploit."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(line)
    while i < n:
        colon = line.find(":", i)
        if colon < 0:
            break
        key = line[i:colon].rsplit(",", 1)[-1].strip()
        j = colon + 1
        while j < n and line[j] in " \t":
            j += 1
        end = _quoted_end(line, j) if j < n and line[j] == '"' else None
        if end is not None:
            value, i = line[j:end + 1], end + 1
            while i < n and line[i] in " \t":
                i += 1
            i += 1  # the comma
        else:
            comma = line.find(",", j)
            comma = n if comma < 0 else comma
            value, i = line[j:comma], comma + 1
        if _KEY_RE.fullmatch(key):
            pairs.append((key, value))
    return pairs


def _quoted_end(line: str, start: int) -> int | None:
    """Index of the quote closing the JSON string at ``start``, if a comma or the end follows."""
    i, n = start + 1, len(line)
    while i < n:
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            if i == start + 1:
                return None  # "" is read as an unquoted value, as in A1111
            k = i + 1
            while k < n and line[k] in " \t":
                k += 1
            return i if k >= n or line[k] == "," else None
        i += 1
    return None


def _is_settings_line(line: str) -> bool:
    pairs = split_settings(line)
    # A1111's rule is "at least three pairs"; ours always has Version, usually Steps or Seed.
    return len(pairs) >= 3 or any(k in ("Steps", "Version", "Seed", "Size") for k, _ in pairs)


def parse_parameters(text: str) -> GenerationParameters:
    """Read A1111-style parameters text (ours or another tool's). Never raises on bad text:
    fields that are missing stay ``None``, values that do not convert stay in ``extra``."""
    if not isinstance(text, str):
        text = str(text)
    text = text.replace("\r\n", "\n").replace("\x00", "")
    while text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n")
    settings_line = ""
    if lines and _is_settings_line(lines[-1]):
        settings_line = lines.pop()

    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if not negative_lines and line.startswith(_NEGATIVE_PREFIX):
            rest = line[len(_NEGATIVE_PREFIX):]
            negative_lines.append(rest[1:] if rest.startswith(" ") else rest)
        elif negative_lines:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)

    values: dict[str, Any] = {
        "prompt": "\n".join(prompt_lines),
        "negative_prompt": "\n".join(negative_lines),
        "version": None,
    }
    extra: dict[str, str] = {}
    by_label = {label: name for name, label in _SETTING_NAMES}
    seen: set[str] = set()
    for key, raw in split_settings(settings_line):
        value = _unquote(raw.strip())
        name = by_label.get(key)
        converted = _convert(name, value) if name else _INVALID
        if converted is _INVALID or name in seen:
            if key not in extra:  # unknown key, unreadable value, or a repeated key: keep text
                extra[key] = value
            continue
        seen.add(name)
        if name == "size":
            values["width"], values["height"] = converted
        else:
            values[name] = converted
    return GenerationParameters(**values, extra=extra)


def _convert(name: str, value: str) -> Any:
    try:
        if name == "size":
            match = _SIZE_RE.match(value)
            return (int(match.group(1)), int(match.group(2))) if match else _INVALID
        if name in ("steps", "seed"):
            return int(value) if re.fullmatch(r"[+-]?\d{1,40}", value) else _INVALID
        if name in ("cfg_scale", "denoising_strength"):
            number = float(value)
            return number if math.isfinite(number) else _INVALID
        return value
    except (ValueError, OverflowError):
        return _INVALID


def parameter_rows(parameters: GenerationParameters) -> list[tuple[str, str]]:
    """(label, text) for every stated field, in A1111's order, then the extras: what the CLI
    ``info`` command and the GUI show."""
    rows = []
    if parameters.prompt:
        rows.append(("Prompt", parameters.prompt))
    if parameters.negative_prompt:
        rows.append(("Negative prompt", parameters.negative_prompt))
    for name, label in _SETTING_NAMES:
        if name == "size":
            if parameters.width is not None and parameters.height is not None:
                rows.append((label, f"{parameters.width}x{parameters.height}"))
            continue
        value = getattr(parameters, name)
        if value is not None:
            rows.append((label, _format_number(value) if isinstance(value, float) else str(value)))
    rows.extend((str(k), str(v)) for k, v in parameters.extra.items())
    return rows

