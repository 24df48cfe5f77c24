"""Stable Diffusion 1.5's architecture (random weights): ours vs a bare diffusers call, and what
makes a step faster.

CPU (what the README's table ran; ``--size 256 512`` for both sizes, ``--compile`` to time
torch.compile):
    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_sd_cpu.py --size 256 --steps 1 \
        --pairs 7
GPU (the same script, the GPU table of the README; needs a CUDA machine):
    python tests/benchmarks/bench_sd_cpu.py --device cuda --dtype float16 --size 512 --steps 50 \\
        --compile

Builds SD 1.5's UNet (320/640/1280/1280, cross_attention_dim 768, 8 heads, layers_per_block 2),
VAE and a CLIP ViT-L-sized text encoder with random weights (engine/fixtures/tiny_sd.py), saves
them as a diffusers folder and loads that through the engine's own loading code (get_pipeline),
so the pipeline is placed exactly as the app places it. Speed does not depend on the weights'
values. Classifier-free guidance is on (guidance 7.5: two UNet evaluations per step).

1. Overhead: the engine's generate path (run_generation, previews every step and step recording
   on) against a bare diffusers call of the same pipeline (``pipe(..., output_type="latent")``
   and the same VAE decode): one run each per pair, interleaved, alternating which goes first;
   overhead = median over the pairs of (ours ÷ bare of the same pair) − 1. Target ≤ 3 %.
2. Variants of the bare call (denoising only, ``output_type="latent"``, prompt encoding
   included): each against the baseline of the same round, interleaved; speed-up = median of
   baseline ÷ variant. On CPU each variant alone (channels_last UNet, bf16 autocast and bf16
   weights where the CPU has bf16 kernels, attention slicing, torch.compile with ``--compile``); on CUDA
   cumulative as in the issue (SDPA, + channels_last, + torch.compile, + fused QKV).
   it/s = denoising steps per second at batch 1 with guidance = steps ÷ the call's time.

Prints one markdown table per size with the machine, threads, versions and conditions, and
"ABOVE TARGET" when the overhead is over 3 %.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TARGET_OVERHEAD = 0.03
MIN_PAIRS = 5
PROMPT = "a photo of a cat"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


class Variant:
    """A change to the pipeline: ``apply``/``undo`` around the timed calls, ``context`` per call."""

    def __init__(self, name, apply=None, undo=None, context=None, setup_seconds=None):
        self.name = name
        self.apply = apply or (lambda: None)
        self.undo = undo or (lambda: None)
        self.context = context or contextlib.nullcontext
        self.setup_seconds = setup_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None, help="default: the engine's (fp32 CPU, fp16 CUDA)")
    parser.add_argument("--size", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=MIN_PAIRS, help="interleaved pairs, ≥ 5")
    parser.add_argument("--scheduler", default="DDIM")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow "
                        "to compile on a small CPU; its compile time is reported apart)")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--only", nargs="+", default=None, metavar="WORD",
                        help="time only the variants whose name contains one of these words "
                             "(e.g. --only compile)")
    parser.add_argument("--model-dir", default=None,
                        help="keep the saved random-weight model here and reuse it next time")
    args = parser.parse_args()
    if args.pairs < MIN_PAIRS:
        parser.error(f"--pairs must be at least {MIN_PAIRS}")

    from engine.fixtures.tiny_sd import save_sd15_pipeline
    from engine.reporting import Reporter
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents, run_generation
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.schedulers import make_scheduler
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    torch = import_torch()
    import diffusers

    cuda = args.device.startswith("cuda")
    machine = (torch.cuda.get_device_name(0) if cuda else cpu_model())
    print(f"machine: {machine}; {os.cpu_count()} CPU cores; torch threads "
          f"{torch.get_num_threads()} (DIFFUSION_PLAYGROUND_THREADS="
          f"{os.environ.get('DIFFUSION_PLAYGROUND_THREADS', 'unset')}); torch {torch.__version__}, "
          f"diffusers {diffusers.__version__}", flush=True)

    root = Path(args.model_dir) if args.model_dir else Path(tempfile.mkdtemp(prefix="sd15-"))
    folder = root / "sd15-random"
    if not (folder / "model_index.json").exists():
        mark = time.perf_counter()
        save_sd15_pipeline(root)
        gc.collect()
        print(f"built and saved SD 1.5's architecture in {time.perf_counter() - mark:.0f} s",
              flush=True)
    source = ModelSource(str(folder))
    options = PipelineOptions(device=args.device, dtype=args.dtype)
    mark = time.perf_counter()
    loaded = get_pipeline(source, options)
    pipe = loaded.pipe
    unet_params = sum(p.numel() for p in pipe.unet.parameters()) / 1e6
    print(f"loaded through the engine (get_pipeline) in {time.perf_counter() - mark:.0f} s: "
          f"{loaded.plan.device}/{loaded.plan.dtype}, VAE {loaded.plan.vae_dtype}, UNet "
          f"{unet_params:.0f} M parameters, attention slicing "
          f"{'on' if loaded.plan.attention_slicing else 'off'}", flush=True)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def timed(run):
        sync()
        started = time.perf_counter()
        run()
        sync()
        return time.perf_counter() - started

    def bare_latents(size):
        pipe.scheduler = make_scheduler(args.scheduler, pipe, args.steps)
        generator = torch.Generator("cpu").manual_seed(1)
        return pipe(prompt=PROMPT, num_inference_steps=args.steps, guidance_scale=7.5,
                    width=size, height=size, generator=generator, output_type="latent").images

    if cuda:
        for size in args.size:
            cuda_table(args, torch, diffusers, machine, source, size)
        return 0

    for size in args.size:
        conditions = (f"{size}×{size} px, {args.steps} step{'s' * (args.steps > 1)} "
                      f"({args.scheduler}), batch 1, guidance 7.5 (2 UNet evaluations a step), "
                      f"{loaded.plan.device}/{loaded.plan.dtype}, {args.pairs} interleaved pairs, "
                      "medians")
        rows = []
        notes = []
        if not args.skip_overhead:
            request = GenerationRequest(PROMPT, source=source, options=options, steps=args.steps,
                                        width=size, height=size, seed=1, scheduler=args.scheduler,
                                        preview_every=1, record_steps=True)

            def bare(size=size):
                with torch.inference_mode():
                    decode_latents(pipe, bare_latents(size))

            def ours(request=request):
                previews = []
                result = run_generation(request, Reporter(on_partial=previews.append))
                assert len(previews) == args.steps and len(result.recorded_steps) == args.steps

            for run in (bare, ours):  # warm-up: first calls allocate and pick kernels
                run()
            times = {"bare": [], "ours": []}
            for pair in range(args.pairs):
                order = [("bare", bare), ("ours", ours)]
                if pair % 2:
                    order.reverse()
                for name, run in order:
                    times[name].append(timed(run))
                print(f"  {size}² pair {pair + 1}: bare {times['bare'][-1]:.2f} s, ours "
                      f"{times['ours'][-1]:.2f} s", flush=True)
            ratios = [o / b for o, b in zip(times["ours"], times["bare"], strict=True)]
            overhead = statistics.median(ratios) - 1
            rows.append(("bare diffusers call + VAE decode", statistics.median(times["bare"]),
                         "1.000", ""))
            rows.append(("ours: run_generation, previews + recording every step",
                         statistics.median(times["ours"]), f"{1 + overhead:.3f}",
                         f"overhead {100 * overhead:+.1f} % (pairs {100 * (min(ratios) - 1):+.1f}"
                         f" … {100 * (max(ratios) - 1):+.1f} %)"))
            notes.append(f"overhead (ours ÷ bare − 1, median of {args.pairs} pairs): "
                         f"{100 * overhead:+.1f} %; target ≤ {100 * TARGET_OVERHEAD:.0f} %")
            if overhead > TARGET_OVERHEAD:
                notes.append(f"ABOVE TARGET: ours costs {100 * overhead:.1f} % more than the "
                             f"bare call (target ≤ {100 * TARGET_OVERHEAD:.0f} %)")

        if not args.skip_variants:
            variants = build_variants(torch, pipe, cuda, args.compile, size, bare_latents, timed,
                                      notes)
            if args.only:
                variants = [v for v in variants if any(w in v.name for w in args.only)]
            baseline = Variant("baseline: bare call, SDPA attention" if cuda
                               else "baseline: bare call (engine's CPU placement)")
            cumulative = cuda
            times = {v.name: [] for v in [baseline, *variants]}

            def one(variant, size=size):
                with torch.inference_mode(), variant.context():
                    bare_latents(size)

            if cumulative:
                # Each row adds its change on top of the rows above it.
                chain = [baseline, *variants]
                for variant in chain:
                    variant.apply()
                    one(variant)  # warm-up
                    for _ in range(args.pairs):
                        times[variant.name].append(timed(lambda v=variant: one(v)))
                    print(f"  {size}² {variant.name}: {statistics.median(times[variant.name]):.3f}"
                          f" s", flush=True)
                for variant in reversed(chain):
                    variant.undo()
                base_median = statistics.median(times[baseline.name])
                speedups = {name: base_median / statistics.median(values)
                            for name, values in times.items()}
            else:
                for variant in [baseline, *variants]:  # warm-up each
                    variant.apply()
                    one(variant)
                    variant.undo()
                ratios = {v.name: [] for v in variants}
                for round_ in range(args.pairs):
                    for variant in variants:
                        order = [baseline, variant] if round_ % 2 == 0 else [variant, baseline]
                        for item in order:
                            item.apply()
                            times[item.name].append(timed(lambda v=item: one(v)))
                            item.undo()
                        ratios[variant.name].append(times[baseline.name][-1]
                                                    / times[variant.name][-1])
                    print(f"  {size}² round {round_ + 1}: " + ", ".join(
                        f"{name} {values[-1]:.2f} s" for name, values in times.items()),
                        flush=True)
                speedups = {baseline.name: 1.0}
                speedups.update({name: statistics.median(values)
                                 for name, values in ratios.items()})
                spread = {name: (min(values), max(values)) for name, values in ratios.items()}
            for variant in [baseline, *variants]:
                values = times[variant.name]
                median = statistics.median(values)
                detail = f"{args.steps / median:.2f} it/s"
                if variant.setup_seconds is not None:
                    detail += f"; compiled in {variant.setup_seconds:.0f} s (apart)"
                if not cumulative and variant is not baseline:
                    low, high = spread[variant.name]
                    detail += f"; pairs {low:.2f}–{high:.2f}×"
                rows.append((variant.name, median, f"{speedups[variant.name]:.3f}×", detail))

        print(f"\n### SD 1.5 architecture (random weights), {conditions}\n")
        print(f"machine: {machine}, {os.cpu_count()} cores; torch threads "
              f"{torch.get_num_threads()}; torch {torch.__version__}, diffusers "
              f"{diffusers.__version__}\n")
        print("| condition | median s | ratio / speed-up | notes |")
        print("|---|---:|---:|---|")
        for name, seconds, ratio, detail in rows:
            print(f"| {name} | {seconds:.3f} | {ratio} | {detail} |")
        print()
        for note in notes:
            print(note)
        if not any(note.startswith("ABOVE TARGET") for note in notes) and not args.skip_overhead:
            print("OK: overhead within target")
        print(flush=True)
    return 0


def build_variants(torch, pipe, cuda, with_compile, size, bare_latents, timed, notes):
    from engine.device import cpu_bf16_support

    variants = []
    unet = pipe.unet

    def to_channels_last():
        pipe.unet.to(memory_format=torch.channels_last)

    def to_contiguous():
        pipe.unet.to(memory_format=torch.contiguous_format)

    variants.append(Variant("+ channels_last UNet" if cuda else "channels_last UNet",
                            to_channels_last, None if cuda else to_contiguous))
    if not cuda:
        ok, why = cpu_bf16_support(torch)
        if ok:
            variants.append(Variant("bf16 autocast (UNet and text encoder)",
                                    context=lambda: torch.autocast("cpu", dtype=torch.bfloat16)))

            def to_dtype(dtype):
                pipe.unet.to(dtype)
                pipe.text_encoder.to(dtype)

            # What the app's "bfloat16" precision does: the weights themselves in bf16.
            variants.append(Variant("bf16 weights (UNet and text encoder; --dtype bfloat16)",
                                    lambda: to_dtype(torch.bfloat16),
                                    lambda: to_dtype(torch.float32)))
        else:
            notes.append(f"bf16: not measured, {why}")
        variants.append(Variant("attention slicing on", pipe.enable_attention_slicing,
                                pipe.disable_attention_slicing))
    if with_compile:
        compiled = {}

        def compile_unet():
            if "module" not in compiled:
                mark = time.perf_counter()
                compiled["module"] = torch.compile(unet)
                pipe.unet = compiled["module"]
                with torch.inference_mode():
                    bare_latents(size)  # the first call compiles
                compiled["seconds"] = time.perf_counter() - mark
                variant.setup_seconds = compiled["seconds"]
                print(f"  torch.compile: first call (compile) {compiled['seconds']:.0f} s",
                      flush=True)
            pipe.unet = compiled["module"]

        def uncompile():
            pipe.unet = unet

        variant = Variant("+ torch.compile (UNet)" if cuda else "torch.compile (UNet)",
                          compile_unet, uncompile)
        variants.append(variant)
    elif not cuda:
        notes.append("torch.compile: not measured in this run (pass --compile; its first call "
                     "compiles the 860 M-parameter UNet, minutes on a small CPU)")
    if cuda:
        variants.append(Variant("+ fused QKV projections", pipe.fuse_qkv_projections,
                                pipe.unfuse_qkv_projections))
    return variants


CUDA_CONFIGS = (
    ("SDPA (PyTorch's scaled_dot_product_attention, diffusers' default)", {}),
    ("+ channels_last", {"channels_last": True}),
    ("+ torch.compile (UNet)", {"channels_last": True, "compile_unet": True}),
    ("+ fused QKV projections", {"channels_last": True, "compile_unet": True, "fuse_qkv": True}),
)


def cancel_latency(request, run_generation, Reporter, it_per_s):
    """Seconds from setting the cancel flag a third into a run to the job's end."""
    import threading

    from engine.errors import Cancelled

    reporter = Reporter()
    ended = {}

    def job():
        try:
            run_generation(request, reporter)
        except Cancelled:
            pass
        ended["at"] = time.perf_counter()

    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(request.steps / it_per_s / 3)
    asked = time.perf_counter()
    reporter.cancel_event.set()
    thread.join()
    return ended["at"] - asked


