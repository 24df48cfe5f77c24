"""Loading any image file as a working-size uint8 array (Pillow only, no torch, no Qt), and the
one conversion between uint8 pixels and the model range [−1, 1] (``to_unit_range``/``to_uint8``).

Every Pillow mode is accepted (RGB, RGBA, L, P, I;16, CMYK, …), EXIF orientation is honoured,
and the result's longest side is the chosen working size with the aspect ratio kept. Files that
cannot be used raise ``UserFacingError`` with a message that says what to do.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from engine.errors import UserFacingError

MIN_WORKING_SIZE = 64
MAX_WORKING_SIZE = 1024
DEFAULT_WORKING_SIZE = 512

# The largest side an image is resized to anywhere (Stable Diffusion's width/height limit).
LARGEST_TARGET_SIDE = 2048

_EXIF_ORIENTATION = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def to_unit_range(pixels: np.ndarray) -> np.ndarray:
    """uint8 0–255 → float32 in [−1, 1] (the convention of DDPM and diffusers)."""
    return np.asarray(pixels).astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(values, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """[low, high] → 0–255 uint8, clipped, rounded to the nearest (ties to even): by default the
    inverse of ``to_unit_range``. Torch tensors are accepted (CPU, any float dtype); the result
    is always a numpy array."""
    if not isinstance(values, np.ndarray) and hasattr(values, "detach"):
        values = values.detach().float().cpu().numpy()
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float32)
    return np.round((np.clip(values, low, high) - low) * (255.0 / (high - low))).astype(np.uint8)


@dataclass(frozen=True)
class LoadedImage:
    """A working-size image and where it came from."""

    pixels: np.ndarray  # HxWx3 (colour) or HxWx1 (grayscale) uint8
    source: str  # short name for captions and metadata, e.g. "astronaut.jpg"
    original_size: tuple[int, int]  # (width, height) as stored in the file, before orientation
    original_mode: str
    note: str = ""  # e.g. "downscaled from 10000×10000"

    @property
    def description(self) -> str:
        height, width = self.pixels.shape[:2]
        text = (f"{self.source}: {self.original_size[0]}×{self.original_size[1]} "
                f"{self.original_mode} → {width}×{height}")
        return text + (f" ({self.note})" if self.note else "")


def clamp_working_size(size: int) -> int:
    return max(MIN_WORKING_SIZE, min(MAX_WORKING_SIZE, int(size)))


def target_size(width: int, height: int, working_size: int) -> tuple[int, int]:
    """(w, h) whose longest side is ``working_size``, aspect kept, each side at least 1 px."""
    scale = working_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def load_image_file(path: str | Path, working_size: int = DEFAULT_WORKING_SIZE,
                    grayscale: bool = False) -> LoadedImage:
    """Open, orient, convert and resize one image file; ``UserFacingError`` if it is unusable."""
    path = Path(path)
    working_size = clamp_working_size(working_size)
    name = path.name
    with _opened(path) as image:
        original_size, original_mode = image.size, image.mode
        orientation = _orientation(image)
        # JPEG only: decode at 1/2…1/8 scale when that still covers the working size.
        image.draft(None, target_size(*image.size, working_size))
        pixels = _working_pixels(image, working_size, grayscale)
    pixels = _apply_orientation(pixels, orientation)
    width, height = original_size
    note = ""
    if max(width, height) > working_size:
        note = f"downscaled from {width}×{height}"
    elif max(width, height) < working_size:
        note = f"upscaled from {width}×{height}"
    return LoadedImage(pixels, name, original_size, original_mode, note)


def read_image_array(path: str | Path, mode: str = "RGB",
                     at_least: tuple[int, int] | None = None) -> np.ndarray:
    """An input image (e.g. ``generate --init-image``/``--mask``) as an H×W×3 (``RGB``) or H×W
    (``L``) uint8 array, EXIF orientation applied. ``at_least`` (width, height): the size the
    caller will resize it to; a larger image is decoded at reduced scale where the format allows
    (JPEG draft) and reduced by an integer factor right after decoding, so a 169-megapixel
    photo never becomes a multi-gigabyte array. ``UserFacingError`` when it is unusable."""
    path = Path(path)
    with _opened(path) as image:
        orientation = _orientation(image)
        if at_least is not None:
            # A size not known yet (the model's native size) is at most the largest allowed.
            at_least = tuple(int(side or LARGEST_TARGET_SIDE) for side in at_least)
            want = at_least if orientation < 5 else (at_least[1], at_least[0])  # 5-8 rotate 90°
            image.draft(None, (max(1, want[0]), max(1, want[1])))
            image.load()
            factor = min(image.size[0] // max(1, want[0]), image.size[1] // max(1, want[1]))
            if factor >= 2:
                image = image.reduce(factor)
        converted = _to_8bit(image).convert(mode)
        pixels = np.asarray(converted, dtype=np.uint8)
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
    pixels = _apply_orientation(np.ascontiguousarray(pixels), orientation)
    return pixels[:, :, 0] if mode == "L" else pixels


@contextmanager
def _opened(path: Path):
    """``Image.open`` with every failure turned into a ``UserFacingError`` that says what to do."""
    name = path.name or str(path)
    if not str(path).strip() or str(path) == ".":
        raise UserFacingError("No image file was given: name an image file.")
    if path.is_dir():
        raise UserFacingError(f"{path} is a folder, not an image file. Choose an image file.")
    if not path.is_file():
        raise UserFacingError(f"{name}: no such file. Choose an existing image file.")
    try:
        with warnings.catch_warnings():
            # Pillow warns above Image.MAX_IMAGE_PIXELS and refuses above twice that (≈179 MP)
            # as a decompression bomb. We open up to its hard limit (a 100 MP photo is
            # legitimate; large inputs are then decoded reduced, see read_image_array) and turn
            # the refusal into a message below; the limit itself is Pillow's, not ours.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except Image.DecompressionBombError:
        raise UserFacingError(
            f"{name} is too large to open safely (more than "
            f"{2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; a 'decompression bomb' guard). "
            "Downscale it in an image editor first.") from None
    except UnidentifiedImageError:
        raise UserFacingError(
            f"{name} is not an image file Pillow can read. Choose a PNG, JPEG, WebP, TIFF, BMP "
            "or GIF file.") from None
    except PermissionError:
        raise UserFacingError(f"{name} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Truncated or corrupt data surfaces as OSError ("image file is truncated", "broken
        # data stream") or SyntaxError from some decoders.
        raise UserFacingError(
            f"{name} could not be decoded ({exc}). The file may be truncated or damaged; "
            "try re-saving it or choose another image.") from None
    except MemoryError:
        raise UserFacingError(
            f"{name} is too large to decode in the memory available. Downscale it first.") from None


def image_from_array(array: np.ndarray, source: str, working_size: int = DEFAULT_WORKING_SIZE,
                     grayscale: bool = False) -> LoadedImage:
    """The same conversion for an image that is already in memory (HxW or HxWx3 uint8)."""
    working_size = clamp_working_size(working_size)
    image = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
    pixels = _working_pixels(image, working_size, grayscale)
    return LoadedImage(pixels, source, image.size, image.mode)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not make an otherwise fine image unusable
        return 1


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Orientation is applied after resizing (cheap on the small image; longest side unchanged)."""
    steps = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    if not steps:
        return pixels
    squeeze = pixels.shape[2] == 1
    image = Image.fromarray(pixels[:, :, 0] if squeeze else pixels)
    for step in steps:
        image = image.transpose(step)
    result = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(result[:, :, None] if squeeze else result)


