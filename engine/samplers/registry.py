"""Every sampler of the app, once: its key, names, A1111 name, and how to build it.

A sampler is either a diffusers scheduler (``scheduler_class`` plus config ``overrides``, built
by ``engine.samplers.builder.make_scheduler`` from a model's own scheduler config) or our own
sampler function (``function`` = "module:function", e.g. a Langevin or predictor–corrector
sampler). Each feature offers a subset, named in its ``types`` module: the digits model its
``SAMPLER_KEYS``, Stable Diffusion its ``SCHEDULER_NAMES``, the 2D toy its ``SAMPLERS`` and
its sampler lab ``LAB_SAMPLERS`` (the ``ode_*`` functions).

What is stored where (and so must keep restoring): digits and 2D toy records store the ``key``
("euler_a"); Stable Diffusion records store the ``name`` ("Euler ancestral", "default"); the
A1111 ``parameters`` text stores ``a1111_name`` ("Euler a"). Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Sampler:
    key: str  # digits/toy records, ``--sampler``: "euler_a"
    name: str  # shown in menus, stored by Stable Diffusion records: "Euler ancestral"
    a1111_name: str | None  # AUTOMATIC1111's name ("Euler a"); None: named by its class
    stochastic: bool  # draws fresh noise at every step (DDIM only with η > 0: not flagged)
    scheduler_class: str | None = None  # a diffusers scheduler class …
    overrides: Mapping[str, object] = field(default_factory=dict)  # … and its config overrides
    function: str | None = None  # … or our own sampler, "module:function"
    label: str = ""  # a longer menu text where a feature wants one (the digits page)
    aliases: tuple[str, ...] = ()  # further spellings people type ("dpm-solver++ 2m")

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        if self.scheduler_class and self.function:
            raise ValueError(f"sampler {self.key!r}: a diffusers class or a function, not both")

    @property
    def display_label(self) -> str:
        return self.label or self.name

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every name this sampler answers to (compared ignoring case, ``_`` and spaces)."""
        return tuple(n for n in (self.key, self.name, self.a1111_name, self.label, *self.aliases) if n)


_DPMPP_2M = {"algorithm_type": "dpmsolver++", "solver_order": 2}

# Menu order of the digits page and of Stable Diffusion follows each feature's own tuple.
SAMPLERS: tuple[Sampler, ...] = (
    # The model's own scheduler (Stable Diffusion's "default"): its class comes from the base.
    Sampler("default", "default", None, False),
    Sampler("ddpm", "DDPM", "DDPM", True, "DDPMScheduler",
            label="DDPM (ancestral, Ho et al. 2020)"),
    Sampler("ddim", "DDIM", "DDIM", False, "DDIMScheduler",
            label="DDIM (deterministic at η = 0)"),
    Sampler("euler", "Euler", "Euler", False, "EulerDiscreteScheduler"),
    Sampler("heun", "Heun", "Heun", False, "HeunDiscreteScheduler"),
    Sampler("euler_a", "Euler ancestral", "Euler a", True, "EulerAncestralDiscreteScheduler"),
    Sampler("dpmpp_2m", "DPM-Solver++ 2M", "DPM++ 2M", False, "DPMSolverMultistepScheduler",
            {**_DPMPP_2M, "use_karras_sigmas": False}),
    Sampler("dpmpp_2m_karras", "DPM-Solver++ 2M Karras", "DPM++ 2M Karras", False,
            "DPMSolverMultistepScheduler", {**_DPMPP_2M, "use_karras_sigmas": True}),
    Sampler("unipc", "UniPC", "UniPC", False, "UniPCMultistepScheduler"),
    # PNDM without its Runge–Kutta warm-up is A1111's "PLMS".
    Sampler("pndm", "PNDM", "PLMS", False, "PNDMScheduler", {"skip_prk_steps": True},
            label="PNDM (PLMS)"),
    Sampler("lms", "LMS", "LMS", False, "LMSDiscreteScheduler"),
    Sampler("lcm", "LCM", "LCM", True, "LCMScheduler"),
    # Flow-matching models (SD 3, Flux): σ runs from 1 (noise) to 0 and the model predicts the
    # velocity. Their A1111 name is their own: the web UIs call them "Euler" etc. too, which
    # would restore as the ε-model samplers of those names.
    Sampler("flow_euler", "Flow-matching Euler", "Flow-matching Euler", False,
            "FlowMatchEulerDiscreteScheduler"),
    Sampler("flow_dpmpp_2m", "DPM-Solver++ 2M (flow)", "DPM-Solver++ 2M (flow)", False,
            "DPMSolverMultistepScheduler",
            {**_DPMPP_2M, "use_flow_sigmas": True, "prediction_type": "flow_prediction"}),
    Sampler("flow_unipc", "UniPC (flow)", "UniPC (flow)", False, "UniPCMultistepScheduler",
            {"use_flow_sigmas": True, "prediction_type": "flow_prediction"}),
    # Our own probability-flow ODE samplers in σ for a denoiser D(x̃, σ) (the 2D toy's exact
    # model, sampler lab): diffusers has no stepping for an arbitrary function at arbitrary σ.
    Sampler("ode_ddim", "DDIM (ODE in σ: Euler)", None, False,
            function="engine.samplers.ode:sample_euler"),
    Sampler("ode_heun", "Heun (ODE in σ)", None, False, function="engine.samplers.ode:sample_heun"),
    Sampler("ode_dpmpp_2m", "DPM-Solver++ 2M (ODE in σ)", None, False,
            function="engine.samplers.ode:sample_dpmpp_2m"),
    Sampler("ode_rk4", "RK4 (ODE in σ)", None, False, function="engine.samplers.ode:sample_rk4"),
    # Our own Langevin samplers on a score (the 2D toy): diffusers has none for a VP model.
    Sampler("langevin", "Annealed Langevin", None, True,
            function="engine.samplers.langevin:sample_annealed_langevin",
            aliases=("annealed langevin", "ald")),
    Sampler("pc", "Predictor–corrector", None, True,
            function="engine.samplers.langevin:sample_predictor_corrector",
            aliases=("predictor-corrector", "predictor corrector")),
)

BY_KEY: Mapping[str, Sampler] = MappingProxyType({s.key: s for s in SAMPLERS})
_BY_NAME = {s.name: s for s in SAMPLERS}
assert len(BY_KEY) == len(_BY_NAME) == len(SAMPLERS), "sampler keys and names must be unique"


def get_sampler(key_or_name: str) -> Sampler:
    """The sampler stored as ``key_or_name``: a key ("euler_a") or a name ("Euler ancestral"),
    exactly as records store them (``engine.samplers.names`` resolves what people type)."""
    found = BY_KEY.get(key_or_name) or _BY_NAME.get(key_or_name)
    if found is None:
        raise KeyError(f"unknown sampler {key_or_name!r}")
    return found


def a1111_name_of_class(class_name: str, among=None) -> str:
    """A1111's name for a diffusers scheduler class (the first sampler of ``among``, keys or
    names, default all, built from it), or the class name itself when none is."""
    for sampler in SAMPLERS if among is None else map(get_sampler, among):
        if sampler.scheduler_class == class_name and sampler.a1111_name:
            return sampler.a1111_name
    return class_name
