"""The forward process: closed form vs diffusers, its statistics, the Markov chain, exports, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import images as samples
from engine.forward.export import (
    export_record,
    frame_strip,
    parameters_text,
    save_animation,
    save_forward_png,
)
from engine.forward.frames import (
    HISTOGRAM_EDGES,
    FrameRenderer,
    evenly_spaced_timesteps,
    histogram_density,
)
from engine.forward.noising import (
    make_noise,
    markov_chain,
    markov_stride,
    run_forward_job,
    run_markov_job,
)
from engine.forward.types import ForwardRequest, MarkovRequest
from engine.images import to_uint8, to_unit_range
from engine.png.a1111 import parse_parameters
from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_FORWARD, request_from_record
from engine.reporting import Reporter
from engine.schedules.types import ScheduleSpec
from engine.spectrum import radial_power_spectrum


@pytest.fixture(scope="module")
def card() -> np.ndarray:
    return samples.make_test_card(96)


@pytest.fixture(scope="module")
def forward(card):
    return run_forward_job(ForwardRequest(card, ScheduleSpec.preset("linear"), seed=3), Reporter())


def test_result_carries_diffusers_schedule_and_seeded_noise(forward, card):
    from engine.samplers.builder import make_scheduler

    scheduler = make_scheduler("ddpm", ScheduleSpec.preset("linear").diffusers_config())
    np.testing.assert_allclose(forward.alphas_cumprod, scheduler.alphas_cumprod.double().numpy())
    assert forward.x0.dtype == np.float32 and forward.noise.dtype == np.float32
    assert forward.x0.shape == forward.noise.shape == card.shape
    np.testing.assert_array_equal(forward.noise, make_noise(card.shape, 3))
    assert not np.array_equal(forward.noise, make_noise(card.shape, 4))
    # Its spectra give x_t's spectrum at any t: the same as an FFT of x_t itself.
    renderer = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod)
    direct = radial_power_spectrum(np.moveaxis(renderer.values(300), 2, 0)).power.mean(axis=0)
    np.testing.assert_allclose(forward.spectrum.mixed(*renderer.coefficients(300)), direct,
                               rtol=1e-5)


@pytest.mark.parametrize("name", ["linear", "cosine", "scaled_linear"])
def test_numpy_closed_form_matches_diffusers_add_noise(name, card):
    import torch

    from engine.samplers.builder import make_scheduler

    spec = ScheduleSpec.preset(name)
    result = run_forward_job(ForwardRequest(card, spec, seed=0), Reporter())
    renderer = FrameRenderer(result.x0, result.noise, result.alphas_cumprod)
    scheduler = make_scheduler("ddpm", spec.diffusers_config())
    for t in (0, 1, 250, 500, 999):
        expected = scheduler.add_noise(torch.from_numpy(result.x0), torch.from_numpy(result.noise),
                                       torch.tensor([t])).numpy()
        np.testing.assert_allclose(renderer.values(t), expected, atol=2e-6)
        # The view's fused uint8 path equals rounding diffusers' result (ties may differ by 1).
        shown = renderer.render(t)[:, :, 2::-1]  # RGB32 bytes B, G, R → R, G, B
        difference = np.abs(shown.astype(int) - to_uint8(expected).astype(int))
        assert difference.max() <= 1 and difference.mean() < 0.01


def test_one_seeded_noise_for_every_t_schedule_and_image(forward, card):
    """The page scrubs one ε: x_t − √ᾱ_t·x₀ is √(1−ᾱ_t) times the *same* ε at every t (never a
    new draw per frame), and ε depends on the seed and the image's shape only, so another
    schedule, T or picture keeps the grain while another seed changes it. (That ε is what the
    CLI's --seed draws is checked pixel for pixel in test_cli_writes_noised_sample.)"""
    np.testing.assert_allclose(forward.x0, card / 127.5 - 1.0, atol=1e-6)
    renderer = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod)
    for t in (0, 100, 300, 600, 999):
        alpha_bar = forward.alphas_cumprod[t]
        residual = renderer.values(t) - np.sqrt(alpha_bar) * forward.x0
        np.testing.assert_allclose(residual / np.sqrt(1.0 - alpha_bar), forward.noise, atol=2e-4)
    inverted = 255 - card
    for request in (ForwardRequest(card, ScheduleSpec.preset("cosine", 200), seed=3),
                    ForwardRequest(inverted, ScheduleSpec.preset("scaled_linear"), seed=3)):
        again = run_forward_job(request, Reporter())
        np.testing.assert_array_equal(again.noise, forward.noise)
        assert not np.array_equal(again.alphas_cumprod[:200], forward.alphas_cumprod[:200])
    reseeded = run_forward_job(ForwardRequest(card, ScheduleSpec.preset("linear"), seed=4),
                               Reporter())
    assert np.abs(reseeded.noise - forward.noise).mean() > 0.5  # other noise, not a shift


