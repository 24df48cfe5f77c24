"""The embedded class-conditional digits DDPM: a small diffusers ``UNet2DModel``.

Class conditioning uses the UNet's own class embedding (added to the time embedding): labels
0–9 are digits, label 10 is the "no class" token that classifier-free guidance needs. Weights
are stored as safetensors next to a JSON config; loading never unpickles anything.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from engine.digits.types import NULL_CLASS, NUM_CLASSES
from engine.errors import UserFacingError

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "training.json"
EXAMPLES_FILE = "examples.npz"

# 16×16 (not 32×32): the source digits are 8×8, so 32×32 adds no detail but costs ~4× per
# training step; on a CPU budget the extra steps at 16×16 buy far cleaner digits.
UNET_CONFIG = {
    "sample_size": 16,
    "in_channels": 1,
    "out_channels": 1,
    "layers_per_block": 1,
    "block_out_channels": [32, 64, 64],
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "norm_num_groups": 8,
    "attention_head_dim": 32,
    "num_class_embeds": NUM_CLASSES + 1,
}
# For tests: same architecture family, a fraction of the compute.
TINY_UNET_CONFIG = dict(UNET_CONFIG, block_out_channels=[8, 16, 16], norm_num_groups=4,
                        attention_head_dim=8)
# The training noise schedule (diffusers DDPMScheduler config); samplers are built from it.
SCHEDULER_CONFIG = {
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "prediction_type": "epsilon",
    "clip_sample": True,
}


@dataclass
class DigitsModel:
    unet: object  # diffusers.UNet2DModel
    scheduler_config: dict
    folder: Path | None = None

    @property
    def image_size(self) -> int:
        return int(self.unet.config.sample_size)

    @property
    def null_class(self) -> int:
        return NULL_CLASS


def shipped_model_dir() -> Path:
    from resources import resource_path

    return resource_path("models", "digits")


def new_model(tiny: bool = False, seed: int = 0) -> DigitsModel:
    from engine.runtime import import_torch

    torch = import_torch()
    from diffusers import UNet2DModel

    torch.manual_seed(seed)
    unet = UNet2DModel(**(TINY_UNET_CONFIG if tiny else UNET_CONFIG))
    return DigitsModel(unet, dict(SCHEDULER_CONFIG))


def save_model(model: DigitsModel, folder: str | Path, state_dict=None) -> Path:
    """Write model.safetensors + config.json (the UNet config and the noise schedule)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = state_dict if state_dict is not None else model.unet.state_dict()
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()},
              str(folder / WEIGHTS_FILE), metadata={"format": "pt"})
    (folder / WEIGHTS_FILE).chmod(0o644)  # safetensors creates it owner-only; it is shipped data
    config = {"unet": {k: v for k, v in dict(model.unet.config).items() if not k.startswith("_")},
              "scheduler": model.scheduler_config,
              "classes": {"digits": NUM_CLASSES, "null_class": NULL_CLASS}}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=list), encoding="utf-8")
    return folder


def load_model(folder: str | Path | None = None, device: str = "cpu") -> DigitsModel:
    """Load from a folder written by ``save_model`` (default: the shipped model). Safetensors only."""
    from engine.runtime import import_torch

    torch = import_torch()
    from diffusers import UNet2DModel
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder) if folder is not None else shipped_model_dir()
    weights, config_path = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    if not weights.is_file() or not config_path.is_file():
        raise UserFacingError(
            f"No digits model in {folder} (need {WEIGHTS_FILE} and {CONFIG_FILE}). Train one with "
            f"`python main.py train digits --minutes 20 --out {folder}`.")

    def unusable(why: str) -> UserFacingError:
        return UserFacingError(f"The digits model in {folder} could not be loaded: {why}. "
                               "Re-train it or restore the shipped files.")

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise unusable(f"{CONFIG_FILE} is not readable JSON ({exc})") from exc
    if not isinstance(config, dict) or not isinstance(config.get("unet"), dict):
        raise unusable(f"{CONFIG_FILE} has no 'unet' section")
    problem = scheduler_config_problem(config.get("scheduler"))
    if problem:
        raise unusable(f"{CONFIG_FILE}: {problem}")
    try:
        state = load_file(str(weights))
    except (OSError, SafetensorError) as exc:  # truncated, corrupt or not a safetensors file
        raise unusable(f"{WEIGHTS_FILE} is damaged or not a safetensors file ({exc})") from exc
    broken = [name for name, tensor in state.items()
              if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if broken:
        raise unusable(f"{len(broken)} of its {len(state)} weight tensors hold NaN or infinite "
                       f"values (e.g. {broken[0]}), which would only give blank images")
    try:
        unet = UNet2DModel(**config["unet"])
        unet.load_state_dict(state)
    except Exception as exc:  # diffusers raises many kinds for a config that does not fit
        log.warning("digits model in %s did not load", folder, exc_info=True)
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        raise unusable(f"its weights do not fit its configuration ({first})") from exc
    unet.to(device).eval()
    with torch.no_grad():
        unet.requires_grad_(False)
    return DigitsModel(unet, config["scheduler"], folder)


_BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid")
_PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")


def scheduler_config_problem(config) -> str | None:
    """What is wrong with a stored noise-schedule config (a diffusers DDPMScheduler config),
    or None. Checked on load, so a bad file gives a sentence instead of a traceback mid-run."""
    import math

    if not isinstance(config, dict):
        return "the 'scheduler' section is missing"
    steps = config.get("num_train_timesteps", 1000)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 100_000:
        return f"num_train_timesteps must be a whole number from 2 to 100000 (it is {steps!r})"
    schedule = config.get("beta_schedule", "linear")
    if schedule not in _BETA_SCHEDULES:
        return f"beta_schedule {schedule!r} is not one of {', '.join(_BETA_SCHEDULES)}"
    start, end = config.get("beta_start", 0.0001), config.get("beta_end", 0.02)
    for name, value in (("beta_start", start), ("beta_end", end)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or not 0 < value < 1:
            return f"{name} must be a number between 0 and 1 (it is {value!r})"
    if end < start:
        return f"beta_end ({end}) is smaller than beta_start ({start})"
    prediction = config.get("prediction_type", "epsilon")
    if prediction not in _PREDICTION_TYPES:
        return f"prediction_type {prediction!r} is not one of {', '.join(_PREDICTION_TYPES)}"
    return None


_CACHE: dict[tuple[str, str], DigitsModel] = {}


def cached_model(folder: str | Path | None = None, device: str = "cpu") -> DigitsModel:
    """Models stay loaded between jobs (the engine thread lives as long as the app)."""
    folder = Path(folder) if folder is not None else shipped_model_dir()
    weights = folder / WEIGHTS_FILE
    stamp = str(weights.stat().st_mtime_ns) if weights.is_file() else "missing"
    key = (f"{folder.resolve()}@{stamp}", device)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_model(folder, device)
    return _CACHE[key]
