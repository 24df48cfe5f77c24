"""Memory over many Stable Diffusion generations in one process, and the step recording's size
against its budget.

Run: ``DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_sd_memory.py
[--runs 50] [--size 64] [--steps 20]``.

Uses the tiny random-weight pipeline (engine/fixtures/tiny_sd.py), saved to a temp folder and
loaded through the engine's own loading code, at a small size: what grows with the number of
runs (results, recordings, previews, caches the engine keeps) grows the same way whatever the
model's size, and a small model makes 50 runs affordable on a CPU. Each run goes through the
engine's generate path with previews every step and step recording on, and the result is kept
only until the next run (as the GUI replaces its current result). Resident memory (RSS) is
printed after run 1 and every 10 runs; flat = the last reading within 5 % (or 20 MB) of the
one after run 10 (the first runs allocate kernels and pools once).

Then the recording budget (GenerationRequest.recording_budget_mb): one run (256² px, 30 steps)
whose complete recording would exceed a 4 MB budget, to show the recording shrinks (float16,
fewer steps) to stay inside it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MB = 1024 * 1024


def rss_mb() -> float:
    """Resident set size of this process now (Linux /proc), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def recording_bytes(result) -> int:
    return sum(a.nbytes for a in (*result.step_latents, *result.step_predictions))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=2)
    args = parser.parse_args()

    from engine.fixtures.tiny_sd import save_tiny_pipeline
    from engine.reporting import Reporter
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.types import (
        DEFAULT_RECORDING_BUDGET_MB,
        GenerationRequest,
        ModelSource,
        PipelineOptions,
    )

    torch = import_torch()
    folder, _ = save_tiny_pipeline(tempfile.mkdtemp(prefix="tiny-sd-"))
    source, options = ModelSource(str(folder)), PipelineOptions(device="cpu")
    request = GenerationRequest("a photo of a cat", source=source, options=options,
                                steps=args.steps, width=args.size, height=args.size,
                                batch_size=args.batch_size, scheduler="Euler", seed=0,
                                preview_every=1, record_steps=True)
    print(f"tiny pipeline, {args.size}×{args.size} px, {args.steps} steps, batch "
          f"{args.batch_size}, previews + recording every step, CPU, torch threads "
          f"{torch.get_num_threads()}; {args.runs} runs in one process\n")
    print("| after run | RSS MiB | recording of that run |")
    print("|---:|---:|---|")
    readings = {}
    result = None
    for run in range(1, args.runs + 1):
        previews = []
        result = run_generation(request, Reporter(on_partial=previews.append))
        assert len(previews) == args.steps and len(result.images) == args.batch_size
        if run == 1 or run % 10 == 0:
            gc.collect()
            readings[run] = rss_mb()
            print(f"| {run} | {readings[run]:.1f} | {recording_bytes(result) / MB:.2f} MB "
                  f"({len(result.recorded_steps)} steps; budget "
                  f"{request.recording_budget_mb} MB) |", flush=True)
    last = readings[max(readings)]
    reference = readings.get(10, readings[1])
    growth = last - reference
    flat = abs(growth) <= max(20.0, 0.05 * reference)
    print(f"\nRSS after run 10: {reference:.1f} MiB; after run {max(readings)}: {last:.1f} MiB "
          f"({growth:+.1f} MiB): {'flat' if flat else 'GROWING (above target: flat)'}")

    # The budget: a run whose complete float32 recording would not fit a small budget.
    budget_mb = 4
    big = GenerationRequest("a photo of a cat", source=source, options=options, steps=30,
                            width=256, height=256, batch_size=1, scheduler="Euler", seed=0,
                            preview_every=0, record_steps=True, recording_budget_mb=budget_mb)
    result = run_generation(big, Reporter())
    used = recording_bytes(result)
    per_step = 2 * result.step_latents[0][0].size * 4  # (x_t, x̂₀) of one step in float32
    complete = big.steps * per_step
    within = used <= budget_mb * MB
    print(f"\nrecording budget check: 256² px (latents {tuple(result.step_latents[0].shape[1:])}),"
          f" 30 steps, budget {budget_mb} MB; a complete float32 recording would be "
          f"{complete / MB:.2f} MB; recorded {used / MB:.2f} MB in "
          f"{result.step_latents[0].dtype} ({len(result.recorded_steps)} of 30 steps): "
          f"{'within budget' if within else 'OVER BUDGET'}")
    print(f"note: {next((w for w in result.warnings if 'budget' in w), '(none)')}")
    print(f"default budget: {DEFAULT_RECORDING_BUDGET_MB} MB")
    return 0 if flat and within else 1


if __name__ == "__main__":
    sys.exit(main())
