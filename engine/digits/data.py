"""The handwritten digits of scikit-learn, as 16×16 images in [−1, 1] with a fixed split.

Data: UCI "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak), CC BY 4.0, as shipped
by scikit-learn (``load_digits``: 1797 images, 8×8, 17 grey levels). scikit-learn is only needed
to train and to evaluate (the ``train`` extra); the app itself ships the weights and a small
held-out sample (resources/models/digits/examples.npz).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import UserFacingError
from engine.images import to_uint8

DATA_CREDIT = ("UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak), "
               "CC BY 4.0, via scikit-learn's load_digits")
IMAGE_SIZE = 16
HELD_OUT_PER_CLASS = 30  # 300 real digits never seen by the diffusion model or the classifier
SPLIT_SEED = 0


@dataclass(frozen=True)
class DigitsSplit:
    train_images: np.ndarray  # N×16×16 float32 in [−1, 1]
    train_labels: np.ndarray  # N int64
    held_out_images: np.ndarray
    held_out_labels: np.ndarray


def _load_sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UserFacingError(
            "Training and evaluating the digits model need scikit-learn (it provides the data "
            "set). Install it with: pip install \"diffusion-playground[train]\" "
            "(or pip install scikit-learn).") from None
    return load_digits()


def upsample(images8: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """8×8 grey levels 0…16 → size×size in [−1, 1], bilinear (pixel centres aligned)."""
    from PIL import Image

    out = np.empty((len(images8), size, size), dtype=np.float32)
    for index, image in enumerate(images8):
        small = Image.fromarray((np.asarray(image, dtype=np.float32) / 16.0).astype(np.float32),
                                mode="F")
        out[index] = np.asarray(small.resize((size, size), Image.Resampling.BILINEAR))
    return np.clip(out, 0.0, 1.0) * 2.0 - 1.0


def load_split() -> DigitsSplit:
    """The fixed split: ``HELD_OUT_PER_CLASS`` digits per class held out, the rest for training."""
    digits = _load_sklearn_digits()
    images = upsample(digits.images)
    labels = np.asarray(digits.target, dtype=np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        held_out[rng.choice(members, HELD_OUT_PER_CLASS, replace=False)] = True
    return DigitsSplit(images[~held_out], labels[~held_out], images[held_out], labels[held_out])


def save_examples(path, split: DigitsSplit, per_class: int = 10) -> None:
    """A small held-out sample to ship with the model (uint8, no pickles)."""
    chosen = np.concatenate([np.flatnonzero(split.held_out_labels == d)[:per_class]
                             for d in range(10)])
    images = to_uint8(split.held_out_images[chosen])
    np.savez_compressed(path, images=images, labels=split.held_out_labels[chosen].astype(np.int64))


def load_examples(path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 N×16×16, labels) of the shipped held-out sample."""
    with np.load(path, allow_pickle=False) as data:
        return data["images"], data["labels"]
