"""2D toy diffusion engine: data sets, training, sampling, fields, storage, CLI (no Qt)."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest

from engine.errors import Cancelled
from engine.reporting import Reporter
from engine.toy2d.datasets import sample_dataset
from engine.toy2d.quality import mmd
from engine.toy2d.types import (
    DATASET_NAMES,
    DatasetSpec,
    FieldRequest,
    SampleRequest,
    ToyForwardRequest,
    TrainRequest,
)

FAST_SAMPLING = {"sampler": "ddim", "num_inference_steps": 20, "num_points": 500, "seed": 3}


def spec_for(name: str) -> DatasetSpec:
    drawn = np.array([[0, 0], [1, 2], [2, 0], [3, 2], [4, 0]], float) * 37 + 100
    return DatasetSpec(name, points=drawn if name == "custom" else None)


@pytest.mark.parametrize("name", list(DATASET_NAMES))
def test_datasets_are_seeded_centred_and_unit_variance(name):
    points = sample_dataset(spec_for(name), 4000, seed=7)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    assert np.all(np.isfinite(points))
    assert np.abs(points.mean(axis=0)).max() < 0.1
    assert 0.9 < points.var(axis=0).mean() < 1.1  # one isotropic scale: shapes keep their aspect
    np.testing.assert_array_equal(points, sample_dataset(spec_for(name), 4000, seed=7))
    assert not np.array_equal(points, sample_dataset(spec_for(name), 4000, seed=8))


def test_custom_data_set_needs_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        DatasetSpec("custom", points=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Unknown data set"):
        DatasetSpec("spiral")


def test_mmd_separates_distributions():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((500, 2)), rng.standard_normal((500, 2))
    assert mmd(a, b) < 0.01
    assert mmd(a, b + 1.0) > 10 * mmd(a, b)


@pytest.fixture(scope="module")
def trained():
    from engine.toy2d.training import run_train_job

    return run_train_job(TrainRequest(dataset=DatasetSpec("two_moons"), steps=600, seed=0),
                         Reporter())


@pytest.fixture(scope="module")
def untrained():
    from engine.toy2d.training import run_train_job

    return run_train_job(TrainRequest(dataset=DatasetSpec("two_moons"), steps=1, seed=0),
                         Reporter())


def test_training_lowers_the_loss(trained):
    assert trained.steps_done == 600 and len(trained.losses) == 600
    assert trained.losses[-100:].mean() < 0.75 * trained.losses[:50].mean()


def test_trained_model_beats_untrained_by_a_wide_margin(trained, untrained):
    from engine.toy2d.sampling import run_sample_job

    good = run_sample_job(SampleRequest(model=trained.model, **FAST_SAMPLING), Reporter()).quality
    bad = run_sample_job(SampleRequest(model=untrained.model, **FAST_SAMPLING), Reporter()).quality
    assert good.mmd < bad.mmd / 3
    assert good.nn_distance < bad.nn_distance / 3
    assert good.mmd_real_reference < good.mmd  # the floor is below what 600 steps reach


def test_ddim_with_eta_zero_is_deterministic(trained):
    from engine.runtime import import_torch
    from engine.toy2d.sampling import reverse_process

    torch = import_torch()
    noise = torch.randn((200, 2), generator=torch.Generator().manual_seed(1))

    def run(sampler, eta, generator_seed):
        generator = torch.Generator().manual_seed(generator_seed)
        return reverse_process(trained.model, sampler, noise.clone(), 25, eta, generator, 10)[1]

    # The generator feeds only the per-step noise, which η = 0 switches off.
    np.testing.assert_array_equal(run("ddim", 0.0, 1), run("ddim", 0.0, 2))
    assert not np.allclose(run("ddim", 1.0, 1)[-1], run("ddim", 1.0, 2)[-1])
    assert not np.allclose(run("ddpm", 0.0, 1)[-1], run("ddpm", 0.0, 2)[-1])


def test_sample_job_records_scrubbable_trajectories(trained):
    from engine.toy2d.sampling import run_sample_job

    result = run_sample_job(SampleRequest(model=trained.model, sampler="ddpm", num_points=50,
                                          max_frames=21), Reporter())
    assert result.num_inference_steps == 1000
    assert result.trajectory.shape == (21, 50, 2)
    assert result.timesteps[0] == 999 and result.timesteps[-1] == -1
    assert np.all(np.diff(result.timesteps) < 0)
    assert abs(result.trajectory[0].std() - 1) < 0.3  # starts as N(0, I) noise


def test_pause_and_resume_continue_the_same_run(trained):
    from engine.toy2d.model import build_model, weights_to_numpy
    from engine.toy2d.training import run_train_job

    request = TrainRequest(dataset=DatasetSpec("two_moons"), steps=120, seed=0)
    stop = threading.Event()

    def on_progress(update):
        if update.done >= 40:
            stop.set()

    with pytest.raises(Cancelled) as cancelled:
        run_train_job(request, Reporter(stop, on_progress=on_progress))
    paused = cancelled.value.partial
    assert 40 <= paused.steps_done < 120 and len(paused.losses) == paused.steps_done
    assert paused.optimizer  # Adam's moments travel with the state
    # A restart from scratch with the same seed would replay the same first losses and end at
    # 120 steps too: what tells a resume apart is that it trains only the missing steps.
    done, partials = [], []
    resumed = run_train_job(TrainRequest(dataset=request.dataset, steps=120, seed=0,
                                         resume=paused),
                            Reporter(on_progress=lambda update: done.append(update.done),
                                     on_partial=partials.append))
    assert resumed.steps_done == 120 and len(resumed.losses) == 120
    np.testing.assert_array_equal(resumed.losses[: paused.steps_done], paused.losses)
    assert done[0] == paused.steps_done + 1 and done[-1] == 120  # the step counter continues
    assert partials[0].first_step == paused.steps_done
    assert sum(len(partial.losses) for partial in partials) == 120 - paused.steps_done
    assert resumed.optimizer["0.step"] == 120  # Adam's own step count continues too
    # Resuming continues from the paused weights (a fresh start would be far worse).
    assert resumed.losses[paused.steps_done:].mean() < paused.losses[:20].mean()

    # The weights continue from the paused ones: one more step moves each by about the
    # learning rate at most, while the fresh initial weights lie dozens of steps away.
    one_more = run_train_job(TrainRequest(dataset=request.dataset, steps=paused.steps_done + 1,
                                          seed=0, resume=paused), Reporter())
    assert one_more.steps_done == paused.steps_done + 1
    initial = weights_to_numpy(build_model(request.config, request.seed))
    for name, weights in paused.model.weights.items():
        moved = np.abs(one_more.model.weights[name] - weights).max()
        assert 0 < moved < 3 * request.learning_rate
        assert np.abs(initial[name] - weights).max() > 5 * moved


def test_field_is_the_score_of_the_noised_data(trained):
    from engine.toy2d.field import run_field_job
    from engine.toy2d.forward import run_forward_job

    result = run_field_job(FieldRequest(model=trained.model, t=300, grid=9), Reporter())
    assert result.positions.shape == result.epsilon.shape == result.score.shape == (81, 2)
    # σ is the forward process's noise level at t: √(1 − ᾱ_t) of the model's schedule.
    forward = run_forward_job(ToyForwardRequest(schedule=trained.model.schedule, num_points=10,
                                             frames=2, paths=1), Reporter())
    assert result.sigma == pytest.approx(np.sqrt(1 - forward.alphas_cumprod[300]), rel=1e-5)
    # At t = T−1 the noised data is N(0, I), whose score is −x: the field shows it there.
    last = run_field_job(FieldRequest(model=trained.model, t=999, grid=9), Reporter())
    inner = np.hypot(*last.positions.T) <= 2.2
    np.testing.assert_allclose(last.score[inner], -last.positions[inner], atol=0.3)
    # At t = 200 the noised data is the real points shrunk by √ᾱ and blurred by N(0, σ²): a
    # Gaussian mixture with a score of its own. Near the data (where training saw points) the
    # learned field points the same way and is about as long (dropping 1/σ halves it).
    data = sample_dataset(DatasetSpec("two_moons"), 4000, seed=1).astype(np.float64)
    middle = run_field_job(FieldRequest(model=trained.model, t=200, grid=9, extent=2.4),
                           Reporter())
    sigma2 = middle.sigma ** 2
    offsets = np.sqrt(1 - sigma2) * data[None] - middle.positions[:, None].astype(np.float64)
    log_weights = -(offsets ** 2).sum(-1) / (2 * sigma2)
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    exact = (weights[..., None] * offsets).sum(axis=1) / sigma2
    close = np.sqrt((offsets ** 2).sum(-1)).min(axis=1) < 2 * middle.sigma
    learned, exact = middle.score[close], exact[close]
    cosine = (learned * exact).sum(1) / (np.hypot(*learned.T) * np.hypot(*exact.T))
    assert np.median(cosine) > 0.95
    assert 0.75 < np.median(np.hypot(*learned.T) / np.hypot(*exact.T)) < 1.3
    # At small t the score points from the far corners back toward the data (inward).
    near = run_field_job(FieldRequest(model=trained.model, t=5, grid=9), Reporter())
    corners = np.abs(near.positions).min(axis=1) > 2.5
    assert np.all((near.score[corners] * near.positions[corners]).sum(axis=1) < 0)


def test_forward_chain_ends_in_standard_normal():
    from engine.toy2d.forward import run_forward_job

    result = run_forward_job(ToyForwardRequest(dataset=DatasetSpec("swiss_roll"), num_points=2000,
                                            frames=11, paths=4), Reporter())
    np.testing.assert_array_equal(result.frames[0], result.data)
    assert result.timesteps[0] == -1 and result.timesteps[-1] == 999
    assert result.frames.shape == (len(result.timesteps), 2000, 2)
    assert result.path_values.shape == (1000, 4)
    end = result.frames[-1]
    assert np.abs(end.mean(axis=0)).max() < 0.1 and np.abs(end.std(axis=0) - 1).max() < 0.1


def test_save_and_load_round_trip(trained, tmp_path):
    from engine.toy2d.storage import load_model, save_model

    path = tmp_path / "moons.safetensors"
    save_model(trained.model, path)
    loaded = load_model(path)
    assert loaded.config == trained.model.config and loaded.schedule == trained.model.schedule
    assert loaded.dataset == trained.model.dataset and loaded.steps_trained == 600
    for key, value in trained.model.weights.items():
        np.testing.assert_array_equal(loaded.weights[key], value)

    bogus = tmp_path / "not-a-model.safetensors"
    bogus.write_bytes(b"definitely not safetensors")
    with pytest.raises(ValueError, match="safetensors"):
        load_model(bogus)


def test_cli_writes_generated_and_real_csv(tmp_path, capsys):
    from main import main

    generated, real = tmp_path / "gen.csv", tmp_path / "real.csv"
    code = main(["toy2d", "--dataset", "circles", "--steps", "30", "--samples", "120",
                 "--sampler", "ddim", "--sampling-steps", "10", "--out", str(generated),
                 "--real-out", str(real)])
    assert code == 0
    for path in (generated, real):
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["x", "y"] and len(rows) == 121
        assert all(np.isfinite([float(v) for v in row]).all() for row in rows[1:])
    printed = capsys.readouterr().out
    assert "MMD" in printed and "real-vs-real" in printed


def test_cli_rejects_bad_input_before_training(tmp_path, capsys):
    from main import main

    code = main(["toy2d", "--dataset", "circles", "--samples", "0", "--out", str(tmp_path / "a"),
                 "--real-out", str(tmp_path / "b")])
    assert code == 2 and "number of points" in capsys.readouterr().err
