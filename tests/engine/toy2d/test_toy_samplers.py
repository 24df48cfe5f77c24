"""The toy's samplers on exact models: every sampler reaches the data, Langevin's stationary law,
ODE vs SDE paths, the score error over t and the ideal denoiser's memorisation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.samplers.langevin import sample_annealed_langevin, sample_predictor_corrector
from engine.toy2d.exact import dataset_mixture, empirical_mixture, log_density, score
from engine.toy2d.exact_model import isotropic_score
from engine.toy2d.types import (
    SAMPLERS,
    DatasetSpec,
    ExactModel,
    MemorisationRequest,
    PathsRequest,
    SampleRequest,
    ScoreErrorRequest,
    TrainRequest,
)

MIXTURE = ExactModel(dataset=DatasetSpec("gaussian_mixture"))
FEW_STEPS = {"ddpm": 100, "ddim": 20, "euler": 20, "heun": 10, "dpmpp_2m": 20, "langevin": 30,
             "pc": 30}


def test_the_isotropic_score_is_the_mixture_score_and_the_log_density_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2)) * 2
    for mixture in (dataset_mixture(DatasetSpec("gaussian_mixture")),
                    empirical_mixture(rng.standard_normal((40, 2)), bandwidth=0.05)):
        for alpha_bar in (0.999, 0.3, 1e-3):
            noised = mixture.noised(alpha_bar)
            fast = isotropic_score(mixture, x, np.sqrt(alpha_bar), 1 - alpha_bar)
            np.testing.assert_allclose(fast, score(noised, x), rtol=1e-7, atol=1e-9)
            h = 1e-5  # central differences of log p_t
            gradient = np.stack([(log_density(noised, x + h * e) - log_density(noised, x - h * e))
                                 / (2 * h) for e in np.eye(2)], axis=1)
            np.testing.assert_allclose(fast, gradient, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_reaches_the_mixture_with_the_exact_model(sampler):
    from engine.toy2d.sampling import run_sample_job

    result = run_sample_job(SampleRequest(model=MIXTURE, sampler=sampler, num_points=300,
                                          num_inference_steps=FEW_STEPS[sampler],
                                          langevin_steps=4), Reporter())
    q = result.quality
    assert np.isfinite(result.trajectory).all() and result.timesteps[-1] == -1
    assert result.trajectory.shape[1:] == (300, 2) and len(result.timesteps) > 2
    assert q.nn_distance <= 2 * q.nn_distance_real_reference, (sampler, q.summary)
    assert q.mmd <= 5 * q.mmd_real_reference + 2e-3, (sampler, q.summary)
    assert result.training_nn is None  # the closed-form mixture memorises nothing


def test_a_langevin_chain_samples_its_gaussian_and_pc_alternates():
    rng = np.random.default_rng(0)
    variance = 0.25  # N(1, 0.25·I) at one level: score −(x − 1)/0.25

    def score(x, i):
        return -(x - 1.0) / variance

    seen = []
    x = sample_annealed_langevin(score, rng.standard_normal((20_000, 2)) * 3, [variance],
                                 steps=200, step_size=0.1, noise=lambda x: rng.standard_normal(x.shape),
                                 callback=seen.append)
    assert len(seen) == 200 and seen[-1]["level"] == 0 and seen[-1]["step"] == 199
    np.testing.assert_allclose(x.mean(0), [1, 1], atol=0.02)
    # ULA's bias at step δ = 0.1·σ²: variance σ²/(1 − δ/(4σ²)) = σ²/0.975.
    np.testing.assert_allclose(x.var(0), variance / 0.975, rtol=0.04)
    moves = []
    sample_predictor_corrector(lambda x, i: x * 0.5, score, np.ones((3, 2)), [1.0, 0.5, 0.1],
                               steps=2, step_size=0.1, noise=lambda x: 0 * x,
                               callback=lambda info: moves.append((info["level"], info["step"])))
    assert moves == [(1, -1), (1, 0), (1, 1), (2, -1), (2, 0), (2, 1), (3, -1)]


def test_ode_and_sde_paths_start_together_and_only_the_sde_varies():
    from engine.jobs import handler_for
    from engine.toy2d.sampling import run_sample_job

    request = PathsRequest(model=MIXTURE, num_points=4, draws=3, steps=20, seed=2)
    result = handler_for(request)(request, Reporter())
    assert result.ode.shape == (21, 4, 2) and result.sde.shape == (21, 3, 4, 2)
    for draw in range(3):
        np.testing.assert_array_equal(result.sde[0, draw], result.ode[0])  # the same noise
    ends = result.sde[-1]
    assert np.linalg.norm(ends[0] - ends[1], axis=1).mean() > 0.05  # fresh noise, other ends
    again = run_sample_job(SampleRequest(model=MIXTURE, sampler="ddim", num_points=4,
                                         num_inference_steps=20, seed=2), Reporter())
    np.testing.assert_allclose(again.samples, result.ode[-1], atol=1e-5)  # one fixed path


def test_the_learned_error_splits_the_loss_and_the_ideal_denoiser_memorises():
    from engine.jobs import handler_for
    from engine.toy2d.training import run_train_job

    model = run_train_job(TrainRequest(dataset=DatasetSpec("gaussian_mixture"), steps=20),
                          Reporter()).model
    request = ScoreErrorRequest(model=model, num_points=4000, times=4)
    result = handler_for(request)(request, Reporter())
    assert result.reference == "exact score (Gaussian mixture)"
    # E‖ε − ε̂_θ‖² = E‖ε − ε̂*‖² + E‖ε̂* − ε̂_θ‖² (ε̂* = E[ε | x_t]): up to sampling noise.
    np.testing.assert_allclose(result.loss, result.floor + result.model_error, rtol=0.1)
    assert (result.model_error > 0.01).all()  # 20 steps learn little

    ideal = ExactModel(dataset=DatasetSpec("two_moons"), ideal=True, training_points=30)
    request = MemorisationRequest(exact=ideal, num_points=100, steps=1000)
    memo = handler_for(request)(request, Reporter())
    assert memo.training.shape == (30, 2) and memo.network is None
    assert np.median(memo.ideal_distances) < 0.05 * np.median(memo.real_distances)


def test_the_cli_samples_with_langevin_and_refuses_a_bad_step_size(tmp_path, capsys):
    from main import main

    out, real = tmp_path / "gen.csv", tmp_path / "real.csv"
    args = ["toy2d", "--dataset", "circles", "--steps", "20", "--samples", "50",
            "--sampler", "Langevin", "--sampling-steps", "5", "--langevin-steps", "3",
            "--langevin-step-size", "0.5", "--out", str(out), "--real-out", str(real)]
    assert main(args) == 0
    assert "quality (langevin, 5 noise levels, K = 3, δ = 0.5)" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 51
    bad = args[:-4] + ["--langevin-step-size", "3", "--out", str(tmp_path / "x.csv"),
                       "--real-out", str(tmp_path / "y.csv")]
    assert main(bad) == 2 and "step size δ must lie in (0, 2]" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_langevin_levels_are_geometric_in_sigma_from_the_last_timestep_to_zero():
    from engine.toy2d.langevin import langevin_timesteps

    alphas_cumprod = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
    timesteps = langevin_timesteps(alphas_cumprod, 40)
    assert timesteps[0] == 999 and timesteps[-1] == 0 and (np.diff(timesteps) < 0).all()
    sigmas = np.sqrt((1 - alphas_cumprod[timesteps]) / alphas_cumprod[timesteps])
    ratios = sigmas[:-1] / sigmas[1:]
    # Even in log σ (up to rounding t to integers), so most levels sit at low noise.
    assert len(timesteps) >= 35 and np.median(ratios) == pytest.approx((sigmas[0] / sigmas[-1])
                                                                       ** (1 / 39), rel=0.05)
    assert (timesteps < 500).sum() > 20  # evenly spaced t would put 20 there
