"""What the GUI and the CLI need to know about a model family's denoiser, torch-free.

SD 1.x/2.x and SDXL denoise with a UNet trained for ε- or v-prediction on a discrete noise
schedule; SD 3 and Flux with a transformer trained for flow matching (rectified flow): the
sample at time σ ∈ [0, 1] is x_σ = (1 − σ)·x₀ + σ·ε and the network predicts the velocity
v = ε − x₀ along that straight line, the objective of the 2D toy's flow-matching model
(engine/toy2d/flow.py). Samplers built for the ε/v models' schedules do not apply to them;
only the flow-matching ones below do.
"""

from __future__ import annotations

from engine.stable_diffusion.families import FLUX, SD1, SD3, family_name_of_class

FLOW_FAMILIES = (SD3, FLUX)
# What their pipelines give the T5 encoder by default (max_sequence_length): the prompt beyond
# CLIP's 77 tokens still reaches the model through T5.
T5_TOKENS = {SD3: 256, FLUX: 512}

# The scheduler menu for flow-matching models ("default" is the model's own flow-matching
# Euler); each is an entry of the sampler registry (engine/samplers/registry.py).
FLOW_SCHEDULER_NAMES = ("default", "Flow-matching Euler", "DPM-Solver++ 2M (flow)", "UniPC (flow)")
# … and those names that work only for flow-matching models.
FLOW_ONLY_SCHEDULER_NAMES = FLOW_SCHEDULER_NAMES[1:]

# What downloading each costs (the Hub's diffusers folders in 16 bits, all text encoders), and
# what it needs to run (approximate, from the model cards and diffusers' docs; not measured here).
FLOW_DOWNLOAD_SIZES = {
    "stabilityai/stable-diffusion-3-medium-diffusers":
        "about 15 GB (fp16; 2B MMDiT + CLIP-L/G + T5-XXL); 16 GB of GPU memory, or 8 GB with "
        "model CPU offload",
    "stabilityai/stable-diffusion-3.5-medium":
        "about 16 GB (bf16; 2.5B MMDiT + CLIP-L/G + T5-XXL); 16 GB of GPU memory, or 8–10 GB "
        "with model CPU offload",
    "stabilityai/stable-diffusion-3.5-large":
        "about 28 GB (bf16; 8B MMDiT + CLIP-L/G + T5-XXL); 32 GB of GPU memory, or 24 GB with "
        "model CPU offload",
    "black-forest-labs/FLUX.1-dev":
        "about 34 GB (bf16; 12B transformer + CLIP-L + T5-XXL; gated: accept the licence and "
        "log in); 40 GB of GPU memory, or 24 GB with model CPU offload and 32 GB of RAM",
    "black-forest-labs/FLUX.1-schnell":
        "about 34 GB (bf16; 12B transformer + CLIP-L + T5-XXL); 40 GB of GPU memory, or 24 GB "
        "with model CPU offload and 32 GB of RAM",
}

ATTENTION_SLICING_NOTE = (
    "Attention slicing splits the UNet's attention into slices; SD 3 and Flux denoise with "
    "transformers whose attention it does not reach, so it saves nothing there. Use model CPU "
    "offload and VAE tiling instead.")

# Shown under a loaded SD 3/Flux model (the Prompt tab) and in the README.
FLOW_EXPLANATION = (
    "Flow matching: this model was trained like the 2D toy's flow-matching model. A training "
    "sample is a point on the straight line x_σ = (1 − σ)·x₀ + σ·ε between an image's latents "
    "x₀ and noise ε, and the transformer learns the velocity v = ε − x₀ along it. Generating "
    "integrates dx/dσ = v̂ from σ = 1 (noise) to 0 with a flow-matching sampler; x̂₀ = x_σ − σ·v̂ "
    "is the preview. Its 16-channel latents hold more detail than SD 1.x's 4. The UNet views "
    "(attention maps, guidance branches, LoRA update, latent walk, hires fix) do not apply.")

FLOW_NOTE = (  # the short form, under the loaded model in the Prompt tab (tooltip: the long one)
    "Flow matching, as the 2D toy's flow objective: x_σ = (1 − σ)·x₀ + σ·ε, the transformer "
    "predicts v = ε − x₀; sampling integrates from σ = 1 to 0, the preview is the predicted "
    "x₀ = x_σ − σ·v. "
    "UNet views (attention maps, guidance branches, LoRA update, walk, hires fix) do not apply.")


def denoiser_label(pipeline_class: str) -> str:
    """How the model line names the denoiser: "UNet", or "transformer" for SD 3/Flux."""
    return "transformer" if is_flow_matching(pipeline_class) else "UNet"


def family_of_class(pipeline_class: str) -> str:
    """The model family a pipeline class name tells (families.py; SD 2.x shows as SD 1.x here,
    which is all the denoiser questions below need)."""
    return family_name_of_class(pipeline_class) or SD1


def is_flow_matching(pipeline_class: str) -> bool:
    """Whether the pipeline class denoises by flow matching (SD 3, Flux)."""
    return family_of_class(pipeline_class) in FLOW_FAMILIES


def scheduler_names_for(pipeline_class: str, all_names: tuple[str, ...]) -> tuple[str, ...]:
    """The scheduler menu for a loaded model: the flow-matching samplers for SD 3/Flux, the
    others for the UNet models."""
    if is_flow_matching(pipeline_class):
        return FLOW_SCHEDULER_NAMES
    return tuple(name for name in all_names if name not in FLOW_ONLY_SCHEDULER_NAMES)
