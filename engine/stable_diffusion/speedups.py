"""Speed options applied to the loaded model in place: channels_last, fused QKV, torch.compile.

They change how the UNet computes, not what it computes (up to float rounding), so switching
them never reloads the model. What each is worth was measured by
tests/benchmarks/bench_sd_cpu.py (README, Performance): on the CPU none of them helped, on CUDA
see the GPU table.

``torch.compile`` compiles lazily: the first UNet call of each new latent size compiles (a minute
or more), later calls reuse it for the rest of the session. While the UNet is compiled, cancel
is checked between steps, not inside the UNet (a hook inside a compiled region would make it
recompile), which on a GPU is a matter of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import UserFacingError
from engine.stable_diffusion.denoisers import denoiser, set_denoiser


@dataclass
class SpeedState:
    """What the loaded model has applied now, and the compiled UNet kept for the session."""

    channels_last: bool = False
    fuse_qkv: bool = False
    eager_unet: object = None  # the UNet as loaded
    compiled_unet: object = None  # torch.compile's wrapper of it, once asked for
    compiled_shapes: set = field(default_factory=set)  # latent shapes already compiled
    compile_seconds: dict = field(default_factory=dict)  # shape → seconds its first call took

    @property
    def compiled(self) -> bool:
        return self.compiled_unet is not None


def check_speed_options(options, attention_slicing: bool) -> None:
    """Refuse, with a sentence, speed options that cannot go with the others (before loading)."""
    if options.compile_unet and options.cpu_offload:
        raise UserFacingError("Compiling the model does not work together with CPU offload "
                              "(the offload moves the UNet between devices): turn one off.")
    if options.fuse_qkv and attention_slicing:
        raise UserFacingError("Fused QKV projections need the default attention; they do not "
                              "work with attention slicing: turn one off.")


def apply_speedups(loaded, options) -> None:
    """Bring ``loaded`` (a LoadedPipeline) to ``options``' speed settings."""
    from engine.runtime import import_torch

    torch = import_torch()
    state: SpeedState = loaded.speed
    pipe = loaded.pipe
    if state.eager_unet is None:
        state.eager_unet = denoiser(pipe)  # the UNet, or SD 3/Flux's transformer
    unet = state.eager_unet
    check_speed_options(options, loaded.plan.attention_slicing)
    if options.channels_last != state.channels_last:
        layout = torch.channels_last if options.channels_last else torch.contiguous_format
        unet.to(memory_format=layout)
        state.channels_last = options.channels_last
        state.compiled_shapes.clear()  # the compiled graph recompiles for the new layout
    if options.fuse_qkv != state.fuse_qkv:
        if options.fuse_qkv:
            unet.fuse_qkv_projections()
        else:
            unet.unfuse_qkv_projections()
        state.fuse_qkv = options.fuse_qkv
        state.compiled_shapes.clear()
    if options.compile_unet and state.compiled_unet is None:
        state.compiled_unet = torch.compile(unet)
    wanted = state.compiled_unet if options.compile_unet else unet
    for each in (pipe, *loaded.mode_pipes.values()):
        if denoiser(each) is not wanted:
            set_denoiser(each, wanted)


def unet_is_compiled(loaded) -> bool:
    state: SpeedState = loaded.speed
    return state.compiled_unet is not None and denoiser(loaded.pipe) is state.compiled_unet


def compile_pending(loaded, latent_shape) -> bool:
    """Whether the next UNet call at ``latent_shape`` compiles first."""
    return unet_is_compiled(loaded) and tuple(latent_shape) not in loaded.speed.compiled_shapes


def mark_compiled(loaded, latent_shape, seconds: float) -> str:
    """Remember a compiled shape; the sentence that tells the user what it cost."""
    shape = tuple(latent_shape)
    loaded.speed.compiled_shapes.add(shape)
    loaded.speed.compile_seconds[shape] = seconds
    return (f"torch.compile compiled the UNet in {seconds:.0f} s (the first step at this size; "
            "later runs at this size reuse it for the rest of the session).")
