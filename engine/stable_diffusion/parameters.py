"""Stable Diffusion runs as the shared PNG metadata (engine/png/) describes them.

One ``SaveItem`` per generated image: the A1111 text (the image's own seed and size) and, as our
JSON record, the complete request with the run's first seed plus ``image_index``, so restoring
regenerates the same batch. Torch-free: the GUI and the CLI both use it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.png.a1111 import GenerationParameters
from engine.png.record import KIND_STABLE_DIFFUSION, to_jsonable
from engine.png.saving import SaveItem
from engine.samplers.registry import a1111_name_of_class, get_sampler
from engine.stable_diffusion.families import family_texts
from engine.stable_diffusion.hires_types import hires_texts
from engine.stable_diffusion.network_files import hashes_text
from engine.stable_diffusion.sdxl_types import sdxl_texts
from engine.stable_diffusion.types import SCHEDULER_NAMES, GenerationRequest, GenerationResult

# Our names -> the sampler names AUTOMATIC1111 writes into a PNG's parameters, so other tools
# read ours and we read theirs (the model's own "default" scheduler is named by its class).
A1111_SAMPLER_NAMES = {name: get_sampler(name).a1111_name for name in SCHEDULER_NAMES
                       if get_sampler(name).a1111_name}


# Guidance options (guidance.py) as ``Key: value`` pairs of the A1111 text, written only when
# set; restoring reads them back from such a text alone.
GUIDANCE_EXTRAS = {"guidance_cutoff": "CFG cut-off", "guidance_rescale": "CFG rescale"}


def a1111_sampler_name(scheduler: str, scheduler_class: str | None = None) -> str:
    """The A1111 sampler name for one of our scheduler names (``default``: by its class)."""
    if scheduler in A1111_SAMPLER_NAMES:
        return A1111_SAMPLER_NAMES[scheduler]
    return a1111_name_of_class(scheduler_class or scheduler, among=SCHEDULER_NAMES)


def scheduler_for_sampler(sampler: str | None, schedule_type: str | None = None) -> str | None:
    """Our scheduler name for an A1111 sampler name (``DPM++ 2M`` + schedule type ``Karras``
    included), or None when we have no equivalent."""
    if not sampler:
        return None
    text = sampler.strip()
    if schedule_type and schedule_type.strip().lower() == "karras" and "karras" not in text.lower():
        text = f"{text} Karras"
    by_a1111 = {a1111.lower(): ours for ours, a1111 in A1111_SAMPLER_NAMES.items()}
    if text.lower() in by_a1111:
        return by_a1111[text.lower()]
    if text in SCHEDULER_NAMES:
        return text
    plain = text.lower().removesuffix(" karras").strip()  # e.g. "Euler a Karras"
    return by_a1111.get(plain)


def generation_parameters(parameters: dict, seed: int | None = None,
                          size: tuple[int, int] | None = None) -> GenerationParameters:
    """The A1111 fields of one image from ``GenerationResult.parameters`` (``seed``/``size``:
    the image's own, when they differ from the run's)."""
    mode = parameters.get("mode", "txt2img")
    if size is None or parameters.get("hires_scale"):  # A1111's Size is the hires fix's base
        size = (parameters.get("width"), parameters.get("height"))
    width, height = size
    model = str(parameters.get("model") or "")
    extra = {}
    if mode != "txt2img":
        extra["Mode"] = mode
    if parameters.get("outpaint"):
        extra["Outpaint"] = "/".join(str(v) for v in parameters["outpaint"])
    for key, name in GUIDANCE_EXTRAS.items():
        if parameters.get(key) is not None:
            extra[name] = f"{parameters[key]:g}"
    extra.update(network_texts(parameters))
    extra.update(hires_texts(parameters))
    extra.update(family_texts(parameters))
    extra.update(sdxl_texts(parameters))  # SDXL micro-conditioning, A1111's "Refiner: …"
    strength = parameters.get("strength") if mode != "txt2img" else parameters.get("hires_strength")
    return GenerationParameters(
        prompt=parameters.get("prompt", ""),
        negative_prompt=parameters.get("negative_prompt", ""),
        steps=parameters.get("steps"),
        sampler=a1111_sampler_name(parameters.get("scheduler", "default"),
                                   parameters.get("scheduler_class")),
        cfg_scale=parameters.get("guidance_scale"),
        seed=seed if seed is not None else parameters.get("seed"),
        width=width, height=height,
        model=(Path(model).name or model) or None,
        denoising_strength=strength,
        extra=extra,
    )


def network_texts(parameters: dict) -> dict[str, str]:
    """A1111's ``Lora hashes`` and ``TI hashes`` (``"name: hash, …"``) and the LoRAs' weights
    (``Lora weights``, ours: A1111 keeps them as <lora:…> tags in the prompt, which the prompt
    here keeps verbatim, while the LoRA list's weights would be lost without it)."""
    loras = [e for e in parameters.get("loras") or () if isinstance(e, dict)]
    embeddings = [e for e in parameters.get("embeddings") or () if isinstance(e, dict)]
    texts = {}
    if loras:
        texts["Lora hashes"] = hashes_text((e.get("name"), e.get("hash")) for e in loras)
        texts["Lora weights"] = ", ".join(f"{e.get('name')}: {e.get('weight'):g}" for e in loras)
    if embeddings:
        texts["TI hashes"] = hashes_text((e.get("name"), e.get("hash")) for e in embeddings)
    return texts


def request_record(request: GenerationRequest, seed: int, image_index: int = 0) -> dict:
    """The JSON request of one image: the request with the run's (first) seed filled in, and
    which image of the batch this is. Input images and masks are not stored (see to_jsonable)."""
    return {**to_jsonable(dataclasses.replace(request, seed=seed)), "image_index": image_index}


def save_items(request: GenerationRequest, result: GenerationResult,
               indexes=None) -> list[SaveItem]:
    """What the save bar / CLI write for ``result`` (all images, or those at ``indexes``)."""
    indexes = range(len(result.images)) if indexes is None else indexes
    items = []
    for index in indexes:
        image = result.images[index]
        parameters = generation_parameters(result.parameters, result.seeds[index],
                                           (int(image.shape[1]), int(image.shape[0])))
        items.append(SaveItem(image, parameters, KIND_STABLE_DIFFUSION,
                              request_record(request, result.seed, index)))
    return items