def test_markov_chain_agrees_with_closed_form_in_distribution(card):
    spec = ScheduleSpec.preset("linear", 200)
    forward = run_forward_job(ForwardRequest(card, spec, seed=1), Reporter())
    renderer = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod)
    checks = {20, 80, 199}
    chain = {t: values.copy() for t, values in markov_chain(forward.x0, forward.betas, seed=1)
             if t in checks}
    n = card.size
    for t in checks:
        alpha_bar = forward.alphas_cumprod[t]
        residual = chain[t] - np.sqrt(alpha_bar) * forward.x0
        assert abs(residual.mean()) < 5 * np.sqrt((1 - alpha_bar) / n)
        assert residual.var() == pytest.approx(1 - alpha_bar, rel=5 * np.sqrt(2 / n))
        # Same marginal histogram as the closed form (total variation distance), yet other noise.
        width = HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0]
        tv = 0.5 * width * np.abs(histogram_density(chain[t].ravel())
                                  - histogram_density(renderer.values(t).ravel())).sum()
        assert tv < 0.03
        assert np.corrcoef(residual.ravel(), (renderer.values(t) - np.sqrt(alpha_bar)
                                              * forward.x0).ravel())[0, 1] < 0.05


def test_markov_job_keeps_strided_frames_within_budget(card):
    spec = ScheduleSpec.preset("cosine", 100)
    frame_bytes = card.size
    result = run_markov_job(MarkovRequest(card, spec, seed=0, memory_budget=frame_bytes * 30),
                            Reporter())
    assert result.stride == markov_stride(100, frame_bytes, frame_bytes * 30) == 4
    assert result.timesteps[0] == 0 and result.timesteps[-1] == 99
    assert result.frames.nbytes <= frame_bytes * 31
    assert result.index_for(10) == 2 and result.timesteps[result.index_for(10)] == 8
    # The end of the cosine chain is (almost) pure N(0, 1) noise.
    centres = 0.5 * (HISTOGRAM_EDGES[1:] + HISTOGRAM_EDGES[:-1])
    density = result.histograms[-1]
    mean = (centres * density).sum() / density.sum()
    var = (centres**2 * density).sum() / density.sum() - mean**2
    assert abs(mean) < 0.05 and var == pytest.approx(1.0, abs=0.1)


def test_markov_job_stops_when_cancelled(card):
    from engine.errors import Cancelled

    reporter = Reporter()
    reporter.cancel_event.set()
    with pytest.raises(Cancelled):
        run_markov_job(MarkovRequest(card, ScheduleSpec.preset("linear", 50)), reporter)


def test_unit_range_round_trip():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    np.testing.assert_array_equal(to_uint8(to_unit_range(pixels)), pixels)
    assert evenly_spaced_timesteps(1000, 10)[0] == 0 and evenly_spaced_timesteps(1000, 10)[-1] == 999
    assert evenly_spaced_timesteps(5, 10) == [0, 1, 2, 3, 4]


def test_display_size_renders_only_the_pixels_a_view_shows(forward):
    from engine.forward.frames import fitted_size

    full = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod)
    small = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod, (48, 200))
    assert small.display_size == (48, 48) and small.render(300).shape == (48, 48, 4)
    # Nearest-neighbour picks of the full frame (here every 2nd pixel, from the centres).
    np.testing.assert_array_equal(small.render(300), full.render(300)[1::2, 1::2])
    small.set_display_size(500, 500)  # a bigger view never upsamples
    np.testing.assert_array_equal(small.render(300), full.render(300))
    assert fitted_size((1024, 512), (540, 540)) == (540, 270)
    assert fitted_size((512, 512), (800, 538)) == (512, 512)


def test_grayscale_renders_grey(forward):
    grey = forward.x0[:, :, :1].copy()
    renderer = FrameRenderer(grey, forward.noise[:, :, :1].copy(), forward.alphas_cumprod)
    buffer = renderer.render(400)
    assert (buffer[:, :, 0] == buffer[:, :, 1]).all() and (buffer[:, :, 1] == buffer[:, :, 2]).all()
    assert (buffer[:, :, 3] == 255).all()


