"""Generation parameters as the web UIs write them into a PNG's "parameters" text chunk.

Kept behind ``parameters_text`` / ``save_png`` so the shared writer (engine/metadata.py) can
replace it without touching the callers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Our scheduler names → the sampler names A1111 writes (so other tools read them back).
A1111_SAMPLER_NAMES = {
    "DDIM": "DDIM", "DDPM": "DDPM", "PNDM": "PLMS", "Euler": "Euler",
    "Euler ancestral": "Euler a", "DPM-Solver++ 2M": "DPM++ 2M",
    "DPM-Solver++ 2M Karras": "DPM++ 2M Karras", "UniPC": "UniPC", "LCM": "LCM",
}

# The model's own scheduler ("default") named by its class.
A1111_CLASS_NAMES = {
    "PNDMScheduler": "PLMS", "DDIMScheduler": "DDIM", "DDPMScheduler": "DDPM",
    "EulerDiscreteScheduler": "Euler", "EulerAncestralDiscreteScheduler": "Euler a",
    "DPMSolverMultistepScheduler": "DPM++ 2M", "UniPCMultistepScheduler": "UniPC",
    "LCMScheduler": "LCM",
}


def sampler_name(parameters: dict) -> str:
    scheduler = parameters.get("scheduler", "default")
    if scheduler in A1111_SAMPLER_NAMES:
        return A1111_SAMPLER_NAMES[scheduler]
    class_name = parameters.get("scheduler_class", scheduler)
    return A1111_CLASS_NAMES.get(class_name, class_name)


def parameters_text(parameters: dict) -> str:
    """A1111-style: prompt, ``Negative prompt: …``, then ``Key: value, …`` on one line."""
    lines = [parameters.get("prompt", "")]
    if parameters.get("negative_prompt"):
        lines.append(f"Negative prompt: {parameters['negative_prompt']}")
    fields = [
        ("Steps", parameters.get("steps")),
        ("Sampler", sampler_name(parameters)),
        ("CFG scale", parameters.get("guidance_scale")),
        ("Seed", parameters.get("seed")),
        ("Size", f"{parameters.get('width')}x{parameters.get('height')}"),
        ("Model", Path(str(parameters.get("model", ""))).name or parameters.get("model")),
    ]
    if parameters.get("mode", "txt2img") != "txt2img":
        fields.append(("Denoising strength", parameters.get("strength")))
        fields.append(("Mode", parameters["mode"]))
    if parameters.get("outpaint"):
        fields.append(("Outpaint", "/".join(str(v) for v in parameters["outpaint"])))
    lines.append(", ".join(f"{key}: {value}" for key, value in fields if value is not None))
    return "\n".join(lines)


def save_png(path: str | Path, image: np.ndarray, parameters: dict) -> Path:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", parameters_text(parameters))
    info.add_text("diffusion-playground", json.dumps(parameters, default=str))
    path = Path(path)
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path, pnginfo=info)
    return path
