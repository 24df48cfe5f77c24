"""Benchmark: what guidance cut-off and rescale do to the digits model's samples.

For each setting, 20 samples per digit (DDIM 30 steps, seed 1234) are classified by the
evaluation's classifier (an SVC trained on real 16×16 digits); the table is the share read as
the asked-for digit. Also checks that the cut-off run equals a plain loop with
``sampling.guided_noise`` (g, then 1 after the cut-off), bit for bit. About 5 min on one core.

    python tests/benchmarks/bench_guidance_cutoff.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DIFFUSION_PLAYGROUND_THREADS", "1")

SETTINGS = ((1.0, 1.0, 0.0), (1.5, 1.0, 0.0), (1.5, 0.5, 0.0), (3.0, 1.0, 0.0), (3.0, 0.9, 0.0),
            (3.0, 0.7, 0.0), (3.0, 0.5, 0.0), (3.0, 1.0, 0.7))
STEPS, PER_DIGIT, SEED = 30, 20, 1234


def samples(model, labels, guidance, cutoff, rescale):
    import torch

    from engine.digits.sampling import ReverseRun, scheduler_for

    generator = torch.Generator().manual_seed(SEED)
    noise = torch.randn((len(labels), 1, 16, 16), generator=generator)
    run = ReverseRun(model, scheduler_for("ddim", model.scheduler_config), STEPS,
                     torch.from_numpy(labels), guidance, noise, 0.0, generator, cutoff, rescale)
    for _ in run:
        pass
    return run.final[:, 0].clamp(-1, 1).numpy()


def plain_loop(model, labels, guidance, guided):
    import torch

    from engine.digits.sampling import guided_noise, scheduler_for

    generator = torch.Generator().manual_seed(SEED)
    x = torch.randn((len(labels), 1, 16, 16), generator=generator)
    scheduler = scheduler_for("ddim", model.scheduler_config)
    scheduler.set_timesteps(STEPS)
    x = x * scheduler.init_noise_sigma
    with torch.inference_mode():
        for index, t in enumerate(scheduler.timesteps):
            eps = guided_noise(model.unet, scheduler.scale_model_input(x, t), t,
                               torch.from_numpy(labels), guidance if index < guided else 1.0,
                               model.null_class)
            x = scheduler.step(eps, t, x, eta=0.0).prev_sample
    return x[:, 0].clamp(-1, 1).numpy()


def main() -> int:
    import numpy as np

    from engine.digits.data import load_split
    from engine.digits.evaluation import train_classifier
    from engine.digits.model import load_model
    from engine.samplers.guidance import guided_steps

    classifier = train_classifier(load_split())
    model = load_model(None, "cpu")
    labels = np.repeat(np.arange(10), PER_DIGIT)
    print("guidance  cut-off  rescale  accuracy")
    for guidance, cutoff, rescale in SETTINGS:
        images = samples(model, labels, guidance, cutoff, rescale)
        accuracy = float((classifier.predict(images.reshape(len(images), -1)) == labels).mean())
        print(f"{guidance:8g}  {cutoff:7g}  {rescale:7g}  {accuracy:8.1%}", flush=True)
        if cutoff < 1.0 and rescale == 0.0:
            plain = plain_loop(model, labels, guidance, guided_steps(cutoff, STEPS))
            assert np.array_equal(plain, images), "the cut-off run differs from the plain loop"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
