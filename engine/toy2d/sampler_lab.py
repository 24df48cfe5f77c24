"""Sampler lab: the endpoint error of ODE samplers against their number of steps, with an exact model.

Every sampler starts from the same noise and runs N steps of the probability-flow ODE on a
Karras σ grid (ρ = 7) from the schedule's σ_max to its σ_min. The endpoints are compared at σ_min
(no final jump to σ = 0, which would dominate the error and hide the order) with a reference
solution of the same ODE (RK4 with many steps, same noise). The error is the mean Euclidean
distance between endpoints; error ∝ N⁻ᵖ gives the order p, fitted by least squares on log–log
axes: ≈ 1 for DDIM (Euler), ≈ 2 for Heun and DPM-Solver++ 2M.

``compare_samplers`` is numpy only; ``run_sampler_lab_job`` reads σ_min and σ_max from the
schedule (diffusers computes its ᾱ) and builds the exact model.
"""

from __future__ import annotations

import numpy as np

from engine.samplers.builder import sampler_function
from engine.samplers.ode import karras_sigmas
from engine.toy2d.types import (
    LAB_REFERENCE_SAMPLER,
    LAB_SAMPLERS,
    SamplerLabRequest,
    SamplerLabResult,
)


def fitted_order(steps, errors) -> float:
    """p of error ≈ c·N⁻ᵖ (least squares of log error on log N); NaN without two usable points."""
    steps, errors = np.asarray(steps, dtype=np.float64), np.asarray(errors, dtype=np.float64)
    usable = np.isfinite(errors) & (errors > 0)
    if len(np.unique(steps[usable])) < 2:
        return float("nan")
    return float(-np.polyfit(np.log(steps[usable]), np.log(errors[usable]), 1)[0])


def sigma_range(alphas_cumprod: np.ndarray) -> tuple[float, float]:
    """σ = √((1−ᾱ)/ᾱ) at t = 0 and at the last t with ᾱ above 0 (zero terminal SNR: T−2)."""
    alphas_cumprod = np.asarray(alphas_cumprod, dtype=np.float64)
    positive = alphas_cumprod[alphas_cumprod > 0]
    sigmas = np.sqrt((1 - positive) / positive)
    return float(sigmas[0]), float(sigmas[-1])


def compare_samplers(model, noise: np.ndarray, sigma_min: float, sigma_max: float,
                     samplers, steps, reference_steps: int, rho: float = 7.0, reporter=None):
    """(rows, orders, reference_change) for ``samplers`` (lab names) and step counts ``steps``.

    ``noise`` is N(0, I) on the variance-preserving scale (x_T of DDPM); on the σ scale that is
    x̃ = x_T/√ᾱ = √(1 + σ_max²)·noise. ``reference_change``: how far the reference moves when
    it takes half its steps, an upper bound on its own error (it should be far below the rows)."""
    start = np.sqrt(1.0 + sigma_max * sigma_max) * np.asarray(noise, dtype=np.float64)
    total = sum(steps) * len(samplers) + reference_steps + reference_steps // 2
    done = 0

    def run(key: str, count: int, label: str):
        nonlocal done

        def callback(info) -> None:
            nonlocal done
            done += 1
            if reporter is not None:
                reporter.check_cancelled()
                reporter.progress(done, total, f"{label}, {count} steps")

        sigmas = karras_sigmas(count, sigma_min, sigma_max, rho)
        return sampler_function(key)(model, start, sigmas, callback=callback)

    reference = run(LAB_REFERENCE_SAMPLER, reference_steps, "reference RK4")
    coarse = run(LAB_REFERENCE_SAMPLER, reference_steps // 2, "reference RK4 (half steps)")
    reference_change = float(np.linalg.norm(coarse - reference, axis=1).mean())
    rows, orders = [], {}
    for name in samplers:
        errors = []
        for count in steps:
            end = run(LAB_SAMPLERS[name], count, name)
            errors.append(float(np.linalg.norm(end - reference, axis=1).mean()))
            rows.append((name, int(count), errors[-1]))
        orders[name] = fitted_order(steps, errors)
    return tuple(rows), orders, reference_change


def run_sampler_lab_job(request: SamplerLabRequest, reporter) -> SamplerLabResult:
    from engine.samplers.builder import noise_schedule
    from engine.toy2d.datasets import sample_dataset
    from engine.toy2d.exact import dataset_mixture, denoiser, empirical_mixture

    _, alphas_cumprod = noise_schedule(request.schedule.diffusers_config())
    sigma_min, sigma_max = sigma_range(alphas_cumprod)
    if request.dataset.name == "gaussian_mixture":
        mixture, model = dataset_mixture(request.dataset), "exact Gaussian mixture"
    else:
        points = sample_dataset(request.dataset, request.training_points, request.seed + 1_000_003)
        mixture = empirical_mixture(points)
        model = f"ideal denoiser of {request.training_points} training points"
    noise = np.random.default_rng(request.seed).standard_normal((request.num_points, 2))
    steps = tuple(sorted(set(request.steps)))
    rows, orders, reference_change = compare_samplers(
        denoiser(mixture), noise, sigma_min, sigma_max, request.samplers, steps,
        request.reference_steps, request.rho, reporter)
    return SamplerLabResult(rows=rows, orders=orders, sigma_min=sigma_min, sigma_max=sigma_max,
                            model=model, reference_change=reference_change)
