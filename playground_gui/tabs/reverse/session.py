"""The Reverse process page without its widgets: the runs, the sweep and the inversion.

``ReverseSession`` holds what the page shows (the recorded runs, the latest guidance sweep and
DDIM inversion), runs every job through one ``JobSlot`` (one job at a time: the page disables its
buttons while one runs) and says what happened through signals. ``RunRecord`` is one run's steps,
filled live from step payloads and replaced by the final result. Scrubbing is arithmetic on
those records (slider value → step of each run, caption), so it lives here too and is tested
without a window.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.digits.outputs import sample_items
from engine.digits.types import (
    SAMPLERS,
    STOCHASTIC_SAMPLERS,
    CompareRequest,
    GuidanceSweepRequest,
    InversionRequest,
    ReverseRequest,
    label_text,
)
from playground_gui.formatting import format_seconds
from playground_gui.job_slots import JobSlot, Policy

SAVE_SCALE = 4  # saved samples are 64×64: each 16×16 pixel becomes a crisp 4×4 block
SLIDER_RESOLUTION = 1000  # compare mode: the slider is a fraction of the run, in ‰


def format_wall(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 60 else format_seconds(seconds)


class RunRecord:
    """The steps of one run, filled live from step payloads and replaced by the final result."""

    def __init__(self, request: ReverseRequest):
        self.request = request
        self.x_t: list[np.ndarray] = []
        self.noise_pred: list[np.ndarray] = []
        self.pred_original: list[np.ndarray] = []
        self.timesteps: list[float] = []
        self.total = 0
        self.result = None
        self.x0_derived = False

    def add_step(self, step) -> None:
        self.total = step.total
        self.x_t.append(step.x_t)
        self.noise_pred.append(step.noise_pred)
        self.pred_original.append(step.pred_original)
        self.timesteps.append(step.timestep)
        self.x0_derived = step.x0_derived

    def finish(self, result, partial: bool = False) -> None:
        """Take the run's result; ``partial``: a cancelled run's steps so far (the number of
        model calls the whole run would have made stays what the live steps said)."""
        self.result = result
        self.x_t = list(result.x_t)
        self.noise_pred = list(result.noise_pred)
        self.pred_original = list(result.pred_original)
        self.timesteps = [float(t) for t in result.timesteps]
        if not partial:
            self.total = len(result.timesteps)
        self.x0_derived = result.x0_derived

    @property
    def calls_are_steps(self) -> bool:
        """False for samplers that make more model calls than steps (PNDM: one more)."""
        return not self.total or self.total == self.request.steps

    def steps_text(self, calls: int | None = None) -> str:
        """"25 steps", or "25 steps (26 model calls)" when the sampler makes more calls. With
        ``calls`` (a cancelled run's calls so far) only those are counted."""
        if self.calls_are_steps:
            return f"{self.request.steps if calls is None else calls} steps"
        if calls is not None and calls < self.total:
            return f"{calls} model calls (of {self.total})"
        return f"{self.request.steps} steps ({self.total} model calls)"

    @property
    def device(self) -> str:
        """The device the run used, once the engine says ("cpu", "cuda", "mps"; "" unknown)."""
        return getattr(self.result, "device", "") or ""

    def title(self) -> str:
        """The run's caption: sampler, steps, digit, guidance, seed, then wall time and device
        once it has a result."""
        r = self.request
        text = (f"{SAMPLERS[r.sampler]} · {self.steps_text()} · {label_text(r.label)} · guidance "
                f"{r.guidance:g} · seed {r.seed}")
        if r.sampler == "ddim":
            text += f" · η {r.eta:g}"
        if r.variation_seed is not None and r.variation_strength > 0:
            text += f" · variation seed {r.variation_seed} × {r.variation_strength:.3g}"
        if r.sampler in STOCHASTIC_SAMPLERS or (r.sampler == "ddim" and r.eta > 0):
            text += " · stochastic"
        if self.result is not None:
            text += f" · wall time {format_wall(self.result.wall_seconds)}"
            if self.device:
                text += f" on {self.device.upper()}"
        if self.x0_derived:
            text += " · x̂₀ derived from ε̂"
        return text

    @property
    def positions(self) -> int:
        """Scrub positions: one per step, plus the final sample once finished."""
        return len(self.x_t)

    def views(self, position: int):
        """(x_t, ε̂, x̂₀, caption) at a scrub position."""
        position = max(0, min(position, self.positions - 1))
        step = min(position, len(self.noise_pred) - 1)
        if position >= len(self.timesteps):
            caption = f"final sample, after {self.steps_text(len(self.timesteps))}"
        else:
            # PNDM makes one more model call than it has steps: then the slider counts calls.
            unit = "step" if self.calls_are_steps else "model call"
            caption = (f"{unit} {position + 1}/{self.total or '?'} · "
                       f"t = {self.timesteps[position]:.0f}")
        return self.x_t[position], self.noise_pred[step], self.pred_original[step], caption

    def sample_items(self) -> list[tuple]:
        """One PNG item per final sample: its batch index and the run's request (which
        regenerates it)."""
        return sample_items(self.request, self.result.final_images, scale=SAVE_SCALE)


class ReverseSession(QObject):
    """The page's state and jobs. Signals fire in the GUI thread, for the newest job only."""

    running_changed = Signal(bool)
    progress = Signal(object)  # ProgressUpdate
    steps_recorded = Signal()  # live steps were added to ``runs``
    run_done = Signal()  # every run finished: ``finished_runs`` hold them
    run_cancelled = Signal()  # ``runs`` keep the steps recorded so far
    sweep_done = Signal(object)  # GuidanceSweepResult (also in ``sweep``)
    inversion_done = Signal(object)  # InversionResult (also in ``inversion``)
    failed = Signal(str)

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.slot = JobSlot(engine, Policy.EXCLUSIVE, "Sampling", parent=self)
        self.runs: list[RunRecord] = []
        self.finished_runs: list[RunRecord] = []  # runs that reached their final sample
        self.sweep = None
        self.inversion = None

    @property
    def job(self):
        """The running job's handle, or None."""
        return self.slot.current

    @property
    def busy(self) -> bool:
        return self.slot.busy

    @property
    def compare_mode(self) -> bool:
        return len(self.runs) == 2

    # -- jobs ------------------------------------------------------------------------------
    def start_run(self, first: ReverseRequest, second: ReverseRequest | None = None):
        """Sample ``first`` (and ``second`` from the same seed: compare mode); returns the job,
        or None while another job runs."""
        if self.busy:
            return None
        if second is not None:
            request = CompareRequest(first, second)
            runs = [RunRecord(first), RunRecord(second)]
            description = (f"Comparing {first.sampler} {first.steps} and {second.sampler} "
                           f"{second.steps} steps")
        else:
            request, runs = first, [RunRecord(first)]
            description = f"Sampling ({first.sampler}, {first.steps} steps)"
        self.runs, self.finished_runs = runs, []
        return self._submit(request, description, self._on_run_done, self._on_run_cancelled)

    def start_sweep(self, request: GuidanceSweepRequest):
        return None if self.busy else self._submit(request, "Guidance sweep", self._on_sweep_done)

    def start_inversion(self, request: InversionRequest):
        return None if self.busy else self._submit(request, "DDIM inversion",
                                                   self._on_inversion_done)

    def cancel(self) -> bool:
        """Cancel the running job (it stops at its next step); False when none runs."""
        if not self.busy:
            return False
        self.slot.cancel()
        return True

    def _submit(self, request, description, on_success, on_cancel=None):
        handle = self.slot.submit(
            request, description=description, on_success=on_success,
            on_cancel=on_cancel or (lambda partial: self.run_cancelled.emit()),
            on_failure=self.failed.emit, on_progress=self.progress.emit, on_step=self._on_step,
            on_finished=lambda: self.running_changed.emit(False))
        if handle is not None:
            self.running_changed.emit(True)
        return handle

    def _on_step(self, step) -> None:
        if not hasattr(step, "x_t") or step.run_index >= len(self.runs):
            return
        self.runs[step.run_index].add_step(step)
        self.steps_recorded.emit()

    def _on_run_done(self, result) -> None:
        results = [result] if len(self.runs) == 1 else [result.first, result.second]
        for run, outcome in zip(self.runs, results, strict=True):
            run.finish(outcome)
        self.finished_runs = list(self.runs)
        self.run_done.emit()

    def _on_run_cancelled(self, partial) -> None:
        if partial is not None and len(self.runs) == 1 and hasattr(partial, "x_t"):
            self.runs[0].finish(partial, partial=True)
        self.run_cancelled.emit()

    def _on_sweep_done(self, result) -> None:
        self.sweep = result
        self.sweep_done.emit(result)

    def _on_inversion_done(self, result) -> None:
        self.inversion = result
        self.inversion_done.emit(result)

    # -- what the page says ----------------------------------------------------------------
    def done_text(self) -> str:
        times = " · ".join(f"{run.request.sampler} {run.steps_text()}: "
                           f"{format_wall(run.result.wall_seconds)}" for run in self.runs)
        rate = sum(len(r.timesteps) for r in self.runs) / max(
            1e-9, sum(r.result.wall_seconds for r in self.runs))
        unit = "steps/s" if all(r.calls_are_steps for r in self.runs) else "model calls/s"
        return (f"Done. Wall time {times} ({rate:.0f} {unit}). Drag the slider to scrub through "
                "the steps.")

    def cancelled_text(self) -> str:
        run = max(self.runs, key=lambda r: len(r.timesteps), default=None)
        done = run.steps_text(len(run.timesteps)) if run is not None else "0 steps"
        return f"Cancelled after {done}; the recorded steps can be scrubbed."

    # -- scrubbing -------------------------------------------------------------------------
    def has_steps(self) -> bool:
        return any(run.positions for run in self.runs)

    def slider_maximum(self) -> int:
        """Compare mode: ‰ of each run; one run: its recorded positions."""
        if self.compare_mode:
            return SLIDER_RESOLUTION
        return max(0, self.runs[0].positions - 1) if self.runs else 0

    def live_value(self) -> int:
        """The slider value of the newest recorded step."""
        if not self.runs:
            return 0
        if not self.compare_mode:
            return self.runs[0].positions - 1
        for run in reversed(self.runs):  # the run that is going now decides
            if run.positions:
                span = run.total + (1 if run.result is not None else 0)
                return int(round(SLIDER_RESOLUTION * (run.positions - 1) / max(1, span - 1)))
        return 0

    def frames(self, value: int) -> list[tuple[int, tuple]]:
        """(row, (x_t, ε̂, x̂₀, caption)) of every run with steps, at a slider value."""
        return [(row, run.views(self.position(run, value)))
                for row, run in enumerate(self.runs) if run.positions]

    def position(self, run: RunRecord, value: int) -> int:
        """The scrub position of ``run`` at a slider value."""
        if not self.compare_mode:
            return value
        span = (run.total + 1) if run.result is not None else max(run.total, 1)
        return min(int(round(value / SLIDER_RESOLUTION * (span - 1))), run.positions - 1)

    def step_text(self, value: int, frames: list) -> str | None:
        """The step label's text at a slider value (None: leave it)."""
        if self.compare_mode:
            return f"{value / SLIDER_RESOLUTION:.0%} of each run"
        return frames[0][1][3] if frames else None

    # -- saving ----------------------------------------------------------------------------
    def sample_count(self) -> int:
        return self.finished_runs[0].request.batch_size if self.finished_runs else 0

    def chosen_sample_items(self, number: int) -> list[tuple]:
        """The item of sample ``number`` (1-based) of the first finished run."""
        if not self.finished_runs:
            return []
        items = self.finished_runs[0].sample_items()
        return [items[min(number, len(items)) - 1]]

    def all_sample_items(self) -> list[tuple]:
        return [item for run in self.finished_runs for item in run.sample_items()]
