"""The engine core's torch-free vocabulary: start-up, progress and the library check.

Every feature's own requests and results live in its package's ``types.py``; like them,
these carry plain data only, so nothing that crosses the thread boundary drags torch along.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StartEngineRequest:
    """Load torch, set threads, pick the device. ``device`` None means automatic."""

    device: str | None = None


@dataclass(frozen=True)
class EngineInfo:
    device: str  # "cuda" | "mps" | "cpu"
    device_name: str
    dtype: str  # default dtype for big models on this device, e.g. "float16"
    torch_version: str
    diffusers_version: str
    torch_threads: int

    @property
    def summary(self) -> str:
        return (
            f"{self.device.upper()} ({self.device_name}) · {self.dtype} · torch {self.torch_version}"
            f" · {self.torch_threads} thread{'s' if self.torch_threads != 1 else ''}"
        )


@dataclass(frozen=True)
class ProgressUpdate:
    done: int
    total: int
    rate: float  # items per second, 0 while unknown
    eta_seconds: float | None
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class LibraryCheckRequest:
    """Ask the engine whether diffusers sees its optional back-ends (a packaging sanity check)."""


@dataclass(frozen=True)
class LibraryCheckResult:
    versions: dict[str, str]
    problems: tuple[str, ...]  # empty when all is well


JOB_HANDLERS: dict[type, str] = {
    StartEngineRequest: "engine.device:start_engine",
    LibraryCheckRequest: "engine.device:check_libraries",
}
