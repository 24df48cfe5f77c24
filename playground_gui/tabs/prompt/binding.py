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
from engine.stable_diffusion.hires_types import HIRES_FIELDS, hires_fields
from engine.stable_diffusion.network_files import parse_hashes_text
from engine.stable_diffusion.parameters import GUIDANCE_EXTRAS, scheduler_for_sampler
from engine.stable_diffusion.prompt_syntax import split_extra_networks
from engine.stable_diffusion.types import MAX_SEED, ModelSource, NetworkFile
from playground_gui.binding import Binding, Field, is_integer, is_number
from playground_gui.tabs.prompt.prediction_controls import set_prediction
from playground_gui.tabs.prompt.sdxl_panel import read_sdxl, restore_sdxl, restore_sdxl_foreign

BINDING = Binding(
    Field("prompt", "prompt_edit", to_request=str.strip),
    Field("negative_prompt", "negative_edit", label="negative prompt", to_request=str.strip),
    Field("mode", "mode_combo"),
    Field("steps", "steps_spin"),
    Field("guidance_scale", "guidance_spin", label="CFG scale"),
    Field("guidance_cutoff", "guidance_cutoff_spin", label="guidance cut-off"),
    Field("guidance_rescale", "guidance_rescale_spin", label="guidance rescale"),
    Field("width", "width_spin"),
    Field("height", "height_spin"),
    Field("batch_size", "batch_size_spin"),
    Field("batch_count", "batch_count_spin"),
    Field("scheduler", "scheduler_combo"),
    Field("zero_snr", "zero_snr_check", label="zero terminal SNR"),
    Field("recording_budget_mb", "recording_budget_spin", label="step recording budget"),
    Field("strength", "strength_spin"),
    Field("mask_feather", "feather_spin"),
    Field("overlay", "overlay_check"),
    Field("outpaint", "outpaint_spins", label="outpaint margins"),
    Field("capture_attention", "attention_check", label="attention maps"),
    Field("hires_scale", "hires_scale_spin", label="hires upscale"),
    Field("hires_strength", "hires_strength_spin", label="hires strength"),
    Field("hires_steps", "hires_steps_spin", label="hires steps"),
    Field("hires_upscaler", "hires_upscaler_combo", label="hires upscaler"),
    Field("hires_upscaler_model", "hires_upscaler_model_edit", label="hires upscaler model",
          to_request=lambda t: t.strip() or None, from_request=lambda model: model or ""),
    Field("preview_decoder", "preview_decoder_edit", label="preview decoder",
          to_request=lambda t: t.strip() or None, from_request=lambda decoder: decoder or ""),
    Field("lora_dir", "lora_dir_edit", label="LoRA folder", to_request=lambda t: t.strip() or None,
          from_request=lambda folder: _existing_folder(folder)),
)


def _existing_folder(folder) -> str:
    """A stored LoRA folder replaces the user's only where it exists on this computer."""
    if not isinstance(folder, str) or not Path(folder).expanduser().is_dir():
        raise ValueError(folder)
    return folder

PICKER_OPTIONS = ("attention_slicing", "vae_tiling", "cpu_offload", "compile_unet")


def request_fields(view) -> dict:
    """The bound fields as the controls show them, shaped for the request: outpaint margins
    count only when outpainting."""
    values = BINDING.read(view)
    if values["mode"] != "outpaint":
        values["outpaint"] = (0, 0, 0, 0)
    if values["mode"] != "txt2img":
        values["hires_scale"] = 1.0  # the hires fix is text → image only (its group is greyed)
    values["loras"] = view.lora_panel.loras()
    values["embeddings"] = view.lora_panel.embeddings()
    values["sdxl"] = read_sdxl(view)  # the SDXL group (sdxl_panel.py)
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
              "overlay": record.get("overlay", True) is not False,
              # Records from before the guidance options: no cut-off, no rescale.
              "guidance_cutoff": record.get("guidance_cutoff", 1.0),
              "guidance_rescale": record.get("guidance_rescale", 0.0),
              **hires_fields({}, None)[0],  # records without the hires fix: off
              **{k: record[k] for k in HIRES_FIELDS if k in record},
              "hires_upscaler_model": record.get("hires_upscaler_model") or "",  # "": none
              "zero_snr": record.get("zero_snr", False) is True}
    notes += BINDING.restore(view, values)
    notes += restore_seed(view, record.get("seed"))
    notes += restore_networks(view, record.get("loras"), record.get("embeddings"))
    notes += restore_sdxl(view, record.get("sdxl"))
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
    for key, name in GUIDANCE_EXTRAS.items():  # "CFG cut-off: 0.5" (ours); absent: the default
        values[key] = _number(parameters.extra.get(name), 1.0 if key == "guidance_cutoff" else 0.0)
    notes = []
    if parameters.sampler:
        scheduler = scheduler_for_sampler(parameters.sampler, parameters.schedule_type)
        if scheduler is None:
            notes.append(f"no scheduler here matches the sampler “{parameters.sampler}”")
        values["scheduler"] = scheduler
    values["zero_snr"] = parameters.extra.get("Zero terminal SNR") == "True"  # families.py
    hires, hires_notes = hires_fields(parameters.extra, parameters.denoising_strength)
    values.update(hires, hires_upscaler_model="")  # A1111 names no diffusers folder
    notes = BINDING.restore(view, values) + notes + hires_notes + restore_sdxl_foreign(
        view, parameters.extra)
    notes += restore_seed(view, parameters.seed)
    if parameters.model:
        notes.append(f"choose the model yourself (the file names “{parameters.model}”)")
    return notes + restore_foreign_networks(view, parameters)


def restore_networks(view, loras, embeddings) -> list[str]:
    """The LoRA list's ticks and weights from our record (``NetworkFile``s as JSON)."""
    notes: list[str] = []
    networks = []
    for item in [*(loras or ()), *(embeddings or ())]:
        if isinstance(item, dict) and isinstance(item.get("path"), str) \
                and is_number(item.get("weight", 1.0)):
            networks.append(NetworkFile(item["path"], float(item.get("weight", 1.0))))
        else:
            notes.append(f"the LoRA/embedding entry {item!r} is not valid")
    view.lora_panel.select(networks, notes)
    return notes


def _number(text, default: float):
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default
def restore_foreign_networks(view, parameters: GenerationParameters) -> list[str]:
    """Another tool's (or our A1111 text's) ``Lora hashes``: <lora:…> tags come back with the
    prompt; LoRAs named only in ``Lora weights`` are ticked; a missing or different file is a
    note."""
    hashes = parse_hashes_text(parameters.extra.get("Lora hashes", ""))
    weights = parse_hashes_text(parameters.extra.get("Lora weights", ""))
    tagged = {name for kind, name, _ in split_extra_networks(parameters.prompt)[1]
              if kind == "lora"}
    rows = {row.entry.name: row for row in view.lora_panel.rows if row.is_lora}
    networks = []
    for name, weight in weights.items():
        if name not in tagged and name in rows:
            try:
                networks.append(NetworkFile(rows[name].entry.path, float(weight)))
            except ValueError:
                continue
    view.lora_panel.select(networks)
    return view.lora_panel.check_hashes(hashes)


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
        if not set_prediction(picker.prediction, source.get("prediction_type")):
            notes.append(f"the prediction type {source.get('prediction_type')!r} is not offered here")
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