def test_exports_write_png_with_parameters_strip_and_animations(forward, tmp_path):
    renderer = FrameRenderer(forward.x0, forward.noise, forward.alphas_cumprod)
    spec = ScheduleSpec.preset("linear")
    record = export_record(spec, 3, "card", source_key="test_card", working_size=64, t=500)
    save_forward_png(tmp_path / "frame.png", renderer.pixels(500), record)
    meta = read_png_metadata(tmp_path / "frame.png")
    assert meta.kind == KIND_FORWARD and meta.request == record
    assert request_from_record(ScheduleSpec, meta.request["schedule"])[0] == spec
    params = meta.parameters
    # t is not a step count: its own key, never A1111's "Steps" (readers take that for steps).
    assert (params.steps, params.seed, params.schedule_type) == (None, 3, spec.label)
    assert params.extra["Timestep"] == "500" and meta.request["t"] == 500
    assert (params.width, params.height) == renderer.pixels(500).shape[1::-1]
    assert params.extra["Source"] == "card" and params.extra["Timesteps T"] == "1000"
    assert "Timestep: 500" in meta.parameters_text and "Seed: 3" in meta.parameters_text
    assert "Steps" not in meta.parameters_text
    assert parse_parameters(meta.parameters_text).extra["Timestep"] == "500"
    with Image.open(tmp_path / "frame.png") as image:
        np.testing.assert_array_equal(np.asarray(image), renderer.pixels(500))
    text = parameters_text(export_record(spec, 3, "card", export="animation"))
    assert "Process: forward" in text and "Frames at t: 0…999" in text

    strip = frame_strip(renderer, evenly_spaced_timesteps(1000, 5), cell=64)
    assert strip.shape == (64 + 18, 5 * 64 + 4 * 4, 3)

    for suffix in ("gif", "webp"):
        count = save_animation(renderer, tmp_path / f"anim.{suffix}", frame_count=8, max_side=48,
                               parameters=text)
        with Image.open(tmp_path / f"anim.{suffix}") as animation:
            # Encoders may merge identical neighbours (the last frames are all noise at 48 px).
            assert count == 8 and 6 <= animation.n_frames <= 8 and max(animation.size) == 48
    from engine.errors import UserFacingError

    with pytest.raises(UserFacingError, match="gif or .webp"):
        save_animation(renderer, tmp_path / "anim.mp4")


def test_cli_writes_noised_sample(tmp_path, capsys):
    from engine.cli.forward_command import run  # noqa: F401 (registered below)
    from playground_gui.app import main
    from resources import resource_path

    out = tmp_path / "x_t.png"
    args = ["forward", "--image", str(resource_path("samples", "chelsea.jpg")), "--t", "300",
            "--schedule", "cosine", "--timesteps", "1000", "--seed", "7", "--size", "96",
            "--out", str(out)]
    code = main(args)
    assert code == 0
    assert "√ᾱ_t" in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.size == (96, 64)
        written = np.asarray(image)
    meta = read_png_metadata(out)
    assert meta.kind == KIND_FORWARD and (meta.parameters.steps, meta.parameters.seed) == (None, 7)
    assert meta.parameters.extra["Timestep"] == "300"
    assert meta.request["t"] == 300 and meta.request["working_size"] == 96
    assert meta.request["schedule"]["name"] == "cosine"
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err  # nothing overwritten
    assert main([*args, "--overwrite"]) == 0
    # Same engine code as the GUI: the same pixels as the renderer for that seed.
    from engine.images import load_image_file

    loaded = load_image_file(resource_path("samples", "chelsea.jpg"), 96)
    result = run_forward_job(ForwardRequest(loaded.pixels, ScheduleSpec.preset("cosine"), 7),
                             Reporter())
    expected = FrameRenderer(result.x0, result.noise, result.alphas_cumprod).pixels(300)
    np.testing.assert_array_equal(written, expected)


def test_cli_rejects_bad_timestep_and_bad_file(tmp_path, capsys):
    from playground_gui.app import main
    from resources import resource_path

    sample = str(resource_path("samples", "coffee.jpg"))
    assert main(["forward", "--image", sample, "--t", "1000", "--out", str(tmp_path / "a.png")]) == 2
    assert "between 0 and 999" in capsys.readouterr().err
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    assert main(["forward", "--image", str(text_file), "--t", "5", "--out",
                 str(tmp_path / "b.png")]) == 2
    assert "not an image file" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_an_image_one_pixel_thin_has_no_spectrum_but_noises():
    image = np.full((1, 64, 3), 200, np.uint8)
    result = run_forward_job(ForwardRequest(image, ScheduleSpec(), seed=0), Reporter())
    assert result.spectrum is None and result.noise.shape == image.shape
