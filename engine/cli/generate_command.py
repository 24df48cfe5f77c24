"""``generate``: Stable Diffusion text-to-image / image-to-image / inpainting / outpainting."""

from __future__ import annotations

import argparse

from engine.cli import add_command
from engine.cli import generate_previews as previews_cli
from engine.cli.sdxl_options import add_sdxl_arguments, sdxl_options
from engine.samplers.names import argparse_type, sd_scheduler
from engine.stable_diffusion.hires_types import HIRES_UPSCALERS, MAX_HIRES_SCALE
from engine.stable_diffusion.prediction import PREDICTION_TYPES, ZERO_SNR_SAMPLERS
from engine.stable_diffusion.types import (
    DEFAULT_MODEL_ID,
    DEFAULT_RECORDING_BUDGET_MB,
    DTYPE_CHOICES,
    MAX_MASK_FEATHER,
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    SCHEDULER_NAMES,
)
from engine.stable_diffusion.xyz import AXIS_NAMES as GRID_AXES

# The CLI writes only the mean over the steps (SD 1.5, 8 images of 1024² px, 75 tokens: 39 MB);
# single steps get what is left, unused.
ATTENTION_BUDGET_MB = 64


def register(subparsers) -> None:
    parser = add_command(subparsers, "generate", run,
                         "generate an image with Stable Diffusion (txt2img, img2img, inpaint, outpaint)")
    parser.add_argument("--model", default=DEFAULT_MODEL_ID, metavar="ID_OR_PATH",
                        help=f"Hub id, diffusers folder or .safetensors file (default {DEFAULT_MODEL_ID})")
    parser.add_argument("--config", metavar="FOLDER",
                        help="for a single checkpoint file: a local diffusers folder of the same "
                             "model family whose configs describe it (works offline)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="allow loading this .ckpt/.bin pickle file (pickles can run code)")
    parser.add_argument("--prediction-type", choices=PREDICTION_TYPES, default=None,
                        help="what the network predicts, over the model's own scheduler config "
                             "(SD 2.x 768-px checkpoints: v_prediction; a single file offline "
                             "also needs --config FOLDER for its architecture)")
    parser.add_argument("--zero-snr", action="store_true",
                        help="zero terminal SNR: rescaled betas (ᾱ_T = 0) and trailing timesteps; "
                             "v-prediction models only (an ε-model cannot predict from pure "
                             "noise), samplers: " + ", ".join(ZERO_SNR_SAMPLERS))
    parser.add_argument("--prompt", required=True, metavar="TEXT")
    parser.add_argument("--negative", default="", metavar="TEXT", help="negative prompt")
    parser.add_argument("--steps", type=int, default=25, metavar="N",
                        help=f"denoising steps, 1–{MAX_STEPS} (default 25)")
    parser.add_argument("--guidance", type=float, default=7.5, metavar="G",
                        help="classifier-free guidance scale, a finite number ≥ 0 (default 7.5; "
                             "1 = off)")
    parser.add_argument("--guidance-cutoff", type=float, default=1.0, metavar="F",
                        help="guidance only for the first fraction F (0–1) of the steps, then "
                             "the conditional prediction alone (the UNet batch halves); default "
                             "1 = every step")
    parser.add_argument("--guidance-rescale", type=float, default=0.0, metavar="PHI",
                        help="guidance rescale φ, 0–1 (Lin et al. 2023): pull the guided "
                             "prediction's std back towards the conditional one's, against "
                             "over-exposure at high guidance (default 0 = off; 0.7 is usual)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help=f"0–{MAX_SEED} (default: random, printed)")
    size_help = (f"{MIN_SIZE}–{MAX_SIZE} px, a multiple of 8 (default: the model's native size, "
                 "e.g. 512 for SD 1.5, 1024 for SDXL); with --outpaint the final size, margins "
                 f"included, must stay within {MAX_SIZE}")
    parser.add_argument("--width", type=int, default=None, metavar="W", help=size_help)
    parser.add_argument("--height", type=int, default=None, metavar="H", help=size_help)
    parser.add_argument("--batch-size", type=int, default=1, metavar="N")
    parser.add_argument("--batch-count", type=int, default=1, metavar="N")
    parser.add_argument("--scheduler", default="default", type=argparse_type(sd_scheduler),
                        metavar="NAME",
                        help="one of: " + ", ".join(f"'{n}'" for n in SCHEDULER_NAMES)
                        + " (any case; AUTOMATIC1111's names work too: 'Euler a', 'DPM++ 2M "
                          "Karras', 'PLMS', …)")
    parser.add_argument("--init-image", metavar="F", help="input image for img2img/inpaint/outpaint")
    parser.add_argument("--strength", type=float, default=0.75, metavar="X",
                        help="how much of the input is re-noised, 0.01–1 (default 0.75)")
    parser.add_argument("--mask", metavar="F", help="inpainting mask: white = repaint")
    parser.add_argument("--mask-feather", type=int, default=0, metavar="PX",
                        help=f"blur the mask's edge by PX, 0–{MAX_MASK_FEATHER} (default 0)")
    parser.add_argument("--no-overlay", action="store_true",
                        help="inpaint/outpaint: keep the decoded image everywhere (default: the "
                             "input's own pixels are pasted back outside the mask)")
    parser.add_argument("--outpaint", metavar="L,T,R,B",
                        help="extend the canvas by these pixels (multiples of 8)")
    hires = parser.add_argument_group("hires fix (txt2img: compose at the base size, upscale, "
                                      "refine with img2img)")
    hires.add_argument("--hires-scale", type=float, default=1.0, metavar="S",
                       help=f"output S × the base size, rounded to a multiple of 8 (1 = off, at "
                            f"most {MAX_HIRES_SCALE:g})")
    hires.add_argument("--hires-strength", type=float, default=0.7, metavar="D",
                       help="denoising strength of the second pass, 0.01–1 (default 0.7)")
    hires.add_argument("--hires-steps", type=int, default=0, metavar="N",
                       help="steps of the second pass (default 0: --steps; int(N × D) run)")
    hires.add_argument("--hires-upscaler", choices=HIRES_UPSCALERS, default="latent",
                       help="latent: bicubic on the latents; lanczos: in pixels, through the VAE")
    hires.add_argument("--hires-upscaler-model", metavar="FOLDER_OR_ID", default=None,
                       help="a diffusers upscaler instead (StableDiffusionLatentUpscalePipeline: "
                            "--hires-scale 2; StableDiffusionUpscalePipeline: 4), loaded offline")
    add_sdxl_arguments(parser)
    # SUPPRESS: a global `--device` given before the command then still counts.
    parser.add_argument("--device", choices=["cuda", "mps", "cpu"], default=argparse.SUPPRESS)
    parser.add_argument("--attention-slicing", action="store_true")
    parser.add_argument("--vae-tiling", action="store_true")
    parser.add_argument("--cpu-offload", action="store_true")
    parser.add_argument("--dtype", choices=DTYPE_CHOICES, default=None,
                        help="precision of the UNet and text encoder (default: float16 on a GPU, "
                             "float32 on a CPU); bfloat16 makes a CPU step about 1.7× faster where "
                             "the CPU has bf16 kernels (AVX-512 BF16, AMX), with slightly different "
                             "images; the VAE stays float32 beside it")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the UNet: the first step at each size compiles (about "
                             "a minute, reported), later ones run faster (1.7–1.8× on an H200; "
                             "slower on small CPUs); Cancel then acts between steps")
    parser.add_argument("--channels-last", action="store_true",
                        help="the UNet in channels_last memory layout (GPU: 0.98–1.14× measured, "
                             "within noise; CPU: no gain)")
    parser.add_argument("--lora", action="append", default=[], metavar="FILE[:WEIGHT]",
                        help="apply a LoRA (kohya or diffusers layout, .safetensors) with WEIGHT "
                             "(default 1; what follows the last ':' when it is a number, so "
                             "C:\\x\\y.safetensors is a path); repeat for several")
    parser.add_argument("--embedding", action="append", default=[], metavar="FILE",
                        help="load a textual-inversion embedding; its file name (without "
                             ".safetensors) is the trigger word to use in the prompt; repeatable")
    parser.add_argument("--lora-dir", metavar="DIR",
                        help="where <lora:name:weight> in the prompt finds name.safetensors "
                             "(and its subfolders), as AUTOMATIC1111 does")
    parser.add_argument("--allow-pickle-lora", action="append", default=[], metavar="FILE",
                        help="allow unpickling this .pt/.ckpt/.bin LoRA or embedding (pickles can "
                             "run code; repeatable)")
    parser.add_argument("--out", metavar="FILE.png",
                        help="with a batch: FILE-1.png, FILE-2.png, … (required unless --grid)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=v1,v2,…",
                        help="X/Y/Z plot: one image per combination of values, up to three "
                             "times (x, y, z); NAME: " + ", ".join(GRID_AXES) + " (lora: the "
                             "weight of the first --lora; prompt: search/replace in the "
                             "prompt and negative prompt, the first value is the text each "
                             "value replaces); a value with a comma in "
                             "double quotes; every cell uses the same seed")
    parser.add_argument("--out-dir", metavar="DIR",
                        help="with --grid: DIR/0000.png, … (x fastest, then y, then z) and "
                             "DIR/grid.png with labels")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse, nothing is lost)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--recording-budget", type=int, default=0, metavar="MB",
                        help="record every step's x_t and x̂₀ (as the app's step slider does) in "
                             "at most MB megabytes (2^20 bytes): over it float16, then fewer steps "
                             "(every k-th and the last), with a warning saying what was kept; "
                             "0 = no recording (default: the CLI writes only the final images; "
                             f"the app records within {DEFAULT_RECORDING_BUDGET_MB} MB)")
    parser.add_argument("--attention-out", metavar="DIR",
                        help="write DIR/attention.npz (tokens: the prompt's CLIP tokens as words; "
                             "maps: float32 [tokens, latent h, latent w], each token's share of "
                             "the cross-attention at every latent pixel, averaged over heads, "
                             "layers and steps) and one heatmap over the image per token, "
                             "DIR/NN-word.png; for the first image of the run; UNet models "
                             "(SD 1.x/2.x, SDXL) only")
    previews_cli.add_preview_options(parser)  # --previews-out, --preview-decoder (generate_previews.py)


