"""The digits model: training, save/load, every sampler, cancel, evaluation, CLI, inversion."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from engine.digits.types import (
    SAMPLERS,
    EvaluateRequest,
    InversionRequest,
    ReverseRequest,
    TrainDigitsRequest,
)
from engine.errors import Cancelled
from engine.reporting import Reporter

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A tiny UNet trained for a few steps by the real training job (no evaluation)."""
    from engine.digits.training import train_digits

    folder = tmp_path_factory.mktemp("digits")
    request = TrainDigitsRequest(out_dir=str(folder), steps=30, seed=0, batch_size=16,
                                 tiny=True, evaluate_after=False)
    result = train_digits(request, Reporter())
    return folder, result


def test_training_lowers_the_loss_and_writes_a_model(tiny_model_dir):
    folder, result = tiny_model_dir
    first_loss = result.loss_log[0][1]
    assert result.steps == 30
    assert result.final_loss < 0.6 * first_loss
    for name in ("model.safetensors", "config.json", "training.json", "examples.npz"):
        assert (folder / name).is_file()
    card = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    assert "CC BY 4.0" in card["data"] and card["steps"] == 30


def test_saved_and_reloaded_model_gives_identical_samples(tmp_path):
    from engine.digits.model import load_model, new_model, save_model
    from engine.digits.sampling import sample_images

    model = new_model(tiny=True, seed=3)
    model.unet.eval()
    save_model(model, tmp_path)
    labels = np.array([1, 7, 7])
    before = sample_images(model, labels, "ddim", 4, 2.0, seed=11)
    after = sample_images(load_model(tmp_path), labels, "ddim", 4, 2.0, seed=11)
    other_seed = sample_images(model, labels, "ddim", 4, 2.0, seed=12)
    np.testing.assert_array_equal(before, after)
    assert not np.array_equal(before, other_seed)


@pytest.mark.parametrize("sampler", list(SAMPLERS))
def test_each_sampler_runs_and_records_every_step(tiny_model_dir, sampler):
    from engine.digits.sampling import run_reverse

    folder, _ = tiny_model_dir
    steps = []
    reporter = Reporter(on_partial=steps.append)
    request = ReverseRequest(label=4, sampler=sampler, steps=4, batch_size=3, eta=0.5,
                             model_dir=str(folder))
    result = run_reverse(request, reporter)
    count = len(result.timesteps)
    assert count >= 4 and result.completed_steps == count == len(steps)
    assert result.x_t.shape == (count + 1, 3, 16, 16) and result.x_t.dtype == np.uint8
    assert result.noise_pred.shape == result.pred_original.shape == (count, 3, 16, 16)
    assert np.all(np.diff(result.timesteps) <= 0)  # from noisy to clean
    assert np.isfinite(result.samples).all() and result.samples.shape == (3, 16, 16)
    assert not np.array_equal(result.x_t[0], result.x_t[-1])
    assert result.parameters["sampler"] == sampler


def test_cancel_stops_within_one_step(tiny_model_dir):
    from engine.digits.sampling import run_reverse

    folder, _ = tiny_model_dir
    cancel = threading.Event()
    seen = []

    def on_step(step):
        seen.append(step.index)
        if step.index == 2:
            cancel.set()

    request = ReverseRequest(sampler="ddpm", steps=50, batch_size=2, model_dir=str(folder))
    with pytest.raises(Cancelled) as stopped:
        run_reverse(request, Reporter(cancel, on_partial=on_step))
    assert seen == [0, 1, 2]
    partial = stopped.value.partial
    assert partial.completed_steps == 3 and partial.x_t.shape[0] == 3


def test_evaluation_runs_on_a_small_sample(tiny_model_dir):
    from engine.digits.evaluation import evaluate_digits

    folder, _ = tiny_model_dir
    report = evaluate_digits(EvaluateRequest(samples_per_class=2, steps=3, model_dir=str(folder)),
                             Reporter())
    assert len(report.per_class_accuracy) == 10
    assert all(0.0 <= a <= 1.0 for a in report.per_class_accuracy)
    assert report.classifier_real_accuracy > 0.95  # the SVM on real digits is trustworthy
    assert report.memorisation_threshold > 0 and 0.0 <= report.memorised_share <= 1.0


def test_sample_command_writes_grid_and_files_with_parameters(tiny_model_dir, tmp_path, capsys):
    from PIL import Image

    from playground_gui.app import main

    folder, _ = tiny_model_dir
    grid_path = tmp_path / "grid.png"
    assert main(["sample", "--model-dir", str(folder), "--label", "5", "--steps", "3", "--n", "4",
                 "--seed", "2", "--out", str(grid_path)]) == 0
    from engine.png.chunks import read_png_metadata
    from engine.png.record import KIND_DIGITS

    with Image.open(grid_path) as image:
        assert image.text["parameters"].startswith("digit 5\nSteps: 3, Sampler: ddim, CFG scale: 1.5, "
                                                   "Seed: 2, Size: 132x132")
    again = main(["sample", "--model-dir", str(folder), "--steps", "1", "--n", "1",
                  "--out", str(grid_path)])
    assert again == 2 and "already exists" in capsys.readouterr().err  # never overwritten
    metadata = read_png_metadata(grid_path)
    assert metadata.kind == KIND_DIGITS
    assert metadata.request["label"] == 5 and metadata.request["batch_size"] == 4
    assert "initial_noise" not in metadata.request
    assert main(["sample", "--model-dir", str(folder), "--steps", "2", "--n", "3",
                 "--out-dir", str(tmp_path / "each")]) == 0
    assert sorted(p.name for p in (tmp_path / "each").iterdir()) == ["0000.png", "0001.png",
                                                                     "0002.png"]
    each = read_png_metadata(tmp_path / "each" / "0002.png")
    assert each.parameters.prompt == "unconditional" and each.request["label"] is None
    assert each.parameters.extra["Batch index"] == "2" and (each.width, each.height) == (64, 64)
    assert main(["sample", "--model-dir", str(folder), "--label", "12", "--out", "x.png"]) == 2


def test_shipped_model_loads_from_safetensors_and_has_a_card():
    from engine.digits.data import load_examples
    from engine.digits.model import CARD_FILE, EXAMPLES_FILE, load_model, shipped_model_dir

    folder = shipped_model_dir()
    model = load_model()
    assert model.image_size == 16 and model.unet.config.num_class_embeds == 11
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    assert "CC BY 4.0" in card["data"] and card["steps"] > 0
    images, labels = load_examples(folder / EXAMPLES_FILE)
    assert images.shape == (100, 16, 16) and sorted(set(labels.tolist())) == list(range(10))


def test_ddim_inversion_of_a_real_digit_reconstructs_it():
    from engine.digits.inversion import run_inversion

    result = run_inversion(InversionRequest(example_index=3, steps=20), Reporter())
    assert result.inversion_path.shape == result.reconstruction_path.shape == (21, 16, 16)
    assert result.mse < 0.02  # a real reconstruction, not just "some digit" (those differ by ~0.3)
    assert 0.3 < result.latent_std < 1.5  # noise-like (inverted x_T is typically narrower than 1)
