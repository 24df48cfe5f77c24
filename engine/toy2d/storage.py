"""Save and load a toy model as safetensors (weights + a JSON header). Torch-free, so the GUI
can do it directly; never a pickle."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from engine.schedules.types import ScheduleSpec
from engine.toy2d.types import OBJECTIVES, DatasetSpec, ModelConfig, ToyModel

FORMAT = "diffusion-playground/toy2d-v1"
_POINTS_KEY = "dataset.points"


def save_model(model: ToyModel, path: str | Path) -> None:
    from safetensors.numpy import save_file

    tensors = {f"model.{k}": np.ascontiguousarray(v, dtype=np.float32) for k, v in model.weights.items()}
    if model.dataset.points is not None:
        tensors[_POINTS_KEY] = np.ascontiguousarray(model.dataset.points, dtype=np.float32)
    metadata = {
        "format": FORMAT,
        "config": json.dumps(asdict(model.config)),
        "schedule": json.dumps(asdict(model.schedule)),
        "dataset": model.dataset.name,
        "steps_trained": str(model.steps_trained),
        "objective": model.objective,
    }
    save_file(tensors, str(path), metadata=metadata)


def load_model(path: str | Path) -> ToyModel:
    """Raises ValueError with a message for people when the file is not a toy model."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"Could not read {path} as a safetensors file: {exc}") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not a 2D toy model saved by this app "
                         "(its safetensors header has no toy2d format tag).")
    try:
        config = ModelConfig(**json.loads(metadata["config"]))
        schedule = ScheduleSpec(**json.loads(metadata["schedule"]))
        points = tensors.pop(_POINTS_KEY, None)
        dataset = DatasetSpec(metadata["dataset"], points=points)
        steps = int(metadata.get("steps_trained", "0"))
        objective = metadata.get("objective", "eps")  # files from before objectives: ε
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} has a damaged toy-model header: {exc}") from None
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return ToyModel(weights=weights, config=config, schedule=schedule, dataset=dataset,
                    steps_trained=steps, objective=objective)
