"""SDXL's micro-conditioning as diffusers' pipeline arguments (sdxl_types.py explains them).

Only SDXL pipelines take these inputs; a request that sets them for another model is refused with
a sentence rather than silently ignored (the image would not show what was asked for).
"""

from __future__ import annotations

from engine.errors import UserFacingError
from engine.stable_diffusion.sdxl_types import request_problems
from engine.stable_diffusion.types import GenerationRequest


def is_sdxl_pipeline(pipe) -> bool:
    """SDXL base, img2img, inpaint and refiner pipelines, by their class (families.py)."""
    from engine.stable_diffusion.families import SDXL, family_name_of_class

    return family_name_of_class(type(pipe).__name__) == SDXL


def check_sdxl_request(pipe, request: GenerationRequest) -> None:
    """Refuse SDXL options the loaded model or the request's other settings cannot honour."""
    sdxl = request.sdxl
    if sdxl is None or not sdxl.active:
        return
    if not is_sdxl_pipeline(pipe):
        raise UserFacingError(
            f"Micro-conditioning (original/target size, crop) and the refiner are SDXL inputs; "
            f"the loaded model is a {type(pipe).__name__}. Load an SDXL model, or leave those "
            "options at their defaults.")
    problems = request_problems(request)
    if problems:
        text = "; ".join(problems)
        raise UserFacingError(text[0].upper() + text[1:] + ".")


def conditioning_kwargs(pipe, request: GenerationRequest, width: int, height: int) -> dict:
    """``original_size``, ``target_size``, ``crops_coords_top_left`` (and the negative branch's)
    for an SDXL pipeline call at ``width``×``height``; {} when nothing is set (the pipeline's
    own defaults: the output size and crop 0,0)."""
    sdxl = request.sdxl
    if sdxl is None or not sdxl.conditioned or not is_sdxl_pipeline(pipe):
        return {}
    output = (height, width)

    def hw(size):  # ours (width, height) → diffusers' (height, width)
        return (size[1], size[0]) if size is not None else output

    target = hw(sdxl.target_size)
    kwargs = dict(original_size=hw(sdxl.original_size), target_size=target,
                  crops_coords_top_left=(sdxl.crop_top_left[1], sdxl.crop_top_left[0]))
    if sdxl.negative_original_size is not None:
        # diffusers conditions the negative branch on its own only when both sizes are given.
        kwargs.update(negative_original_size=hw(sdxl.negative_original_size),
                      negative_target_size=target, negative_crops_coords_top_left=(0, 0))
    return kwargs
