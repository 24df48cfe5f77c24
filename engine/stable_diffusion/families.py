"""Which model family a loaded pipeline belongs to: SD 1.x, SD 2.x, SDXL, SD 3 or Flux.

Detected from the loaded pipeline's class and its components' configs, never from a file name
(a fine-tune called "sdxl-something.safetensors" may be anything). Each family says what the
rest of the app needs to know about it: the size it was trained at, its latent channels, how a
latent is sketched in colour without the VAE, and what the network predicts. Torch-free: the
GUI reads these too.
"""

from __future__ import annotations

from dataclasses import dataclass

SD1, SD2, SDXL, SD3, FLUX = "SD 1.x", "SD 2.x", "SDXL", "SD 3", "Flux"
FAMILY_NAMES = (SD1, SD2, SDXL, SD3, FLUX)


@dataclass(frozen=True)
class ModelFamily:
    """One family as the loaded model belongs to it.

    ``rgb_factors`` (latent channels × 3) and ``rgb_bias`` (3) map a latent, as the pipeline
    holds it (already scaled by the VAE's scaling/shift factors), linearly to RGB in [−1, 1]:
    a colour sketch that costs nothing per step (engine/stable_diffusion/previews.py).
    ``prediction_type``: "epsilon", "v_prediction" (from the model's scheduler config) or
    "flow" (SD 3 / Flux: the transformer predicts the velocity of a flow-matching ODE).
    """

    name: str
    native_size: int  # px, each side: what the family's base model was trained at
    latent_channels: int
    prediction_type: str
    rgb_factors: tuple[tuple[float, float, float], ...]
    rgb_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def label(self) -> str:
        """"SD 2.x (v-prediction)", "SDXL": the name, with the prediction when it matters."""
        if self.prediction_type == "v_prediction":
            return f"{self.name} (v-prediction)"
        return self.name

    @property
    def uses_unet(self) -> bool:
        """SD 1.x/2.x/SDXL denoise with a UNet (cross-attention maps exist); SD 3 and Flux with
        a transformer (MMDiT) that has none."""
        return self.name in (SD1, SD2, SDXL)


# --- Latent → RGB factors (data, not code) ---------------------------------------------------
# SD 1.x/2.x (same VAE): the least-squares fit of decoded colours on latents the community
# published in 2022 (Keturn's "cheap approximation" of the web UIs), used here since issue 4.
SD1_FACTORS = ((0.298, 0.207, 0.208), (0.187, 0.286, 0.173), (-0.158, 0.189, 0.264),
               (-0.184, -0.271, -0.473))
# SDXL's VAE is a retrained one with another latent space (and scaling factor 0.13025): its
# own fit, as ComfyUI publishes it (comfy/latent_formats.py, class SDXL, GPL-3.0 project; the
# numbers are measured data).
SDXL_FACTORS = ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068), (0.1076, 0.1111, -0.0362),
                (-0.3165, -0.2492, -0.2188))
SDXL_BIAS = (0.1084, -0.0175, -0.0011)
# SD 3 and Flux: 16-channel VAEs (with a shift factor), fits from the same source (classes SD3
# and Flux there), on latents as their pipelines hold them ((z − shift) × scale).
SD3_FACTORS = (
    (-0.0922, -0.0175, 0.0749), (0.0311, 0.0633, 0.0954), (0.1994, 0.0927, 0.0458),
    (0.0856, 0.0339, 0.0902), (0.0587, 0.0272, -0.0496), (-0.0006, 0.1104, 0.0309),
    (0.0978, 0.0306, 0.0427), (-0.0042, 0.1038, 0.1358), (-0.0194, 0.0020, 0.0669),
    (-0.0488, 0.0130, -0.0268), (0.0922, 0.0988, 0.0951), (-0.0278, 0.0524, -0.0542),
    (0.0332, 0.0456, 0.0895), (-0.0069, -0.0030, -0.0810), (-0.0596, -0.0465, -0.0293),
    (-0.1448, -0.1463, -0.1189))
SD3_BIAS = (0.2394, 0.2135, 0.1925)
FLUX_FACTORS = (
    (-0.0346, 0.0244, 0.0681), (0.0034, 0.0210, 0.0687), (0.0275, -0.0668, -0.0433),
    (-0.0174, 0.0160, 0.0617), (0.0859, 0.0721, 0.0329), (0.0004, 0.0383, 0.0115),
    (0.0405, 0.0861, 0.0915), (-0.0236, -0.0185, -0.0259), (-0.0245, 0.0250, 0.1180),
    (0.1008, 0.0755, -0.0421), (-0.0515, 0.0201, 0.0011), (0.0428, -0.0012, -0.0036),
    (0.0817, 0.0765, 0.0749), (-0.1264, -0.0522, -0.1103), (-0.0280, -0.0881, -0.0499),
    (-0.1262, -0.0982, -0.0778))
FLUX_BIAS = (-0.0329, -0.0718, -0.0851)

_FACTORS = {SD1: (SD1_FACTORS, (0.0, 0.0, 0.0)), SD2: (SD1_FACTORS, (0.0, 0.0, 0.0)),
            SDXL: (SDXL_FACTORS, SDXL_BIAS), SD3: (SD3_FACTORS, SD3_BIAS),
            FLUX: (FLUX_FACTORS, FLUX_BIAS)}
