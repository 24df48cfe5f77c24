"""Requests and results of the digits model jobs: training, sampling, evaluation, inversion.

Torch-free on purpose: the GUI builds these before torch loads, and results carry numpy arrays
and plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.samplers.registry import get_sampler

# The registry samplers (engine/samplers/registry.py) the digits page offers, in menu order;
# records and ``--sampler`` store the key.
SAMPLER_KEYS = ("ddpm", "ddim", "euler", "euler_a", "dpmpp_2m", "unipc", "pndm", "lms")
# Sampler key -> label shown to people.
SAMPLERS: dict[str, str] = {key: get_sampler(key).display_label for key in SAMPLER_KEYS}
STOCHASTIC_SAMPLERS = frozenset(k for k in SAMPLER_KEYS if get_sampler(k).stochastic)
NUM_CLASSES = 10
NULL_CLASS = 10  # the "no class" token of classifier-free guidance
DEFAULT_GUIDANCE = 1.5  # measured best of 1, 1.5, 2 (evaluate digits: 96.2 %, 99.6 %, 93.4 %)
DEFAULT_MODEL = "digits"
MAX_WALK_FRAMES = 1000


def label_text(label: int | None) -> str:
    return "unconditional" if label is None else f"digit {label}"


@dataclass(frozen=True)
class TrainDigitsRequest:
    """Train the digits DDPM from scratch. Stops at ``steps`` or after ``minutes``, whichever
    comes first (at least one of them must be set)."""

    out_dir: str
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    batch_size: int = 64
    learning_rate: float = 1e-3
    label_dropout: float = 0.125
    ema_decay: float = 0.999
    evaluate_after: bool = True
    tiny: bool = False  # a very small UNet, for tests only

    def __post_init__(self) -> None:
        if self.steps is None and self.minutes is None:
            raise ValueError("Give a number of steps or a time budget in minutes.")
        if self.steps is not None and self.steps < 1:
            raise ValueError("The number of training steps must be at least 1.")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError("The time budget must be more than 0 minutes.")


@dataclass(frozen=True)
class TrainProgress:
    step: int
    loss: float  # running mean of the recent losses
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    out_dir: str
    steps: int
    seconds: float
    final_loss: float
    loss_log: tuple[tuple[int, float], ...]  # (step, running mean loss)
    card: dict


@dataclass(frozen=True)
class ReverseRequest:
    """One sampling run of the digits model, every step recorded.

    ``label`` None samples unconditionally (the "no class" token). ``model_dir`` None means the
    shipped model. ``initial_noise`` (B×H×W float32) replaces the seeded noise, e.g. the x_T
    from a DDIM inversion. ``variation_seed`` with ``variation_strength`` (0 … 1) is
    AUTOMATIC1111's variation: x_T is the slerp from the seed's noise towards the variation
    seed's noise by the strength (0: exactly the plain image); a stochastic sampler's per-step
    noise still comes from ``seed``.
    """

    label: int | None = 3
    guidance: float = DEFAULT_GUIDANCE
    sampler: str = "ddim"
    steps: int = 50
    eta: float = 0.0
    seed: int = 0
    batch_size: int = 16
    model_dir: str | None = None
    record: bool = True
    initial_noise: np.ndarray | None = field(default=None, compare=False, repr=False)
    variation_seed: int | None = None
    variation_strength: float = 0.0

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"Unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}.")
        if self.label is not None and not 0 <= self.label < NUM_CLASSES:
            raise ValueError("The digit must be between 0 and 9 (or none for unconditional).")
        if not 1 <= self.steps <= 1000:
            raise ValueError("The number of steps must be between 1 and 1000.")
        if not 1 <= self.batch_size <= 1024:
            raise ValueError("The batch size must be between 1 and 1024.")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError("DDIM η must be between 0 and 1.")
        if not -20.0 <= self.guidance <= 50.0:
            raise ValueError("The guidance scale must be between −20 and 50.")
        if self.variation_seed is not None and not 0 <= self.variation_seed < 2**32:
            raise ValueError("The variation seed must be between 0 and 2³²−1.")
        if not 0.0 <= self.variation_strength <= 1.0:
            raise ValueError("The variation strength must be between 0 and 1.")

    def parameters(self) -> dict:
        """The settings as a plain dict, for PNG metadata and the GUI's captions."""
        params = {
            "model": DEFAULT_MODEL if self.model_dir is None else self.model_dir,
            "label": "none" if self.label is None else self.label,
            "guidance": self.guidance,
            "sampler": self.sampler,
            "steps": self.steps,
            "seed": self.seed,
            "batch_size": self.batch_size,
        }
        if self.sampler == "ddim":
            params["eta"] = self.eta
        if self.variation_seed is not None:
            params["variation_seed"] = self.variation_seed
            params["variation_strength"] = self.variation_strength
        return params


