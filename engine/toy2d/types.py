"""Requests and results of the 2D toy jobs. Torch-free: the GUI builds and reads these."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.schedules.types import ScheduleSpec

DATASET_NAMES: dict[str, str] = {
    "swiss_roll": "Swiss roll",
    "two_moons": "Two moons",
    "circles": "Concentric circles",
    "gaussian_mixture": "Gaussian mixture (8)",
    "checkerboard": "Checkerboard",
    "smiley": "Smiley",
    "custom": "Draw your own",
}

# Registry keys (engine/samplers/registry.py): diffusers' DDPM, DDIM, Euler, Heun and
# DPM-Solver++ 2M on the ε-model, and our own annealed Langevin and predictor–corrector
# (engine/samplers/langevin.py, engine/toy2d/langevin.py).
SAMPLERS = ("ddpm", "ddim", "euler", "heun", "dpmpp_2m", "langevin", "pc")
LANGEVIN_SAMPLERS = ("langevin", "pc")
#: Steps per sampler when none are given: DDPM takes all T, the ODE solvers 50, Langevin up to
#: 100 noise levels (each with K Langevin steps; fewer where two would share a timestep),
#: predictor–corrector 100 DDPM steps (each then corrected by K Langevin steps).
DEFAULT_STEPS = {"ddim": 50, "euler": 50, "heun": 50, "dpmpp_2m": 50, "langevin": 100, "pc": 100}
DEFAULT_LANGEVIN_STEPS = 10  # K, Langevin steps per noise level
DEFAULT_LANGEVIN_STEP_SIZE = 0.5  # δ, relative to the level's noise variance 1 − ᾱ_t

#: What the network learns to predict (engine/toy2d/objectives.py has the formulas).
OBJECTIVES: dict[str, str] = {
    "eps": "ε-prediction",
    "x0": "x₀-prediction",
    "v": "v-prediction",
    "flow": "flow matching",
}
DDPM_FAMILY = ("eps", "x0", "v")  # x_t = √ᾱ·x₀ + √(1−ᾱ)·ε; flow has x_t = (1−t)·x₀ + t·ε
#: Flow matching's samplers → diffusers scheduler classes. Not registry entries: the registry
#: builds a sampler from a model's DDPM-family config (betas, ᾱ), which flow matching lacks.
FLOW_SAMPLERS: dict[str, str] = {"euler": "FlowMatchEulerDiscreteScheduler",
                                 "heun": "FlowMatchHeunDiscreteScheduler"}
#: Every ``--sampler`` value of the toy: the DDPM family's (flow's names are among them).
TOY_SAMPLERS = (*SAMPLERS, *(name for name in FLOW_SAMPLERS if name not in SAMPLERS))
#: Flow matching's reverse steps when none are given.
DEFAULT_FLOW_STEPS = 50


def default_sampler(objective: str) -> str:
    return "euler" if objective == "flow" else "ddpm"


# A toy-sized default: diffusers' linear DDPM schedule with T=1000 takes ᾱ down to 4e-5, so
# x_T is pure N(0, I) noise; a 2D MLP trains on it in seconds.
DEFAULT_TOY_SCHEDULE = ScheduleSpec.preset("linear", 1000)


def sampling_steps(schedule: ScheduleSpec, objective: str = "eps") -> int:
    """How many steps DDPM takes from t = T−1 (or T−2 with zero terminal SNR, where ᾱ_{T−1} = 0
    and an ε-prediction model cannot form x̂₀; x₀- and v-prediction can) down to 0; the engine
    enforces the same bound from the betas themselves (``engine.toy2d.schedule``)."""
    falls_back = schedule.rescale_zero_snr and objective == "eps"
    return schedule.num_train_timesteps - (1 if falls_back else 0)


@dataclass(frozen=True)
class DatasetSpec:
    """Which data set; ``points`` are the drawn points of "custom" (N×2, any scale)."""

    name: str = "two_moons"
    points: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.name not in DATASET_NAMES:
            raise ValueError(
                f"Unknown data set {self.name!r}; choose one of {', '.join(DATASET_NAMES)}."
            )
        if self.name == "custom":
            points = None if self.points is None else np.asarray(self.points, dtype=np.float64)
            if points is None or points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
                raise ValueError("Draw at least 3 points on the canvas for your own data set.")

    @property
    def label(self) -> str:
        return DATASET_NAMES[self.name]


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 128
    layers: int = 3
    embedding_dim: int = 32  # sinusoidal time embedding channels


@dataclass(frozen=True)
class ToyModel:
    """A trained (or partly trained) network: numpy weights plus what it was trained on and to
    predict (``objective``; flow matching ignores ``schedule``)."""

    weights: dict[str, np.ndarray] = field(compare=False, repr=False)
    config: ModelConfig = ModelConfig()
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    dataset: DatasetSpec = DatasetSpec()
    steps_trained: int = 0
    objective: str = "eps"


@dataclass(frozen=True)
class ExactModel:
    """The exact score as a model, next to the trained MLP (engine/toy2d/exact_model.py): the
    closed-form noised Gaussian mixture for "gaussian_mixture", else (or with ``ideal``) the
    ideal denoiser of ``training_points`` points drawn with ``seed`` (its own stream, apart from
    the real points sampling compares with)."""

    dataset: DatasetSpec = DatasetSpec("gaussian_mixture")
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    ideal: bool = False
    training_points: int = 200  # a few hundred: the ideal denoiser is a sum over all of them
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.training_points <= 10_000:
            raise ValueError("The ideal denoiser takes between 1 and 10000 training points.")

    @property
    def is_mixture(self) -> bool:
        """The closed-form mixture (not the ideal denoiser of a finite sample)."""
        return self.dataset.name == "gaussian_mixture" and not self.ideal

    @property
    def label(self) -> str:
        return ("exact score (Gaussian mixture)" if self.is_mixture else
                f"ideal denoiser of {self.training_points} training points")


@dataclass(frozen=True)
class TrainRequest:
    """Train for ``steps`` optimiser steps in total; ``resume`` continues a paused run."""

    dataset: DatasetSpec = DatasetSpec()
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    steps: int = 10_000
    learning_rate: float = 3e-3  # 1e−3 left 6000 steps short of the swiss roll's detail
    batch_size: int = 512
    seed: int = 0
    config: ModelConfig = ModelConfig()
    resume: TrainState | None = field(default=None, compare=False)
    objective: str = "eps"  # OBJECTIVES key

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {self.objective!r}; choose one of "
                             f"{', '.join(OBJECTIVES)}.")
        if self.objective == "flow" and self.schedule.rescale_zero_snr:
            from engine.toy2d.objectives import check_combination

            raise ValueError(check_combination("flow", "euler", True))
        if not 1 <= self.steps <= 1_000_000:
            raise ValueError("The number of training steps must be between 1 and 1000000.")
        if not 0 < self.learning_rate < 1:
            raise ValueError("The learning rate must lie strictly between 0 and 1.")
        if not 1 <= self.batch_size <= 65_536:
            raise ValueError("The batch size must be between 1 and 65536.")


@dataclass(frozen=True)
class TrainState:
    """Everything to continue training exactly where it stopped (pause = cancel + resume)."""

    model: ToyModel
    optimizer: dict[str, np.ndarray] = field(compare=False, repr=False)
    losses: np.ndarray = field(compare=False, repr=False)  # one loss per step so far
    rng_state: bytes = field(default=b"", compare=False, repr=False)  # torch generator state
    total_steps: int = 0
    device: str = field(default="", compare=False)  # where it trained: "cuda", "mps" or "cpu"

    @property
    def steps_done(self) -> int:
        return self.model.steps_trained


@dataclass(frozen=True)
class TrainPartial:
    """Live data while training: the losses of steps ``first_step`` … since the last report."""

    first_step: int
    losses: np.ndarray
    total_steps: int
    device: str = ""


@dataclass(frozen=True)
class SampleRequest:
    model: ToyModel | ExactModel = field(compare=False)
    sampler: str = "ddpm"
    num_points: int = 1000
    num_inference_steps: int | None = None  # None: all T steps for DDPM, else DEFAULT_STEPS
    eta: float = 0.0  # DDIM only: 0 = the deterministic probability-flow ODE sampler
    seed: int = 0
    max_frames: int = 201  # trajectory frames kept for scrubbing (evenly spaced, ends included)
    langevin_steps: int = DEFAULT_LANGEVIN_STEPS  # K per noise level (langevin, pc)
    langevin_step_size: float = DEFAULT_LANGEVIN_STEP_SIZE  # δ (langevin, pc)
    #: The model's objective; None takes it from ``model`` ("eps" without one; an exact model
    #: gives ε̂ itself). The CLI checks a combination before training, when there is no model.
    objective: str | None = None

    def __post_init__(self) -> None:
        from engine.toy2d.objectives import check_combination

        model_objective = None if self.model is None else getattr(self.model, "objective", "eps")
        if self.objective is None:
            object.__setattr__(self, "objective", model_objective or "eps")
        elif model_objective is not None and model_objective != self.objective:
            raise ValueError(f"The model was trained for "
                             f"{OBJECTIVES.get(model_objective, model_objective)}, not "
                             f"{OBJECTIVES.get(self.objective, self.objective)}.")
        zero_snr = bool(self.model is not None and self.model.schedule.rescale_zero_snr)
        problem = check_combination(self.objective, self.sampler, zero_snr)
        if problem:
            raise ValueError(problem)
        if not 0 <= self.langevin_steps <= 1000:
            raise ValueError("The number of Langevin steps per level must be between 0 and 1000.")
        if not 0 < self.langevin_step_size <= 2:
            raise ValueError("The Langevin step size δ must lie in (0, 2] (it is relative to the "
                             "noise variance of each level; above 2 the chain diverges).")
        if not 1 <= self.num_points <= 100_000:
            raise ValueError("The number of points must be between 1 and 100000.")
        if self.num_inference_steps is not None and self.num_inference_steps < 1:
            raise ValueError("The number of sampling steps must be at least 1.")


@dataclass(frozen=True)
class Quality:
    """MMD (RBF kernel) of generated vs real points, and of fresh real vs real as the floor."""

    mmd: float
    mmd_real_reference: float
    nn_distance: float  # mean distance from a generated point to its nearest real point
    nn_distance_real_reference: float

    @property
    def summary(self) -> str:
        return (f"MMD {self.mmd:.4f} (real vs real {self.mmd_real_reference:.4f}); "
                f"mean NN distance {self.nn_distance:.3f} (real {self.nn_distance_real_reference:.3f})")


@dataclass(frozen=True)
class SampleResult:
    timesteps: np.ndarray  # (F,) the t each frame was taken at; −1 for the final x_0
    trajectory: np.ndarray  # (F, N, 2) float32; frame 0 is x_T (noise), the last is the sample
    real: np.ndarray  # (N, 2) fresh real points for comparison
    quality: Quality
    sampler: str
    num_inference_steps: int
    num_train_timesteps: int = 0  # T of the model's schedule
    device: str = ""
    #: The ideal denoiser only: mean distance from a sample to its nearest training point, and
    #: the same for fresh real points (memorised samples sit on training points: ≈ 0).
    training_nn: tuple[float, float] | None = None
    #: The model's objective. For "flow" ``timesteps`` are diffusers' t·1000 (1000 = noise).
    objective: str = "eps"

    @property
    def samples(self) -> np.ndarray:
        return self.trajectory[-1]

    @property
    def start_t(self) -> int:
        """The timestep sampling started from (frame 0 is x_t before this step)."""
        return int(self.timesteps[0])

    @property
    def start_note(self) -> str:
        """A sentence when sampling could not start at t = T−1 (zero terminal SNR), else ""."""
        last = self.num_train_timesteps - 1
        if not self.num_train_timesteps or self.objective == "flow" or self.start_t >= last:
            return ""
        if self.objective == "eps":
            return (f"Started at t = {self.start_t}, not {last}: with zero terminal SNR ᾱ is 0 at "
                    f"t = {last}, where an ε-prediction model cannot form x̂₀ = "
                    "(x − √(1−ᾱ)·ε̂)/√ᾱ.")
        return (f"Started at t = {self.start_t}, not {last}: {self.sampler} works in "
                f"σ = √((1−ᾱ)/ᾱ), infinite where zero terminal SNR makes ᾱ = 0 (t = {last}); "
                "DDPM and DDIM start there with x₀- and v-prediction.")


@dataclass(frozen=True)
class FieldRequest:
    """The learned ε̂ and score −ε̂/√(1−ᾱ_t) on a grid×grid lattice at timestep ``t``."""

    model: ToyModel | ExactModel = field(compare=False)
    t: int = 0
    extent: float = 3.0  # the grid covers [−extent, extent]²
    grid: int = 25


@dataclass(frozen=True)
class FieldResult:
    t: int
    positions: np.ndarray  # (G·G, 2)
    epsilon: np.ndarray  # (G·G, 2) predicted noise ε̂
    score: np.ndarray  # (G·G, 2) ∇ log p_t estimate
    sigma: float  # √(1−ᾱ_t)
    device: str = ""


@dataclass(frozen=True)
class ToyForwardRequest:
    """Data points and their forward Markov chain x_0 → x_T, kept at ``frames`` timesteps."""

    dataset: DatasetSpec = DatasetSpec()
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    num_points: int = 1000
    seed: int = 0
    frames: int = 201
    paths: int = 16  # points whose first coordinate is kept at every t (OU sample paths)


@dataclass(frozen=True)
class ToyForwardResult:
    data: np.ndarray  # (N, 2) clean points x_0
    timesteps: np.ndarray  # (F,) t of each frame
    frames: np.ndarray  # (F, N, 2) x_t along one run of the chain
    path_values: np.ndarray  # (T, P) first coordinate of ``paths`` points at every t
    alphas_cumprod: np.ndarray  # (T,)


#: The sampler lab's samplers (what ``--samplers`` takes) → our own registry samplers on the
#: probability-flow ODE in σ (engine/samplers/ode.py); the reference solution is "ode_rk4".
LAB_SAMPLERS: dict[str, str] = {"ddim": "ode_ddim", "heun": "ode_heun", "dpmpp_2m": "ode_dpmpp_2m"}
LAB_REFERENCE_SAMPLER = "ode_rk4"
LAB_MIN_POINTS = 1000


@dataclass(frozen=True)
class SamplerLabRequest:
    """Error against step count: each sampler from the same noise with N steps (Karras σ, ρ = 7,
    from the schedule's σ_max down to σ_min, no final jump to 0), against an RK4 reference
    solution with ``reference_steps`` steps, all with the exact model (the data set's exact
    mixture, or the ideal denoiser of ``training_points`` points for other data sets)."""

    dataset: DatasetSpec = DatasetSpec("gaussian_mixture")
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    samplers: tuple[str, ...] = tuple(LAB_SAMPLERS)
    steps: tuple[int, ...] = (8, 16, 32, 64)
    num_points: int = LAB_MIN_POINTS
    reference_steps: int = 512
    training_points: int = 1000
    seed: int = 0
    rho: float = 7.0

    def __post_init__(self) -> None:
        unknown = [name for name in self.samplers if name not in LAB_SAMPLERS]
        if unknown or not self.samplers:
            raise ValueError(f"Unknown sampler {', '.join(map(repr, unknown)) or '(none)'}; "
                             f"choose from {', '.join(LAB_SAMPLERS)}.")
        if len(set(self.steps)) < 2 or any(not 1 <= n <= 10_000 for n in self.steps):
            raise ValueError("Give at least two different step counts, each 1 … 10000, to fit an "
                             "order.")
        if not LAB_MIN_POINTS <= self.num_points <= 100_000:
            raise ValueError(f"The number of points must be between {LAB_MIN_POINTS} (for a "
                             "steady mean error) and 100000.")
        if not max(self.steps) < self.reference_steps <= 100_000:
            raise ValueError("The reference solution needs more steps than any sampler run "
                             "(and at most 100000).")
        if not 1 <= self.training_points <= 10_000:
            raise ValueError("The number of training points must be between 1 and 10000.")


@dataclass(frozen=True)
class SamplerLabResult:
    rows: tuple[tuple[str, int, float], ...]  # (sampler, steps, mean endpoint error)
    orders: dict[str, float]  # fitted p of error ∝ N⁻ᵖ per sampler
    sigma_min: float
    sigma_max: float
    model: str  # which exact model: "exact Gaussian mixture" or the ideal denoiser of K points
    reference_change: float  # mean distance between the RK4 solution and one with half its steps


@dataclass(frozen=True)
class PathsRequest:
    """ODE and SDE side by side from the same starting noise: the probability-flow ODE path
    (DDIM, η = 0) of ``num_points`` noise points and ``draws`` SDE paths (DDPM, a fresh noise
    draw each) of each, all with ``steps`` steps on the same timesteps."""

    model: ToyModel | ExactModel = field(compare=False)
    num_points: int = 6
    draws: int = 5
    steps: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if getattr(self.model, "objective", "eps") == "flow":
            raise ValueError("A flow-matching model has only its ODE (straight paths from "
                             "x_t = (1−t)·x₀ + t·ε), no reverse SDE to set beside it: train an "
                             "ε, x₀ or v model, or pick an exact model.")
        if not 1 <= self.num_points <= 50:
            raise ValueError("Draw the paths of 1 to 50 starting points.")
        if not 1 <= self.draws <= 20:
            raise ValueError("Draw 1 to 20 SDE paths per starting point.")
        if not 2 <= self.steps <= 1000:
            raise ValueError("The paths take 2 to 1000 steps.")


@dataclass(frozen=True)
class PathsResult:
    timesteps: np.ndarray  # (F,) the t of each frame; −1 for the end
    ode: np.ndarray  # (F, P, 2) the probability-flow ODE paths
    sde: np.ndarray  # (F, D, P, 2) the SDE paths: draw d of starting point p
    real: np.ndarray  # (M, 2) real points, the backdrop


@dataclass(frozen=True)
class ScoreErrorRequest:
    """The trained network's ε̂ against the exact one over t: at ``times`` timesteps, points
    x_t = √ᾱ·x₀ + √(1−ᾱ)·ε from fresh data, mean ‖ε̂_θ − ε̂*‖² and the training loss's floor
    mean ‖ε − ε̂*‖². The exact ε̂* is the Gaussian mixture's, else the ideal denoiser of
    ``training_points`` points (exact for that sample, not for the data set)."""

    model: ToyModel = field(compare=False)
    num_points: int = 2000
    times: int = 40
    training_points: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model.objective == "flow":
            raise ValueError("The exact ε̂ is on the DDPM family's path x_t = √ᾱ·x₀ + √(1−ᾱ)·ε; "
                             "a flow-matching model learns a velocity on x_t = (1−t)·x₀ + t·ε. "
                             "Train an ε, x₀ or v model to compare.")


@dataclass(frozen=True)
class ScoreErrorResult:
    timesteps: np.ndarray  # (M,)
    model_error: np.ndarray  # (M,) mean ‖ε̂_θ − ε̂*‖²
    floor: np.ndarray  # (M,) mean ‖ε − ε̂*‖²: the loss a perfect network still has at t
    loss: np.ndarray  # (M,) mean ‖ε − ε̂_θ‖²: the network's training loss at t (≈ the sum)
    reference: str  # what ε̂* is


@dataclass(frozen=True)
class MemorisationRequest:
    """Nearest-training-point distances: samples of the ideal denoiser of ``training_points``
    points (DDIM, ``steps`` steps: all T by default, so the last step is at t = 0, where the
    ideal x̂₀ snaps to one point), of the trained network when there is one, and fresh real
    points, each measured to those training points."""

    exact: ExactModel
    model: ToyModel | None = field(default=None, compare=False)
    num_points: int = 500
    steps: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class MemorisationResult:
    training: np.ndarray  # (P, 2) the ideal denoiser's training points
    ideal: np.ndarray  # (N, 2) its samples
    ideal_distances: np.ndarray  # (N,) each sample's distance to its nearest training point
    real_distances: np.ndarray  # (N,) the same for fresh real points
    network: np.ndarray | None = None  # (N, 2) the trained network's samples
    network_distances: np.ndarray | None = None


@dataclass(frozen=True)
class ObjectiveComparisonRequest:
    """Train ε- and v-prediction on ``schedule`` rescaled to zero terminal SNR, and flow
    matching, ``steps`` each on one data set; sample all three from the same noise (DDIM for
    the DDPM family, flow's Euler), so their paths can be drawn side by side."""

    dataset: DatasetSpec = DatasetSpec()
    schedule: ScheduleSpec = DEFAULT_TOY_SCHEDULE
    steps: int = 3000
    num_points: int = 1000
    sampling_steps: int = 25
    seed: int = 0

    def __post_init__(self) -> None:
        if not 10 <= self.steps <= 200_000:
            raise ValueError("The number of training steps must be between 10 and 200000.")
        if not 1 <= self.sampling_steps <= 1000:
            raise ValueError("The number of sampling steps must be between 1 and 1000.")
        if not 1 <= self.num_points <= 100_000:
            raise ValueError("The number of points must be between 1 and 100000.")


@dataclass(frozen=True)
class ObjectivePanel:
    """One objective's model sampled from the shared noise."""

    objective: str
    schedule_label: str
    result: SampleResult
    straightness: float  # mean ‖x_0 − x_T‖ / path length over all points: 1 = straight
    first_x0_spread: float | None  # median ‖x̂₀‖ of the first step, unclipped (DDPM family)
    final_loss: float


@dataclass(frozen=True)
class ObjectiveComparisonResult:
    panels: tuple[ObjectivePanel, ...]


JOB_HANDLERS: dict[type, str] = {
    ToyForwardRequest: "engine.toy2d.forward:run_forward_job",
    TrainRequest: "engine.toy2d.training:run_train_job",
    SampleRequest: "engine.toy2d.sampling:run_sample_job",
    FieldRequest: "engine.toy2d.field:run_field_job",
    SamplerLabRequest: "engine.toy2d.sampler_lab:run_sampler_lab_job",
    PathsRequest: "engine.toy2d.paths:run_paths_job",
    ScoreErrorRequest: "engine.toy2d.exact_checks:run_score_error_job",
    MemorisationRequest: "engine.toy2d.exact_checks:run_memorisation_job",
    ObjectiveComparisonRequest: "engine.toy2d.objective_compare:run_objective_comparison",
}
