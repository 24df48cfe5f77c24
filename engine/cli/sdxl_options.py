"""``generate``'s SDXL options: micro-conditioning and the refiner (sdxl_types.py explains them)."""

from __future__ import annotations

from engine.stable_diffusion.sdxl_types import DEFAULT_REFINER_SWITCH, MAX_CONDITIONING_SIZE


def add_sdxl_arguments(parser) -> None:
    group = parser.add_argument_group(
        "SDXL (SDXL models only): micro-conditioning tells the model the size of the source "
        "image and the crop it was trained on; the refiner takes over the last steps")
    group.add_argument("--original-size", type=int, nargs=2, metavar=("W", "H"),
                       help="the source image's size the model is told of (default: the output "
                            "size); small values, e.g. 256 256, give soft upscaled-looking images "
                            f"(8–{MAX_CONDITIONING_SIZE} px)")
    group.add_argument("--target-size", type=int, nargs=2, metavar=("W", "H"),
                       help="the size the model is told it makes (default: the output size)")
    group.add_argument("--crop-top-left", type=int, nargs=2, metavar=("X", "Y"),
                       help="the crop offset the model is told of (default 0 0: centred, whole "
                            "subjects); larger values give subjects cut off at the top/left")
    group.add_argument("--negative-original-size", type=int, nargs=2, metavar=("W", "H"),
                       help="the source size the negative (unconditional) branch is told of, "
                            "e.g. 512 512, so guidance steers away from low-resolution looks")
    group.add_argument("--refiner", metavar="FOLDER_OR_ID",
                       help="an SDXL refiner (diffusers folder or hub id, e.g. "
                            "stabilityai/stable-diffusion-xl-refiner-1.0) that runs the steps "
                            "after --refiner-switch; text → image only")
    group.add_argument("--refiner-switch", type=float, default=DEFAULT_REFINER_SWITCH,
                       metavar="F",
                       help="the fraction of the steps the base model runs before the refiner "
                            f"takes over, between 0 and 1 (default {DEFAULT_REFINER_SWITCH:g})")


def sdxl_options(args):
    """``GenerationRequest.sdxl`` from the options (None when none is given); ValueError with
    a sentence for bad values."""
    from engine.stable_diffusion.sdxl_types import SdxlOptions

    given = {name: tuple(getattr(args, name)) for name in
             ("original_size", "target_size", "crop_top_left", "negative_original_size")
             if getattr(args, name, None) is not None}
    if getattr(args, "refiner", None):
        given.update(refiner=args.refiner, refiner_switch=args.refiner_switch)
    elif getattr(args, "refiner_switch", DEFAULT_REFINER_SWITCH) != DEFAULT_REFINER_SWITCH:
        raise ValueError("--refiner-switch needs --refiner")
    return SdxlOptions(**given) if given else None
