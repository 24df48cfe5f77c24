"""What the GUI and the CLI need to know about a model family's denoiser, torch-free.

SD 1.x/2.x and SDXL denoise with a UNet trained for ε- or v-prediction on a discrete noise
schedule; SD 3 and Flux with a transformer trained for flow matching (rectified flow): the
sample at time σ ∈ [0, 1] is x_σ = (1 − σ)·x₀ + σ·ε and the network predicts the velocity
v = ε − x₀ along that straight line, the objective of the 2D toy's flow-matching model
(engine/toy2d/flow.py). Samplers built for the ε/v models' schedules do not apply to them;
only the flow-matching ones below do.
"""

from __future__ import annotations

# Family names as engine/stable_diffusion/families.py spells them.
FLOW_FAMILIES = ("SD 3", "Flux")

# The scheduler menu for flow-matching models ("default" is the model's own flow-matching
# Euler); each is an entry of the sampler registry (engine/samplers/registry.py).
FLOW_SCHEDULER_NAMES = ("default", "Flow-matching Euler", "DPM-Solver++ 2M (flow)", "UniPC (flow)")
# … and those names that work only for flow-matching models.
FLOW_ONLY_SCHEDULER_NAMES = FLOW_SCHEDULER_NAMES[1:]

ATTENTION_SLICING_NOTE = (
    "Attention slicing splits the UNet's attention into slices; SD 3 and Flux denoise with "
    "transformers whose attention it does not reach, so it saves nothing there. Use model CPU "
    "offload and VAE tiling instead.")


def family_of_class(pipeline_class: str) -> str:
    """The model family of a diffusers pipeline class name (a stand-in, torch-free, for
    families.py's detection: swap it when that lands)."""
    if pipeline_class.startswith("StableDiffusion3"):
        return "SD 3"
    if pipeline_class.startswith("Flux"):
        return "Flux"
    if pipeline_class.startswith("StableDiffusionXL"):
        return "SDXL"
    return "SD 1.x"


def is_flow_matching(pipeline_class: str) -> bool:
    """Whether the pipeline class denoises by flow matching (SD 3, Flux)."""
    return family_of_class(pipeline_class) in FLOW_FAMILIES


def scheduler_names_for(pipeline_class: str, all_names: tuple[str, ...]) -> tuple[str, ...]:
    """The scheduler menu for a loaded model: the flow-matching samplers for SD 3/Flux, the
    others for the UNet models."""
    if is_flow_matching(pipeline_class):
        return FLOW_SCHEDULER_NAMES
    return tuple(name for name in all_names if name not in FLOW_ONLY_SCHEDULER_NAMES)
