"""Tiny random-weight SDXL base and refiner folders, built once per session (engine/fixtures)."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.types import ModelSource


@pytest.fixture(scope="session")
def sdxl_dir(tmp_path_factory):
    from engine.fixtures.tiny_sdxl import save_tiny_sdxl_pipeline

    return save_tiny_sdxl_pipeline(tmp_path_factory.mktemp("tiny-sdxl"))


@pytest.fixture(scope="session")
def sdxl_source(sdxl_dir):
    return ModelSource(str(sdxl_dir))


@pytest.fixture(scope="session")
def refiner_dir(sdxl_dir, tmp_path_factory):
    from engine.fixtures.tiny_sdxl_refiner import save_tiny_sdxl_refiner

    return save_tiny_sdxl_refiner(sdxl_dir, tmp_path_factory.mktemp("tiny-sdxl-refiner"))
