"""Shared fixtures of the Stable Diffusion tests: the tiny random-weight pipeline, built once
per session through the developer command (as the packaging smoke test does)."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions

CPU = PipelineOptions(device="cpu")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from playground_gui.app import main

    directory = tmp_path_factory.mktemp("tiny-sd")
    assert main(["make-tiny-sd", str(directory)]) == 0
    return directory


@pytest.fixture(scope="session")
def tiny_folder(tiny_dir):
    return ModelSource(str(tiny_dir / "tiny-sd"))


def tiny_request(source, **changes) -> GenerationRequest:
    values = dict(prompt="a photo of a cat", source=source, options=CPU, steps=2, width=64,
                  height=64, seed=7, preview_every=0)
    values.update(changes)
    return GenerationRequest(**values)
