"""The denoiser of a loaded pipeline, UNet or transformer, and what differs for SD 3 and Flux.

SD 1.x/2.x and SDXL pipelines hold a ``unet``; SD 3 (an MMDiT) and Flux (a DiT with double- and
single-stream blocks) hold a ``transformer`` that attends to image patches and text tokens in
one joint attention, trained for flow matching (denoiser_types.py). The engine asks here for
"the denoiser", its dtype and size, and what a family supports, instead of reading
``pipe.unet`` everywhere. Flux packs each 2×2 patch of its 16-channel latents into one token
(``FluxPipeline._pack_latents``): the latents the pipeline hands to ``callback_on_step_end``
and returns with ``output_type="latent"`` are B×(h/2·w/2)×64, unpacked here to B×16×h×w with
the pipeline's own ``_unpack_latents`` for previews, recording and decoding.
"""

from __future__ import annotations

import contextlib

from engine.errors import UserFacingError
from engine.stable_diffusion.denoiser_types import family_of_class, is_flow_matching
from engine.stable_diffusion.prompt_syntax import split_extra_networks


def family_of(pipe) -> str:
    """The model family ("SD 1.x", "SDXL", "SD 3", "Flux"; see denoiser_types)."""
    return family_of_class(type(pipe).__name__)


def is_flow_pipeline(pipe) -> bool:
    return is_flow_matching(type(pipe).__name__)


def denoiser_name(pipe) -> str:
    """The pipeline's attribute that holds its denoiser: "unet" or "transformer"."""
    return "transformer" if getattr(pipe, "transformer", None) is not None else "unet"


def denoiser(pipe):
    return getattr(pipe, denoiser_name(pipe))


def set_denoiser(pipe, module) -> None:
    setattr(pipe, denoiser_name(pipe), module)


def default_sample_size(pipe) -> int:
    """The latent size the denoiser was trained at (SD 3: the transformer's ``sample_size``;
    Flux: the pipeline's ``default_sample_size``, 128 latents = 1024 px; UNets: theirs)."""
    config = denoiser(pipe).config
    size = config.get("sample_size") or getattr(pipe, "default_sample_size", None) or 64
    return int(size)


def is_inpainting_model(pipe) -> bool:
    """A UNet that takes the mask and the masked image's latents (9 input channels)."""
    return denoiser_name(pipe) == "unet" and pipe.unet.config.in_channels == 9


def supports_attention_slicing(pipe) -> bool:
    """Whether ``enable_attention_slicing`` reaches the denoiser (UNets; not SD 3/Flux's
    transformers, where diffusers silently does nothing)."""
    return hasattr(denoiser(pipe), "set_attention_slice")


def load_warnings(pipe, plan) -> list[str]:
    """What the model line should say about SD 3/Flux's precision and memory options.

    They were trained in bfloat16: in float16 their T5 encoder's activations can overflow
    (infinite embeddings, then a NaN image; diffusers' Flux docs say so). Attention slicing does
    not reach their transformers (place_pipeline skips it)."""
    if not is_flow_pipeline(pipe):
        return []
    notes = []
    if plan.dtype == "float16":
        notes.append(f"{family_of(pipe)} models were trained in bfloat16; in float16 the T5 text "
                     "encoder can overflow (a NaN/black image). If that happens choose bfloat16 "
                     "(--dtype bfloat16 / the precision menu).")
    if plan.attention_slicing:
        notes.append("Attention slicing was not applied: it does not reach "
                     f"{family_of(pipe)}'s transformer. Use model CPU offload to save memory.")
    return notes


def latent_unpacker(pipe, height: int, width: int):
    """latents → B×C×h×w latents: Flux's tokens unpacked, any other pipeline's unchanged."""
    unpack = getattr(type(pipe), "_unpack_latents", None)
    if unpack is None:
        return lambda latents: latents
    factor = pipe.vae_scale_factor

    def unpacked(latents):
        return unpack(latents, height, width, factor) if latents.ndim == 3 else latents

    return unpacked


def require_unet(pipe, feature: str) -> None:
    """A clear refusal for a feature built on the UNet, when the model has a transformer."""
    if denoiser_name(pipe) != "unet":
        raise UserFacingError(f"{feature} works with SD 1.x/2.x and SDXL models (it relies on "
                              f"their UNet); {family_of(pipe)} models denoise with a "
                              "transformer, which it does not support yet.")


# ---------------------------------------------------------------------------------------------
def flow_request_notes(pipe, request) -> list[str]:
    """Refuse, with a sentence, what SD 3/Flux cannot do here; the warnings of what is ignored.

    What relies on the UNet (its cross-attention, the guidance branches taken apart, the hires
    fix's and the modes' img2img pipelines, LoRAs and embeddings as lora.py applies them) is for
    SD 1.x/2.x and SDXL.
    """
    family = family_of(pipe)
    if request.mode != "txt2img":
        raise UserFacingError(f"{family} models generate from text here (txt2img); "
                              "image-to-image, inpainting and outpainting work with SD 1.x/2.x "
                              "and SDXL models.")
    if request.hires_enabled:
        raise UserFacingError(f"The hires fix works with SD 1.x/2.x and SDXL models, not "
                              f"{family}: set the hires scale to 1, or generate at the size "
                              "you want directly (these models are trained up to 1024² and more).")
    tags = split_extra_networks(request.prompt)[1]
    if request.loras or request.embeddings or tags:
        raise UserFacingError(f"LoRAs, <lora:…> tags and embeddings work with SD 1.x/2.x and "
                              f"SDXL models here, not {family}: remove them.")
    notes = []
    if request.guidance_cutoff < 1.0 or request.guidance_rescale > 0.0:
        notes.append(f"CFG cut-off and rescale act on the UNet models' guidance branches; "
                     f"{family} runs without them (ignored).")
    if family == "Flux":
        embedded = bool(denoiser(pipe).config.get("guidance_embeds"))
        if embedded:
            if request.negative_prompt.strip():
                notes.append("Flux-dev is guidance-distilled: the guidance scale is an input of "
                             "the model (typically 3.5), not classifier-free guidance, so there "
                             "is no unconditional pass and the negative prompt was ignored.")
        elif request.guidance_scale not in (0.0, 1.0):
            notes.append("This Flux model (schnell-like) has no guidance input and no "
                         "classifier-free guidance: the guidance scale has no effect.")
    return notes


class FlowGuidance:
    """The ``GuidanceProbe`` interface for SD 3/Flux: guidance as the pipeline does it, nothing
    taken apart (the probe hooks a UNet's batch of [unconditional, conditional])."""

    def __init__(self, pipe, request):
        self.pipe, self.request = pipe, request

    def pipeline_kwargs(self) -> dict:
        # SD 3: classifier-free guidance with the negative prompt; Flux-dev: the embedded
        # guidance value (FluxPipeline's ``guidance_scale``); schnell ignores it.
        return {"guidance_scale": float(self.request.guidance_scale)}

    def tensor_inputs(self, names: list[str]) -> list[str]:
        return list(names)

    def callback(self, recorder):
        return recorder

    def begin_batch(self, batch: int) -> None:
        pass

    @contextlib.contextmanager
    def attached(self):
        yield self

    def record(self):
        return None
