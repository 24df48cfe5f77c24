"""How long Cancel takes mid-step on Stable Diffusion 1.5's real architecture (random weights).

Run: ``python tests/benchmarks/bench_sd_cancel.py [--size 256] [--trials 3] [--device cpu]``.

Builds SD 1.5's UNet (block_out_channels 320/640/1280/1280, cross_attention_dim 768, 8 heads,
layers_per_block 2: 859 M parameters), its VAE (128/256/512/512) and a CLIP ViT-L-sized text
encoder, all with random weights (nothing is downloaded), puts the pipeline into the engine's
model cache and runs the engine's own ``run_generation``/``decode_latents_job``. For each trial
the cancel flag is set at a different point inside a UNet step (or the VAE decode), from another
thread, as the GUI's Cancel button and the CLI's SIGINT handler do; the table shows how long the
job took to end after that. Target: under about a second (the block that is running finishes).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_sd15(torch_dtype):
    """StableDiffusionPipeline with SD 1.5's architecture and random weights."""
    from engine.fixtures.tiny_sd import build_sd15_pipeline

    return build_sd15_pipeline(torch_dtype)


def install(pipe, source, options):
    """Put the pipeline into the engine's cache, as if loaded from ``source``."""
    from engine.stable_diffusion import loading
    from engine.stable_diffusion.devices import place_pipeline, plan_for

    plan = plan_for(options)
    place_pipeline(pipe, plan, options)
    pipe.set_progress_bar_config(disable=True)
    info = loading._describe(pipe, source, plan, 0.0, [])
    loading._loaded = loading.LoadedPipeline(source, options, pipe, plan, info)
    return info


def timed_cancel(run, after: float):
    """Run ``run(event)``; set the event ``after`` s after ``started`` is set. Returns
    (seconds from the flag to the end, whether it ended by Cancelled)."""
    from engine.errors import Cancelled

    event, started, marks = threading.Event(), threading.Event(), {}

    def fire():
        started.wait()
        time.sleep(after)
        marks["flag"] = time.perf_counter()
        event.set()

    threading.Thread(target=fire, daemon=True).start()
    try:
        run(event, started)
        cancelled = False
    except Cancelled:
        cancelled = True
    end = time.perf_counter()
    return end - marks.get("flag", end), cancelled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from engine.reporting import Reporter
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents_job, run_generation
    from engine.stable_diffusion.types import (
        DecodeLatentsRequest,
        GenerationRequest,
        ModelSource,
        PipelineOptions,
    )

    torch = import_torch()
    mark = time.perf_counter()
    pipe = build_sd15(torch.float32)
    params = sum(p.numel() for p in pipe.unet.parameters()) / 1e6
    source, options = ModelSource("benchmark/sd15-random"), PipelineOptions(device=args.device)
    install(pipe, source, options)
    print(f"SD 1.5 architecture, random weights: UNet {params:.0f} M parameters, built in "
          f"{time.perf_counter() - mark:.0f} s; {args.size}² on {args.device}, "
          f"{torch.get_num_threads()} torch threads")

    request = GenerationRequest("a photo of a cat", source=source, options=options, steps=4,
                                width=args.size, height=args.size, seed=0, scheduler="DDIM",
                                preview_every=1)
    # One step timed first, so the trials can aim inside a step.
    step_times = []
    reporter = Reporter(on_partial=lambda _: step_times.append(time.perf_counter()))
    mark = time.perf_counter()
    try:
        run_generation(dataclasses.replace(request, steps=2), reporter)
    except Exception as exc:  # noqa: BLE001 (a benchmark reports, it does not stop)
        print("warm-up failed:", exc)
        return 1
    step = step_times[1] - step_times[0]
    total = time.perf_counter() - mark
    print(f"one step (UNet × 2 for guidance): {step:.2f} s; 2 steps + decode: {total:.1f} s")

    rows = []
    for trial in range(args.trials):
        fraction = (trial + 1) / (args.trials + 1)

        def generate(event, started):
            def on_partial(preview):
                if preview.step == 1:
                    started.set()  # step 2 begins now
            run_generation(request, Reporter(event, on_partial=on_partial))

        latency, ok = timed_cancel(generate, fraction * step)
        rows.append((f"UNet step, {fraction:.0%} in", latency, ok))

    latents = torch.randn(4, args.size // 8, args.size // 8).numpy()
    mark = time.perf_counter()
    decode_latents_job(DecodeLatentsRequest(latents, source, options), Reporter())
    decode = time.perf_counter() - mark
    print(f"one VAE decode: {decode:.2f} s")
    for fraction in (0.3, 0.7):
        def decode_run(event, started):
            started.set()
            decode_latents_job(DecodeLatentsRequest(latents, source, options), Reporter(event))

        latency, ok = timed_cancel(decode_run, fraction * decode)
        rows.append((f"VAE decode, {fraction:.0%} in", latency, ok))

    print()
    print(f"{'cancel set during':<24} {'ended after':>12} {'by Cancelled':>13}")
    for label, latency, ok in rows:
        print(f"{label:<24} {latency:>10.2f} s {'yes' if ok else 'NO':>13}")
    worst = max(latency for _, latency, _ in rows)
    print(f"\nworst: {worst:.2f} s (target: about 1 s; a step takes {step:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