_NATIVE = {SD1: 512, SD2: 768, SDXL: 1024, SD3: 1024, FLUX: 1024}
# SD 2.x comes in two sizes: the v-prediction models (2.0-v, 2.1) were trained at 768², the
# ε-prediction "base" models (2.0-base, 2.1-base) at 512². The prediction type decides.
SD2_BASE_SIZE = 512


def family(name: str, prediction_type: str | None = None) -> ModelFamily:
    """The family ``name`` (one of FAMILY_NAMES) with its usual prediction type, or the one
    given (SD 1.x/2.x/SDXL models exist as ε- and v-prediction models)."""
    if name not in _FACTORS:
        raise ValueError(f"unknown model family {name!r} (one of {', '.join(FAMILY_NAMES)})")
    factors, bias = _FACTORS[name]
    if name in (SD3, FLUX):
        prediction = "flow"
    else:
        prediction = prediction_type or ("v_prediction" if name == SD2 else "epsilon")
    native = _NATIVE[name]
    if name == SD2 and prediction != "v_prediction":
        native = SD2_BASE_SIZE
    return ModelFamily(name, native, len(factors), prediction, factors, bias)


def family_for_channels(channels: int) -> ModelFamily | None:
    """The family whose latents usually have this many channels (4: SD 1.x, 16: SD 3), for
    latents whose model is not known; None for other counts."""
    return {4: family(SD1), 16: family(SD3)}.get(int(channels))


def detect_family(pipe) -> ModelFamily | None:
    """The family of a loaded diffusers pipeline (any mode: text-to-image, img2img, inpaint),
    or None for a pipeline of none of the five families (e.g. an upscaler)."""
    return family_of(type(pipe).__name__, _config(getattr(pipe, "unet", None)),
                     _config(getattr(pipe, "text_encoder", None)),
                     _config(getattr(pipe, "scheduler", None)))


def family_name_of_class(class_name: str) -> str | None:
    """The family a pipeline class name alone tells: SD 3, Flux, SDXL, or SD 1.x for the other
    StableDiffusion* classes (SD 2.x needs the configs: ``family_of``); None otherwise."""
    for prefix, name in (("StableDiffusion3", SD3), ("Flux", FLUX), ("StableDiffusionXL", SDXL),
                         ("StableDiffusion", SD1)):
        if class_name.startswith(prefix):
            return name
    return None


def family_of(class_name: str, unet_config=None, text_encoder_config=None,
              scheduler_config=None) -> ModelFamily | None:
    """The family from the pipeline class's name and its UNet, text-encoder and scheduler
    configs (mappings or config objects; None where the pipeline has no such component)."""
    prediction = _get(scheduler_config, "prediction_type")
    name = family_name_of_class(class_name)
    if name in (SD3, FLUX):
        return family(name)
    if name == SDXL:
        return family(SDXL, prediction)
    if name is None or unet_config is None:
        return None
    if class_name.startswith(("StableDiffusionUpscale", "StableDiffusionLatentUpscale")):
        return None
    return family(SD2 if _is_sd2(unet_config, text_encoder_config) else SD1, prediction)


def _is_sd2(unet_config, text_encoder_config) -> bool:
    """SD 2.x conditions on OpenCLIP ViT-H/14 (1024-wide hidden states) where SD 1.x has OpenAI
    CLIP ViT-L/14 (768). At full size the UNet's ``cross_attention_dim`` says it; a shrunken
    copy of the architecture still shows what does not scale: OpenCLIP's plain GELU (OpenAI
    CLIP uses quick_gelu) together with SD 2.x's linear projections in the UNet's transformers
    (SD 1.x uses 1×1 convolutions)."""
    if _get(unet_config, "cross_attention_dim") == 1024:
        return True
    if _get(text_encoder_config, "hidden_size") == 1024:
        return True
    return bool(_get(unet_config, "use_linear_projection")) and \
        _get(text_encoder_config, "hidden_act") == "gelu"


def _config(component):
    return getattr(component, "config", None) if component is not None else None


def _get(config, key: str):
    if config is None:
        return None
    if hasattr(config, "get"):
        return config.get(key)
    return getattr(config, key, None)


# --- What a run's record says about its model --------------------------------------------------
def family_parameters(model_family: ModelFamily | None, request=None) -> dict:
    """Entries of ``GenerationResult.parameters``: the family, its prediction type, and the
    zero-terminal-SNR schedule when the request asked for it."""
    data = {}
    if model_family is not None:
        data.update(model_family=model_family.name, prediction_type=model_family.prediction_type)
    if getattr(request, "zero_snr", False):
        data["zero_snr"] = True
    return data


def family_texts(parameters: dict) -> dict[str, str]:
    """``Key: value`` pairs of the A1111 text for ``family_parameters`` (our own keys: A1111
    writes none for these; "Model family: SDXL", "Prediction type: v_prediction", and
    "Zero terminal SNR: True" when on). ε-prediction, the usual case, is not written."""
    texts = {}
    if parameters.get("model_family"):
        texts["Model family"] = str(parameters["model_family"])
    if parameters.get("prediction_type") == "v_prediction":
        texts["Prediction type"] = "v_prediction"
    if parameters.get("zero_snr"):
        texts["Zero terminal SNR"] = "True"
    return texts
