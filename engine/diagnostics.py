"""Are the libraries really there? Catches a frozen app whose package metadata went missing.

Without metadata, diffusers decides that torch or transformers is "not installed" and hands out
dummy classes that fail only when used, so this checks diffusers' own view, not just imports.
"""

from __future__ import annotations

from engine.requests import LibraryCheckRequest, LibraryCheckResult


def check_libraries(request: LibraryCheckRequest | None = None, reporter=None) -> LibraryCheckResult:
    from engine.runtime import import_torch

    torch = import_torch()
    import diffusers
    import safetensors
    import transformers
    from diffusers.utils import import_utils

    problems = []
    for name in ("torch", "transformers", "safetensors"):
        if not getattr(import_utils, f"is_{name}_available")():
            problems.append(f"diffusers does not see {name} (missing package metadata?)")
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DModel

    for cls in (StableDiffusionPipeline, UNet2DModel, AutoencoderKL, DDIMScheduler):
        if "dummy" in cls.__module__:
            problems.append(f"diffusers.{cls.__name__} is a dummy placeholder ({cls.__module__})")
    from transformers import CLIPTextModel, CLIPTokenizer

    for cls in (CLIPTextModel, CLIPTokenizer):
        if "dummy" in cls.__module__:
            problems.append(f"transformers.{cls.__name__} is a dummy placeholder")
    versions = {
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
    }
    return LibraryCheckResult(versions=versions, problems=tuple(problems))
