"""Same request + same seed reproduces the same digits, through a saved PNG and back (issue 6)."""

from __future__ import annotations

import numpy as np

from engine.digits.outputs import EMBEDDED_MODEL_NAME, sample_items
from engine.digits.types import ReverseRequest
from engine.jobs import run_job
from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_DIGITS, request_from_record
from engine.png.saving import save_image
from engine.reporting import Reporter


def test_saved_sample_restores_the_request_and_regenerates_identical_samples(tmp_path):
    # Stochastic sampler settings (DDIM with η > 0) so the seed really matters.
    request = ReverseRequest(label=7, guidance=2.0, sampler="ddim", steps=5, eta=0.5, seed=123,
                             batch_size=3)
    first = run_job(request, Reporter())
    image, parameters, record = sample_items(request, first.final_images, scale=2)[1]
    path = save_image(image, parameters, record, tmp_path, kind=KIND_DIGITS)
    assert path.name == "00001-123.png"

    metadata = read_png_metadata(path)
    assert metadata.kind == KIND_DIGITS and not metadata.warnings
    assert metadata.parameters_text.splitlines() == [
        "digit 7",
        "Steps: 5, Sampler: ddim, CFG scale: 2, Seed: 123, Size: 32x32, "
        f"Model: {EMBEDDED_MODEL_NAME}, Version: {metadata.parameters.version}, "
        "Eta: 0.5, Batch size: 3, Batch index: 1"]
    restored, skipped = request_from_record(ReverseRequest, metadata.request)
    assert restored == request
    assert skipped == ["initial_noise"]  # never stored: the seed draws the noise again

    second = run_job(restored, Reporter())
    assert np.array_equal(second.samples, first.samples)
    assert np.array_equal(second.final_images, first.final_images)
    # The saved pixels are sample 1 of the batch, upscaled 2× with nearest neighbour.
    from PIL import Image

    with Image.open(path) as saved:
        pixels = np.asarray(saved)
    assert np.array_equal(pixels[::2, ::2], second.final_images[1])

    other = run_job(ReverseRequest(**{**metadata.request, "seed": 124}), Reporter())
    assert not np.array_equal(other.samples, first.samples)  # the check above can fail


def test_unconditional_request_round_trips(tmp_path):
    request = ReverseRequest(label=None, guidance=0.0, sampler="euler_a", steps=3, seed=9,
                             batch_size=1, record=False)
    items = sample_items(request, np.zeros((1, 16, 16), np.uint8))
    path = save_image(*items[0], folder=tmp_path, kind=KIND_DIGITS)
    metadata = read_png_metadata(path)
    assert metadata.parameters.prompt == "unconditional"
    assert "Eta" not in metadata.parameters.extra  # η only means something for DDIM
    assert request_from_record(ReverseRequest, metadata.request)[0] == request
