"""What the network predicts (ε or v) and the zero-terminal-SNR schedule that v-prediction allows.

- ``--prediction-type``: a checkpoint's own scheduler config says what its network predicts; a
  single file has none, and SD 2.x's 768-px models predict v (Salimans & Ho 2022), its 512-px
  "base" models ε. The user's choice replaces the prediction type of the model's scheduler.
- Zero terminal SNR (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are
  Flawed"): SD's schedules end at ᾱ_T ≈ 0.0047, so training never sees pure noise and a run that
  starts from pure noise starts from something the model never saw (images stay mid-grey, no
  true black or white). diffusers rescales the betas so that ᾱ_T = 0 (``rescale_betas_zero_snr``)
  and starts sampling at t = T (``timestep_spacing="trailing"``).

Torch-free (the GUI reads the texts).
"""

from __future__ import annotations

PREDICTION_TYPES = ("epsilon", "v_prediction")
ZERO_SNR_SETTINGS = {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"}
# diffusers schedulers with ``rescale_betas_zero_snr`` (tests/engine/stable_diffusion/
# test_sd2_vprediction.py pins this against the library); PNDM, Heun and LMS have none.
ZERO_SNR_CLASSES = frozenset({
    "DDIMScheduler", "DDPMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler",
    "DPMSolverMultistepScheduler", "UniPCMultistepScheduler", "LCMScheduler"})
ZERO_SNR_SAMPLERS = ("DDIM", "DDPM", "Euler", "Euler ancestral", "DPM-Solver++ 2M",
                     "DPM-Solver++ 2M Karras", "UniPC", "LCM")
EPSILON_REASON = (
    "At zero terminal SNR the last step's input is pure noise: x_T = ε exactly, so predicting ε "
    "there is trivial and says nothing about the image x₀ = (x_T − √(1−ᾱ_T)·ε)/√ᾱ_T, a division "
    "by √ᾱ_T = 0. A v-prediction model predicts v = √ᾱ·ε − √(1−ᾱ)·x₀, which at t = T is −x₀: "
    "still informative. Only v-prediction models (trained or fine-tuned with it) can use it.")
ZERO_SNR_TOOLTIP = (
    "Zero terminal SNR (Lin et al. 2024): rescale the noise schedule so its last step is pure "
    "noise (ᾱ_T = 0) and sample from t = T (trailing spacing). Gives true blacks and whites "
    "with models trained this way. v-prediction models only; samplers: "
    + ", ".join(ZERO_SNR_SAMPLERS) + ". Lin et al. pair it with guidance rescale ≈ 0.7.\n\n"
    + EPSILON_REASON)


def prediction_type_problem(prediction_type) -> str | None:
    if prediction_type is None or prediction_type in PREDICTION_TYPES:
        return None
    return (f"unknown prediction type {prediction_type!r} (choose {', '.join(PREDICTION_TYPES)}; "
            "SD 2.x 768-px models predict v, SD 1.x and the 512-px SD 2.x base models ε)")


def with_prediction_type(pipe, prediction_type: str | None) -> None:
    """Make ``pipe``'s scheduler predict ``prediction_type`` (None: keep the model's own)."""
    if prediction_type and pipe.scheduler.config.get("prediction_type") != prediction_type:
        pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config,
                                                          prediction_type=prediction_type)


def zero_snr_problem(prediction_type: str, scheduler_class: str, scheduler_name: str) -> str | None:
    """Why zero terminal SNR cannot run here (None: it can)."""
    if prediction_type != "v_prediction":
        return (f"Zero terminal SNR needs a v-prediction model; this one predicts "
                f"{prediction_type}. {EPSILON_REASON} (A single-file SD 2.x 768-px checkpoint "
                "loads as v-prediction with --prediction-type v_prediction.)")
    if scheduler_class not in ZERO_SNR_CLASSES:
        shown = f"the model's own {scheduler_class}" if scheduler_name == "default" \
            else scheduler_name
        return (f"Zero terminal SNR is not available with {shown} (diffusers has no "
                f"rescale_betas_zero_snr for it): choose {', '.join(ZERO_SNR_SAMPLERS)}.")
    return None


# Said when a single file cannot load for want of its config (loading.py).
SINGLE_FILE_SD2_NOTE = (
    " For an SD 2.x checkpoint, --prediction-type v_prediction alone is not enough offline: it "
    "sets what the network predicts, but the architecture (layer sizes, the OpenCLIP text "
    "encoder, the tokenizer) still comes from the config of stabilityai/stable-diffusion-2-1, "
    "so give --config FOLDER (e.g. a downloaded SD 2.x diffusers folder) together with it.")
