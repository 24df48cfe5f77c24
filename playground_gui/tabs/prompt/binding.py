"""The Prompt tab's one table of request field ↔ control, read to build a ``GenerationRequest``
and written to restore a saved image (ours, or another tool's A1111 parameters).

Besides the plain fields, a request carries three things that are not one control's value:
the seed (drawn at random or taken from the seed box), the model source and memory options
(the model picker), and the input image and mask (the "Input & mask" page). Their two
directions live here too, next to the table.
"""

from __future__ import annotations

from pathlib import Path

from engine.png.a1111 import GenerationParameters
from engine.stable_diffusion.parameters import scheduler_for_sampler
from engine.stable_diffusion.types import MAX_SEED, ModelSource
from playground_gui.binding import Binding, Field, is_integer

BINDING = Binding(
    Field("prompt", "prompt_edit", to_request=str.strip),
    Field("negative_prompt", "negative_edit", label="negative prompt", to_request=str.strip),
    Field("mode", "mode_combo"),
    Field("steps", "steps_spin"),
    Field("guidance_scale", "guidance_spin", label="CFG scale"),
    Field("width", "width_spin"),
    Field("height", "height_spin"),
    Field("batch_size", "batch_size_spin"),
    Field("batch_count", "batch_count_spin"),
    Field("scheduler", "scheduler_combo"),
    Field("recording_budget_mb", "recording_budget_spin", label="step recording budget"),
    Field("strength", "strength_spin"),
    Field("mask_feather", "feather_spin"),
    Field("overlay", "overlay_check"),
    Field("outpaint", "outpaint_spins", label="outpaint margins"),
    Field("capture_attention", "attention_check", label="attention maps"),
)

PICKER_OPTIONS = ("attention_slicing", "vae_tiling", "cpu_offload", "compile_unet")


def request_fields(view) -> dict:
    """The bound fields as the controls show them, shaped for the request: outpaint margins
    count only when outpainting."""
    values = BINDING.read(view)
    if values["mode"] != "outpaint":
        values["outpaint"] = (0, 0, 0, 0)
    return values


# -- restoring -------------------------------------------------------------------------------
def restore(view, request: dict) -> list[str]:
    """A saved image's request: our record, or another tool's A1111 parameters
    (``{"foreign_parameters": {...}}``); returns notes on what could not be set."""
    if not isinstance(request, dict):
        raise ValueError("the stored request is not a set of parameters")
    if "foreign_parameters" in request:
        foreign = request["foreign_parameters"]
        return restore_foreign(view, GenerationParameters.from_dict(
            foreign if isinstance(foreign, dict) else {}))
    return restore_record(view, request)


def restore_record(view, record: dict) -> list[str]:
    """Our own record (``GenerationRequest`` as JSON): every control; returns notes on what
    could not be set."""
    notes = restore_source(view, record.get("source"), record.get("options"))
    # A record without a mode is a txt2img run; records from before the overlay option had
    # it on (the engine's default).
    values = {**record, "mode": record.get("mode", "txt2img"),
              "overlay": record.get("overlay", True) is not False}
    notes += BINDING.restore(view, values)
    notes += restore_seed(view, record.get("seed"))
    mode = values["mode"]
    if mode != "txt2img" and view.init_image is None:
        notes.append("the input image is not stored in the PNG: open it in “Input & mask”")
    elif mode == "inpaint":
        notes.append("the input image and mask are not stored in the PNG: check them in "
                     "“Input & mask”")
    return notes


def restore_foreign(view, parameters: GenerationParameters) -> list[str]:
    """What an A1111-style text can say, mapped onto the same table; the rest of the controls
    stays as it is."""
    values = {"mode": "txt2img", "prompt": parameters.prompt,
              "negative_prompt": parameters.negative_prompt, "steps": parameters.steps,
              "guidance_scale": parameters.cfg_scale, "width": parameters.width,
              "height": parameters.height, "batch_size": 1, "batch_count": 1}
    notes = []
    if parameters.sampler:
        scheduler = scheduler_for_sampler(parameters.sampler, parameters.schedule_type)
        if scheduler is None:
            notes.append(f"no scheduler here matches the sampler “{parameters.sampler}”")
        values["scheduler"] = scheduler
    notes = BINDING.restore(view, values) + notes
    notes += restore_seed(view, parameters.seed)
    if parameters.model:
        notes.append(f"choose the model yourself (the file names “{parameters.model}”)")
    return notes


def restore_seed(view, seed) -> list[str]:
    """A stored seed fixes the seed box (random off); a seed the box cannot hold is a note."""
    if seed is None:
        return []
    if is_integer(seed) and 0 <= seed <= MAX_SEED:
        view.random_seed.setChecked(False)
        view.seed_spin.setValue(seed)
        return []
    return [f"the seed {seed} does not fit the seed box (0 … {MAX_SEED})"]


def restore_source(view, source, options) -> list[str]:
    """The model picker: location, config, memory options. Consent to unpickle is never taken
    from a file: the user ticks it again."""
    notes: list[str] = []
    picker = view.picker
    if isinstance(source, dict) and isinstance(source.get("location"), str):
        location = source["location"]
        picker.set_location(location)
        config = source.get("config")
        picker.config.setText(config if isinstance(config, str) else "")
        picker.allow_pickle.setChecked(False)
        if source.get("allow_pickle") and picker.allow_pickle.isEnabled():
            notes.append("tick “Allow unpickling” yourself if you trust this checkpoint")
        if ModelSource(location).kind != "hub" and not Path(location).expanduser().exists():
            notes.append(f"the model {location} is not on this computer")
    if isinstance(options, dict):
        for name in PICKER_OPTIONS:
            if isinstance(options.get(name), bool):
                getattr(picker, name).setChecked(options[name])
        dtype = options.get("dtype")
        if not picker.set_precision(dtype if isinstance(dtype, str) else None):
            picker.set_precision(None)
            notes.append(f"the precision {dtype} is not offered here (automatic is used)")
    return notes
