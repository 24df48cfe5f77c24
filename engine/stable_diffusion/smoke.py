"""A self-check of the Stable Diffusion stack for smoke tests (packaged app, CI): no download.

Builds the tiny random-weight pipeline, loads it as a diffusers folder and as a single file,
and runs two steps: that exercises diffusers, transformers, safetensors and tokenizers as
bundled. Also catches the silent failure of a bundle without package metadata, where diffusers
hands out dummy classes that only say "requires PyTorch".
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def check_real_classes() -> None:
    import diffusers
    from diffusers.utils import (
        is_safetensors_available,
        is_torch_available,
        is_transformers_available,
    )

    missing = [name for name, ok in (("torch", is_torch_available()),
                                     ("transformers", is_transformers_available()),
                                     ("safetensors", is_safetensors_available())) if not ok]
    if missing:
        raise RuntimeError(f"diffusers does not see {', '.join(missing)} (package metadata missing?)")
    pipeline = diffusers.StableDiffusionPipeline
    if "dummy" in pipeline.__module__ or not hasattr(pipeline, "from_single_file"):
        raise RuntimeError(f"diffusers gave a dummy StableDiffusionPipeline ({pipeline.__module__})")


def run_tiny_sd_check(directory: str | Path | None = None, steps: int = 2) -> dict[str, float]:
    """Seconds per stage; raises on any failure. ``directory``: where to write the tiny model."""
    from engine.reporting import Reporter
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline, unload
    from engine.stable_diffusion.tiny_pipeline import save_tiny_pipeline
    from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

    timings = {}
    started = time.perf_counter()
    check_real_classes()
    timings["imports"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(directory) if directory else Path(scratch)
        mark = time.perf_counter()
        folder, single_file = save_tiny_pipeline(target)
        timings["build"] = time.perf_counter() - mark
        options = PipelineOptions(device="cpu")
        for name, source in (("folder", ModelSource(str(folder))),
                             ("single_file", ModelSource(str(single_file), config=str(folder)))):
            mark = time.perf_counter()
            get_pipeline(source, options)
            result = run_generation(GenerationRequest("a photo of a cat", source=source,
                                                      options=options, steps=steps, width=64,
                                                      height=64, seed=0, scheduler="DDIM"),
                                    Reporter())
            if result.images[0].shape != (64, 64, 3) or len(result.step_latents[0]) != steps:
                raise RuntimeError(f"tiny SD run from the {name} returned the wrong shapes")
            timings[f"load + {steps} steps ({name})"] = time.perf_counter() - mark
        unload()
    return timings
