"""PNG parameters: the A1111 text round trip, compatibility, and hostile input."""

from __future__ import annotations

import io
import json
import random
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from engine.images import make_test_card as make_card
from engine.png.a1111 import (
    APP_VERSION,
    PARAMETERS_KEY,
    GenerationParameters,
    format_parameters,
    parse_parameters,
)
from engine.png.chunks import MetadataError, read_png_metadata
from engine.png.encode import encode_png
from engine.png.record import RECORD_KEY

TRICKY_PROMPTS = [
    "a cat",
    "a cat, sitting on a mat: photo, 35mm",
    'he said "hello", then left: "bye"',
    "line one\nline two, with comma\n  indented line three ",
    "ünïcödé, 日本語のプロンプト: 猫 🐱",
    "(masterpiece:1.2), [blurry|sharp], <lora:add_detail:0.5>",
    "trailing newline\n",
    "",
    "  leading and trailing spaces  ",
    'backslash \\ and "quotes\\"',
]


def full_parameters(prompt: str, negative: str = "") -> GenerationParameters:
    return GenerationParameters(
        prompt=prompt, negative_prompt=negative, steps=30, sampler="DPM++ 2M",
        schedule_type="Karras", cfg_scale=7.5, seed=4_294_967_295, width=512, height=768,
        model="stable-diffusion-v1-5/stable-diffusion-v1-5", denoising_strength=0.45,
        extra={"Digit": "7", "Eta": "0.0", "Note": "a, b: c", "Quoted": '"x"'},
    )


@pytest.mark.parametrize("prompt", TRICKY_PROMPTS)
@pytest.mark.parametrize("negative", ["", "blurry, lowres", "multi\nline: negative, ü"])
def test_text_round_trip_gives_the_same_fields(prompt, negative):
    parameters = full_parameters(prompt, negative)
    assert parse_parameters(format_parameters(parameters)) == parameters


def test_text_layout_follows_the_a1111_convention():
    text = format_parameters(full_parameters("a cat, on a mat", "blurry"))
    lines = text.split("\n")
    assert lines[0] == "a cat, on a mat"
    assert lines[1] == "Negative prompt: blurry"
    assert lines[2] == (
        "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 4294967295, "
        "Size: 512x768, Model: stable-diffusion-v1-5/stable-diffusion-v1-5, "
        f"Denoising strength: 0.45, Version: {APP_VERSION}, Digit: 7, Eta: 0.0, "
        'Note: "a, b: c", Quoted: "\\"x\\""'
    )
    # The negative line is omitted when empty; whole-number guidance is written as A1111 does.
    plain = format_parameters(GenerationParameters(prompt="x", steps=5, cfg_scale=7.0))
    assert plain == f"x\nSteps: 5, CFG scale: 7, Version: {APP_VERSION}"


def test_values_with_separators_are_json_quoted():
    text = format_parameters(GenerationParameters(sampler="Euler a, custom", model="a:b",
                                                  schedule_type="two\nlines"))
    assert 'Sampler: "Euler a, custom"' in text
    assert 'Model: "a:b"' in text
    assert 'Schedule type: "two\\nlines"' in text
    assert text.count("\n") == 1  # the newline inside the value does not break the line


# Written by hand from the published AUTOMATIC1111 format (what its "PNG Info" tab shows),
# including a multi-line prompt, a colon inside the negative prompt and keys we do not know.
A1111_TEXT = """masterpiece, best quality, a photo of an astronaut riding a horse on mars
highly detailed, (sharp focus:1.2)
Negative prompt: blurry, lowres, (worst quality:1.4)
bad hands
Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.45, Clip skip: 2, Hires upscale: 2, Hires upscaler: Latent, Lora hashes: "add_detail: 7c6bad76eb54", Version: v1.10.1"""


def test_reads_an_a1111_example():
    parsed = parse_parameters(A1111_TEXT)
    assert parsed.prompt == ("masterpiece, best quality, a photo of an astronaut riding a horse "
                             "on mars\nhighly detailed, (sharp focus:1.2)")
    assert parsed.negative_prompt == "blurry, lowres, (worst quality:1.4)\nbad hands"
    assert (parsed.steps, parsed.sampler, parsed.schedule_type) == (30, "DPM++ 2M", "Karras")
    assert parsed.cfg_scale == 7.0 and parsed.seed == 1234567890
    assert (parsed.width, parsed.height) == (512, 768)
    assert parsed.model == "v1-5-pruned-emaonly"
    assert parsed.denoising_strength == 0.45
    assert parsed.version == "v1.10.1"
    assert parsed.extra == {"Model hash": "6ce0161689", "Clip skip": "2", "Hires upscale": "2",
                            "Hires upscaler": "Latent", "Lora hashes": "add_detail: 7c6bad76eb54"}


