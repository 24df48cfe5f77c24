"""Built-in images that need no file: a synthetic test card (ours, CC0)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


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
