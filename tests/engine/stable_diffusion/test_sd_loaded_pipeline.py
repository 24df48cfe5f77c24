"""What the engine keeps about a loaded model lives in LoadedPipeline, not on diffusers objects."""

from __future__ import annotations

import numpy as np

from engine.reporting import Reporter
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


def _our_attributes(obj) -> set[str]:
    return {name for name in vars(obj) if "playground" in name or name == "_caller_dtype"}


def test_runs_keep_their_state_in_loaded_pipeline(tiny_folder):
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline, original_scheduler, unload

    unload()  # a fresh load: what earlier tests in this process ran must not matter
    loaded = get_pipeline(tiny_folder, CPU)
    model_scheduler = loaded.pipe.scheduler
    assert type(model_scheduler).__name__ == "PNDMScheduler"
    run_generation(tiny_request(tiny_folder, steps=1, scheduler="DDIM"), Reporter())
    assert type(loaded.pipe.scheduler).__name__ == "DDIMScheduler"  # swapped in for the run
    init = np.full((64, 64, 3), 90, np.uint8)
    run_generation(tiny_request(tiny_folder, steps=2, mode="img2img", init_image=init,
                                scheduler="Euler"), Reporter())
    # "default" is the model's own scheduler again, whatever ran before.
    result = run_generation(tiny_request(tiny_folder, steps=1), Reporter())
    assert result.scheduler_class == "PNDMScheduler"

    assert loaded.original_scheduler is model_scheduler
    assert original_scheduler(loaded) is original_scheduler(loaded.pipe) is model_scheduler
    img2img = loaded.mode_pipes["img2img"]
    assert original_scheduler(img2img) is model_scheduler and loaded.owns(img2img)
    pipes_and_parts = [loaded.pipe, img2img, loaded.pipe.vae, loaded.pipe.unet,
                       *loaded.pipe.vae.children(), *loaded.pipe.unet.children()]
    assert all(not _our_attributes(each) for each in pipes_and_parts)


def test_a_pipeline_the_engine_did_not_load_answers_with_its_own_scheduler():
    from engine.fixtures.tiny_sd import build_tiny_pipeline
    from engine.stable_diffusion.loading import original_scheduler

    pipe = build_tiny_pipeline()
    assert original_scheduler(pipe) is pipe.scheduler
    assert not _our_attributes(pipe)