def _read_image(path: str, mode: str, at_least: tuple[int, int] | None = None):
    """An input image as an array; never a traceback, never a full-size decode of a huge photo
    (engine.images.read_image_array)."""
    from engine.errors import UserFacingError
    from engine.images import read_image_array

    try:
        return read_image_array(path, mode, at_least)
    except UserFacingError as exc:
        raise ValueError(f"--init-image/--mask: {exc}") from exc


def build_request(args):
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    outpaint = (0, 0, 0, 0)
    if args.outpaint:
        try:
            outpaint = tuple(int(v) for v in args.outpaint.split(","))
        except ValueError:
            outpaint = ()
        if len(outpaint) != 4:
            raise ValueError("--outpaint takes four integers: LEFT,TOP,RIGHT,BOTTOM")
    mode = ("outpaint" if args.outpaint else "inpaint" if args.mask
            else "img2img" if args.init_image else "txt2img")
    if mode != "txt2img" and not args.init_image:
        raise ValueError(f"{mode} needs --init-image")
    # Without --width/--height, 512 stands in for validation; run() puts the native size in.
    width = 512 if args.width is None else args.width
    height = 512 if args.height is None else args.height
    return GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative,
        source=ModelSource(args.model, config=args.config, allow_pickle=args.allow_pickle,
                           prediction_type=args.prediction_type),
        # getattr: generate's own --device is SUPPRESSed so the global one still counts.
        options=PipelineOptions(device=getattr(args, "device", None), dtype=args.dtype,
                                attention_slicing=args.attention_slicing,
                                vae_tiling=args.vae_tiling, cpu_offload=args.cpu_offload,
                                channels_last=args.channels_last, compile_unet=args.compile),
        mode=mode, steps=args.steps, guidance_scale=args.guidance, seed=args.seed,
        guidance_cutoff=args.guidance_cutoff, guidance_rescale=args.guidance_rescale,
        width=width, height=height, batch_size=args.batch_size,
        batch_count=args.batch_count, scheduler=args.scheduler,
        init_image=_read_image(args.init_image, "RGB", (args.width, args.height))
        if args.init_image else None,
        strength=args.strength,
        mask=_read_image(args.mask, "L", (args.width, args.height)) if args.mask else None,
        mask_feather=args.mask_feather, outpaint=outpaint, overlay=not args.no_overlay,
        preview_every=0, record_steps=args.recording_budget > 0,
        recording_budget_mb=args.recording_budget,
        capture_attention=bool(args.attention_out), attention_budget_mb=ATTENTION_BUDGET_MB,
        hires_scale=args.hires_scale, hires_strength=args.hires_strength,
        hires_steps=args.hires_steps, hires_upscaler=args.hires_upscaler,
        hires_upscaler_model=args.hires_upscaler_model, zero_snr=args.zero_snr,
        **network_fields(args), sdxl=sdxl_options(args),
    )


