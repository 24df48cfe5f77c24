"""Step recording within a memory budget: x_t and x̂₀ of the steps the step slider scrubs.

Every step of every image, in float32, grows without bound (150 steps × a batch of 8 at
2048² px is about 2.5 GB). The recording keeps to ``GenerationRequest.recording_budget_mb``
(512 MB by default) by trading precision first and steps second, fixed at the first step, when
the step count and the latents' size are known:

1. every step in float32 (what a normal run gets: 25 steps at 512² px take 3 MB);
2. every step in float16;
3. float16, keeping every k-th step (the first is step 1) and always the last, with the
   smallest k that fits;
4. only the first and last steps, of as many batches as fit (later batches are not recorded);
5. nothing, when not even that fits (or the budget is 0).

All batches keep the same steps, so one ``GenerationResult.recorded_steps`` describes every
batch; a cancelled batch holds a prefix of them (its last x̂₀ comes back as partial_latents).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MB = 1024 * 1024
FLOAT16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True)
class RecordingPlan:
    steps: int  # model calls per batch
    stride: int  # keep every stride-th step (0-based index % stride == 0) and the last
    dtype: type  # np.float32 or np.float16
    batches: int  # batches recorded (the first ones)

    def keeps(self, index: int) -> bool:
        """Whether the step at 0-based ``index`` is recorded."""
        return index % self.stride == 0 or index == self.steps - 1

    @property
    def kept(self) -> tuple[int, ...]:
        """0-based indexes of the recorded steps of a whole batch."""
        return tuple(i for i in range(self.steps) if self.keeps(i))

    @property
    def complete(self) -> bool:
        return self.stride == 1 and self.dtype is np.float32

    def nbytes(self, values_per_step: int) -> int:
        """Bytes of ``self.batches`` batches at ``values_per_step`` numbers (x_t + x̂₀) a step."""
        return self.batches * len(self.kept) * values_per_step * np.dtype(self.dtype).itemsize


def plan_recording(budget_bytes: int, steps: int, batch_count: int,
                   values_per_step: int) -> RecordingPlan | None:
    """The most complete recording that fits ``budget_bytes`` (module docstring), or None."""
    if budget_bytes <= 0 or steps <= 0:
        return None
    for dtype in (np.float32, np.float16):
        for stride in (1,) if dtype is np.float32 else range(1, max(steps - 1, 1) + 1):
            plan = RecordingPlan(steps, stride, dtype, batch_count)
            if plan.nbytes(values_per_step) <= budget_bytes:
                return plan
    # First and last steps only, of the batches that fit.
    plan = RecordingPlan(steps, max(steps - 1, 1), np.float16, 1)
    batches = min(batch_count, budget_bytes // plan.nbytes(values_per_step))
    return RecordingPlan(steps, plan.stride, np.float16, batches) if batches else None


class StepRecording:
    """The recorded steps of one run, all batches, kept within the budget."""

    def __init__(self, budget_mb: int, batch_count: int):
        self.budget_bytes = int(budget_mb) * MB
        self.batch_count = batch_count
        self.plan: RecordingPlan | None = None
        self.planned = False
        self.latents: list[list[np.ndarray]] = []  # per batch, per kept step: batch×C×h×w
        self.predictions: list[list[np.ndarray]] = []
        self.timesteps: list[float] = []  # of the kept steps, from the first batch that has them

    def wants(self, batch: int, index: int, steps: int, latents_shape) -> bool:
        """Whether step ``index`` (0-based) of ``batch`` is recorded; plans on the first call."""
        if not self.planned:
            self.planned = True
            values = 2 * int(np.prod(latents_shape))
            self.plan = plan_recording(self.budget_bytes, steps, self.batch_count, values)
        plan = self.plan
        return plan is not None and batch < plan.batches and index < plan.steps \
            and plan.keeps(index)

    def add(self, batch: int, latents: np.ndarray, prediction: np.ndarray, timestep: float) -> None:
        """Record one wanted step (float32 arrays; stored in the plan's dtype)."""
        while len(self.latents) <= batch:
            self.latents.append([])
            self.predictions.append([])
        self.latents[batch].append(self._stored(latents))
        self.predictions[batch].append(self._stored(prediction))
        if len(self.latents[batch]) > len(self.timesteps):
            self.timesteps.append(float(timestep))

    def on_device(self, latents, prediction, timestep):
        """One wanted step kept where it is (no host sync): copies in the plan's dtype."""
        from engine.runtime import import_torch

        torch = import_torch()
        dtype = torch.float32 if self.plan.dtype is np.float32 else torch.float16

        def stored(tensor):
            tensor = tensor.detach()
            if dtype is torch.float16:  # clip into float16's range: large values stay finite
                tensor = tensor.float().clamp(-FLOAT16_MAX, FLOAT16_MAX)
            return tensor.to(dtype=dtype, copy=True)

        timestep = timestep.detach().reshape(()).float().clone() if hasattr(timestep, "detach") \
            else float(timestep)
        return stored(latents), stored(prediction), timestep

    def add_from_device(self, batch: int, rows) -> None:
        """Record ``on_device`` rows of one batch: one stacked copy to the host per kind."""
        if not rows:
            return
        from engine.runtime import import_torch

        torch = import_torch()
        latents = torch.stack([row[0] for row in rows]).cpu().numpy()
        predictions = torch.stack([row[1] for row in rows]).cpu().numpy()
        timesteps = [row[2] for row in rows]
        if hasattr(timesteps[0], "detach"):
            timesteps = torch.stack(timesteps).cpu().tolist()
        for x_t, x0, t in zip(latents, predictions, timesteps, strict=True):
            self.add(batch, x_t, x0, float(t))

    def _stored(self, values: np.ndarray) -> np.ndarray:
        if self.plan.dtype is np.float32:
            return np.asarray(values, dtype=np.float32)
        if values.dtype == np.float16:
            return values  # clipped on the device already
        # Clip into float16's range, so large finite values do not become inf.
        return np.clip(values, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)

    # -- what the result carries -----------------------------------------------------------
    def step_latents(self) -> tuple[np.ndarray, ...]:
        return tuple(np.stack(rows) for rows in self.latents if rows)

    def step_predictions(self) -> tuple[np.ndarray, ...]:
        return tuple(np.stack(rows) for rows in self.predictions if rows)

    def recorded_steps(self) -> tuple[int, ...]:
        """1-based step numbers (model calls) of the recorded rows."""
        if self.plan is None:
            return ()
        return tuple(i + 1 for i in self.plan.kept[:len(self.timesteps)])

    def nbytes(self) -> int:
        return sum(a.nbytes for runs in (self.latents, self.predictions) for rows in runs
                   for a in rows)

    def note(self) -> str:
        """A sentence when the budget made the recording less than complete, else ""."""
        plan = self.plan
        if not self.planned or (plan is not None and plan.complete):
            return ""
        budget = f"the {self.budget_bytes // MB} MB step-recording budget"
        if plan is None:
            return (f"No steps were recorded: even the first and last step exceed {budget} "
                    "(raise it to scrub through the steps)." if self.budget_bytes else "")
        kept = len(plan.kept)
        what = (f"all {plan.steps} steps" if kept == plan.steps
                else f"{kept} of {plan.steps} steps (one in every {plan.stride} and the last)"
                if kept > 2 else f"only the first and last of {plan.steps} steps")
        batches = (f" of the first {plan.batches} of {self.batch_count} batches"
                   if plan.batches < self.batch_count else "")
        return f"Recorded {what}{batches} in float16, to stay within {budget}."
