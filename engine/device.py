"""Which device runs the models: CUDA, then Apple MPS, then CPU, each with its natural dtype."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import UserFacingError
from engine.types import EngineInfo, LibraryCheckRequest, LibraryCheckResult, StartEngineRequest

DEVICE_CHOICES = ("cuda", "mps", "cpu")

# Big models (Stable Diffusion) run in half precision where the hardware is built for it; the
# CPU has no fast fp16 kernels, so it stays in fp32. Small models always run in fp32.
DEFAULT_DTYPES = {"cuda": "float16", "mps": "float16", "cpu": "float32"}

# The device the engine was started with (``start_engine``, i.e. the GUI's Device menu): the
# digits model and the 2D toy run there. The CPU until then (the CLI's sampling commands).
_current_device = "cpu"


def current_device() -> str:
    """"cuda", "mps" or "cpu": where the engine's small models run."""
    return _current_device


def set_current_device(device: str) -> None:
    global _current_device
    if device not in DEVICE_CHOICES:
        raise ValueError(f"Unknown device {device!r}; choose cuda, mps or cpu.")
    _current_device = device


def cpu_bf16_support(torch) -> tuple[bool, str]:
    """Whether this CPU has fast bf16 kernels (oneDNN with AVX-512 BF16 or AMX), and why not."""
    if not torch.backends.mkldnn.is_available():
        return False, "torch was built without oneDNN"
    try:
        ok = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False, "torch cannot tell whether this CPU has bf16 kernels"
    return ok, "" if ok else "this CPU has no bf16 instructions (AVX-512 BF16 or AMX)"


@dataclass(frozen=True)
class DeviceReport:
    kind: str
    available: bool
    name: str
    memory_bytes: int | None
    note: str = ""


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[DeviceReport]:
    """Every device kind, whether it can be used here, its name and memory."""
    from engine.runtime import import_torch

    torch = import_torch()
    reports = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            reports.append(DeviceReport("cuda", True, f"cuda:{index} {props.name}", props.total_memory))
    else:
        note = "no CUDA GPU visible" if torch.version.cuda else "this torch build has no CUDA"
        reports.append(DeviceReport("cuda", False, "-", None, note))
    mps = _mps_available(torch)
    reports.append(DeviceReport("mps", mps, "Apple GPU" if mps else "-", None,
                                "" if mps else "not an Apple Silicon Mac"))
    reports.append(DeviceReport("cpu", True, _cpu_name(), _system_memory(), ""))
    return reports


def pick_device(override: str | None = None) -> str:
    """CUDA if present, else MPS, else CPU; an explicit override must be available."""
    from engine.runtime import import_torch

    torch = import_torch()
    if override:
        override = override.lower()
        if override not in DEVICE_CHOICES:
            raise UserFacingError(f"Unknown device {override!r}; choose cuda, mps or cpu.")
        if override == "cuda" and not torch.cuda.is_available():
            raise UserFacingError("CUDA was requested, but no CUDA GPU is available to PyTorch here.")
        if override == "mps" and not _mps_available(torch):
            raise UserFacingError("MPS was requested, but Apple's Metal backend is not available here.")
        return override
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available(torch):
        return "mps"
    return "cpu"


def start_engine(request: StartEngineRequest, reporter) -> EngineInfo:
    """Job handler: load torch and diffusers once, then describe the chosen device."""
    from engine.runtime import import_torch

    torch = import_torch()
    import diffusers

    device = pick_device(request.device)
    set_current_device(device)
    name = torch.cuda.get_device_name(0) if device == "cuda" else (
        "Apple GPU" if device == "mps" else _cpu_name())
    return EngineInfo(
        device=device,
        device_name=name,
        dtype=DEFAULT_DTYPES[device],
        torch_version=torch.__version__,
        diffusers_version=diffusers.__version__,
        torch_threads=torch.get_num_threads(),
    )


def _cpu_name() -> str:
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def _system_memory() -> int | None:
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


# -- are the libraries really there? ----------------------------------------------------------
# Are the libraries really there? Catches a frozen app whose package metadata went missing.
#
# Without metadata, diffusers decides that torch or transformers is "not installed" and hands out
# dummy classes that fail only when used, so this checks diffusers' own view, not just imports.


def check_libraries(request: LibraryCheckRequest | None = None, reporter=None) -> LibraryCheckResult:
    from engine.runtime import import_torch

    torch = import_torch()
    import diffusers
    import safetensors
    import transformers
    from diffusers.utils import import_utils

    problems = []
    for name in ("torch", "transformers", "safetensors"):
        if not getattr(import_utils, f"is_{name}_available")():
            problems.append(f"diffusers does not see {name} (missing package metadata?)")
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DModel

    for cls in (StableDiffusionPipeline, UNet2DModel, AutoencoderKL, DDIMScheduler):
        if "dummy" in cls.__module__:
            problems.append(f"diffusers.{cls.__name__} is a dummy placeholder ({cls.__module__})")
    if not hasattr(StableDiffusionPipeline, "from_single_file"):
        problems.append("diffusers.StableDiffusionPipeline cannot load single files (too old?)")
    from transformers import CLIPTextModel, CLIPTokenizer

    for cls in (CLIPTextModel, CLIPTokenizer):
        if "dummy" in cls.__module__:
            problems.append(f"transformers.{cls.__name__} is a dummy placeholder")
    versions = {
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
    }
    return LibraryCheckResult(versions=versions, problems=tuple(problems))
