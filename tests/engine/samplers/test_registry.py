"""The one sampler registry: every entry builds, names resolve, stored keys keep restoring."""

from __future__ import annotations

import dataclasses
import inspect
from types import MappingProxyType

import pytest

from engine.samplers import registry
from engine.samplers.builder import make_scheduler, noise_schedule, sampler_function
from engine.samplers.names import any_case, digits_sampler, resolve, sd_scheduler
from engine.samplers.registry import SAMPLERS, Sampler, get_sampler

# What PNGs and settings saved by earlier versions hold: these must keep restoring.
STORED_DIGITS_KEYS = ("ddpm", "ddim", "euler", "euler_a", "dpmpp_2m", "unipc", "pndm", "lms")
STORED_TOY_KEYS = ("ddpm", "ddim")
STORED_SD_NAMES = ("default", "DDIM", "DDPM", "PNDM", "Euler", "Euler ancestral",
                   "DPM-Solver++ 2M", "DPM-Solver++ 2M Karras", "UniPC", "LCM",
                   "Flow-matching Euler", "DPM-Solver++ 2M (flow)", "UniPC (flow)")
# A model's scheduler config as a digits model and a Stable Diffusion checkpoint store it.
DIGITS_CONFIG = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
                 "beta_schedule": "linear", "prediction_type": "epsilon", "clip_sample": True}
SD_CONFIG = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "set_alpha_to_one": False, "skip_prk_steps": True,
             "steps_offset": 1, "clip_sample": False}


def sd_base():
    from diffusers import PNDMScheduler

    return PNDMScheduler.from_config(SD_CONFIG)


# The flow-matching samplers need a flow model's config: test_x0_capture.py steps them.
@pytest.mark.parametrize("sampler", [s for s in SAMPLERS if not s.key.startswith("flow_")],
                         ids=lambda s: s.key)
def test_every_entry_builds_a_scheduler_that_steps(sampler):
    import torch

    assert bool(sampler.scheduler_class) != bool(sampler.function) or sampler.key == "default"
    if sampler.function:
        assert callable(sampler_function(sampler.key))
        return
    for base in (DIGITS_CONFIG, sd_base()):
        if sampler.key == "default" and isinstance(base, dict):
            with pytest.raises(ValueError, match="model's own"):
                make_scheduler(sampler.key, base)
            continue
        scheduler = make_scheduler(sampler.key, base, steps=4)
        expected = sampler.scheduler_class or type(base).__name__
        assert type(scheduler).__name__ == expected
        for name, value in sampler.overrides.items():
            assert scheduler.config[name] == value, (sampler.key, name)
        assert scheduler.config["beta_schedule"] == dict(base.config if hasattr(base, "config")
                                                         else base)["beta_schedule"]
        scheduler.set_timesteps(4)
        x = torch.randn(1, 1, 4, 4, generator=torch.Generator().manual_seed(0))
        x = x * scheduler.init_noise_sigma
        kwargs = {"generator": torch.Generator().manual_seed(1)} \
            if "generator" in inspect.signature(scheduler.step).parameters else {}
        for t in scheduler.timesteps:
            output = 0.5 * scheduler.scale_model_input(x, t)  # ε̂ ∝ x
            x = scheduler.step(output, t, x, **kwargs).prev_sample
        assert torch.isfinite(x).all(), sampler.key


def test_the_same_entry_by_key_or_stored_name():
    assert get_sampler("euler_a") is get_sampler("Euler ancestral")
    assert get_sampler("dpmpp_2m_karras").overrides["use_karras_sigmas"] is True
    assert get_sampler("dpmpp_2m").overrides["use_karras_sigmas"] is False
    with pytest.raises(KeyError):
        get_sampler("euler a")  # what people type goes through engine.samplers.names
    with pytest.raises(TypeError):
        get_sampler("pndm").overrides["skip_prk_steps"] = False  # read-only


def test_overrides_of_the_caller_win_and_lcm_widens_its_grid():
    scheduler = make_scheduler("ddim", DIGITS_CONFIG, timestep_spacing="trailing",
                               clip_sample=False)
    assert scheduler.config.timestep_spacing == "trailing" and not scheduler.config.clip_sample
    assert make_scheduler("lcm", sd_base(), steps=120).config.original_inference_steps == 120
    assert make_scheduler("LCM", sd_base(), steps=10).config.original_inference_steps == 50