@dataclass(frozen=True)
class ReverseStep:
    """One recorded step (the live payload): images as uint8, shape B×H×W."""

    index: int  # 0-based step number
    total: int
    timestep: float
    x_t: np.ndarray  # the sample the model saw at this step (variance-preserving scale)
    noise_pred: np.ndarray  # ε̂, mapped from [−3, 3]
    pred_original: np.ndarray  # x̂₀
    x0_derived: bool  # True where x̂₀ was computed from ε̂ (scheduler gave none)
    run_index: int = 0  # 0 or 1 in compare mode


@dataclass(frozen=True)
class ReverseResult:
    """A whole run. ``x_t`` has one more entry than steps: the last entry is the final sample.

    uint8 image stacks are S×B×H×W (x_t: (S+1)×B×H×W); ``samples`` are the final images as
    float32 in [−1, 1], B×H×W.
    """

    request: ReverseRequest
    timesteps: np.ndarray  # S
    x_t: np.ndarray
    noise_pred: np.ndarray
    pred_original: np.ndarray
    samples: np.ndarray
    wall_seconds: float
    x0_derived: bool
    parameters: dict
    completed_steps: int = -1  # < steps when cancelled
    device: str = ""  # where it ran: "cuda", "mps" or "cpu"

    @property
    def final_images(self) -> np.ndarray:
        return self.x_t[-1]


@dataclass(frozen=True)
class CompareRequest:
    """Two runs from the same seed (and settings) with different samplers, one after the other."""

    first: ReverseRequest
    second: ReverseRequest


@dataclass(frozen=True)
class CompareResult:
    first: ReverseResult
    second: ReverseResult
    device: str = ""


@dataclass(frozen=True)
class GuidanceSweepRequest:
    label: int = 3
    scales: tuple[float, ...] = (0.0, 1.0, 1.5, 3.0, 6.0)
    sampler: str = "ddim"
    steps: int = 30
    seed: int = 0
    batch_size: int = 4
    model_dir: str | None = None


@dataclass(frozen=True)
class GuidanceSweepResult:
    scales: tuple[float, ...]
    images: tuple[np.ndarray, ...]  # per scale, B×H×W uint8
    label: int
    device: str = ""


@dataclass(frozen=True)
class WalkRequest:
    """A latent walk: ``frames`` images whose x_T moves by slerp from the noise of ``seeds[0]``
    to that of ``seeds[1]``, each sampled alone with the same settings. Frame i is the
    ReverseRequest with seed ``seeds[0]``, variation seed ``seeds[1]`` and strength
    i/(frames−1) (``frame_requests``), so the first and last frames are exactly the single
    images of the two seeds (with a deterministic sampler; a stochastic one gives every frame
    the first seed's per-step noise, see ``stochastic``)."""

    label: int | None = 3
    seeds: tuple[int, int] = (0, 1)
    frames: int = 8
    guidance: float = DEFAULT_GUIDANCE
    sampler: str = "ddim"
    steps: int = 50
    eta: float = 0.0
    model_dir: str | None = None

    def __post_init__(self) -> None:
        if len(self.seeds) != 2:
            raise ValueError("A walk goes between two seeds, e.g. 1,2.")
        if not 2 <= self.frames <= MAX_WALK_FRAMES:
            raise ValueError(f"A walk has 2 to {MAX_WALK_FRAMES} frames.")
        self.frame_request(0)  # the shared checks (sampler, label, steps, seeds, …)
        self.frame_request(1)

    @property
    def stochastic(self) -> bool:
        """True when the sampler draws fresh noise at every step (then every frame uses the
        first seed's per-step noise, so only the first frame is its seed's single image)."""
        return self.sampler in STOCHASTIC_SAMPLERS or (self.sampler == "ddim" and self.eta > 0)

    def strength(self, index: int) -> float:
        return index / (self.frames - 1)

    def frame_request(self, index: int) -> ReverseRequest:
        first, second = self.seeds
        return ReverseRequest(label=self.label, guidance=self.guidance, sampler=self.sampler,
                              steps=self.steps, eta=self.eta, seed=first, batch_size=1,
                              model_dir=self.model_dir, record=False, variation_seed=second,
                              variation_strength=self.strength(index))

    def frame_requests(self) -> tuple[ReverseRequest, ...]:
        return tuple(self.frame_request(index) for index in range(self.frames))


@dataclass(frozen=True)
class WalkFrame:
    """One finished frame (the live payload of a walk): H×W uint8."""

    index: int
    total: int
    image: np.ndarray
    request: ReverseRequest  # regenerates exactly this frame


@dataclass(frozen=True)
class WalkResult:
    """The frames done (all of them unless cancelled): N×H×W uint8, and their requests."""

    request: WalkRequest
    frames: np.ndarray
    frame_requests: tuple[ReverseRequest, ...]
    wall_seconds: float
    device: str = ""


@dataclass(frozen=True)
class InversionRequest:
    """Encode a real digit to x_T with deterministic DDIM, then regenerate it."""

    example_index: int = 0
    steps: int = 50
    guidance: float = 1.0  # inversion is exact only without amplified guidance
    use_label: bool = True
    model_dir: str | None = None


