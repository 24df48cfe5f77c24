"""Objectives and samplers together: an x₀- or v-model's output becomes ε̂ in one place
(exact_model.epsilon_model) for Langevin, PC and the field, while diffusers' schedulers step the
raw output with the objective's prediction_type (never converted twice); flow matching refuses
the samplers that need the DDPM family's schedule."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.schedules.types import ScheduleSpec
from engine.toy2d.objectives import check_combination, predicted_epsilon
from engine.toy2d.types import (
    SAMPLERS,
    DatasetSpec,
    ModelConfig,
    PathsRequest,
    SampleRequest,
    TrainRequest,
)

SMALL = ModelConfig(hidden=32, layers=2)


def trained(objective: str, zero_snr: bool = False):
    from engine.toy2d.training import run_train_job

    return run_train_job(TrainRequest(dataset=DatasetSpec("gaussian_mixture"), steps=20,
                                      batch_size=128, config=SMALL, objective=objective,
                                      schedule=ScheduleSpec.preset("linear", 1000, zero_snr)),
                         Reporter()).model


def test_every_sampler_serves_the_ddpm_family_and_flow_only_takes_euler_and_heun():
    for objective in ("eps", "x0", "v"):
        for sampler in SAMPLERS:
            assert check_combination(objective, sampler, True) is None, (objective, sampler)
    for sampler in ("langevin", "pc"):
        assert "Langevin steps on the score" in check_combination("flow", sampler, False)
    assert "Use euler or heun" in check_combination("flow", "dpmpp_2m", False)
    flow = trained("flow")
    with pytest.raises(ValueError, match="Use euler or heun"):
        SampleRequest(model=flow, sampler="langevin")
    with pytest.raises(ValueError, match="no reverse SDE"):
        PathsRequest(model=flow)


@pytest.mark.parametrize("objective", ["x0", "v"])
def test_epsilon_model_converts_and_the_schedulers_do_not_convert_twice(objective):
    import torch

    from engine.toy2d.datasets import extent
    from engine.toy2d.exact_model import epsilon_model, model_alphas_cumprod, network_output
    from engine.toy2d.sampling import CLIP_MARGIN, reverse_process
    from engine.toy2d.schedule import sampling_scheduler

    model = trained(objective)
    x = torch.randn((50, 2), generator=torch.Generator().manual_seed(1))
    raw, kind = network_output(model)
    alpha_bar = model_alphas_cumprod(model)[500]
    np.testing.assert_allclose(epsilon_model(model)(x, 500).numpy(),
                               predicted_epsilon(objective, raw(x, 500), x, alpha_bar).numpy(),
                               atol=1e-6)
    assert kind == objective
    # DDIM on the raw output with prediction_type = objective against DDIM on ε̂ with "epsilon".
    _, frames, _ = reverse_process(model, "ddim", x, 10, 0.0, None, 2)
    scheduler = sampling_scheduler(model.schedule, "ddim", CLIP_MARGIN * extent(model.dataset),
                                   "eps")
    scheduler.set_timesteps(10)
    epsilon, by_hand = epsilon_model(model), x
    for t in scheduler.timesteps:
        by_hand = scheduler.step(epsilon(by_hand, t), t, by_hand,
                                 use_clipped_model_output=True).prev_sample
    np.testing.assert_allclose(frames[-1], by_hand.numpy(), atol=1e-4)


def test_a_v_model_with_zero_snr_samples_with_langevin_and_pc():
    from engine.toy2d.sampling import run_sample_job

    model = trained("v", zero_snr=True)
    for sampler in ("langevin", "pc"):
        result = run_sample_job(SampleRequest(model=model, sampler=sampler, num_points=50,
                                              num_inference_steps=5, langevin_steps=2),
                                Reporter())
        assert np.isfinite(result.trajectory).all() and result.objective == "v"
    ddim = run_sample_job(SampleRequest(model=model, sampler="ddim", num_points=50,
                                        num_inference_steps=5), Reporter())
    euler = run_sample_job(SampleRequest(model=model, sampler="euler", num_points=50,
                                         num_inference_steps=5), Reporter())
    assert (ddim.start_t, ddim.start_note) == (999, "")  # ᾱ = 0 is fine for v with DDIM
    assert euler.start_t == 998 and "σ = √((1−ᾱ)/ᾱ)" in euler.start_note


def test_the_cli_refuses_flow_with_langevin_before_training(tmp_path, capsys):
    from main import main

    code = main(["toy2d", "--dataset", "circles", "--objective", "flow", "--sampler", "langevin",
                 "--out", str(tmp_path / "a.csv"), "--real-out", str(tmp_path / "b.csv")])
    assert code == 2 and "flow-matching model" in capsys.readouterr().err
    assert not (tmp_path / "a.csv").exists()
