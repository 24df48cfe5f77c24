"""Capture of the UNet's attention probabilities during one run (issue 14 §1).

diffusers' default processor (``AttnProcessor2_0``, scaled_dot_product_attention) never exposes
the probabilities, so a capturing processor wraps each layer's own processor for the job only
(``unet.set_attn_processor``; the originals come back afterwards, also on cancel or error):

- the layer's output is always the original processor's, untouched, so capturing cannot change
  the image;
- beside it, for the conditional half of the batch only (the prompt's; with classifier-free
  guidance the batch is [unconditional, conditional]), it computes softmax(QKᵀ/√d) itself and
  averages over heads. Cross-attention (``attn2``): each prompt token's column, upsampled
  bilinearly to the latent size, summed over the layers. Self-attention (``attn1``): only at
  levels of at most ``MAX_SELF_POSITIONS`` positions, and only on recorded steps: a level of
  N positions is an N×N matrix (SD 1.5 at 512 px: 64×64 would be 16.7 M numbers a step, 32×32
  is 1 M), so the finest levels are not kept;
- UNet forward hooks bracket each model call: the call's maps are averaged over the layers,
  added to the run's mean, and kept as a single step where the plan says so.

Memory: the per-image means (tokens × latent pixels, float32) come first; single steps (cross
maps + the kept self-attention levels) share what is left of ``attention_budget_mb``, planned
like the step recording (recording.py: float32, float16, every k-th step, first and last).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from engine.stable_diffusion.attention_maps import AttentionMaps, token_word
from engine.stable_diffusion.recording import MB, plan_recording

MAX_SELF_POSITIONS = 32 * 32


def attention_support(pipe) -> str:
    """"" when the pipeline's denoiser is a UNet with cross-attention layers, else why not."""
    unet = getattr(pipe, "unet", None)
    processors = getattr(unet, "attn_processors", None) or {}
    if any(name.endswith("attn2.processor") for name in processors):
        return ""
    return (f"No attention maps for this model: {type(pipe).__name__} has no UNet with "
            "cross-attention layers (attn2). SD3 and Flux are transformers that attend to text and "
            "image in one joint attention; the per-word maps here are for SD 1.x/2.x and SDXL.")


def attention_probabilities(attn, hidden_states, context=None):
    """softmax(QKᵀ/√d) of one diffusers ``Attention`` layer, [batch, heads, queries, keys], in
    float32; the same preparation of Q and K as ``AttnProcessor2_0`` (no attention mask: the
    Stable Diffusion UNets pass none)."""
    if hidden_states.ndim == 4:
        b, c, h, w = hidden_states.shape
        hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
    if attn.group_norm is not None:
        hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    query = attn.to_q(hidden_states)
    if context is None:
        context = hidden_states
    elif attn.norm_cross:
        context = attn.norm_encoder_hidden_states(context)
    key = attn.to_k(context)
    batch, heads = query.shape[0], attn.heads
    head_dim = key.shape[-1] // heads
    query = query.view(batch, -1, heads, head_dim).transpose(1, 2)
    key = key.view(batch, -1, heads, head_dim).transpose(1, 2)
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    scores = query.float() @ key.float().transpose(-1, -2) * attn.scale
    return scores.softmax(dim=-1)


class CapturingProcessor:
    """The layer's own processor for the output; the probabilities on the side."""

    def __init__(self, inner, capture: AttentionCapture, cross: bool):
        self.inner = inner
        self.capture = capture
        self.cross = cross

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 **kwargs):
        out = self.inner(attn, hidden_states, encoder_hidden_states=encoder_hidden_states,
                         attention_mask=attention_mask, **kwargs)
        capture = self.capture
        if capture.in_call and not (self.cross and encoder_hidden_states is None):
            images = capture.images  # the conditional rows are the last ``images`` of the batch
            context = encoder_hidden_states[-images:] if self.cross else None
            if self.cross:
                capture.add_cross(attn, hidden_states[-images:], context)
            elif capture.wants_self(hidden_states):
                capture.add_self(attn, hidden_states[-images:])
        return out


