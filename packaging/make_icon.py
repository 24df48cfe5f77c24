"""Draws the app icon (resources/icon.png and icon.ico): a disc dissolving into noise, left to right.

Run once after changing the design: ``python packaging/make_icon.py``. Our own artwork (CC0).
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 256
OUT = Path(__file__).resolve().parents[1] / "resources"


def draw_icon(size: int = SIZE) -> Image.Image:
    rng = np.random.default_rng(7)
    base = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(base)
    draw.rounded_rectangle([8, 8, size - 8, size - 8], radius=size // 6, fill=(24, 32, 64, 255))
    disc = Image.new("RGB", (size, size), (24, 32, 64))
    ImageDraw.Draw(disc).ellipse([size * 0.2, size * 0.2, size * 0.8, size * 0.8], fill=(255, 190, 60))
    clean = np.asarray(disc, dtype=np.float32) / 127.5 - 1
    noise = rng.standard_normal(clean.shape).astype(np.float32)
    # √ᾱ falls from 1 (left) to 0 (right): the forward process, drawn across the icon.
    signal = np.cos(np.linspace(0, np.pi / 2, size)) ** 2
    mix = np.sqrt(signal)[None, :, None] * clean + np.sqrt(1 - signal)[None, :, None] * noise * 0.8
    pixels = ((np.clip(mix, -1, 1) + 1) * 127.5).astype(np.uint8)
    picture = Image.fromarray(pixels).filter(ImageFilter.SMOOTH)
    mask = base.split()[3]
    base.paste(picture, (0, 0), mask)
    return base


if __name__ == "__main__":
    icon = draw_icon()
    icon.save(OUT / "icon.png", optimize=True)
    icon.save(OUT / "icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print("wrote", OUT / "icon.png", OUT / "icon.ico")