def network_fields(args) -> dict:
    """--lora FILE[:WEIGHT], --embedding FILE, --lora-dir, --allow-pickle-lora as request fields."""
    import os

    from engine.stable_diffusion.network_files import parse_weighted_path
    from engine.stable_diffusion.types import NetworkFile

    allowed = {os.path.abspath(os.path.expanduser(p)) for p in args.allow_pickle_lora}

    def network(path: str, weight: float = 1.0) -> NetworkFile:
        if not os.path.isfile(os.path.expanduser(path)):
            raise ValueError(f"--lora/--embedding: {path} does not exist")
        return NetworkFile(path, weight, os.path.abspath(os.path.expanduser(path)) in allowed)

    if args.lora_dir and not os.path.isdir(os.path.expanduser(args.lora_dir)):
        raise ValueError(f"--lora-dir: {args.lora_dir} is not a folder")
    return {"loras": tuple(network(*parse_weighted_path(text)) for text in args.lora),
            "embeddings": tuple(network(path) for path in args.embedding),
            "lora_dir": args.lora_dir}


def start_run(request, args):
    """Once the outputs are checked: quiet libraries, the console reporter, the model's native
    size filled in; (request, reporter), or the exit code when that fails (nothing written)."""
    from engine.cli.console import console_reporter, fail
    from engine.cli.interrupt import cancelled
    from engine.cli.quiet import silence_libraries
    from engine.errors import Cancelled, UserFacingError

    if args.quiet:
        silence_libraries()
    reporter = console_reporter(args.quiet)
    try:
        return with_native_size(request, args, reporter), reporter
    except Cancelled:
        return cancelled("nothing was written")
    except (ValueError, UserFacingError) as exc:  # e.g. the native size with these margins is too large
        return fail(str(exc))


