"""Generation parameters inside PNG files: written the way AUTOMATIC1111 does, read from anyone.

Two text chunks per image:

- ``parameters``: the AUTOMATIC1111 ("A1111") text that many tools read::

      a prompt, possibly
      over several lines
      Negative prompt: blurry
      Steps: 20, Sampler: DDIM, Schedule type: Karras, CFG scale: 7.5, Seed: 42, Size: 512x512, ...

  Values containing ``,`` ``:`` or a newline are JSON-quoted (as A1111's ``quote()`` does).
- ``diffusion-playground``: the complete request as JSON with a ``kind`` naming the tab or model
  that made it, so the app restores every control exactly (the text above is lossy by design).

Torch-free and Qt-free: only the standard library and Pillow. The reader walks the PNG chunks
itself with hard size limits, so a hostile file yields a clear error, never a crash or a
memory blow-up.
"""

from __future__ import annotations

import binascii
import dataclasses
import io
import json
import math
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType as _UnionType
from typing import Any, BinaryIO

from engine import __version__
from engine.errors import UserFacingError

PARAMETERS_KEY = "parameters"  # the A1111 chunk keyword
RECORD_KEY = "diffusion-playground"  # our JSON chunk keyword (a PNG keyword: 1–79 Latin-1 chars)
RECORD_FORMAT = 1
APP_VERSION = f"diffusion-playground {__version__}"

# The ``kind`` each image-making tab writes and restores (one spelling for everyone).
KIND_DIGITS = "digits"  # the embedded class-conditional digits model (reverse process)
KIND_STABLE_DIFFUSION = "stable-diffusion"  # the Prompt tab: txt2img, img2img, inpaint, outpaint
KIND_FORWARD = "forward"  # forward-process (noising) exports

# Limits for reading untrusted files. Real parameter chunks are a few KB; a request record with
# long prompts stays well under 100 KB.
MAX_TEXT_CHUNK_BYTES = 1 << 20  # compressed or not, per chunk on disk
MAX_INFLATED_BYTES = 4 << 20  # per zTXt/iTXt chunk after decompression
MAX_TOTAL_TEXT_BYTES = 16 << 20  # all text chunks of one file together
MAX_CHUNKS = 100_000  # a file of millions of empty chunks must not keep us busy
MAX_JSON_DEPTH = 64

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNK_TYPES = (b"tEXt", b"zTXt", b"iTXt")


class MetadataError(UserFacingError):
    """The file cannot be read as a PNG at all (the message says why and what to do)."""


# -- the parameters ----------------------------------------------------------------------------

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


# -- the JSON record ---------------------------------------------------------------------------

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


def png_info(parameters: GenerationParameters, kind: str | None = None, request: Any = None):
    """Pillow ``PngInfo`` with both chunks (the record only when ``kind`` is given)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    # add_text writes tEXt when the text is Latin-1 and iTXt (UTF-8) otherwise, as A1111 does.
    info.add_text(PARAMETERS_KEY, format_parameters(parameters))
    if kind is not None:
        record = json.dumps(make_record(kind, request, parameters), ensure_ascii=False,
                            separators=(",", ":"))
        info.add_itxt(RECORD_KEY, record, zip=True)
    return info


def as_pil_image(image):
    """PIL image from a PIL image or a numpy array: uint8 (or bool), or float in [0, 1];
    H×W grey, H×W×1, H×W×3 RGB or H×W×4 RGBA."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or array.size == 0:
        raise ValueError(f"cannot save an image of shape {array.shape}; expected H×W, H×W×3 or H×W×4")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"cannot save pixels of type {array.dtype}; use uint8 or float in [0, 1]")
        array = np.round(np.clip(np.nan_to_num(array), 0.0, 1.0) * 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array))


def encode_png(image, parameters: GenerationParameters, kind: str | None = None,
               request: Any = None) -> bytes:
    """The complete PNG file, in memory (saving then only writes bytes)."""
    buffer = io.BytesIO()
    as_pil_image(image).save(buffer, format="PNG", pnginfo=png_info(parameters, kind, request),
                             compress_level=6)
    return buffer.getvalue()


