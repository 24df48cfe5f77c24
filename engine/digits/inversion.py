"""DDIM inversion: run deterministic DDIM backwards (x₀ → x_T), then forwards again.

DDIM with η = 0 is an ODE discretisation, so it can be run in reverse with diffusers'
``DDIMInverseScheduler``: the x_T it finds regenerates (nearly) the same image. The small error
comes from evaluating ε̂ at the neighbouring step during inversion (the usual approximation).
"""

from __future__ import annotations

import numpy as np

from engine.digits.types import InversionRequest, InversionResult
from engine.errors import UserFacingError
from engine.images import to_uint8, to_unit_range

LATENT_DISPLAY_RANGE = 3.0


def run_inversion(request: InversionRequest, reporter) -> InversionResult:
    from engine.runtime import import_torch

    torch = import_torch()
    from diffusers import DDIMInverseScheduler

    from engine.device import current_device
    from engine.digits.data import load_examples
    from engine.digits.model import EXAMPLES_FILE, cached_model
    from engine.digits.sampling import guided_noise, scheduler_for

    device = current_device()
    model = cached_model(request.model_dir, device)
    examples = model.folder / EXAMPLES_FILE
    if not examples.is_file():
        raise UserFacingError(f"No example digits next to the model ({examples} is missing). "
                              "`python main.py train digits` writes them; or restore the file.")
    images, labels = load_examples(examples)
    if not 0 <= request.example_index < len(images):
        raise ValueError(f"Choose an example between 0 and {len(images) - 1}.")
    label = int(labels[request.example_index])
    x0 = torch.from_numpy(to_unit_range(images[request.example_index]))
    x0 = x0.reshape(1, 1, *x0.shape).to(device)
    class_labels = torch.tensor([label], device=device) if request.use_label else None
    config = dict(model.scheduler_config, timestep_spacing="trailing")
    config.pop("clip_sample", None)
    inverse = DDIMInverseScheduler.from_config(config, clip_sample=False)
    inverse.set_timesteps(request.steps, device=device)
    forward = scheduler_for("ddim", dict(config, clip_sample=False))
    forward.set_timesteps(request.steps, device=device)
    total = 2 * len(inverse.timesteps)

    def pixels(x, low=-1.0, high=1.0):
        return to_uint8(x[0, 0].cpu().numpy(), low, high)

    path_in, path_out = [pixels(x0)], []
    sample = x0
    with torch.inference_mode():
        for index, t in enumerate(inverse.timesteps):
            reporter.check_cancelled()
            noise_pred = guided_noise(model.unet, sample, t, class_labels, request.guidance,
                                      model.null_class)
            sample = inverse.step(noise_pred, t, sample).prev_sample
            path_in.append(pixels(sample, -LATENT_DISPLAY_RANGE, LATENT_DISPLAY_RANGE)
                           if index == len(inverse.timesteps) - 1 else pixels(sample))
            reporter.progress(index + 1, total, "inverting")
        latent = sample.clone()
        path_out.append(path_in[-1])
        for index, t in enumerate(forward.timesteps):
            reporter.check_cancelled()
            noise_pred = guided_noise(model.unet, sample, t, class_labels, request.guidance,
                                      model.null_class)
            sample = forward.step(noise_pred, t, sample, eta=0.0).prev_sample
            path_out.append(pixels(sample))
            reporter.progress(len(inverse.timesteps) + index + 1, total, "regenerating")
    reconstruction = sample.clamp(-1, 1)
    error = (reconstruction - x0)[0, 0].cpu().numpy()
    return InversionResult(
        original=pixels(x0), label=label,
        latent=pixels(latent, -LATENT_DISPLAY_RANGE, LATENT_DISPLAY_RANGE),
        inversion_path=np.stack(path_in), reconstruction=pixels(reconstruction),
        reconstruction_path=np.stack(path_out), mse=float((error ** 2).mean()),
        max_abs_error=float(np.abs(error).max()), latent_std=float(latent.std()), device=device)