def with_native_size(request, args, reporter):
    """The request at the model's native size where --width/--height were not given (loads the
    model; the run reuses it)."""
    import dataclasses

    from engine.stable_diffusion.loading import get_pipeline

    if args.width is not None and args.height is not None:
        return request
    native = get_pipeline(request.source, request.options, reporter).info.default_size
    return dataclasses.replace(request, width=native if args.width is None else args.width,
                               height=native if args.height is None else args.height)


def output_paths(out: str, count: int) -> list:
    from engine.cli.outputs import batch_paths

    return batch_paths(out, count)


def run(args) -> int:
    """The mode follows from the inputs: --outpaint → outpainting, --mask → inpainting,
    --init-image → image-to-image, else text-to-image. The PNG carries its parameters in a
    'parameters' text chunk (A1111 style) and the full request as JSON; 'info FILE.png' prints
    them.
    """
    import dataclasses
    import secrets
    import sys

    from engine.cli.console import fail, part_reporter
    from engine.cli.interrupt import cancelled
    from engine.cli.outputs import OutputWriter, check_targets
    from engine.errors import Cancelled, UserFacingError, describe
    from engine.png.record import KIND_STABLE_DIFFUSION
    from engine.png.saving import SaveItem, save_image_as
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.parameters import request_record, save_items

    problem = previews_cli.previews_problem(args)  # --previews-out, --preview-decoder
    if problem:
        return fail(problem)
    if args.grid or args.out_dir:
        from engine.cli.generate_grid import run_grid

        return run_grid(args)
    if not args.out:
        return fail("generate needs --out FILE.png (or --grid NAME=v1,v2,… with --out-dir DIR)")
    try:
        request = previews_cli.with_previews(build_request(args), args)
    except ValueError as exc:
        return fail(str(exc))
    count = request.batch_size * request.batch_count
    paths = output_paths(args.out, count)
    problem = check_targets(paths, args.overwrite, "--out")  # before minutes of work
    if not problem and args.attention_out:
        problem = attention_problem(args)
    if problem:
        return fail(problem)
    started = start_run(request, args)
    if isinstance(started, int):
        return started
    request, reporter = started
    if args.attention_out:
        try:
            problem = attention_names_problem(request, args, reporter)
        except Cancelled:
            return cancelled("nothing was written")
        except UserFacingError as exc:
            return fail(str(exc))
        if problem:
            return fail(problem)
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    whole = dataclasses.replace(request, seed=seed)
    writer = OutputWriter(overwrite=args.overwrite)
    previews = previews_cli.PreviewFiles(args, count)

    def finished() -> str:
        return f"wrote {len(writer.written) + len(writer.diverted)} of {count} images"

    # One pipeline call per batch, each written as soon as it is done: Ctrl+C (or a crash)
    # later in the run keeps the batches already finished; the unfinished one is not written.
    for batch in range(request.batch_count):
        part = dataclasses.replace(whole, seed=(seed + batch * request.batch_size) % 2**32,
                                   batch_count=1)
        try:
            result = run_generation(part, part_reporter(reporter, batch, request.batch_count))
        except Cancelled:
            writer.report()
            return cancelled(f"{finished()}; the unfinished image(s) were not written")
        except UserFacingError as exc:
            return _failed(writer, str(exc), batch, fail, finished)
        except Exception as exc:  # one clear line; the traceback goes to the log
            import logging

            logging.getLogger(__name__).exception("generate failed")
            return _failed(writer, describe(exc), batch, fail, finished)
        if batch == 0:
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
        for offset, (item, image_seed) in enumerate(zip(save_items(part, result), result.seeds,
                                                        strict=True)):
            index = batch * request.batch_size + offset
            item = SaveItem(item.image, item.parameters, KIND_STABLE_DIFFUSION,
                            request_record(whole, seed, index))
            written = writer.write(paths[index], lambda target, overwrite, item=item: (
                save_image_as(target, item.image, item.parameters, item.request, item.kind,
                              overwrite=overwrite)))
            if written is not None:
                image = item.image
                print(f"wrote {written} (seed {image_seed}, {image.shape[1]}x{image.shape[0]}, "
                      f"{result.steps_text} in {result.seconds:.1f} s, "
                      f"{result.scheduler_class})", flush=True)
        if batch == 0 and args.attention_out:
            write_attention(args.attention_out, result, writer)
        previews.write_batch(part, result, batch * request.batch_size)
    return max(writer.report(), previews.report())