@pytest.mark.parametrize("chunk", ["tEXt", "iTXt", "zTXt"])
def test_reads_an_a1111_png_in_every_text_chunk_flavour(chunk):
    info = PngInfo()
    text = A1111_TEXT.replace("astronaut", "astronaut 宇宙飛行士") if chunk == "iTXt" else A1111_TEXT
    if chunk == "iTXt":
        info.add_itxt(PARAMETERS_KEY, text)
    else:
        info.add_text(PARAMETERS_KEY, text, zip=chunk == "zTXt")
    buffer = io.BytesIO()
    Image.fromarray(make_card(32)).save(buffer, "PNG", pnginfo=info)
    metadata = read_png_metadata(buffer.getvalue())
    assert metadata.parameters_text == text
    assert metadata.parameters.seed == 1234567890
    assert metadata.kind is None and metadata.request is None  # not ours: nothing to restore
    assert metadata.source == "another tool (AUTOMATIC1111-style parameters, version v1.10.1)"
    assert (metadata.width, metadata.height) == (32, 32)


def test_missing_fields_and_bad_values_stay_readable():
    parsed = parse_parameters("just a prompt")
    assert parsed.prompt == "just a prompt" and parsed.steps is None and parsed.version is None
    parsed = parse_parameters("p\nSteps: many, Seed: 12, Size: huge, CFG scale: nan, Foo: bar")
    assert parsed.steps is None and parsed.seed == 12 and parsed.width is None
    assert parsed.cfg_scale is None
    assert parsed.extra == {"Steps": "many", "Size": "huge", "CFG scale": "nan", "Foo": "bar"}
    assert parse_parameters("").prompt == ""


def test_our_png_carries_the_request_record():
    parameters = full_parameters("a cat, on a mat\nsecond line ü")
    request = {"label": 7, "guidance": 3.0, "sampler": "ddim", "init": np.zeros((8, 8))}
    data = encode_png(make_card(48), parameters, "digits", request)
    metadata = read_png_metadata(data)
    assert metadata.kind == "digits"
    assert metadata.request == {"label": 7, "guidance": 3.0, "sampler": "ddim",
                                "init": {"omitted": "array", "shape": [8, 8], "dtype": "float64"}}
    assert metadata.parameters == parameters
    assert metadata.warnings == ()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), make_card(48))


def test_record_wins_over_a_lossy_text():
    # A prompt whose own line looks like the negative-prompt line cannot survive the A1111 text;
    # our JSON record keeps it exactly.
    parameters = GenerationParameters(prompt="first\nNegative prompt: part of the prompt", seed=1)
    metadata = read_png_metadata(encode_png(make_card(16), parameters, "stable-diffusion", {}))
    assert parse_parameters(metadata.parameters_text).prompt == "first"
    assert metadata.parameters.prompt == parameters.prompt


# -- hostile input ---------------------------------------------------------------------------

def chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


SIGNATURE = b"\x89PNG\r\n\x1a\n"
IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0))


def test_not_a_png_is_a_clear_error(tmp_path):
    with pytest.raises(MetadataError, match="not a PNG"):
        read_png_metadata(b"GIF89a....")
    with pytest.raises(MetadataError, match="does not exist"):
        read_png_metadata(tmp_path / "missing.png")
    with pytest.raises(MetadataError, match="folder"):
        read_png_metadata(tmp_path)


def test_a_png_without_parameters_says_so():
    buffer = io.BytesIO()
    Image.fromarray(make_card(16)).save(buffer, "PNG")
    metadata = read_png_metadata(buffer.getvalue())
    assert not metadata.has_parameters and metadata.width == 16


def test_huge_and_damaged_chunks_become_warnings():
    declared_huge = struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"parameters\x00x"
    started = time.perf_counter()
    metadata = read_png_metadata(SIGNATURE + IHDR + declared_huge)
    assert time.perf_counter() - started < 1
    assert metadata.parameters is None and any("too large" in w for w in metadata.warnings)

    big = chunk(b"tEXt", b"parameters\x00" + b"a" * (2 << 20))
    assert any("too large" in w for w in read_png_metadata(SIGNATURE + IHDR + big).warnings)

    bomb = chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(b"\x00" * (8 << 20), 9))
    metadata = read_png_metadata(SIGNATURE + IHDR + bomb)
    assert metadata.parameters is None and any("inflates" in w for w in metadata.warnings)

    damaged = chunk(b"tEXt", b"parameters\x00Steps: 5", crc=0)
    assert any("CRC" in w for w in read_png_metadata(SIGNATURE + damaged).warnings)