class AttentionCapture:
    """What one run captures; ``result()`` turns it into ``AttentionMaps``."""

    def __init__(self, tokens: tuple[str, ...], images: int, batch_count: int, budget_mb: int,
                 steps: int):
        self.tokens = tokens  # words, at most the 75 the text encoder reads
        self.images = images  # per pipeline call (batch_size)
        self.batch_count = batch_count
        self.budget_bytes = int(budget_mb) * MB
        self.default_steps = steps
        self.pipe = None
        self.batch = 0
        self.calls = 0  # model calls of the current batch
        self.in_call = False
        self.latent_size: tuple[int, int] | None = None
        self.levels: list[tuple[int, int]] = []  # self-attention levels seen, finest first
        self.plan = None  # RecordingPlan of the single steps (None: none kept)
        self.planned = False
        self.mean_batches = 0  # batches whose all-step means fit
        self.cross_layers = 0
        self._cross = None  # this call's sum over layers (tensor)
        self._layers = 0
        self._self: dict[tuple[int, int], list] = {}  # level -> [sum tensor, layers]
        self.sums: list[np.ndarray] = []  # per batch: all-step sum [images, T, h, w] float64
        self.sum_calls: list[int] = []
        self.step_maps: list[list[np.ndarray]] = []  # per batch, per kept step
        self.self_maps: list[list[dict]] = []  # per batch, per kept step: level -> array
        self.steps: list[int] = []

    # -- the model call ----------------------------------------------------------------------
    def start_call(self, module, args, kwargs) -> None:
        sample = args[0] if args else kwargs["sample"]
        self.latent_size = (int(sample.shape[-2]), int(sample.shape[-1]))
        self.in_call = True
        self._cross, self._layers, self._self = None, 0, {}

    def level_of(self, positions: int) -> tuple[int, int] | None:
        """The (h, w) of a layer with ``positions`` queries: the latent size halved (rounding
        up, as a stride-2 convolution does) until it matches."""
        h, w = self.latent_size
        while h * w > positions:
            h, w = math.ceil(h / 2), math.ceil(w / 2)
        return (h, w) if h * w == positions else None

    def add_cross(self, attn, hidden_states, context) -> None:
        import torch.nn.functional as F

        probs = attention_probabilities(attn, hidden_states, context).mean(dim=1)  # [b, N, K]
        level = self.level_of(probs.shape[1])
        count = len(self.tokens)
        if level is None or count == 0:
            return
        columns = probs[:, :, 1:1 + count].transpose(1, 2)  # [b, T, N]: 0 is the start marker
        maps = columns.reshape(columns.shape[0], count, *level)
        if level != self.latent_size:
            maps = F.interpolate(maps, size=self.latent_size, mode="bilinear", align_corners=False)
        self._cross = maps if self._cross is None else self._cross + maps
        self._layers += 1

    def wants_self(self, hidden_states) -> bool:
        positions = hidden_states.shape[1] if hidden_states.ndim == 3 else \
            hidden_states.shape[-1] * hidden_states.shape[-2]
        if positions > MAX_SELF_POSITIONS:
            return False
        if not self.planned:  # the first call: keep it (every plan keeps the first step)
            return True
        return self._keeps(self.batch, self.calls)

    def add_self(self, attn, hidden_states) -> None:
        probs = attention_probabilities(attn, hidden_states).mean(dim=1)  # [b, N, N]
        level = self.level_of(probs.shape[1])
        if level is None:
            return
        entry = self._self.setdefault(level, [0, 0])
        entry[0] = entry[0] + probs
        entry[1] += 1

    def end_call(self, module, args, kwargs, output) -> None:
        self.in_call = False
        if not self.planned:
            self._make_plan()
        if self._cross is not None:
            self.cross_layers = self._layers
            cross = (self._cross / self._layers).float().cpu().numpy()
            if self.batch < self.mean_batches:
                while len(self.sums) <= self.batch:
                    self.sums.append(np.zeros(cross.shape, dtype=np.float64))
                    self.sum_calls.append(0)
                self.sums[self.batch] += cross
                self.sum_calls[self.batch] += 1
        else:
            cross = np.zeros((self.images, len(self.tokens), *self.latent_size), np.float32)
        if self._keeps(self.batch, self.calls):
            self._keep_step(cross)
        self.calls += 1

    def _keep_step(self, cross: np.ndarray) -> None:
        dtype = self.plan.dtype
        while len(self.step_maps) <= self.batch:
            self.step_maps.append([])
            self.self_maps.append([])
        self.step_maps[self.batch].append(cross.astype(dtype))
        levels = {}
        for level, (total, layers) in self._self.items():
            levels[level] = (total / layers).float().cpu().numpy().astype(dtype)
            if level not in self.levels:
                self.levels.append(level)
        self.self_maps[self.batch].append(levels)
        if len(self.step_maps[self.batch]) > len(self.steps):
            self.steps.append(self.calls + 1)

    # -- the memory plan ---------------------------------------------------------------------
    def _keeps(self, batch: int, index: int) -> bool:
        plan = self.plan
        return plan is not None and batch < plan.batches and index < plan.steps \
            and plan.keeps(index)

    def _make_plan(self) -> None:
        """At the end of the first model call, when the latent size and the levels are known."""
        self.planned = True
        h, w = self.latent_size
        steps = int(getattr(self.pipe, "num_timesteps", 0) or self.default_steps)
        mean_bytes = self.images * len(self.tokens) * h * w * 4
        self.mean_batches = (self.batch_count if mean_bytes == 0 else
                             min(self.batch_count, self.budget_bytes // mean_bytes))
        left = self.budget_bytes - self.mean_batches * mean_bytes
        self_values = sum((lh * lw) ** 2 for lh, lw in self._self)
        values = self.images * (len(self.tokens) * h * w + self_values)
        self.plan = plan_recording(left, steps, self.batch_count, max(1, values))

    def note(self) -> str:
        """What the budget left out, as a sentence ("" when nothing)."""
        budget = f"the {self.budget_bytes // MB} MB attention budget"
        if self.mean_batches < self.batch_count:
            return (f"Attention maps of only the first {self.mean_batches} of "
                    f"{self.batch_count} batches fit {budget}.")
        plan = self.plan
        if plan is None:
            return f"No single-step attention maps: only the mean over the steps fits {budget}."
        if plan.complete and plan.batches == self.batch_count:
            return ""
        kept = len(plan.kept)
        what = "every step" if kept == plan.steps else f"{kept} of {plan.steps} steps"
        batches = (f" of the first {plan.batches} of {self.batch_count} batches"
                   if plan.batches < self.batch_count else "")
        return f"Attention kept for {what}{batches} in float16, to stay within {budget}."

    def result(self) -> AttentionMaps | None:
        if self.latent_size is None:
            return None  # no model call finished
        means = []
        for total, calls in zip(self.sums, self.sum_calls, strict=True):
            means.extend((total / max(1, calls)).astype(np.float32))
        levels = tuple(sorted(self.levels, key=lambda hw: -hw[0] * hw[1]))
        self_maps = tuple(
            tuple(np.stack([step[level] for step in rows]) for rows in self.self_maps if rows)
            for level in levels)
        return AttentionMaps(
            tokens=self.tokens, latent_size=self.latent_size, batch_size=self.images,
            mean_maps=tuple(means), steps=tuple(self.steps),
            step_maps=tuple(np.stack(rows) for rows in self.step_maps if rows),
            levels=levels, self_maps=self_maps, cross_layers=self.cross_layers, note=self.note())


def prompt_words(tokenizer, tokens: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """The CLIP tokens the text encoder reads (``limit``: 75 of the 77 positions), as words."""
    words = []
    for token in tokens[:limit]:
        try:  # byte-level symbols back to text ("Ã©" → "é")
            word = tokenizer.convert_tokens_to_string([token])
        except Exception:  # a tokenizer without it: the token itself
            word = token
        words.append(token_word(word).strip())
    return tuple(words)


def new_capture(request, pipe, token_info) -> tuple[AttentionCapture | None, str]:
    """The capture for a request (None when not asked for or not possible) and a sentence
    when it is not possible."""
    if not request.capture_attention:
        return None, ""
    problem = attention_support(pipe)
    if problem:
        return None, problem
    words = prompt_words(pipe.tokenizer, token_info.tokens, token_info.usable)
    return AttentionCapture(words, request.batch_size, request.batch_count,
                            request.attention_budget_mb, request.steps), ""


@contextlib.contextmanager
def capturing(capture: AttentionCapture | None, pipe, batch: int):
    """Around one pipeline call: the capturing processors and the UNet's call hooks, removed
    afterwards whatever happens (the cached pipeline carries nothing between jobs)."""
    if capture is None:
        yield
        return
    unet = pipe.unet
    originals = dict(unet.attn_processors)
    handles = []
    capture.pipe, capture.batch, capture.calls, capture.in_call = pipe, batch, 0, False
    try:
        unet.set_attn_processor({
            name: CapturingProcessor(processor, capture, name.endswith("attn2.processor"))
            for name, processor in originals.items()})
        handles.append(unet.register_forward_pre_hook(capture.start_call, with_kwargs=True))
        handles.append(unet.register_forward_hook(capture.end_call, with_kwargs=True))
        yield
    finally:
        for handle in handles:
            handle.remove()
        capture.in_call = False
        unet.set_attn_processor(dict(originals))  # a copy: diffusers pops from the dict