# -- reading untrusted PNGs --------------------------------------------------------------------

@dataclass(frozen=True)
class PngMetadata:
    """What a PNG says about how it was made. ``parameters`` is None when it says nothing."""

    width: int | None = None
    height: int | None = None
    parameters: GenerationParameters | None = None
    parameters_text: str | None = None  # the raw ``parameters`` chunk
    kind: str | None = None  # set only for our own images with a valid record
    request: dict[str, Any] | None = None
    app: str | None = None
    texts: dict[str, str] = field(default_factory=dict)  # every text chunk, by keyword
    warnings: tuple[str, ...] = ()

    @property
    def has_parameters(self) -> bool:
        return self.parameters is not None

    @property
    def source(self) -> str:
        if self.kind is not None:
            return f"{self.app or 'Diffusion Playground'} ({self.kind})"
        if self.parameters_text is not None:
            version = self.parameters.version if self.parameters else None
            if version and version.startswith("diffusion-playground"):
                return version
            return "another tool (AUTOMATIC1111-style parameters" + (
                f", version {version})" if version else ")")
        return "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width, "height": self.height, "source": self.source,
            "kind": self.kind, "app": self.app,
            "parameters": self.parameters.to_dict() if self.parameters else None,
            "parameters_text": self.parameters_text, "request": self.request,
            "other_text_chunks": {k: v for k, v in self.texts.items()
                                  if k not in (PARAMETERS_KEY, RECORD_KEY)},
            "warnings": list(self.warnings),
        }


