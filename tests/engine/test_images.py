"""Loading images for the forward process: every mode, orientation, sizes, and bad files."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserFacingError
from engine.images import load_image_file, target_size


def save(tmp_path, image: Image.Image, name: str, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width×height, with a tiny IDAT: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("mode,fill", [
    ("RGB", (200, 30, 40)), ("RGBA", (200, 30, 40, 255)), ("L", 90), ("LA", (90, 255)),
    ("CMYK", (0, 255, 255, 0)), ("I;16", 32896), ("I", 70000), ("F", 0.5), ("1", 1),
])
def test_every_mode_becomes_uint8_rgb_or_grey(tmp_path, mode, fill):
    image = Image.new(mode, (80, 40), fill)
    if mode == "I":  # a constant image has no range; add a gradient so scaling is checked
        image = Image.fromarray(np.tile(np.arange(80, dtype=np.int32) * 1000, (40, 1)), "I")
    fmt = "TIFF" if mode in ("CMYK", "I", "F") else "PNG"
    path = save(tmp_path, image, f"image.{fmt.lower()}", format=fmt)
    for grayscale in (False, True):
        loaded = load_image_file(path, 64, grayscale)
        assert loaded.pixels.dtype == np.uint8
        assert loaded.pixels.shape == (32, 64, 1 if grayscale else 3)
        assert loaded.original_size == (80, 40)
    if mode == "I;16":  # 16-bit is scaled by its range, not clipped to white
        assert abs(int(load_image_file(path, 64).pixels.mean()) - 128) <= 2
    if mode == "CMYK":  # cyan-free magenta+yellow = red
        red = load_image_file(path, 64).pixels[0, 0]
        assert red[0] > 200 and red[1] < 60 and red[2] < 60
    if mode == "I":
        row = load_image_file(path, 64, True).pixels[0, :, 0]
        assert row[0] < 10 and row[-1] > 245 and (np.diff(row.astype(int)) >= 0).all()


def test_palette_with_transparency_is_composited_over_white(tmp_path):
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    path = save(tmp_path, image, "p.png")
    assert (load_image_file(path, 64).pixels == 255).all()
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert (load_image_file(save(tmp_path, rgba, "clear.png"), 64).pixels == 255).all()


def test_exif_orientation_is_honoured(tmp_path):
    image = Image.new("RGB", (60, 30), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 30))  # red band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = save(tmp_path, image, "rotated.jpg", exif=exif, quality=95)
    pixels = load_image_file(path, 64).pixels
    assert pixels.shape == (64, 32, 3)  # portrait now
    assert pixels[2, 16, 0] > 200 and pixels[-3, 16, 2] > 200  # red band on top after rotation


def test_working_size_keeps_aspect_and_upscales_tiny_images(tmp_path):
    assert target_size(4000, 3000, 512) == (512, 384)
    assert target_size(10_000, 1, 512) == (512, 1)
    one = save(tmp_path, Image.new("RGB", (1, 1), (10, 200, 30)), "one.png")
    loaded = load_image_file(one, 512)
    assert loaded.pixels.shape == (512, 512, 3)
    assert (loaded.pixels == (10, 200, 30)).all() and "upscaled" in loaded.note
    assert load_image_file(one, 5).pixels.shape[0] == 64  # clamped to the minimum working size


def test_hundred_megapixel_image_is_downscaled(tmp_path):
    big = Image.new("L", (10_000, 10_000), 0)
    big.paste(255, (0, 0, 5_000, 10_000))
    path = save(tmp_path, big, "big.png", compress_level=1)
    del big
    loaded = load_image_file(path, 256)
    assert loaded.pixels.shape == (256, 256, 3)
    assert "downscaled from 10000×10000" in loaded.description
    assert loaded.pixels[:, :100].min() > 250 and loaded.pixels[:, 156:].max() < 5


def test_decompression_bomb_header_gets_a_clear_message(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))  # 10 gigapixels, 0.1 kB on disk
    with pytest.raises(UserFacingError, match="too large to open safely"):
        load_image_file(path)


def test_truncated_file_gets_a_clear_message(tmp_path):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8))
    data = (save(tmp_path, image, "full.png")).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserFacingError, match="truncated or damaged"):
        load_image_file(cut)
    jpeg = save(tmp_path, image, "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    with pytest.raises(UserFacingError, match="truncated or damaged"):
        load_image_file(tmp_path / "cut.jpg")


def test_non_image_and_missing_files_get_clear_messages(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("hello, not a picture")
    with pytest.raises(UserFacingError, match="not an image file"):
        load_image_file(text)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UserFacingError, match="not an image file"):
        load_image_file(empty)
    with pytest.raises(UserFacingError, match="no such file"):
        load_image_file(tmp_path / "missing.png")
    with pytest.raises(UserFacingError, match="is a folder, not an image file"):
        load_image_file(tmp_path)  # a folder says so (it used to say "no such file")
    with pytest.raises(UserFacingError, match="No image file was given"):
        load_image_file("")


def test_builtin_sources_load(tmp_path):
    from engine.forward.noising import run_load_image_job
    from engine.forward.types import IMAGE_SOURCES, LoadImageRequest
    from engine.reporting import Reporter

    for key in IMAGE_SOURCES:
        loaded = run_load_image_job(LoadImageRequest(source_key=key, working_size=128), Reporter())
        assert max(loaded.pixels.shape[:2]) == 128 and loaded.pixels.std() > 20
