"""Training objectives of the 2D toy: ε, x₀, v and flow matching (engine/toy2d/objectives.py,
flow.py): the target formulas, x̂₀ recovery, the refusals, zero terminal SNR and a short run each."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.schedules.types import ScheduleSpec
from engine.toy2d.objectives import (
    check_combination,
    flow_noised,
    flow_target,
    flow_x0_and_epsilon,
    predicted_epsilon,
    predicted_x0,
    target,
)
from engine.toy2d.types import DDPM_FAMILY, DatasetSpec, ModelConfig, SampleRequest, TrainRequest

RNG = np.random.default_rng(0)
X0, NOISE = RNG.standard_normal((64, 2)), RNG.standard_normal((64, 2))
SMALL = ModelConfig(hidden=64, layers=2)


@pytest.mark.parametrize("objective", DDPM_FAMILY)
@pytest.mark.parametrize("alpha_bar", [0.999, 0.5, 1e-4])
def test_each_target_gives_back_x0_and_the_noise(objective, alpha_bar):
    x_t = np.sqrt(alpha_bar) * X0 + np.sqrt(1 - alpha_bar) * NOISE
    goal = target(objective, X0, NOISE, alpha_bar)
    np.testing.assert_allclose(predicted_x0(objective, goal, x_t, alpha_bar), X0, atol=1e-6)
    np.testing.assert_allclose(predicted_epsilon(objective, goal, x_t, alpha_bar), NOISE,
                               atol=1e-6)


def test_v_is_diffusers_velocity_and_only_epsilon_fails_at_zero_snr():
    import torch
    from diffusers import DDPMScheduler

    scheduler = DDPMScheduler(rescale_betas_zero_snr=True)
    t = torch.tensor([10, 500, 999])
    x0, noise = torch.from_numpy(X0[:3]), torch.from_numpy(NOISE[:3])
    alpha_bar = scheduler.alphas_cumprod.double()[t][:, None]
    torch.testing.assert_close(target("v", x0, noise, alpha_bar),
                               scheduler.get_velocity(x0, noise, t).double())
    assert float(alpha_bar[2]) == 0.0  # zero terminal SNR: x_T is pure noise
    x_t = noise[2:]  # = √0·x₀ + √1·ε
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.isfinite(predicted_x0("eps", NOISE[2:3], x_t.numpy(), 0.0)).all()
    for objective in ("x0", "v"):  # x̂₀ = −v̂ at ᾱ = 0: finite
        goal = target(objective, x0[2:], noise[2:], 0.0)
        torch.testing.assert_close(predicted_x0(objective, goal, x_t, 0.0), x0[2:])


def test_flow_path_is_straight_and_its_velocity_recovers_both_ends():
    goal = flow_target(X0, NOISE)
    for t in (0.0, 0.3, 1.0):
        x_t = flow_noised(X0, NOISE, t)
        x0, eps = flow_x0_and_epsilon(goal, x_t, t)
        np.testing.assert_allclose(x0, X0, atol=1e-12)
        np.testing.assert_allclose(eps, NOISE, atol=1e-12)
    # Straight: x_t moves by the same velocity at every t.
    np.testing.assert_allclose(flow_noised(X0, NOISE, 0.7) - flow_noised(X0, NOISE, 0.2),
                               0.5 * goal, atol=1e-12)


def test_nonsense_combinations_are_refused_with_a_sentence():
    assert "--zero-snr makes no sense" in check_combination("flow", "euler", True)
    assert "Use euler or heun" in check_combination("flow", "ddpm", False)
    assert "Use euler or heun" in check_combination("flow", "ddim", False)
    assert "Unknown objective" in check_combination("score", "ddpm", False)
    assert "Unknown sampler" in check_combination("eps", "rk45", False)
    for ok in [("eps", "ddpm", True), ("v", "ddim", True), ("x0", "ddpm", False),
               ("flow", "euler", False), ("flow", "heun", False)]:
        assert check_combination(*ok) is None, ok
    with pytest.raises(ValueError, match="no sense"):
        TrainRequest(objective="flow", schedule=ScheduleSpec.preset("linear", 1000, True))


def test_cli_refuses_flow_with_ddpm_before_training(tmp_path, capsys):
    from main import main

    for extra in (["--sampler", "ddpm"], ["--zero-snr"]):
        code = main(["toy2d", "--dataset", "circles", "--objective", "flow", *extra,
                     "--out", str(tmp_path / "a.csv"), "--real-out", str(tmp_path / "b.csv")])
        assert code == 2 and "Flow matching" in capsys.readouterr().err
        assert not (tmp_path / "a.csv").exists()


def train(objective: str, steps: int, zero_snr: bool = False, dataset: str = "gaussian_mixture"):
    from engine.toy2d.training import run_train_job

    schedule = ScheduleSpec.preset("linear", 1000, zero_snr)
    return run_train_job(TrainRequest(dataset=DatasetSpec(dataset), steps=steps,
                                      batch_size=256, schedule=schedule, config=SMALL,
                                      objective=objective, learning_rate=3e-3), Reporter())


@pytest.fixture(scope="module")
def zero_snr_models():
    return {objective: train(objective, 1, zero_snr=True).model for objective in ("eps", "v")}


def test_v_prediction_samples_from_t_T_exactly_and_eps_falls_back(zero_snr_models):
    from engine.toy2d.sampling import run_sample_job

    starts = {}
    for objective, model in zero_snr_models.items():
        result = run_sample_job(SampleRequest(model=model, sampler="ddim", num_points=50,
                                              num_inference_steps=5), Reporter())
        assert np.isfinite(result.samples).all() and result.objective == objective
        starts[objective] = (result.start_t, result.start_note)
    assert starts["v"] == (999, "")
    assert starts["eps"][0] == 998 and "cannot form x̂₀" in starts["eps"][1]
    with pytest.raises(ValueError, match="trained for v-prediction"):
        SampleRequest(model=zero_snr_models["v"], objective="eps")


@pytest.mark.parametrize("objective,samplers", [("eps", ("ddim",)), ("x0", ("ddim",)),
                                                ("v", ("ddpm",)), ("flow", ("euler", "heun"))])
def test_a_short_run_of_each_objective_learns_the_moons(objective, samplers, tmp_path):
    """200 steps: far from good, but much nearer the data than the starting noise (a wrong
    target or prediction type throws the points far off)."""
    from engine.toy2d.quality import mean_nn_distance
    from engine.toy2d.sampling import run_sample_job
    from engine.toy2d.storage import load_model, save_model

    state = train(objective, 200, dataset="two_moons")
    save_model(state.model, tmp_path / "m.safetensors")
    model = load_model(tmp_path / "m.safetensors")
    assert model.objective == objective
    for sampler in samplers:
        result = run_sample_job(SampleRequest(model=model, sampler=sampler, num_points=300,
                                              num_inference_steps=20, seed=1), Reporter())
        noise = mean_nn_distance(result.trajectory[0], result.real)
        assert result.quality.nn_distance < 0.75 * noise, (sampler, result.quality.summary)
