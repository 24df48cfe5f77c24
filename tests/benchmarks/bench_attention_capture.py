"""What capturing attention costs: one UNet call of SD 1.5's architecture (random weights) with
and without the capturing processors (engine/stable_diffusion/attention_capture.py).

    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_attention_capture.py \
        --size 256 512 --pairs 2

Classifier-free guidance batch (2 rows: the capture computes the conditional one), a 10-token
prompt, every step kept (the worst case: self-attention of every level of at most 32×32
positions is computed). Calls are interleaved, alternating which goes first; the overhead is
the median over the pairs of (with ÷ without of the same pair) − 1. Also checks that the UNet's
output is bit-identical with capture.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, nargs="+", default=[256])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from engine.fixtures.tiny_sd import build_sd15_pipeline
    from engine.runtime import import_torch
    from engine.stable_diffusion.attention_capture import AttentionCapture, capturing

    torch = import_torch()
    pipe = build_sd15_pipeline().to(args.device)
    words = tuple(f"w{i}" for i in range(10))
    print("| size | without (s) | with (s) | overhead | self-attention levels kept |\n"
          "|---|---|---|---|---|")
    for size in args.size:
        latent = size // 8
        generator = torch.Generator().manual_seed(0)
        sample = torch.randn(2, 4, latent, latent, generator=generator).to(args.device)
        context = torch.randn(2, 77, 768, generator=generator).to(args.device)

        def call(capture, sample=sample, context=context):
            with torch.inference_mode(), capturing(capture, pipe, 0):
                started = time.perf_counter()
                out = pipe.unet(sample, 500, encoder_hidden_states=context).sample
                if args.device == "cuda":
                    torch.cuda.synchronize()
                return time.perf_counter() - started, out

        ratios, plain_times, with_times = [], [], []
        capture = None
        for pair in range(args.pairs):
            capture = AttentionCapture(words, 1, 1, 4096, 1)
            order = (False, True) if pair % 2 == 0 else (True, False)
            seconds = {}
            outputs = {}
            for captured in order:
                seconds[captured], outputs[captured] = call(capture if captured else None)
            assert torch.equal(outputs[False], outputs[True]), "capture changed the output"
            ratios.append(seconds[True] / seconds[False])
            plain_times.append(seconds[False])
            with_times.append(seconds[True])
        levels = ", ".join(f"{w}×{h}" for h, w in capture.result().levels)
        print(f"| {size} px | {statistics.median(plain_times):.2f} | "
              f"{statistics.median(with_times):.2f} | {100 * (statistics.median(ratios) - 1):+.1f} % "
              f"| {levels} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
