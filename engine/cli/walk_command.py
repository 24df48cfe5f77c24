"""``walk``: a latent walk between two seeds, one PNG per frame."""

from __future__ import annotations

import argparse
import time

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, int_range, seed
from engine.digits.types import DEFAULT_GUIDANCE, MAX_WALK_FRAMES, SAMPLERS

MAX_SCALE = 32
DIGITS_STEPS, SD_STEPS, SD_GUIDANCE = 50, 25, 7.5  # the defaults of sample and generate


def seeds_list(text: str) -> tuple[int, ...]:
    """One seed (``S``) or two (``A,B``)."""
    parts = [part.strip() for part in text.split(",")]
    if not 1 <= len(parts) <= 2:
        raise argparse.ArgumentTypeError(f"{text!r}: give two seeds as A,B (e.g. 1,2)")
    return tuple(seed(part) for part in parts)


def register(subparsers) -> None:
    parser = add_command(subparsers, "walk", run,
                         "a latent walk between two seeds (slerp of the noises) or, for Stable "
                         "Diffusion, two prompts; one PNG per frame")
    parser.add_argument("--model", default="digits", metavar="NAME",
                        help="digits (default), or a Stable Diffusion Hub id, diffusers folder "
                             "or .safetensors file")
    parser.add_argument("--seeds", type=seeds_list, required=True, metavar="A,B",
                        help=f"the two seeds the walk goes between, each {SEED_HELP}; with "
                             "--prompt-to one seed is enough")
    parser.add_argument("--frames", type=int_range(2, MAX_WALK_FRAMES), default=8, metavar="N",
                        help=f"number of frames, 2-{MAX_WALK_FRAMES}, both ends included "
                             "(default 8)")
    parser.add_argument("--guidance", type=float, default=None, metavar="G",
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE:g} for "
                             f"digits, {SD_GUIDANCE:g} for Stable Diffusion, as sample/generate)")
    parser.add_argument("--sampler", default=None, metavar="NAME",
                        help="digits: one of " + ", ".join(SAMPLERS) + " (default ddim); "
                        "Stable Diffusion: a generate --scheduler name (default: the model's). "
                        "A deterministic one makes both ends exact")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help=f"default {DIGITS_STEPS} (digits), {SD_STEPS} (Stable Diffusion)")
    digits = parser.add_argument_group("digits")
    digits.add_argument("--label", type=int, default=None, metavar="D",
                        help="digit 0-9 (default: unconditional)")
    digits.add_argument("--eta", type=float, default=0.0, metavar="E",
                        help="DDIM η: 0 deterministic, 1 as noisy as DDPM")
    digits.add_argument("--scale", type=int_range(1, MAX_SCALE), default=4, metavar="F",
                        help=f"upscale each 16×16 frame by F, 1-{MAX_SCALE} (default 4)")
    digits.add_argument("--model-dir", default=None, metavar="DIR",
                        help="a folder written by `train digits` (default: the shipped model)")
    sd = parser.add_argument_group("Stable Diffusion (text to image)")
    sd.add_argument("--prompt", default=None, metavar="TEXT")
    sd.add_argument("--prompt-to", default=None, metavar="TEXT",
                    help="walk to this prompt (the text embeddings are interpolated)")
    sd.add_argument("--negative", default="", metavar="TEXT", help="negative prompt")
    sd.add_argument("--width", type=int, default=None, metavar="W",
                    help="as generate (default: the model's native size)")
    sd.add_argument("--height", type=int, default=None, metavar="H")
    sd.add_argument("--config", metavar="FOLDER", help="as generate, for a single checkpoint file")
    parser.add_argument("--out-dir", required=True, metavar="DIR",
                        help="write DIR/0000.png … one per frame")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse before sampling)")


def run(args) -> int:
    """Frame i of N starts from the slerp of the two seeds' initial noises at i/(N−1) and is
    sampled alone with the same settings, so the first and last frames are exactly the images
    `sample --seed A` and `--seed B` make with --n 1 (for Stable Diffusion: `generate --seed A`
    / `--seed B`, and with --prompt-to the text embeddings move from --prompt to --prompt-to
    too). Each PNG carries its settings, the second seed written as AUTOMATIC1111's 'Variation
    seed' with the fraction as its strength (for the digits model that regenerates the frame).
    With a stochastic sampler every frame uses the first seed's per-step noise. Frames are
    written as they finish; Ctrl+C keeps those.
    """
    import sys

    from engine.cli.console import console_reporter, fail
    from engine.cli.interrupt import cancelled
    from engine.cli.outputs import OutputWriter, check_targets, folder_paths
    from engine.errors import Cancelled, UserFacingError

    digits = args.model == "digits"
    try:
        job, write_frame, stochastic = (_digits_walk(args) if digits else _sd_walk(args))
    except ValueError as exc:
        return fail(str(exc))
    if not args.out_dir.strip():
        return fail("--out-dir needs a folder name (it was empty)")
    paths = folder_paths(args.out_dir, args.frames)
    problem = check_targets(paths, args.overwrite, "--out-dir")
    if problem:
        return fail(problem)
    first = args.seeds[0]
    if stochastic:
        print(f"note: {stochastic} draws fresh noise at every step; every frame uses seed "
              f"{first}'s per-step noise, so only the first frame is the single image of its "
              "seed", file=sys.stderr)
    writer = OutputWriter(overwrite=args.overwrite)
    more = lambda index: {"Walk frame": f"{index}/{len(paths) - 1}"}  # noqa: E731
    reporter = console_reporter()
    reporter._on_partial = lambda frame: writer.write(
        paths[frame.index], lambda target, overwrite: write_frame(target, frame, overwrite,
                                                                  more(frame.index)))
    started = time.perf_counter()
    try:
        job(reporter)
    except Cancelled:
        writer.report()
        done = len(writer.written) + len(writer.diverted)
        return cancelled(f"wrote {done} of {len(paths)} frames; the unfinished one was not written")
    except (UserFacingError, ValueError) as exc:
        return fail(str(exc))
    code = writer.report()
    if writer.complete:
        ends = " to ".join(f"seed {s}" for s in args.seeds)
        print(f"wrote {len(paths)} frames ({ends}) to {args.out_dir} "
              f"({time.perf_counter() - started:.1f} s)")
    return code


