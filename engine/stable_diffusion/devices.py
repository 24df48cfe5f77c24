"""Device and precision plan for Stable Diffusion, memory options, and out-of-memory advice.

fp16 on CUDA (with the VAE kept in fp32: its decoder overflows in fp16 and gives NaN/black
images), fp16 + attention slicing on Apple MPS, fp32 on CPU (no fast fp16 kernels there). A VAE
whose config says ``force_upcast`` (SDXL's: its activations exceed fp16's range) is kept in fp32
beside any fp16 model, on every device (``vae_dtype_for``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from engine.errors import UserFacingError, memory_kind
from engine.stable_diffusion.types import PipelineOptions


@dataclass(frozen=True)
class PrecisionPlan:
    device: str
    dtype: str  # UNet and text encoder
    vae_dtype: str
    attention_slicing: bool = False  # asked for, or on MPS (its attention peaks in memory)


def plan_for(options: PipelineOptions) -> PrecisionPlan:
    from engine.device import DEFAULT_DTYPES, pick_device

    device = pick_device(options.device)
    dtype = options.dtype or DEFAULT_DTYPES[device]
    # The VAE stays in fp32 on CUDA (its fp16 decoder overflows) and beside a bf16 CPU model
    # (bf16's 8-bit mantissa shows as banding in decoded images; the VAE is one call per image).
    vae_dtype = "float32" if device == "cuda" or dtype == "bfloat16" else dtype
    return PrecisionPlan(device, dtype, vae_dtype,
                         attention_slicing=options.attention_slicing or device == "mps")


FORCE_UPCAST_NOTE = ("The VAE runs in float32 beside the float16 model: this VAE (SDXL's) "
                     "overflows in float16 (its config says force_upcast), which gives NaN or "
                     "black images. It costs its memory twice; an fp16-fixed VAE avoids that.")


def upcasts_vae(pipe) -> bool:
    """Whether diffusers' own pipeline would run this VAE in fp32: SDXL pipelines do when the
    VAE's config says ``force_upcast`` (SDXL's VAE; fp16-fixed VAEs clear the flag). SD 1.x
    pipelines ignore the flag (which AutoencoderKL sets by default), so their VAEs stay as
    planned."""
    from engine.stable_diffusion.sdxl import is_sdxl_pipeline

    return is_sdxl_pipeline(pipe) and bool(getattr(pipe.vae.config, "force_upcast", False))


def vae_dtype_for(plan: PrecisionPlan, pipe) -> str:
    """The VAE's dtype: the plan's, but float32 where the plan says float16 and the pipeline
    upcasts its VAE (``upcasts_vae``)."""
    if plan.vae_dtype == "float16" and upcasts_vae(pipe):
        return "float32"
    return plan.vae_dtype


def place_pipeline(pipe, plan: PrecisionPlan, options: PipelineOptions,
                   notes: list[str] | None = None, keep_vae: bool = False) -> tuple:
    """Move the pipeline to its device, keep the VAE in its own dtype, apply memory options.

    Returns the handles of the VAE's dtype hooks (empty when the VAE shares the pipeline's
    dtype); the caller keeps them (LoadedPipeline.vae_hooks). ``notes`` gets a sentence when
    the VAE is upcast for its own sake (FORCE_UPCAST_NOTE). ``keep_vae``: the VAE is another
    placed pipeline's (the SDXL refiner shares the base's): leave it as it is."""
    from engine.runtime import import_torch

    torch = import_torch()
    if options.cpu_offload and plan.device == "cuda":
        from diffusers.utils import is_accelerate_available

        if not is_accelerate_available():
            raise UserFacingError("Model CPU offload needs the 'accelerate' package "
                                  "(pip install accelerate); turn the option off or install it.")
        pipe.enable_model_cpu_offload()  # moves each model to the GPU only while it runs
    else:
        pipe.to(plan.device)
    hooks = ()
    vae_dtype = vae_dtype_for(plan, pipe)
    if vae_dtype != plan.vae_dtype and notes is not None and not keep_vae:
        notes.append(FORCE_UPCAST_NOTE)
    if vae_dtype != plan.dtype and not keep_vae:
        pipe.vae.to(getattr(torch, vae_dtype))
        hooks = keep_vae_in_own_dtype(pipe.vae)
        # SDXL's img2img/inpaint pipelines upcast a force_upcast VAE to encode and then cast it
        # back to the model's dtype, which would undo the fp32 kept here: it is fp32 already.
        if upcasts_vae(pipe):
            pipe.vae.register_to_config(force_upcast=False)
    from engine.stable_diffusion.denoisers import supports_attention_slicing

    if plan.attention_slicing and supports_attention_slicing(pipe):  # not SD 3/Flux: no effect
        pipe.enable_attention_slicing()
    if options.vae_tiling and not keep_vae:
        pipe.vae.enable_tiling()
    return hooks


def keep_vae_in_own_dtype(vae) -> tuple:
    """Let a fp32 VAE sit inside a fp16 pipeline; returns the hooks' handles (``.remove()``).

    The pipelines hand the VAE tensors in the pipeline's dtype; these hooks cast each VAE part's
    input to the VAE's dtype and its output back to the caller's, so the VAE computes in fp32
    and the rest of the pipeline never sees a dtype mismatch. Call it once per VAE (the loader
    does, when the plan's dtypes differ). The caller's dtype is kept in the hooks' own closure,
    nothing is stored on the modules.
    """
    handles = []
    for part in (vae.encoder, vae.decoder, vae.quant_conv, vae.post_quant_conv):
        if part is None:
            continue
        caller_dtype = [None]  # of the call in progress on this part

        def cast_in(module, args, kwargs, caller_dtype=caller_dtype):
            caller_dtype[0] = next((a.dtype for a in args if hasattr(a, "dtype")), None)
            own = next(module.parameters()).dtype
            args = tuple(a.to(own) if hasattr(a, "is_floating_point") and a.is_floating_point()
                         else a for a in args)
            return args, kwargs

        def cast_out(module, args, kwargs, output, caller_dtype=caller_dtype):
            caller = caller_dtype[0]
            if caller is not None and hasattr(output, "to"):
                return output.to(caller)
            return output

        handles.append(part.register_forward_pre_hook(cast_in, with_kwargs=True))
        handles.append(part.register_forward_hook(cast_out, with_kwargs=True))
    return tuple(handles)


@contextlib.contextmanager
def out_of_memory_advice(width: int = 0, height: int = 0, batch_size: int = 1, loading: bool = False):
    """Turn a CUDA/MPS out-of-memory error into advice; free the cached memory first."""
    try:
        yield
    except Exception as exc:
        kind = memory_kind(exc)
        if kind is None:
            raise
        from engine.runtime import import_torch

        torch = import_torch()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if kind == "host":  # the CPU allocator: the computer's RAM, not a GPU's
            size = f" (now {width}×{height}" + (f", batch of {batch_size})" if batch_size > 1 else ")")
            raise UserFacingError(
                "The computer ran out of memory "
                + ("while loading the model. Close other programs, or use a smaller model."
                   if loading else
                   f"while generating. Generate a smaller image{size if width else ''} or a "
                   "smaller batch, turn on attention slicing and VAE tiling, and close other "
                   "programs.")) from exc
        if loading:
            raise UserFacingError(
                "The model does not fit into the GPU's memory. Turn on model CPU offload (keeps "
                "only the running part on the GPU), close other programs using the GPU, or "
                "switch the device to CPU (slow).") from exc
        tips = []
        if batch_size > 1:
            tips.append(f"lower the batch size (now {batch_size})")
        if width * height > 512 * 512:
            tips.append(f"generate at 512×512 or smaller (now {width}×{height})")
        tips += ["turn on attention slicing and VAE tiling", "turn on model CPU offload",
                 "close other programs using the GPU", "or switch the device to CPU (slow)"]
        raise UserFacingError("The GPU ran out of memory while generating. To fit: "
                              + "; ".join(tips) + ".") from exc


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")
