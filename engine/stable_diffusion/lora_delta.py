"""What a LoRA changes: ‖ΔW‖/‖W‖ per layer of the loaded model, at weight 1.

A LoRA adds ΔW = (alpha / rank) · up · down to a layer's weight W (a rank-``rank`` update). The
ratio of Frobenius norms says how much of each layer it rewrites: a style LoRA trained on the
UNet's attention shows large ratios there and none in the text encoder, one trained with the
text encoder shows both. The LoRA is loaded through diffusers (so both the kohya and the
diffusers layouts, mapped onto this model's layers) and ΔW is peft's ``get_delta_weight``: the
file's up/down/alpha, on this model's layer shapes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.stable_diffusion.denoisers import require_unet
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.lora import apply_loras, check_options, quiet_libraries
from engine.stable_diffusion.types import LoraDeltaRequest, LoraDeltaResult


def lora_delta_job(request: LoraDeltaRequest, reporter) -> LoraDeltaResult:
    from engine.runtime import import_torch

    torch = import_torch()
    loaded = get_pipeline(request.source, request.options, reporter)
    require_unet(loaded.pipe, "The LoRA update view")
    check_options(loaded.options, True)
    reporter.progress(0, 2, f"Loading {request.lora.name}…")
    lora = dataclasses.replace(request.lora, weight=1.0)
    with quiet_libraries():
        apply_loras(loaded.pipe, loaded.networks, [lora])  # the next run sets its own again
    adapter = next(iter(loaded.networks.adapters.values()))
    reporter.progress(1, 2, "Measuring the update of each layer…")
    layers, relative, ranks = [], [], []
    models = [("unet", loaded.pipe.unet), ("text_encoder", loaded.pipe.text_encoder),
              ("text_encoder_2", getattr(loaded.pipe, "text_encoder_2", None))]
    with torch.no_grad():
        for prefix, model in models:
            if model is None:
                continue
            for name, module in model.named_modules():
                lora_a = getattr(module, "lora_A", None)
                if lora_a is None or adapter not in lora_a or not hasattr(module, "base_layer"):
                    continue
                delta = module.get_delta_weight(adapter).float()
                base = module.base_layer.weight.float()
                base_norm = float(torch.linalg.vector_norm(base))
                ratio = float(torch.linalg.vector_norm(delta)) / base_norm if base_norm else 0.0
                layers.append(f"{prefix}.{name}")
                relative.append(ratio if np.isfinite(ratio) else 0.0)
                ranks.append(int(module.r[adapter]))
    reporter.progress(2, 2, "Done")
    return LoraDeltaResult(request.lora.name, tuple(layers), np.asarray(relative, np.float64),
                           tuple(ranks))