def _digits_walk(args):
    """(job, frame writer, stochastic sampler's name or "") of a digits walk."""
    from engine.digits.outputs import save_digits_png
    from engine.digits.types import WalkRequest
    from engine.digits.walk import run_walk
    from engine.samplers.names import digits_sampler

    if args.prompt is not None or args.prompt_to is not None:
        raise ValueError("--prompt/--prompt-to are for Stable Diffusion models; the digits "
                         "model takes --label")
    if len(args.seeds) != 2:
        raise ValueError("--seeds: give two seeds as A,B (e.g. 1,2)")
    if args.label is not None and not 0 <= args.label <= 9:
        raise ValueError("--label must be a digit from 0 to 9")
    sampler = digits_sampler(args.sampler or "ddim")
    request = WalkRequest(
        label=args.label, seeds=args.seeds, frames=args.frames,
        guidance=DEFAULT_GUIDANCE if args.guidance is None else args.guidance, sampler=sampler,
        steps=DIGITS_STEPS if args.steps is None else args.steps, eta=args.eta,
        model_dir=args.model_dir)

    def write(target, frame, overwrite, more):
        return save_digits_png(target, frame.image, frame.request, scale=args.scale,
                               overwrite=overwrite, more=more)

    stochastic = ""
    if request.stochastic:
        stochastic = sampler + (" with η > 0" if sampler == "ddim" else "")
    return (lambda reporter: run_walk(request, reporter)), write, stochastic


def _sd_walk(args):
    """(job, frame writer, stochastic sampler's name or "") of a Stable Diffusion walk."""
    import dataclasses

    from engine.cli.generate_command import with_native_size
    from engine.png.record import KIND_STABLE_DIFFUSION
    from engine.png.saving import save_image_as
    from engine.samplers.names import sd_scheduler
    from engine.samplers.registry import get_sampler
    from engine.stable_diffusion.parameters import generation_parameters, request_record
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions
    from engine.stable_diffusion.walk import SdWalkRequest, run_sd_walk

    if args.prompt is None:
        raise ValueError("a Stable Diffusion walk needs --prompt (and --prompt-to or two --seeds)")
    if len(args.seeds) == 1 and args.prompt_to is None:
        raise ValueError("--seeds: give two seeds as A,B, or one seed with --prompt-to")
    scheduler = sd_scheduler(args.sampler or "default")
    base = GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative,
        source=ModelSource(args.model, config=args.config),
        options=PipelineOptions(device=getattr(args, "device", None)),
        steps=SD_STEPS if args.steps is None else args.steps,
        guidance_scale=SD_GUIDANCE if args.guidance is None else args.guidance,
        seed=args.seeds[0], width=512 if args.width is None else args.width,
        height=512 if args.height is None else args.height, scheduler=scheduler,
        preview_every=0, record_steps=False, recording_budget_mb=0)
    seed_to = args.seeds[1] if len(args.seeds) == 2 else None
    SdWalkRequest(base, args.frames, seed_to, args.prompt_to)  # checked before the run

    def job(reporter):
        request = SdWalkRequest(with_native_size(base, args, reporter), args.frames, seed_to,
                                args.prompt_to)
        return run_sd_walk(request, reporter)

    def write(target, frame, overwrite, more):
        image = frame.image
        parameters = generation_parameters(frame.parameters, base.seed,
                                           (int(image.shape[1]), int(image.shape[0])))
        extra = {}
        if seed_to is not None and frame.fraction > 0:
            extra["Variation seed"] = str(seed_to)
            extra["Variation seed strength"] = f"{frame.fraction:g}"
        if args.prompt_to is not None:
            extra["Walk prompt to"] = args.prompt_to
            extra["Walk prompt strength"] = f"{frame.fraction:g}"
        parameters = dataclasses.replace(parameters, extra={**parameters.extra, **extra, **more})
        record = {**request_record(base, base.seed), "walk": {
            "seeds": list(args.seeds), "prompt_to": args.prompt_to, "fraction": frame.fraction}}
        return save_image_as(target, image, parameters, record, KIND_STABLE_DIFFUSION,
                             overwrite=overwrite)

    stochastic = ""
    if scheduler != "default" and get_sampler(scheduler).stochastic:
        stochastic = scheduler
    return job, write, stochastic
