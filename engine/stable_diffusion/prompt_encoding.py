"""The prompt syntax turned into the text embeddings the pipeline gets (issue 16 §1).

As AUTOMATIC1111 documents it: each 75-token chunk is encoded on its own between a start and an
end marker (laid out as the tokenizer pads, so one plain chunk is exactly the pipeline's own
encoding), each token's output vector is multiplied by its weight, then the chunk is rescaled so
its mean equals the unweighted output's mean; the chunks are concatenated. Positive and negative
prompt (and every text of a prompt-editing schedule) are padded with empty-prompt chunks to the
same number of chunks, as classifier-free guidance concatenates them into one batch. SDXL: each
chunk goes through both text encoders (penultimate layers side by side, as its pipeline does);
the pooled embedding is the second encoder's of the first chunk (as AUTOMATIC1111 does).

Prompts the pipeline's own ``prompt=`` path reads the same way (every weight 1, no BREAK, no
edit, at most 75 tokens) still go through it, so they give exactly today's image. Prompt editing
and alternation swap ``prompt_embeds`` between steps from ``callback_on_step_end``: diffusers'
SD pipelines read that tensor back from the callback's return value, and with guidance it is the
[negative, positive] concatenation, so the hook returns the same layout (SDXL: also the pooled
``add_text_embeds``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import UserFacingError
from engine.stable_diffusion.prompt_syntax import (
    parse_weights,
    plain_text,
    prompt_schedule,
    split_extra_networks,
)
from engine.stable_diffusion.tokens import chunk_ids


def is_sdxl(pipe) -> bool:
    """Two CLIP text encoders and pooled embeddings (the SDXL base pipelines)."""
    return (getattr(pipe, "text_encoder_2", None) is not None
            and getattr(pipe, "tokenizer_2", None) is not None
            and "add_text_embeds" in getattr(pipe, "_callback_tensor_inputs", ()))


def syntax_support(pipe) -> str:
    """"" when weights, chunks and editing work with this pipeline, else why not."""
    if (getattr(pipe, "text_encoder", None) is not None and getattr(pipe, "tokenizer", None)
            is not None and (getattr(pipe, "text_encoder_2", None) is None or is_sdxl(pipe))
            and "prompt_embeds" in getattr(pipe, "_callback_tensor_inputs", ())):
        return ""
    return (f"Prompt weights ( ), [ ], prompt editing [a:b:n], alternation [a|b] and BREAK work "
            f"with SD 1.x/2.x and SDXL models; {type(pipe).__name__} has another text encoder "
            "layout. Remove them, or write \\( \\) \\[ \\] to keep brackets as text.")


@dataclass
class PromptInputs:
    """What one run passes to the pipeline for its prompts, and the hook that switches the
    embeddings between steps."""

    prompt: str | None = None  # the pipeline's own path …
    negative_prompt: str | None = None
    # … or [(last step, embeddings 1×L×D, pooled 1×P or None)]; pooled: SDXL's second encoder
    schedule: list = field(default_factory=list)
    negative: tuple = (None, None)  # (1×L×D, pooled)
    images: int = 1  # images per pipeline call (batch size)
    current: int = 0  # the schedule entry in use
    used: list[int] = field(default_factory=list)  # the schedule entry of each step, 1-based order

    def kwargs(self) -> dict:
        if not self.schedule:
            return dict(prompt=self.prompt, negative_prompt=self.negative_prompt)
        _, embeds, pooled = self.schedule[0]
        kwargs = dict(prompt_embeds=embeds, negative_prompt_embeds=self.negative[0])
        if pooled is not None:
            kwargs.update(pooled_prompt_embeds=pooled, negative_pooled_prompt_embeds=self.negative[1])
        return kwargs

    def tensor_inputs(self) -> list[str]:
        if len(self.schedule) < 2:
            return []
        return ["prompt_embeds"] + (["add_text_embeds"] if self.schedule[0][2] is not None else [])

    def start(self) -> None:
        """Before each pipeline call: the first step uses the first entry."""
        self.current = 0
        self.used = [0]

    def step_hook(self, pipe, i: int, kwargs: dict) -> dict:
        """After step ``i`` (0-based): the embeddings of step ``i + 2`` (1-based)."""
        if len(self.schedule) < 2:
            return kwargs
        step = i + 2
        entry = next((k for k, (last, _, _) in enumerate(self.schedule) if step <= last),
                     len(self.schedule) - 1)
        if step <= self.schedule[-1][0]:  # (PNDM runs one call more than the steps)
            self.used.append(entry)
        if entry == self.current or "prompt_embeds" not in kwargs:
            return kwargs
        _, embeds, pooled = self.schedule[entry]
        kwargs["prompt_embeds"] = self._batch(kwargs["prompt_embeds"], embeds, self.negative[0])
        if pooled is not None and "add_text_embeds" in kwargs:
            kwargs["add_text_embeds"] = self._batch(kwargs["add_text_embeds"], pooled,
                                                    self.negative[1])
        self.current = entry
        return kwargs

    def _batch(self, current, positive, negative):
        """``positive`` in the layout of the pipeline's ``current`` tensor: with guidance
        [negative × images, positive × images] (diffusers concatenates them so), else positive."""
        import torch

        positive = positive.to(device=current.device, dtype=current.dtype)
        rows, shape = current.shape[0], (-1,) * (positive.ndim - 1)
        if rows == 2 * self.images:
            negative = negative.to(device=current.device, dtype=current.dtype)
            replacement = torch.cat([negative.expand(self.images, *shape),
                                     positive.expand(self.images, *shape)])
        else:
            replacement = positive.expand(rows, *shape)
        return replacement.contiguous()


def prompt_inputs(pipe, prompt: str, negative_prompt: str, steps: int,
                  images: int) -> PromptInputs:
    """The prompts of a run, as ``prompt=`` text when the pipeline's own path reads them the
    same way, else as embeddings (with a schedule when the prompt edits or alternates)."""
    prompt, _ = split_extra_networks(prompt)
    negative_prompt, _ = split_extra_networks(negative_prompt or "")
    schedule = prompt_schedule(prompt, steps)
    negative_schedule = prompt_schedule(negative_prompt, steps)
    if len(negative_schedule) > 1:
        raise UserFacingError("Prompt editing [a:b:n] and alternation [a|b] work in the prompt, "
                              "not in the negative prompt (weights and BREAK do).")
    negative_pieces = parse_weights(negative_schedule[0][1])
    texts = [parse_weights(text) for _, text in schedule]
    tokenizer = getattr(pipe, "tokenizer", None)
    plain = [plain_text(pieces) for pieces in texts]
    negative_plain = plain_text(negative_pieces)
    simple = len(schedule) == 1 and plain[0] is not None and negative_plain is not None
    if simple and (tokenizer is None or syntax_support(pipe) or max(
            _token_count(tokenizer, plain[0]), _token_count(tokenizer, negative_plain))
            <= tokenizer.model_max_length - 2):
        return PromptInputs(prompt=plain[0], negative_prompt=negative_plain or None)
    problem = syntax_support(pipe)
    if problem:
        raise UserFacingError(problem)
    convert = _textual_inversion(pipe)
    chunked = [chunk_ids(tokenizer, pieces, convert) for pieces in texts]
    negative_chunks = chunk_ids(tokenizer, negative_pieces, convert)
    count = max(len(negative_chunks), *(len(c) for c in chunked))
    encoder = ChunkEncoder(pipe)
    encoded: dict[str, tuple] = {}  # alternation repeats its texts: each encoded once
    entries = []
    for (last, text), chunks in zip(schedule, chunked, strict=True):
        if text not in encoded:
            encoded[text] = encoder.encode(chunks, count)
        entries.append((last, *encoded[text]))
    negative = encoder.encode(negative_chunks, count)
    if (encoder.xl and not negative_prompt
            and getattr(pipe.config, "force_zeros_for_empty_prompt", False)):
        # SDXL's own path: no negative prompt is zeros, not the empty prompt's encoding
        negative = tuple(t.new_zeros(t.shape) for t in negative)
    return PromptInputs(schedule=entries, negative=negative, images=images)


def _token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, truncation=False, add_special_tokens=False).input_ids)


def _textual_inversion(pipe):
    convert = getattr(pipe, "maybe_convert_prompt", None)
    if convert is None:
        return None
    return lambda text: convert(text, pipe.tokenizer)


class ChunkEncoder:
    """Encodes chunks with the pipeline's text encoder(s), one chunk a call (batch 1, exactly
    as the pipeline's own encode_prompt runs it). SDXL: both encoders' penultimate hidden states
    side by side, and the second encoder's pooled output of the first chunk."""

    def __init__(self, pipe):
        self.xl = is_sdxl(pipe)
        self.pairs = [(pipe.tokenizer, pipe.text_encoder)]
        if self.xl:
            self.pairs.append((pipe.tokenizer_2, pipe.text_encoder_2))
        self.dtype = self.pairs[-1][1].dtype
        self.device = pipe._execution_device
        self._empty = None

    def encode(self, chunks: list, count: int) -> tuple:
        """(embeddings 1×(77·count)×D, pooled 1×P or None)."""
        import torch

        parts = [self._chunk(chunk) for chunk in chunks]
        while len(parts) < count:
            if self._empty is None:
                self._empty = self._chunk([])
            parts.append(self._empty)
        return torch.cat([p[0] for p in parts], dim=1), parts[0][1]

    def _chunk(self, chunk: list) -> tuple:
        """One chunk: [start] tokens [end] [pad…] (77 positions), weighted and rescaled."""
        import torch

        outputs, pooled = [], None
        for tokenizer, encoder in self.pairs:
            length = int(tokenizer.model_max_length)
            ids = [tokenizer.bos_token_id] + [t for t, _ in chunk] + [tokenizer.eos_token_id]
            pad = tokenizer.pad_token_id
            pad = tokenizer.eos_token_id if pad is None else pad
            attention = [1] * len(ids) + [0] * (length - len(ids))
            ids += [pad] * (length - len(ids))
            ids = torch.tensor([ids], device=self.device)
            with torch.no_grad():
                if self.xl:  # as SDXL's encode_prompt: penultimate layer, no mask
                    result = encoder(ids, output_hidden_states=True)
                    if result[0].ndim == 2:
                        pooled = result[0]
                    outputs.append(result.hidden_states[-2])
                    continue
                mask = None
                if getattr(encoder.config, "use_attention_mask", False):
                    mask = torch.tensor([attention], device=self.device)
                outputs.append(encoder(ids, attention_mask=mask)[0])
        output = torch.cat(outputs, dim=-1).to(dtype=self.dtype)
        pooled = pooled.to(dtype=self.dtype) if pooled is not None else None
        weights = [1.0] + [w for _, w in chunk] + [1.0] * (output.shape[1] - 1 - len(chunk))
        if all(w == 1.0 for w in weights):
            return output, pooled  # exactly the unweighted encoding
        original_mean = output.float().mean()
        scale = torch.tensor(weights, device=output.device, dtype=torch.float32)
        weighted = output.float() * scale[None, :, None]
        # Hand-written: no library has AUTOMATIC1111's mean-preserving emphasis.
        weighted = weighted * (original_mean / weighted.mean())
        return weighted.to(output.dtype), pooled