def read_png_metadata(source: str | Path | bytes | BinaryIO) -> PngMetadata:
    """Parameters of a PNG file (path, bytes or binary file object).

    Raises ``MetadataError`` with a clear message when the file is missing, unreadable or not a
    PNG; anything odd inside a valid PNG (corrupt or oversized chunks, bad encodings, broken
    JSON) becomes a warning and the rest is still read.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _read_stream(io.BytesIO(bytes(source)), "the data")
    if isinstance(source, (str, Path)):
        if not str(source).strip():  # Path("") is ".", which would be "a folder"
            raise MetadataError("No file name was given: name a PNG file.")
        path = Path(source)
        try:
            with open(path, "rb") as stream:
                return _read_stream(stream, path.name)
        except FileNotFoundError:
            raise MetadataError(f"{path} does not exist.") from None
        except IsADirectoryError:
            raise MetadataError(f"{path} is a folder, not a PNG file.") from None
        except PermissionError:
            raise MetadataError(f"{path} cannot be read: permission denied.") from None
        except OSError as exc:
            raise MetadataError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    return _read_stream(source, "the file")


def _read_stream(stream: BinaryIO, name: str) -> PngMetadata:
    if stream.read(8) != PNG_SIGNATURE:
        raise MetadataError(f"{name} is not a PNG image. Only PNG files carry generation "
                            "parameters here (JPEG/WebP parameters are not read).")
    warnings: list[str] = []
    texts: dict[str, str] = {}
    width = height = None
    total_text = 0
    for count in range(MAX_CHUNKS + 1):
        if count == MAX_CHUNKS:
            warnings.append(f"stopped after {MAX_CHUNKS} chunks")
            break
        header = stream.read(8)
        if len(header) < 8:
            if header or not texts:
                warnings.append("the file ends early (truncated PNG)")
            break
        length, chunk_type = struct.unpack(">I4s", header)
        if chunk_type == b"IEND":
            break
        wanted = chunk_type == b"IHDR" or chunk_type in TEXT_CHUNK_TYPES
        if not wanted or length > MAX_TEXT_CHUNK_BYTES or total_text + length > MAX_TOTAL_TEXT_BYTES:
            if wanted:
                warnings.append(f"skipped a {chunk_type.decode('latin-1')} chunk of {length} bytes "
                                "(too large to be parameters)")
            stream.seek(length + 4, io.SEEK_CUR)  # data + CRC; seeking past the end is harmless
            continue
        data = stream.read(length)
        crc = stream.read(4)
        if len(data) < length or len(crc) < 4:
            warnings.append("the file ends inside a chunk (truncated PNG)")
            break
        if struct.unpack(">I", crc)[0] != binascii.crc32(chunk_type + data):
            warnings.append(f"a {chunk_type.decode('latin-1')} chunk is damaged (CRC mismatch); "
                            "ignored")
            continue
        if chunk_type == b"IHDR":
            if length >= 8:
                width, height = struct.unpack(">II", data[:8])
            continue
        total_text += length
        decoded = _decode_text_chunk(chunk_type, data, warnings)
        if decoded is not None:
            keyword, text = decoded
            if keyword in texts:
                warnings.append(f"more than one {keyword!r} chunk; the first is used")
            else:
                texts[keyword] = text
    return _interpret(texts, width, height, warnings)


def _decode_text_chunk(chunk_type: bytes, data: bytes, warnings: list[str]):
    keyword_bytes, sep, rest = data.partition(b"\x00")
    if not sep or not 1 <= len(keyword_bytes) <= 79:
        warnings.append("a text chunk without a valid keyword was ignored")
        return None
    keyword = keyword_bytes.decode("latin-1")
    try:
        if chunk_type == b"tEXt":
            return keyword, rest.decode("latin-1")
        if chunk_type == b"zTXt":
            if not rest or rest[0] != 0:
                raise ValueError("unknown compression method")
            return keyword, _inflate(rest[1:]).decode("latin-1")
        # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text
        if len(rest) < 2:
            raise ValueError("too short")
        flag, method, tail = rest[0], rest[1], rest[2:]
        _language, sep1, tail = tail.partition(b"\x00")
        _translated, sep2, payload = tail.partition(b"\x00")
        if not (sep1 and sep2):
            raise ValueError("missing separators")
        if flag == 1:
            if method != 0:
                raise ValueError("unknown compression method")
            payload = _inflate(payload)
        elif flag != 0:
            raise ValueError("bad compression flag")
        text = payload.decode("utf-8", errors="replace")
        if "\ufffd" in text and "\ufffd".encode() not in payload:
            warnings.append(f"the {keyword!r} text is not valid UTF-8; bad bytes were replaced")
        return keyword, text
    except (ValueError, zlib.error) as exc:
        warnings.append(f"the {keyword!r} chunk could not be decoded ({exc}); ignored")
        return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_INFLATED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"it inflates to more than {MAX_INFLATED_BYTES >> 20} MB")
    return out


def _json_depth_ok(text: str) -> bool:
    # json.loads recurses; refuse pathological nesting before it can hit the recursion limit.
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _interpret(texts: dict[str, str], width, height, warnings: list[str]) -> PngMetadata:
    parameters_text = texts.get(PARAMETERS_KEY)
    parameters = parse_parameters(parameters_text) if parameters_text is not None else None
    kind = request = app = None
    raw_record = texts.get(RECORD_KEY)
    if raw_record is not None:
        record = None
        if not _json_depth_ok(raw_record):
            warnings.append("the diffusion-playground record is nested too deeply; ignored")
        else:
            try:
                record = json.loads(raw_record)
            except ValueError as exc:
                warnings.append(f"the diffusion-playground record is not valid JSON ({exc})")
        if record is not None:
            if (isinstance(record, dict) and isinstance(record.get("kind"), str)
                    and 0 < len(record["kind"]) <= 64
                    and isinstance(record.get("request", {}), dict)):
                kind = record["kind"]
                request = record.get("request", {})
                app = record.get("app") if isinstance(record.get("app"), str) else None
                if isinstance(record.get("parameters"), dict):
                    # Exact values from our own record beat the lossy text.
                    parameters = GenerationParameters.from_dict(record["parameters"])
            else:
                warnings.append("the diffusion-playground record lacks a valid 'kind' or "
                                "'request'; ignored")
    return PngMetadata(width=width, height=height, parameters=parameters,
                       parameters_text=parameters_text, kind=kind, request=request, app=app,
                       texts=texts, warnings=tuple(warnings))
