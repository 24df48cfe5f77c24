"""Fixtures of the Stable Diffusion engine tests: the tiny random-weight pipeline, built once
per session through the developer command (as the packaging smoke test does)."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.types import ModelSource


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from playground_gui.app import main

    directory = tmp_path_factory.mktemp("tiny-sd")
    assert main(["make-tiny-sd", str(directory)]) == 0
    return directory


@pytest.fixture(scope="session")
def tiny_folder(tiny_dir):
    return ModelSource(str(tiny_dir / "tiny-sd"))


def _made_by_the_command(tmp_path_factory, family: str) -> ModelSource:
    """A tiny random-weight folder of ``family`` written by ``make-tiny-sd --family`` (the
    fixtures in engine/fixtures/; the packaging smoke test uses the same command)."""
    from playground_gui.app import main

    directory = tmp_path_factory.mktemp(f"tiny-{family}")
    assert main(["make-tiny-sd", str(directory), "--family", family]) == 0
    return ModelSource(str(directory / f"tiny-{family}"))


@pytest.fixture(scope="session")
def tiny_sd3(tmp_path_factory):
    """A tiny random-weight SD 3 folder (engine/fixtures/tiny_sd3.py)."""
    return _made_by_the_command(tmp_path_factory, "sd3")


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory):
    """A tiny random-weight Flux (dev-like) folder (engine/fixtures/tiny_flux.py)."""
    return _made_by_the_command(tmp_path_factory, "flux")


@pytest.fixture(scope="session")
def taesd_folders(tmp_path_factory):
    """Tiny random TAESD-architecture decoders: {4: 4-channel folder, 16: 16-channel folder}."""
    from engine.fixtures.tiny_taesd import save_tiny_taesd

    directory = tmp_path_factory.mktemp("taesd")
    return {channels: save_tiny_taesd(directory, channels) for channels in (4, 16)}