def attention_problem(args) -> str | None:
    """Before anything loads: can DIR take attention.npz, and can the run record maps?"""
    from pathlib import Path

    from engine.cli.outputs import FILE, check_targets
    from engine.stable_diffusion.attention_maps import ATTENTION_FILE

    if args.compile:  # attention_capture.new_capture records none with a compiled UNet
        return ("--attention-out does not go with --compile: attention maps are not recorded "
                "while the UNet is compiled (capturing them would make torch.compile recompile "
                "the UNet for every run); leave out one of them.")
    return check_targets([Path(args.attention_out) / ATTENTION_FILE], args.overwrite,
                         "--attention-out", kind=FILE)


def attention_names_problem(request, args, reporter) -> str | None:
    """Once the model is loaded (the run reuses it), before the run: a model without UNet
    cross-attention is a sentence, and the heatmaps' names (from the prompt's tokens) must be
    free."""
    from pathlib import Path

    from engine.cli.outputs import IMAGE, check_targets
    from engine.stable_diffusion.attention_capture import attention_support, prompt_words
    from engine.stable_diffusion.attention_maps import token_file_name
    from engine.stable_diffusion.generation import pipeline_for_mode
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.prompt_syntax import split_extra_networks
    from engine.stable_diffusion.tokens import token_info

    pipe = pipeline_for_mode(get_pipeline(request.source, request.options, reporter),
                             request.mode)
    problem = attention_support(pipe)
    if problem:
        return f"--attention-out: {problem}"
    info = token_info(pipe.tokenizer, split_extra_networks(request.prompt)[0])
    words = prompt_words(pipe.tokenizer, info.tokens, info.usable)
    if not words:
        return "--attention-out: the prompt has no tokens to map"
    names = [Path(args.attention_out) / token_file_name(i, w) for i, w in enumerate(words)]
    return check_targets(names, args.overwrite, "--attention-out", kind=IMAGE)


def write_attention(folder: str, result, writer) -> None:
    """DIR/attention.npz and DIR/NN-word.png for the first image, through the write rule."""
    from pathlib import Path

    from PIL import Image

    from engine.cli.outputs import write_produced_as
    from engine.stable_diffusion.attention_maps import (
        ATTENTION_FILE,
        heatmap_over,
        token_file_name,
        write_npz,
    )

    maps = result.attention
    if maps is None or not maps.mean_maps:
        print("warning: no attention maps were captured", flush=True)
        return
    folder = Path(folder)
    means = maps.mean_maps[0]
    written = writer.write(folder / ATTENTION_FILE, lambda target, overwrite: write_produced_as(
        target, lambda temp: write_npz(temp, maps.tokens, means), overwrite))
    for index, word in enumerate(maps.tokens):
        picture = heatmap_over(result.images[0], means[index])
        writer.write(folder / token_file_name(index, word),
                     lambda target, overwrite, picture=picture: write_produced_as(
                         target, lambda temp: Image.fromarray(picture).save(temp, format="PNG"),
                         overwrite))
    if written is not None:
        print(f"wrote {written} ({len(maps.tokens)} tokens × {means.shape[1]}×{means.shape[2]} "
              f"latent pixels) and {len(maps.tokens)} heatmaps", flush=True)


def _failed(writer, message: str, batch: int, fail, finished) -> int:
    writer.report()
    if batch:
        message += f" ({finished()} before this)"
    return fail(message)