def test_noise_schedule_is_diffusers_own():
    from diffusers import DDPMScheduler

    betas, alphas_cumprod = noise_schedule(DIGITS_CONFIG)
    reference = DDPMScheduler(**DIGITS_CONFIG)
    assert betas.dtype == alphas_cumprod.dtype == "float64"
    assert (betas == reference.betas.double().numpy()).all()
    assert (alphas_cumprod == reference.alphas_cumprod.double().numpy()).all()


def test_a_sampler_function_entry_resolves(monkeypatch):
    """Our own samplers (Langevin, predictor–corrector) are "module:function" entries."""
    own = Sampler("langevin_test", "Langevin (test)", None, True,
                  function="engine.samplers.x0_capture:x0_from_model_output")
    monkeypatch.setattr(registry, "BY_KEY", MappingProxyType({**registry.BY_KEY, own.key: own}))
    from engine.samplers.x0_capture import x0_from_model_output

    assert sampler_function("langevin_test") is x0_from_model_output
    with pytest.raises(ValueError, match="our own sampler"):
        make_scheduler("langevin_test", DIGITS_CONFIG)
    with pytest.raises(ValueError, match="diffusers scheduler"):
        sampler_function("ddim")
    with pytest.raises(ValueError, match="not both"):
        dataclasses.replace(own, scheduler_class="DDIMScheduler")


def test_feature_menus_are_registry_entries_and_old_keys_restore():
    from engine.digits.types import SAMPLERS as DIGITS
    from engine.digits.types import STOCHASTIC_SAMPLERS, ReverseRequest
    from engine.png.record import request_from_record
    from engine.stable_diffusion.types import SCHEDULER_NAMES
    from engine.toy2d.types import SAMPLERS as TOY

    assert tuple(DIGITS) == STORED_DIGITS_KEYS and set(STORED_TOY_KEYS) <= set(TOY)
    assert all(get_sampler(key).key == key for key in TOY)
    assert SCHEDULER_NAMES == STORED_SD_NAMES
    assert all(get_sampler(name).name == name for name in SCHEDULER_NAMES)
    # the digits page's labels, as before the registry
    assert DIGITS == {
        "ddpm": "DDPM (ancestral, Ho et al. 2020)", "ddim": "DDIM (deterministic at η = 0)",
        "euler": "Euler", "euler_a": "Euler ancestral", "dpmpp_2m": "DPM-Solver++ 2M",
        "unipc": "UniPC", "pndm": "PNDM (PLMS)", "lms": "LMS"}
    assert STOCHASTIC_SAMPLERS == {"ddpm", "euler_a"}
    for key in STORED_DIGITS_KEYS:
        restored, _ = request_from_record(ReverseRequest, {"sampler": key, "steps": 5})
        assert restored.sampler == key


def test_names_resolve_in_any_case_and_as_automatic1111_names():
    from engine.stable_diffusion.parameters import a1111_sampler_name, scheduler_for_sampler

    for name in STORED_SD_NAMES:
        sampler = get_sampler(name)
        for typed in (name, name.upper(), name.lower(), sampler.key, sampler.a1111_name):
            if typed:
                assert sd_scheduler(typed) == name, typed
        if name != "default":
            assert scheduler_for_sampler(a1111_sampler_name(name)) == name
    for key in STORED_DIGITS_KEYS:
        sampler = get_sampler(key)
        for typed in (key, key.upper(), sampler.name, sampler.name.lower(), sampler.a1111_name,
                      sampler.a1111_name.upper()):
            assert digits_sampler(typed) == key, typed
    assert [any_case(STORED_TOY_KEYS)(n) for n in ("DDPM", "Ddim")] == ["ddpm", "ddim"]
    assert a1111_sampler_name("default", "DPMSolverMultistepScheduler") == "DPM++ 2M"
    assert a1111_sampler_name("default", "HeunDiscreteScheduler") == "HeunDiscreteScheduler"
    with pytest.raises(ValueError, match="unknown sampler 'LCM'; choose one of: 'ddpm'"):
        digits_sampler("LCM")  # a registry sampler the digits page does not offer
    with pytest.raises(ValueError, match="unknown thing 'x'"):
        resolve("x", ("a", "b"), "thing")
