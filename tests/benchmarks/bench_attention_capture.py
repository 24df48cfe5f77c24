"""What capturing attention costs (engine/stable_diffusion/attention_capture.py).

1. One UNet call of SD 1.5's architecture (random weights) with and without the capturing
   processors (``--size``; skip with ``--size`` and no value):

       DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_attention_capture.py \
           --size 256 512 --pairs 2

   Classifier-free guidance batch (2 rows: the capture computes the conditional one), a
   10-token prompt, every step kept (the worst case: self-attention of every level of at most
   32×32 positions is computed). Also checks that the UNet's output is bit-identical.
2. End to end (``--e2e tiny`` and/or ``--e2e sd15``): the app's whole generate path
   (run_generation: prompt encoding, the pipeline call with previews and step recording, the
   VAE decode, and for the capture its one move to the host when the call ends) with and
   without ``capture_attention``, default budget:

       DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_attention_capture.py \
           --size --e2e tiny sd15 --e2e-steps 4 --pairs 3 --model-dir /tmp/sd15

   ``tiny`` is the test pipeline at 64 px, almost nothing but attention (the worst case for
   the ratio); ``sd15`` is SD 1.5's architecture at ``--e2e-size`` (saved once as a diffusers
   folder of about 4.3 GB; ``--model-dir`` keeps it for the next run). Reports the largest
   pixel difference between the two images (capture must not change the image).
3. ``--compiled``: with the tiny pipeline and a compiled UNet (minutes on a CPU: not in the
   test run), a run that asks for attention maps records none, says so, and a second run does
   not compile again.

Runs are interleaved, alternating which goes first; the overhead is the median over the pairs
of (with ÷ without of the same pair) − 1. Results (CPU, 1 thread, a busy shared machine) are in
README's attention section: end to end +24 % on the tiny pipeline; on SD 1.5 at 256 px the
load of other processes swamped the difference (pairs −30 … +12 %); the compiled run compiled
once (127 s), then ran in 1.0 s without recompiling, with no maps and the sentence.

On a GPU (not measured: no GPU was at hand for this): the capture makes no host sync per layer
or per step by construction (sums and kept steps stay on the device and move to the host once
when the pipeline call ends; tests/engine/stable_diffusion/test_sd_attention_device.py checks
that a model call adds no ``.cpu()``/``.item()``/``float()``/tensor ``if``), so the pipeline
still runs ahead of the GPU; what remains is the extra softmax(QKᵀ) of the conditional half.
With ``--device cuda`` the single-call part synchronizes before reading the clock.
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


def one_call(args) -> None:
    from engine.fixtures.tiny_sd import build_sd15_pipeline
    from engine.runtime import import_torch
    from engine.stable_diffusion.attention_capture import AttentionCapture, capturing

    torch = import_torch()
    pipe = build_sd15_pipeline().to(args.device)
    words = tuple(f"w{i}" for i in range(10))
    print("One UNet call, SD 1.5's architecture:\n\n"
          "| size | without (s) | with (s) | overhead | self-attention levels kept |\n"
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


def model_folder(kind: str, args) -> Path:
    from engine.fixtures.tiny_sd import save_sd15_pipeline, save_tiny_pipeline

    if kind == "tiny":
        return save_tiny_pipeline(tempfile.mkdtemp(prefix="tiny-sd-"))[0]
    root = Path(args.model_dir) if args.model_dir else Path(tempfile.mkdtemp(prefix="sd15-"))
    folder = root / "sd15-random"
    if not (folder / "model_index.json").exists():
        save_sd15_pipeline(root)
    return folder


def end_to_end(args) -> None:
    import numpy as np

    from engine.reporting import Reporter
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline, unload
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    print(f"\nEnd to end (run_generation, {args.e2e_steps} steps, Euler, guidance 7.5, previews "
          "every step and step recording on, 10-word prompt):\n\n"
          "| model | size | without (s) | with (s) | overhead (pairs) | image difference |\n"
          "|---|---|---|---|---|---|")
    for kind in args.e2e:
        source = ModelSource(str(model_folder(kind, args)))
        options = PipelineOptions(device=args.device)
        get_pipeline(source, options)
        size = 64 if kind == "tiny" else args.e2e_size
        base = dict(prompt="a photo of a red cat on a wooden chair by the window", source=source,
                    options=options, steps=args.e2e_steps, width=size, height=size, seed=1,
                    scheduler="Euler")

        def run(capture, base=base):
            started = time.perf_counter()
            result = run_generation(GenerationRequest(**base, capture_attention=capture),
                                    Reporter())
            assert (result.attention is not None) == capture
            return time.perf_counter() - started, result.images[0]

        run(True)  # warm-up
        ratios, times, difference = [], {False: [], True: []}, 0
        for pair in range(args.pairs):
            seconds, images = {}, {}
            for capture in ((False, True) if pair % 2 == 0 else (True, False)):
                seconds[capture], images[capture] = run(capture)
                times[capture].append(seconds[capture])
            ratios.append(seconds[True] / seconds[False])
            difference = max(difference, int(np.abs(images[True].astype(int)
                                                    - images[False].astype(int)).max()))
        print(f"| {kind} | {size} px | {statistics.median(times[False]):.2f} | "
              f"{statistics.median(times[True]):.2f} | "
              f"{100 * (statistics.median(ratios) - 1):+.1f} % ({100 * (min(ratios) - 1):+.0f} … "
              f"{100 * (max(ratios) - 1):+.0f} %) | {difference} |", flush=True)
        unload()


def compiled(args) -> None:
    from engine.reporting import Reporter
    from engine.stable_diffusion.attention_maps import COMPILED_UNET_NOTE
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    source = ModelSource(str(model_folder("tiny", args)))
    request = GenerationRequest(prompt="a photo of a cat", source=source, steps=2, width=64,
                                height=64, seed=1, scheduler="Euler", capture_attention=True,
                                options=PipelineOptions(device=args.device, compile_unet=True))
    print("\nCompiled UNet (tiny pipeline, 64 px, 2 steps, attention maps asked for):")
    for run in ("first", "second"):
        started = time.perf_counter()
        result = run_generation(request, Reporter())
        assert result.attention is None and COMPILED_UNET_NOTE in result.warnings
        compiling = any("torch.compile compiled" in w for w in result.warnings)
        print(f"- {run} run: {time.perf_counter() - started:.1f} s, no maps, the sentence in "
              f"the warnings, {'compiled' if compiling else 'no compile'}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, nargs="*", default=[256],
                        help="single-call sizes (none: skip that part)")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--e2e", nargs="*", choices=["tiny", "sd15"], default=[])
    parser.add_argument("--e2e-steps", type=int, default=4)
    parser.add_argument("--e2e-size", type=int, default=256)
    parser.add_argument("--model-dir", help="keep the saved SD 1.5 random-weight model here")
    parser.add_argument("--compiled", action="store_true")
    args = parser.parse_args()

    from engine.runtime import import_torch

    torch = import_torch()
    print(f"torch threads {torch.get_num_threads()}, device {args.device}", flush=True)
    if args.size:
        one_call(args)
    if args.e2e:
        end_to_end(args)
    if args.compiled:
        compiled(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