def test_odd_encodings_and_broken_records():
    latin1 = chunk(b"tEXt", b"parameters\x00caf\xe9\nSteps: 3")
    assert read_png_metadata(SIGNATURE + latin1).parameters.prompt == "café"
    bad_utf8 = chunk(b"iTXt", b"parameters\x00\x00\x00\x00\x00bad \xff\xfe\nSteps: 3")
    metadata = read_png_metadata(SIGNATURE + bad_utf8)
    assert metadata.parameters.steps == 3 and any("UTF-8" in w for w in metadata.warnings)
    deep = chunk(b"tEXt", RECORD_KEY.encode() + b"\x00" + b"[" * 200_000)
    assert any("deeply" in w for w in read_png_metadata(SIGNATURE + deep).warnings)
    wrong = chunk(b"tEXt", RECORD_KEY.encode() + b"\x00" + json.dumps({"kind": 5}).encode())
    metadata = read_png_metadata(SIGNATURE + wrong)
    assert metadata.kind is None and metadata.warnings
    no_keyword = chunk(b"tEXt", b"no separator at all")
    assert read_png_metadata(SIGNATURE + no_keyword).warnings


def test_parser_is_linear_on_hostile_lines():
    started = time.perf_counter()
    for text in ["a" * 1_000_000, "Steps: " + "a-b " * 250_000, '"' * 500_000 + ":",
                 "k: " + '"\\' * 300_000, ("x: 1, " * 100_000)]:
        assert isinstance(parse_parameters(text), GenerationParameters)
    assert time.perf_counter() - started < 5


def test_fuzz_random_bytes_and_mutated_pngs():
    rng = random.Random(1234)
    valid = encode_png(make_card(16), full_parameters("fuzz, me: please\nü"), "digits",
                       {"label": 3})
    for _ in range(400):
        roll = rng.random()
        if roll < 0.25:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        elif roll < 0.5:
            data = SIGNATURE + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        elif roll < 0.75:
            data = bytearray(valid)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(8, len(data))] = rng.getrandbits(8)
            data = bytes(data)
        else:
            data = valid[: rng.randrange(0, len(valid))]
        try:
            metadata = read_png_metadata(data)
        except MetadataError:
            assert not data.startswith(SIGNATURE)
        else:
            assert isinstance(metadata.warnings, tuple)
            json.dumps(metadata.to_dict())  # everything it returns is plain, printable data
    # Random text chunks with random keywords, flags and payloads.
    for _ in range(300):
        kind = rng.choice([b"tEXt", b"zTXt", b"iTXt"])
        keyword = rng.choice([PARAMETERS_KEY.encode(), RECORD_KEY.encode(), b"", b"x" * 90])
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 120)))
        if rng.random() < 0.3:
            payload = bytes([rng.randint(0, 2), 0]) + zlib.compress(payload)
        read_png_metadata(SIGNATURE + IHDR + chunk(kind, keyword + b"\x00" + payload))


def test_fuzz_parameters_text():
    rng = random.Random(99)
    alphabet = 'abcXYZ019 ,:"\\\n\r\t-/xü日\x00'
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        parsed = parse_parameters(text)
        assert isinstance(parsed.prompt, str) and isinstance(parsed.extra, dict)


def test_request_survives_the_record_as_the_same_dataclass():
    from dataclasses import dataclass

    from engine.png.record import request_from_record
    from engine.schedules.types import ScheduleRequest, ScheduleSpec

    request = ScheduleRequest(specs=(ScheduleSpec.preset("cosine", 500),
                                     ScheduleSpec.preset("linear")),
                              strip_image=make_card(8), strip_steps=4, seed=3)
    metadata = read_png_metadata(encode_png(make_card(8), GenerationParameters(seed=3), "forward",
                                            request))
    rebuilt, skipped = request_from_record(ScheduleRequest, metadata.request)
    assert rebuilt.specs == request.specs and isinstance(rebuilt.specs, tuple)
    assert (rebuilt.strip_steps, rebuilt.seed) == (4, 3)
    assert skipped == ["strip_image"] and rebuilt.strip_image is None  # arrays are not stored

    @dataclass(frozen=True)
    class Checked:
        steps: int = 10

        def __post_init__(self):
            if self.steps < 1:
                raise ValueError("steps must be positive")

    with pytest.raises(ValueError):
        request_from_record(Checked, {"steps": 0})
