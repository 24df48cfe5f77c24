"""Helpers of the Stable Diffusion engine tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from engine.stable_diffusion.types import GenerationRequest, PipelineOptions

CPU = PipelineOptions(device="cpu")


def tiny_request(source, **changes) -> GenerationRequest:
    values = dict(prompt="a photo of a cat", source=source, options=CPU, steps=2, width=64,
                  height=64, seed=7, preview_every=0)
    values.update(changes)
    return GenerationRequest(**values)