def _working_pixels(image: Image.Image, working_size: int, grayscale: bool) -> np.ndarray:
    """Any mode → 8-bit L or RGB at working size → HxWxC uint8 (C = 1 or 3)."""
    image = _to_8bit(image)
    image = image.convert("L" if grayscale else "RGB")
    size = target_size(*image.size, working_size)
    if size != image.size:
        # reducing_gap: a fast integer reduce first, then Lanczos; what thumbnail() does.
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return np.ascontiguousarray(pixels)


def _to_8bit(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "L"):
        image.load()
        return image
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit and float images: Pillow's convert("L") clips at 255, which would turn most
        # 16-bit photos white. Scale 16-bit by its full range, the others by their own range.
        values = np.asarray(image, dtype=np.float32)
        if mode.startswith("I;16"):
            low, high = 0.0, 65535.0
        else:
            finite = values[np.isfinite(values)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        scaled = (np.nan_to_num(values, nan=low) - low) / max(high - low, 1e-12)
        return Image.fromarray((np.clip(scaled, 0, 1) * 255 + 0.5).astype(np.uint8), "L")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent pixels have no colour of their own: show them over white.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, 1, …


# -- built-in images that need no file: a synthetic test card (ours, CC0) ---------------------
def make_test_card(size: int = 128) -> np.ndarray:
    """A colourful card with shapes and edges: structure that noise visibly destroys."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    background = np.stack([0.25 + 0.6 * xx, 0.35 + 0.4 * yy, 0.85 - 0.5 * xx * yy], axis=-1)
    image = Image.fromarray((background * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    s = size
    draw.ellipse([0.08 * s, 0.1 * s, 0.48 * s, 0.5 * s], fill=(235, 180, 40), outline=(60, 30, 0),
                 width=max(1, s // 64))
    draw.rectangle([0.55 * s, 0.15 * s, 0.9 * s, 0.45 * s], fill=(200, 40, 60))
    draw.polygon([(0.2 * s, 0.92 * s), (0.45 * s, 0.55 * s), (0.7 * s, 0.92 * s)], fill=(30, 130, 70))
    for k in range(6):  # fine stripes: the first detail to vanish under noise
        x = 0.74 * s + k * 0.035 * s
        draw.rectangle([x, 0.58 * s, x + 0.015 * s, 0.92 * s], fill=(20, 20, 20))
    return np.asarray(image, dtype=np.uint8).copy()


# -- a sequence of frames (latent walks) as one strip or one animation ------------------------
def frames_file_bytes(frames, suffix: str, frame_ms: int = 150, gap: int = 2,
                      max_side: int = 512) -> bytes:
    """Frames (each H×W grey or H×W×3 uint8, all one size) as a ``png`` strip (left to right,
    ``gap`` white pixels apart) or a looping ``gif``; frames larger than ``max_side`` are shrunk."""
    import io

    suffix = suffix.lower().lstrip(".")
    if suffix not in ("png", "gif"):
        raise UserFacingError(f"Frames are exported as .png (a strip) or .gif, not .{suffix}.")
    images = [Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8)).convert("RGB")
              for frame in frames]
    if not images:
        raise UserFacingError("There are no frames to export yet.")
    for image in images:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if suffix == "png":
        width, height = images[0].size
        strip = Image.new("RGB", (len(images) * (width + gap) - gap, height), "white")
        for index, image in enumerate(images):
            strip.paste(image, (index * (width + gap), 0))
        strip.save(buffer, "PNG")
    else:
        images[0].save(buffer, "GIF", save_all=True, append_images=images[1:],
                       duration=frame_ms, loop=0)
    return buffer.getvalue()
