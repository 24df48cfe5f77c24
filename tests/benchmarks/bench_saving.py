"""Saving and reading costs (a script, not a test): ``python tests/benchmarks/bench_saving.py``.

Prints one table: encoding + atomic write of one image with its parameters, reading the
parameters back, and parsing the text alone, at the sizes the app produces.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from engine.images import make_test_card  # noqa: E402
from engine.png.a1111 import GenerationParameters, format_parameters, parse_parameters
from engine.png.chunks import read_png_metadata
from engine.png.encode import encode_png
from engine.png.saving import save_image  # noqa: E402


def timed(function, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    rng = np.random.default_rng(0)
    parameters = GenerationParameters(
        prompt="a lighthouse on a cliff at sunset, oil painting, (dramatic light:1.2)",
        negative_prompt="blurry, lowres", steps=25, sampler="DPM++ 2M", schedule_type="Karras",
        cfg_scale=7.5, seed=1234, width=512, height=512, model="stable-diffusion-v1-5")
    request = {"prompt": parameters.prompt, "steps": 25, "guidance": 7.5, "seed": 1234}
    text = format_parameters(parameters)
    print(f"{'what':<52} {'median ms':>10}")
    with tempfile.TemporaryDirectory() as folder:
        cases = [(32, "32×32 digits grid cell", False), (512, "512×512 photo-like", True),
                 (512, "512×512 pure noise (worst case)", False),
                 (1024, "1024×1024 pure noise (worst case)", False)]
        for size, label, smooth in cases:
            image = make_test_card(size) if smooth else rng.integers(0, 256, (size, size, 3), np.uint8)
            ms = timed(lambda image=image: encode_png(image, parameters, "stable-diffusion",
                                                      request), 5)
            print(f"{'encode_png only, ' + label:<52} {ms:>10.2f}")
            repeats = 20 if size <= 512 else 5
            saved = []
            ms = timed(lambda image=image, saved=saved: saved.append(
                save_image(image, parameters, request, folder, kind="stable-diffusion")), repeats)
            print(f"{'save_image ' + label:<52} {ms:>10.2f}")
            ms = timed(lambda saved=saved: read_png_metadata(saved[-1]), 50)
            print(f"{'read_png_metadata ' + label:<52} {ms:>10.3f}")
    ms = timed(lambda: parse_parameters(text), 200)
    print(f"{'parse_parameters (one A1111 text)':<52} {ms:>10.3f}")


if __name__ == "__main__":
    main()
