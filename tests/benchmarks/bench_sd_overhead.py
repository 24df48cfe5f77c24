"""What live previews and step recording cost: the same SD pipeline call with and without them.

Run: ``python tests/benchmarks/bench_sd_overhead.py [--size 64] [--steps 20] [--repeats 7]``.
Tiny random-weight pipeline (engine/fixtures/tiny_sd.py) on this machine's device; target:
previews + recording ≤ 1.05 × the plain pipeline call. The variants run interleaved (one of each
per repeat, at least 5 repeats), so load from other processes hits them alike; the ratio is the
median of the per-repeat ratios, and the last line says OK or ABOVE TARGET.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


TARGET = 1.05
MIN_REPEATS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats, at least 5")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    if args.repeats < MIN_REPEATS:
        parser.error(f"--repeats must be at least {MIN_REPEATS} (the ratio is a median of pairs)")

    from engine.fixtures.tiny_sd import save_tiny_pipeline
    from engine.reporting import Reporter
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents, run_generation
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    torch = import_torch()
    scratch = tempfile.mkdtemp()
    folder, _ = save_tiny_pipeline(scratch)
    source, options = ModelSource(str(folder)), PipelineOptions(device=args.device)
    loaded = get_pipeline(source, options)
    pipe = loaded.pipe
    base = dict(prompt="a photo of a cat", source=source, options=options, steps=args.steps,
                width=args.size, height=args.size, seed=1, scheduler="Euler")

    def plain():
        generator = torch.Generator("cpu").manual_seed(1)
        with torch.inference_mode():
            latents = pipe(prompt=base["prompt"], num_inference_steps=args.steps, width=args.size,
                           height=args.size, generator=generator, output_type="latent").images
            decode_latents(pipe, latents)

    def app_without():
        run_generation(GenerationRequest(**base, preview_every=0, record_steps=False), Reporter())

    def app_with():
        previews = []
        run_generation(GenerationRequest(**base), Reporter(on_partial=previews.append))
        assert len(previews) == args.steps

    variants = {"plain pipeline call": plain, "app, no previews/recording": app_without,
                "app, previews + recording every step": app_with}
    for run in variants.values():  # warm-up (first calls allocate, pick kernels)
        run()
    timings = {name: [] for name in variants}
    for repeat in range(args.repeats):  # interleaved, so drift from other load hits all alike
        order = list(variants.items())
        if repeat % 2:
            order.reverse()  # and no variant always runs first
        for name, run in order:
            if loaded.plan.device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            run()
            if loaded.plan.device == "cuda":
                torch.cuda.synchronize()
            timings[name].append(time.perf_counter() - started)

    # Each repeat ran the variants back to back: its own ratio cancels the load of the moment.
    reference = timings["plain pipeline call"]
    pair_ratios = {name: [value / plain for value, plain in zip(values, reference, strict=True)]
                   for name, values in timings.items()}
    print(f"\nSD overhead · tiny pipeline · {args.size}×{args.size} px · {args.steps} steps · "
          f"Euler · {loaded.plan.device}/{loaded.plan.dtype} · torch threads "
          f"{torch.get_num_threads()} · {args.repeats} interleaved repeats\n")
    print(f"| {'variant':<38} | {'median s':>9} | {'min s':>7} | {'ratio':>6} |")
    print(f"|{'-' * 40}|{'-' * 11}|{'-' * 9}|{'-' * 8}|")
    for name, values in timings.items():
        print(f"| {name:<38} | {statistics.median(values):>9.3f} | {min(values):>7.3f} | "
              f"{statistics.median(pair_ratios[name]):>6.3f} |")
    pairs = pair_ratios["app, previews + recording every step"]
    ratio = statistics.median(pairs)
    print("\nratio = median over the repeats of (variant ÷ plain call of the same repeat)")
    print(f"previews + recording cost: ratio {ratio:.3f} (median of {len(pairs)} interleaved "
          f"pairs, range {min(pairs):.3f}–{max(pairs):.3f}; target ≤ {TARGET})")
    if ratio <= TARGET:
        print("OK: within target")
    else:
        print(f"ABOVE TARGET: previews + recording cost {100 * (ratio - 1):.1f} % over the plain "
              f"call (target ≤ {100 * (TARGET - 1):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