@dataclass(frozen=True)
class InversionResult:
    original: np.ndarray  # H×W uint8
    label: int
    latent: np.ndarray  # x_T, H×W uint8 (mapped from [−3, 3])
    inversion_path: np.ndarray  # S+1 × H×W uint8, x_0 … x_T
    reconstruction: np.ndarray  # H×W uint8
    reconstruction_path: np.ndarray  # S+1 × H×W uint8, x_T … x_0
    mse: float  # in the model's [−1, 1] units
    max_abs_error: float
    latent_std: float  # ~1 when x_T looks like Gaussian noise
    device: str = ""


@dataclass(frozen=True)
class EvaluateRequest:
    samples_per_class: int = 50
    sampler: str = "ddim"
    steps: int = 50
    guidance: float = DEFAULT_GUIDANCE
    seed: int = 1234
    model_dir: str | None = None


@dataclass(frozen=True)
class EvaluationReport:
    samples_per_class: int
    sampler: str
    steps: int
    guidance: float
    per_class_accuracy: tuple[float, ...]
    mean_accuracy: float
    classifier: str
    classifier_real_accuracy: float  # on held-out real digits
    memorisation_threshold: float
    memorised_share: float
    seconds: float

    def as_dict(self) -> dict:
        return {
            "samples_per_class": self.samples_per_class,
            "sampler": self.sampler,
            "steps": self.steps,
            "guidance": self.guidance,
            "per_class_accuracy": [round(a, 4) for a in self.per_class_accuracy],
            "mean_accuracy": round(self.mean_accuracy, 4),
            "classifier": self.classifier,
            "classifier_real_accuracy": round(self.classifier_real_accuracy, 4),
            "memorisation_threshold": round(self.memorisation_threshold, 4),
            "memorised_share": round(self.memorised_share, 4),
            "seconds": round(self.seconds, 1),
        }


@dataclass(frozen=True)
class UNetBlock:
    """One block of the digits U-Net as the diagram draws it, in forward-pass order.

    ``key``: its module path in the UNet (e.g. ``down_blocks.1.attentions.0``; ``x_t`` for the
    input, ``embedding`` for the time + class embedding). ``path``: "in", "down", "mid", "up",
    "out" or "embedding". ``skip_from``: the block whose output an up-path ResNet concatenates
    to its input (a skip connection). ``takes_embedding``: the block adds the embedding."""

    key: str
    kind: str  # "input", "conv", "resnet", "attention", "downsample", "upsample", "output", "embedding"
    path: str
    title: str
    channels: int
    height: int
    width: int
    skip_from: str | None = None
    takes_embedding: bool = False


@dataclass(frozen=True)
class UNetStructure:
    blocks: tuple[UNetBlock, ...]
    parameters: int  # weights in the whole UNet

    def block(self, key: str) -> UNetBlock:
        return next(block for block in self.blocks if block.key == key)


@dataclass(frozen=True)
class UNetStructureRequest:
    """The digits U-Net's blocks, read from the loaded model (one forward pass with hooks)."""

    model_dir: str | None = None


@dataclass(frozen=True)
class FeatureMapsRequest:
    """The output of every block of the U-Net at one step of a run, for one sample of its batch.

    The engine replays ``run`` (same seed, sampler and settings, so the same x_t at every step)
    for its first ``replay_steps`` model calls once and keeps those x_t; then it calls the UNet
    on x_t at ``step`` with forward hooks on every block. ``branch``: "conditional" (the run's
    digit) or "unconditional" (the "no class" token of classifier-free guidance)."""

    run: ReverseRequest
    step: int
    sample: int = 0
    replay_steps: int = 1
    branch: str = "conditional"

    def __post_init__(self) -> None:
        if not 0 <= self.step < self.replay_steps:
            raise ValueError("The step must be one of the run's recorded steps.")
        if not 0 <= self.sample < self.run.batch_size:
            raise ValueError("The sample must be one of the run's batch.")
        if self.branch not in ("conditional", "unconditional"):
            raise ValueError("The branch is 'conditional' or 'unconditional'.")


@dataclass(frozen=True)
class FeatureMapsResult:
    """``maps``: block key → C×H×W float32 (the block's output for that sample); the
    ``embedding`` key holds 3×1×D: the time embedding, the class embedding and their sum."""

    request: FeatureMapsRequest
    structure: UNetStructure
    timestep: float
    label: int  # the class token the UNet was given (10: no class)
    maps: dict[str, np.ndarray]
    replayed: bool  # the run was replayed for this answer (the first one per run)
    device: str = ""


JOB_HANDLERS: dict[type, str] = {
    ReverseRequest: "engine.digits.sampling:run_reverse",
    CompareRequest: "engine.digits.sampling:run_compare",
    GuidanceSweepRequest: "engine.digits.sampling:run_guidance_sweep",
    WalkRequest: "engine.digits.walk:run_walk",
    InversionRequest: "engine.digits.inversion:run_inversion",
    EvaluateRequest: "engine.digits.evaluation:evaluate_digits",
    TrainDigitsRequest: "engine.digits.training:train_digits",
    UNetStructureRequest: "engine.digits.unet_inside:unet_structure",
    FeatureMapsRequest: "engine.digits.unet_inside:feature_maps",
}
