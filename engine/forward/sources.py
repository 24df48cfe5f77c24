"""Built-in image sources for the forward process (listed in engine.forward.types.IMAGE_SOURCES)."""

from __future__ import annotations

from engine.images import (
    LoadedImage,
    clamp_working_size,
    image_from_array,
    load_image_file,
    make_test_card,
)
from resources import resource_path


def _sample(file_name: str, working_size: int, grayscale: bool) -> LoadedImage:
    return load_image_file(resource_path("samples", file_name), working_size, grayscale)


def astronaut(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("astronaut.jpg", working_size, grayscale)


def chelsea(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("chelsea.jpg", working_size, grayscale)


def coffee(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("coffee.jpg", working_size, grayscale)


def test_card_image(working_size: int, grayscale: bool) -> LoadedImage:
    # Drawn at the working size itself, so its edges stay sharp at any size.
    return image_from_array(make_test_card(working_size), "test card", working_size, grayscale)


# The held-out real digits shipped with the embedded model (10 per class, in class order).
DIGITS_EXAMPLES = ("models", "digits", "examples.npz")
DIGITS_TILE_SIDE = 4  # a 4×4 grid: 0–9, then 0–5 again (the second example of each)


def digits_tile(working_size: int, grayscale: bool) -> LoadedImage:
    """A 4×4 tile of the embedded model's real training-set digits (16×16 each, white on
    black), enlarged with nearest neighbour so every pixel stays a crisp square."""
    import numpy as np
    from PIL import Image

    with np.load(resource_path(*DIGITS_EXAMPLES), allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    count = DIGITS_TILE_SIDE * DIGITS_TILE_SIDE
    chosen = []
    for position in range(count):
        digit, nth = position % 10, position // 10
        chosen.append(images[np.flatnonzero(labels == digit)[nth]])
    rows = [np.hstack(chosen[row * DIGITS_TILE_SIDE:(row + 1) * DIGITS_TILE_SIDE])
            for row in range(DIGITS_TILE_SIDE)]
    tile = np.vstack(rows).astype(np.uint8)  # 64×64
    side = clamp_working_size(working_size)
    # NEAREST to the exact working size, so image_from_array does no smoothing resize.
    tile = np.asarray(Image.fromarray(tile).resize((side, side), Image.Resampling.NEAREST))
    return image_from_array(tile, "real digits (UCI, CC BY 4.0)", side, grayscale)
