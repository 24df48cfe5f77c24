"""Preview decoders, torch-free: which tiny autoencoder fits which model family, what the
decoder cost in a run, and the Decoders page's request (latent→RGB, TAESD, full VAE at one step).

The decoding itself is engine/stable_diffusion/preview_decoder.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # types.py imports this module: no import cycle at run time
    from engine.stable_diffusion.types import ModelSource, PipelineOptions

# The tiny autoencoders (Ollin Boer Bohan's TAESD family, diffusers' AutoencoderTiny) that share
# each family's latent space; family names as engine/stable_diffusion/families.py spells them.
TINY_DECODERS = {
    "SD 1.x": "madebyollin/taesd",
    "SD 2.x": "madebyollin/taesd",
    "SDXL": "madebyollin/taesdxl",
    "SD 3": "madebyollin/taesd3",
    "Flux": "madebyollin/taef1",
}
TINY_DECODER_NAMES = {"madebyollin/taesd": "TAESD", "madebyollin/taesdxl": "TAESDXL",
                      "madebyollin/taesd3": "TAESD3", "madebyollin/taef1": "TAEF1"}
LATENT_RGB = "latent→RGB map"


def decoders_for_channels(channels: int) -> str:
    """"madebyollin/taesd for SD 1.x/2.x or madebyollin/taesdxl for SDXL" for 4 channels, …"""
    pairs = ([("madebyollin/taesd", "SD 1.x/2.x"), ("madebyollin/taesdxl", "SDXL")]
             if channels == 4 else [("madebyollin/taesd3", "SD 3"), ("madebyollin/taef1", "Flux")])
    return " or ".join(f"{hub_id} for {family}" for hub_id, family in pairs)


def clean_location(location: str | None) -> str | None:
    """The decoder as given, stripped; None for none ("" or blanks)."""
    if location is None or not str(location).strip():
        return None
    return str(location).strip()


@dataclass(frozen=True)
class PreviewDecoderRecord:
    """What a run's preview decoder did: the live previews it decoded and the time spent in it
    (apart from the step recording's overhead), or why the latent→RGB map stood in."""

    decoder: str  # as given (folder or hub id)
    used: bool  # False: it could not be used, the previews went through the latent→RGB map
    previews: int = 0  # previews decoded
    seconds: float = 0.0  # time in the decoder, all of them (device time on CUDA)
    size: tuple[int, int] = (0, 0)  # (width, height) of its previews
    note: str = ""  # why it was not used

    @property
    def ms_per_preview(self) -> float:
        return 1000.0 * self.seconds / self.previews if self.previews else 0.0

    def summary(self) -> str:
        """One line: "TAESD madebyollin/taesd: 25 previews at 512×512, 6.1 ms each"."""
        if not self.used:
            return self.note
        width, height = self.size
        return (f"preview decoder {self.decoder}: {self.previews} preview(s) at {width}×{height} "
                f"px, {self.ms_per_preview:.1f} ms each ({self.seconds:.2f} s in the decoder, "
                "not counted in the recording overhead)")


@dataclass(frozen=True)
class DecodersRequest:
    """One recorded step's x̂₀ (``C×h×w``, scaled latents) through the three decoders."""

    latents: np.ndarray = field(compare=False)
    source: ModelSource
    options: PipelineOptions
    preview_decoder: str | None = None  # None: no TAESD column
    tag: object = None  # echoed back (image, step) for the page


@dataclass(frozen=True)
class DecodedBy:
    """One decoder's image of the step and what it cost."""

    name: str  # "latent→RGB map", "TAESD (madebyollin/taesd)", "full VAE"
    image: np.ndarray | None  # HxWx3 uint8 (None: not available, see note)
    ms: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class DecodersResult:
    latent_rgb: DecodedBy
    tiny: DecodedBy
    vae: DecodedBy
    tag: object = None


JOB_HANDLERS: dict[type, str] = {
    DecodersRequest: "engine.stable_diffusion.preview_decoder:decoders_job",
}
