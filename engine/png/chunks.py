"""Reading the parameters of untrusted PNGs: a chunk walker with hard size limits.

The reader walks the PNG chunks itself, so a hostile file yields a clear error, never a crash or
a memory blow-up. Torch-free and Qt-free: only the standard library.
"""

from __future__ import annotations

import binascii
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from engine.errors import UserFacingError
from engine.png.a1111 import PARAMETERS_KEY, GenerationParameters, parse_parameters
from engine.png.record import MAX_JSON_DEPTH, RECORD_KEY

# Limits for reading untrusted files. Real parameter chunks are a few KB; a request record with
# long prompts stays well under 100 KB.
MAX_TEXT_CHUNK_BYTES = 1 << 20  # compressed or not, per chunk on disk
MAX_INFLATED_BYTES = 4 << 20  # per zTXt/iTXt chunk after decompression
MAX_TOTAL_TEXT_BYTES = 16 << 20  # all text chunks of one file together
MAX_CHUNKS = 100_000  # a file of millions of empty chunks must not keep us busy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNK_TYPES = (b"tEXt", b"zTXt", b"iTXt")


class MetadataError(UserFacingError):
    """The file cannot be read as a PNG at all (the message says why and what to do)."""


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
