"""Classifier-free guidance taken apart inside the diffusers pipelines, without changing the image.

The pipelines evaluate the UNet once per step on the batch [unconditional, conditional] (the
unconditional half is the negative prompt's when there is one: a negative prompt simply takes
the empty prompt's place) and combine ε̂ = ε̂(∅) + g·(ε̂(c) − ε̂(∅)) inside ``__call__``. The
``GuidanceProbe`` sees both halves through a UNet forward hook that only reads the output, and
the guided ε̂ through a ``scheduler.step`` wrapper (the same place x0_capture.py wraps), so the
numbers that make the image are never touched while only recording.

The two options act through what diffusers itself offers:
- cut-off: at the end of the last guided step the ``callback_on_step_end`` sets
  ``pipe._guidance_scale = 0`` and returns the conditional half of ``prompt_embeds`` (and of the
  inpainting pipeline's doubled ``mask``/``masked_image_latents``), as diffusers'
  ``SDCFGCutoffCallback`` documents for dynamic CFG (it keeps ``prompt_embeds[-1:]``, right for
  one image only: here the whole conditional half is kept, for any batch size). From then on
  ``do_classifier_free_guidance`` is False and the UNet runs on half the batch.
- rescale: txt2img passes ``guidance_rescale`` to the pipeline; the img2img and inpainting
  pipelines of diffusers 0.42 have no such argument, so the step wrapper applies diffusers'
  ``rescale_noise_cfg`` to the guided ε̂ before the scheduler sees it (tested to give the
  txt2img pipeline's own result).

Recording keeps to a memory budget planned like recording.py's (float32, float16, every k-th
step), on the model's device during the run: no host copy or sync per step; everything moves to
the host once, when the run ends (``record``).
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from engine.samplers.guidance import guided_steps, rescale_guided, step_norms
from engine.samplers.x0_capture import alpha_bar_at, x0_from_model_output
from engine.stable_diffusion.recording import FLOAT16_MAX, MB, plan_recording
from engine.stable_diffusion.types import GenerationRequest, GuidanceRecord

# Recorded per image and step: ε̂(∅), ε̂(c) and their x̂₀ in the result (the device holds ε̂(∅),
# ε̂(c) and x_t, which is less).
ARRAYS_PER_STEP = 4


class GuidanceProbe:
    """Cut-off, rescale and recording of the two branches for one ``run_generation``."""

    def __init__(self, pipe, request: GenerationRequest, *, native_rescale: bool | None = None):
        self.pipe = pipe
        self.request = request
        self.batch_size = request.batch_size
        self.cutoff = float(request.guidance_cutoff)
        self.phi = float(request.guidance_rescale)
        # txt2img's pipeline rescales itself; the others (no ``guidance_rescale``) are helped.
        self.native_rescale = (request.mode == "txt2img") if native_rescale is None else native_rescale
        self.budget_bytes = int(request.recording_budget_mb) * MB if request.record_steps else 0
        self.plan = None
        self.planned = False
        self.batch = 0
        self._branches = None  # (x_t, ε̂(∅) or None, ε̂(c)) of the step in progress
        self._guided_norms = None
        self.rows: list[list[tuple]] = []  # per batch: (x_t, ε̂(∅) | None, ε̂(c), t) kept rows
        self.norms: list[list] = []  # per batch: per step a 4×B device tensor
        self.kept_steps: list[int] = []
        self.timesteps: list = []
        self.guided = None  # model calls with guidance, known at the first step
        self.model_calls = 0

    # -- what run_generation passes to the pipeline ---------------------------------------
    def pipeline_kwargs(self) -> dict:
        """``guidance_scale`` (1 when the cut-off leaves no guided step) and, for txt2img,
        ``guidance_rescale``."""
        kwargs = {"guidance_scale": self.request.guidance_scale}
        if self.cutoff <= 0.0:
            kwargs["guidance_scale"] = 1.0  # no step guided: the conditional branch alone
        if self.native_rescale and self.phi > 0.0:
            kwargs["guidance_rescale"] = self.phi
        return kwargs

    def tensor_inputs(self, names: list[str]) -> list[str]:
        """``callback_on_step_end_tensor_inputs`` plus what the cut-off must halve."""
        wanted = list(names)
        if 0.0 < self.cutoff < 1.0:
            for name in ("prompt_embeds", "mask", "masked_image_latents"):
                if name in getattr(self.pipe, "_callback_tensor_inputs", ()) and name not in wanted:
                    wanted.append(name)
        return wanted

    def callback(self, recorder):
        """``callback_on_step_end``: the step recorder's, then this probe's (commit the step's
        branches, apply the cut-off)."""

        def on_step_end(pipe, i, t, kwargs):
            kwargs = recorder(pipe, i, t, kwargs)
            return self.on_step_end(pipe, i, t, kwargs)

        return on_step_end

    def begin_batch(self, batch: int) -> None:
        self.batch = batch
        self._branches = None
        self._guided_norms = None
        while len(self.rows) <= batch:
            self.rows.append([])
            self.norms.append([])

    @contextlib.contextmanager
    def attached(self):
        """The UNet hook and the ``scheduler.step`` wrapper, for one job."""
        unet, scheduler = self.pipe.unet, self.pipe.scheduler
        handle = unet.register_forward_hook(self._on_unet, with_kwargs=True)
        original = scheduler.step

        # ``wraps`` keeps step's signature: pipelines pass ``generator``/``eta`` only when the
        # signature lists them (see x0_capture.py).
        @functools.wraps(original)
        def step(model_output, timestep, sample, *args, **kwargs):
            model_output = self._on_scheduler_step(model_output)
            return original(model_output, timestep, sample, *args, **kwargs)

        scheduler.step = step
        try:
            yield self
        finally:
            handle.remove()
            scheduler.step = original

    # -- during the run ---------------------------------------------------------------------
    def _on_unet(self, module, args, kwargs, output):
        sample = args[0] if args else kwargs.get("sample")
        out = output[0] if isinstance(output, tuple) else getattr(output, "sample", None)
        if sample is None or out is None:
            return None
        channels = out.shape[1]
        b = self.batch_size
        if out.shape[0] == 2 * b:
            unconditional, conditional = out[:b].detach(), out[b:].detach()
        elif out.shape[0] == b:
            unconditional, conditional = None, out.detach()
        else:
            self._branches = None  # not a batch this run made: nothing to take apart
            return None
        # The model input of the first half: x_t on the variance-preserving scale (the
        # inpainting UNet's extra mask channels left out).
        self._branches = (sample[:b, :channels].detach(), unconditional, conditional)
        return None

    def _on_scheduler_step(self, model_output):
        """Rescale where the pipeline cannot, and keep the guided ε̂'s norm; returns what the
        scheduler gets."""
        branches = self._branches
        if branches is not None and branches[1] is not None and self.phi > 0.0 \
                and not self.native_rescale:
            model_output = rescale_guided(model_output, branches[2], self.phi)
        if branches is not None:
            self._guided_norms = step_norms(branches[1], branches[2], model_output)
        return model_output

    def on_step_end(self, pipe, i, t, kwargs):
        calls = getattr(pipe, "num_timesteps", None) or self.request.steps
        if not self.planned:
            self.planned = True
            self.model_calls = calls
            self.guided = guided_steps(self.cutoff, calls) if pipe.do_classifier_free_guidance \
                else 0
            if self._branches is not None and self.budget_bytes > 0:
                values = ARRAYS_PER_STEP * int(np.prod(self._branches[2].shape))
                self.plan = plan_recording(self.budget_bytes, calls, self.request.batch_count,
                                           values)
        self._commit(i, t)
        if pipe.do_classifier_free_guidance and 0 < self.guided < calls and i + 1 == self.guided:
            kwargs = self._cut_off(pipe, kwargs)
        return kwargs

    def _commit(self, i: int, t) -> None:
        branches, norms = self._branches, self._guided_norms
        self._branches = self._guided_norms = None
        if branches is None or norms is None:
            return
        self.norms[self.batch].append(norms)
        plan = self.plan
        if plan is None or self.batch >= plan.batches or i >= plan.steps or not plan.keeps(i):
            return
        x_t, unconditional, conditional = (None if v is None else self._stored(v)
                                           for v in branches)
        self.rows[self.batch].append((x_t, unconditional, conditional, t))
        if len(self.rows[self.batch]) > len(self.kept_steps):
            self.kept_steps.append(i + 1)
            self.timesteps.append(t)

    def _stored(self, tensor):
        """A copy on the device in the plan's precision (clipped into float16's range)."""
        import torch

        if self.plan.dtype is np.float32:
            return tensor.float().clone()
        return tensor.float().clamp(-FLOAT16_MAX, FLOAT16_MAX).to(torch.float16)

    def _cut_off(self, pipe, kwargs):
        """Guidance off from the next step: the conditional half of what the pipeline doubled."""
        pipe._guidance_scale = 0.0
        for name in ("prompt_embeds", "mask", "masked_image_latents"):
            value = kwargs.get(name)
            if value is not None and value.shape[0] == 2 * self.batch_size:
                kwargs[name] = value.chunk(2)[1]
        return kwargs

    # -- after the run ----------------------------------------------------------------------
    def record(self) -> GuidanceRecord | None:
        """Everything on the host, x̂₀ of each branch computed there; None when no step ran."""
        import torch

        if not any(self.norms):
            return None
        scheduler = self.pipe.scheduler
        prediction_type = scheduler.config.get("prediction_type", "epsilon")
        dtype = np.float16 if self.plan is not None and self.plan.dtype is np.float16 else np.float32
        timesteps = [float(t) for t in self.timesteps]
        alpha_bars = [alpha_bar_at(scheduler, t) for t in timesteps]
        arrays = {name: [] for name in ("unconditional", "conditional", "pred_unconditional",
                                        "pred_conditional")}
        has_unconditional: list[bool] = []
        for batch_rows in self.rows:
            if not batch_rows:
                continue
            per_row = {name: [] for name in arrays}
            for row, (x_t, unconditional, conditional, _t) in enumerate(batch_rows):
                if len(has_unconditional) <= row:
                    has_unconditional.append(unconditional is not None)
                x_t, conditional = x_t.float().cpu(), conditional.float().cpu()
                unconditional = (torch.full_like(conditional, float("nan")) if unconditional is None
                                 else unconditional.float().cpu())
                alpha_bar = alpha_bars[row]
                per_row["unconditional"].append(unconditional)
                per_row["conditional"].append(conditional)
                for name, eps in (("pred_unconditional", unconditional),
                                  ("pred_conditional", conditional)):
                    per_row[name].append(x0_from_model_output(eps, x_t, alpha_bar, prediction_type)
                                         if alpha_bar is not None else torch.full_like(eps, np.nan))
            for name, values in per_row.items():
                arrays[name].append(torch.stack(values).numpy().astype(dtype))
        norms = tuple(torch.stack(steps).cpu().numpy().astype(np.float32)
                      for steps in self.norms if steps)
        return GuidanceRecord(
            steps=tuple(self.kept_steps), timesteps=tuple(timesteps),
            unconditional=tuple(arrays["unconditional"]), conditional=tuple(arrays["conditional"]),
            pred_unconditional=tuple(arrays["pred_unconditional"]),
            pred_conditional=tuple(arrays["pred_conditional"]),
            has_unconditional=tuple(has_unconditional), norms=norms,
            guidance_scale=float(self.request.guidance_scale), guided_steps=int(self.guided or 0),
            model_calls=int(self.model_calls), rescale=self.phi,
            negative_prompt=self.request.negative_prompt, prediction_type=str(prediction_type),
            note=self.note())

    def note(self) -> str:
        if not self.guided:
            return ("No guidance ran (a scale ≤ 1, a cut-off at 0, or a guidance-distilled "
                    "model): the conditional branch alone made every step.")
        if self.plan is None:
            return "The branches' images were not recorded (no step-recording budget); the norms were."
        if not self.plan.complete:
            kept = len(self.plan.kept)
            return (f"To stay within the {self.budget_bytes // MB} MB recording budget the "
                    f"branches were kept for {kept} of {self.plan.steps} steps"
                    + (" in float16." if self.plan.dtype is np.float16 else "."))
        return ""