def cuda_table(args, torch, diffusers, machine, source, size):
    """Cumulative speed options, each timed bare and ours (the engine's generate path with
    previews and recording every step), interleaved pairs; options applied by the engine
    itself (PipelineOptions → speedups.py), so the bare call runs the very same UNet."""
    from engine.reporting import Reporter
    from engine.stable_diffusion.generation import decode_latents, run_generation
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.schedulers import make_scheduler
    from engine.stable_diffusion.types import GenerationRequest, PipelineOptions

    def timed(run):
        sync()
        started = time.perf_counter()
        run()
        sync()
        return time.perf_counter() - started

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    rows = []
    for name, flags in CUDA_CONFIGS:
        if args.only and not any(word in name for word in args.only) and flags:
            continue
        if flags.get("compile_unet") and not args.compile:
            continue
        options = PipelineOptions(device=args.device, dtype=args.dtype, **flags)
        loaded = get_pipeline(source, options)
        pipe = loaded.pipe
        request = GenerationRequest(PROMPT, source=source, options=options, steps=args.steps,
                                    width=size, height=size, seed=1, scheduler=args.scheduler,
                                    preview_every=1, record_steps=True)
        notes = []
        counts = []

        def bare(size=size, pipe=pipe):
            pipe.scheduler = make_scheduler(args.scheduler, pipe, args.steps)
            generator = torch.Generator("cpu").manual_seed(1)
            with torch.inference_mode():
                latents = pipe(prompt=PROMPT, num_inference_steps=args.steps, guidance_scale=7.5,
                               width=size, height=size, generator=generator,
                               output_type="latent").images
                decode_latents(pipe, latents)

        def ours(request=request, notes=notes, counts=counts):
            previews = []
            result = run_generation(request, Reporter(on_partial=previews.append))
            # On a GPU previews come at most 20 a second (generation.StepRecorder), the last
            # step always; every step is recorded.
            assert previews and previews[-1].step == args.steps
            assert len(result.recorded_steps) == args.steps
            counts.append(len(previews))
            notes.extend(w for w in result.warnings if "compile" in w)

        plain_request = replace(request, preview_every=0, record_steps=False)

        def plain(request=plain_request):
            run_generation(request, Reporter())

        mark = time.perf_counter()
        ours()  # warm-up (compiles, when compiling)
        warm = time.perf_counter() - mark
        bare()
        plain()
        runs = [("bare", bare), ("plain", plain), ("ours", ours)]
        times = {key: [] for key, _ in runs}
        for round_ in range(args.pairs):
            order = runs[round_ % 3:] + runs[:round_ % 3]  # each goes first in turn
            for key, run in order:
                times[key].append(timed(run))
        ratios = [o / b for o, b in zip(times["ours"], times["bare"], strict=True)]
        plain_ratios = [o / b for o, b in zip(times["plain"], times["bare"], strict=True)]
        overhead = statistics.median(ratios) - 1
        bare_s, ours_s = statistics.median(times["bare"]), statistics.median(times["ours"])
        detail = (f"overhead {100 * overhead:+.1f} %"
                  + (" ABOVE TARGET" if overhead > TARGET_OVERHEAD else "")
                  + f" (rounds {100 * (min(ratios) - 1):+.1f} … {100 * (max(ratios) - 1):+.1f} %);"
                  f" without previews and recording "
                  f"{100 * (statistics.median(plain_ratios) - 1):+.1f} %")
        detail += f"; {statistics.median(counts):.0f} previews a run"
        if notes:
            detail += f"; {notes[0]}"
        elif flags.get("compile_unet"):
            detail += f"; first call {warm:.0f} s (compiles)"
        cancel = cancel_latency(request, run_generation, Reporter, args.steps / ours_s)
        detail += f"; Cancel mid-run → job ended after {1000 * cancel:.0f} ms"
        rows.append((name, bare_s, ours_s, detail))
        print(f"  {size}² {name}: bare {args.steps / bare_s:.1f} it/s, ours "
              f"{args.steps / ours_s:.1f} it/s, {detail}", flush=True)

    print(f"\n### SD 1.5 architecture (random weights) on {machine}, {size}×{size} px, "
          f"{args.steps} steps ({args.scheduler}), batch 1, guidance 7.5 (two UNet evaluations "
          f"per step), {loaded.plan.dtype} (VAE {loaded.plan.vae_dtype}), {args.pairs} "
          "interleaved rounds (bare, ours without previews/recording, ours), medians; each row adds its option to those above\n")
    print(f"torch {torch.__version__}, diffusers {diffusers.__version__}, "
          f"CUDA {torch.version.cuda}; it/s = denoising steps per second, the whole call "
          "(prompt encoding, every step, VAE decode) counted\n")
    print("| options | bare it/s | ours it/s | bare s | ours s | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for name, bare_s, ours_s, detail in rows:
        print(f"| {name} | {args.steps / bare_s:.1f} | {args.steps / ours_s:.1f} | {bare_s:.3f} "
              f"| {ours_s:.3f} | {detail} |")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
