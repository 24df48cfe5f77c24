"""A run's attention maps as plain numpy (torch-free): what the capture keeps, and its views.

The capture (attention_capture.py) fills an ``AttentionMaps``; the GUI and the CLI read it:

- cross-attention, per prompt token: each token's share of the attention mass at every latent
  pixel (softmax over the 77 text positions, averaged over heads, upsampled bilinearly to the
  latent size and averaged over the layers). The start marker takes most of the mass, so the
  prompt tokens' shares sum to at most 1 at every pixel. ``mean_maps`` averages every model
  call of the run; ``step_maps`` keeps single recorded steps (within the memory budget);
- self-attention at the low-resolution levels: for every position of a level, where it
  attends (a row of the level's N×N matrix, averaged over heads and that level's layers).

Heat colours are drawn here too (one place for the CLI's PNGs and the app's view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ATTENTION_FILE = "attention.npz"


@dataclass(frozen=True)
class AttentionMaps:
    tokens: tuple[str, ...]  # the words CLIP read (no start/end/padding, no "</w>")
    latent_size: tuple[int, int]  # (h, w)
    batch_size: int
    # Per image (all batches in order): [tokens, h, w] float32, the mean over every model call.
    mean_maps: tuple[np.ndarray, ...] = ()
    # 1-based model calls with single-step maps (the same for every recorded batch).
    steps: tuple[int, ...] = ()
    # Per recorded batch: [steps, batch_size, tokens, h, w] (float32, or float16 over budget);
    # a cancelled batch holds a prefix.
    step_maps: tuple[np.ndarray, ...] = ()
    # Self-attention levels kept, (h, w) each; per level, per recorded batch:
    # [steps, batch_size, N, N] with N = h·w (row q: where position q attends).
    levels: tuple[tuple[int, int], ...] = ()
    self_maps: tuple[tuple[np.ndarray, ...], ...] = ()
    cross_layers: int = 0  # cross-attention layers averaged
    note: str = ""  # what the memory budget left out ("" when nothing)

    # -- lookups -----------------------------------------------------------------------------
    def _place(self, image: int) -> tuple[int, int]:
        return image // max(1, self.batch_size), image % max(1, self.batch_size)

    def row_for(self, step: int) -> int | None:
        """The row of the last recorded step at or before model call ``step`` (1-based)."""
        rows = [row for row, number in enumerate(self.steps) if number <= step]
        return rows[-1] if rows else None

    def rows_of(self, image: int) -> int:
        """Single steps recorded for ``image`` (0 when its batch was not recorded)."""
        batch, _ = self._place(image)
        return self.step_maps[batch].shape[0] if batch < len(self.step_maps) else 0

    def token_maps(self, image: int, row: int | None = None) -> np.ndarray | None:
        """[tokens, h, w] float32 of ``image``: at recorded ``row``, or the mean over all steps."""
        batch, offset = self._place(image)
        if row is None:
            return self.mean_maps[image] if image < len(self.mean_maps) else None
        if not 0 <= row < self.rows_of(image):
            return None
        return np.asarray(self.step_maps[batch][row, offset], dtype=np.float32)

    def probe(self, image: int, level: int, row: int, y: float, x: float) -> np.ndarray | None:
        """Where the position at (y, x) (fractions 0–1 of the image) attends, at self-attention
        ``level`` and recorded ``row``: an [h, w] map of the level, summing to 1."""
        batch, offset = self._place(image)
        if not 0 <= level < len(self.levels) or batch >= len(self.self_maps[level]):
            return None
        maps = self.self_maps[level][batch]
        if not 0 <= row < maps.shape[0]:
            return None
        h, w = self.levels[level]
        q = min(h - 1, max(0, int(y * h))) * w + min(w - 1, max(0, int(x * w)))
        return np.asarray(maps[row, offset, q], dtype=np.float32).reshape(h, w)


# -- names and files -------------------------------------------------------------------------
def token_word(token: str) -> str:
    """A CLIP token as a word: without the end-of-word marker."""
    return token.replace("</w>", "")


def token_file_name(index: int, word: str) -> str:
    """``NN-word.png``: NN the token's position (its row in ``maps``), the word reduced to
    letters and digits (a punctuation token leaves ``NN-.png``)."""
    return f"{index:02d}-{''.join(ch for ch in word if ch.isalnum())}.png"


def write_npz(path, tokens, maps: np.ndarray) -> None:
    """``tokens`` (a unicode string array) and ``maps`` (float32), loadable without pickle."""
    with open(path, "wb") as handle:
        np.savez(handle, tokens=np.asarray(list(tokens), dtype=np.str_),
                 maps=np.asarray(maps, dtype=np.float32))


# -- pictures --------------------------------------------------------------------------------
# Five stops of matplotlib's "inferno" (dark → yellow), interpolated linearly: the engine has no
# plotting library, and a perceptually ordered ramp reads as "more" without a legend.
_INFERNO = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]],
                    dtype=np.float32)


def heat_colours(values: np.ndarray) -> np.ndarray:
    """[h, w] values in 0–1 → [h, w, 3] uint8 inferno colours."""
    position = np.clip(values, 0.0, 1.0) * (len(_INFERNO) - 1)
    low = np.minimum(position.astype(int), len(_INFERNO) - 2)
    fraction = (position - low)[..., None]
    return (_INFERNO[low] * (1 - fraction) + _INFERNO[low + 1] * fraction).round().astype(np.uint8)


def upsample(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """[h, w] float map → (width, height) ``size``, bilinear (shares stay within their range)."""
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def scaled(values: np.ndarray) -> np.ndarray:
    """``values`` over their largest (zeros stay zeros): a faint map is still visible."""
    top = float(np.max(values)) if values.size else 0.0
    return values / top if top > 0 and np.isfinite(top) else np.zeros_like(values)


def heatmap_over(image: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One map laid over an RGB uint8 image in heat colours, scaled to its own largest value;
    where the map is low the image shows through."""
    h, w = image.shape[:2]
    heat = scaled(upsample(values, (w, h)))
    alpha = (0.25 + 0.6 * heat)[..., None]
    out = image[..., :3].astype(np.float32) * (1 - alpha) + heat_colours(heat) * alpha
    return out.round().clip(0, 255).astype(np.uint8)


def colours_over(image: np.ndarray, maps, colours) -> np.ndarray:
    """Several maps at once, each in its own RGB colour, each scaled to its own largest value,
    over a dimmed image (where maps overlap their colours add)."""
    h, w = image.shape[:2]
    out = image[..., :3].astype(np.float32) * 0.35
    for values, colour in zip(maps, colours, strict=True):
        heat = scaled(upsample(values, (w, h)))[..., None]
        out += heat * np.asarray(colour, dtype=np.float32)[None, None] * 0.8
    return out.round().clip(0, 255).astype(np.uint8)
