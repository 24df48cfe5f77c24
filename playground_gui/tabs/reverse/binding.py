"""The Reverse process page's one table of request field ↔ control.

``FIELDS`` lists every control that goes into a request, once. ``requests``, ``sweep_request``
and ``inversion_request`` build the page's requests from ``FIELDS.read(view)``; ``restore``
puts a saved digits record back through the same table (``FIELDS.restore``), so a field can
never be built one way and restored another.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from engine.digits.types import GuidanceSweepRequest, InversionRequest, ReverseRequest
from engine.png.record import request_from_record
from playground_gui.binding import Binding, Field

# The controls' ranges (the view builds its spin boxes with these). A saved value outside one
# is clipped, as setting it on the spin box always did; ``restore`` then says so.
GUIDANCE_RANGE = (0.0, 20.0)
SEED_RANGE = (0, 2**31 - 1)
BATCH_RANGE = (1, 64)
NO_CLASS = "Unconditional (no class)"  # the digit combo's item for label None (its data is None)
SWEEP_MAX_STEPS = 100
INVERSION_MAX_STEPS = 200
SWEEP_BATCH = 4
SWEEP_DEFAULT_LABEL = 3  # a sweep needs a digit: unconditional sweeps digit 3


def _clipped(low, high):
    return lambda value: min(max(value, low), high)


NO_VARIATION = "none"  # restore's stand-in for variation_seed None (the table skips None values)


def _variation_seed(controls):
    checked, seed = controls
    return seed if checked else None


def _variation_controls(seed):
    if seed == NO_VARIATION:
        return (False, 1)
    return (True, _clipped(*SEED_RANGE)(seed))


def _label(value):
    # A combo item without data reads as its text: that is the "no class" item.
    return None if value == NO_CLASS else value


FIELDS = Binding(
    Field("label", "label_combo", "digit", to_request=_label),
    Field("guidance", "guidance_spin", "guidance scale", from_request=_clipped(*GUIDANCE_RANGE)),
    Field("sampler", "sampler_combo"),
    Field("steps", "steps_spin"),
    Field("eta", "eta_spin", "DDIM η"),
    Field("seed", "seed_spin", from_request=_clipped(*SEED_RANGE)),
    Field("batch_size", "batch_spin", "batch size", from_request=_clipped(*BATCH_RANGE)),
    # AUTOMATIC1111's variation seed: (check box, seed) ↔ the seed or None.
    Field("variation_seed", "variation_seed_controls", "variation seed",
          to_request=_variation_seed, from_request=_variation_controls),
    Field("variation_strength", "variation_strength_spin", "variation strength"),
    # Compare mode: a CompareRequest of the run above and a second one that differs in these.
    Field("compare", "compare_check", "compare mode"),
    Field("second_sampler", "compare_sampler_combo", "second sampler"),
    Field("second_steps", "compare_steps_spin", "second sampler's steps"),
    # GuidanceSweepRequest.scales, as typed (parsed by ``sweep_request``).
    Field("scales", "sweep_edit", "guidance scales"),
    # InversionRequest.example_index.
    Field("example_index", "example_spin", "real digit"),
)
# What a ReverseRequest takes from the table; its other fields are no controls.
RUN_FIELDS = ("label", "guidance", "sampler", "steps", "eta", "seed", "batch_size",
              "variation_seed", "variation_strength")
OPTIONAL_FIELDS = ("variation_seed", "variation_strength")  # older records lack them: none


def reverse_request(values: dict, sampler: str | None = None,
                    steps: int | None = None) -> ReverseRequest:
    """A run from the table's values (``sampler``/``steps``: the second run's)."""
    run = {name: values[name] for name in RUN_FIELDS}
    run["sampler"] = sampler or run["sampler"]
    run["steps"] = steps or run["steps"]
    if run["sampler"] != "ddim":
        run["eta"] = 0.0  # η means nothing to the other samplers
    return ReverseRequest(**run)


def current_request(view) -> ReverseRequest:
    return reverse_request(FIELDS.read(view))


def requests(view) -> tuple[ReverseRequest, ReverseRequest | None]:
    """The run the controls describe, and the second run when compare mode is on."""
    values = FIELDS.read(view)
    first = reverse_request(values)
    if not values["compare"]:
        return first, None
    return first, reverse_request(values, values["second_sampler"], values["second_steps"])


def parse_scales(text: str) -> tuple[float, ...]:
    """"0, 1, 1.5" → (0.0, 1.0, 1.5); ValueError with a message for people."""
    try:
        scales = tuple(float(x) for x in re.split(r"[,\s;]+", text.strip()) if x)
    except ValueError:
        raise ValueError("Scales must be numbers separated by commas, e.g. 0, 1, 2, 4.") from None
    if not scales or len(scales) > 10:
        raise ValueError("Give between 1 and 10 guidance scales.")
    return scales


def sweep_request(view) -> GuidanceSweepRequest:
    """One seed at several guidance scales (at most 100 steps); ValueError for bad scales."""
    values = FIELDS.read(view)
    label = values["label"]
    return GuidanceSweepRequest(
        label=SWEEP_DEFAULT_LABEL if label is None else label, scales=parse_scales(values["scales"]),
        sampler=values["sampler"], steps=min(values["steps"], SWEEP_MAX_STEPS),
        seed=values["seed"], batch_size=SWEEP_BATCH)


def inversion_request(view) -> InversionRequest:
    values = FIELDS.read(view)
    return InversionRequest(example_index=values["example_index"],
                            steps=min(values["steps"], INVERSION_MAX_STEPS))


@dataclass(frozen=True)
class Restored:
    request: ReverseRequest  # what the record asked for
    exact: bool  # the controls now make exactly that request
    reasons: tuple[str, ...]  # why not, for people


def restore(view, record: dict) -> Restored:
    """Set every sampling control from a saved digits record (and compare mode off: a saved
    sample comes from a single run). ValueError/TypeError when the record is no valid request."""
    wanted, skipped = request_from_record(ReverseRequest, record)
    values = {name: getattr(wanted, name) for name in RUN_FIELDS}
    if values["label"] is None:
        values["label"] = NO_CLASS  # the table skips None values; the combo finds this text
    if values["variation_seed"] is None:
        values["variation_seed"] = NO_VARIATION
    notes = FIELDS.restore(view, {**values, "compare": False})
    # The page always samples the shipped model, and η only matters to DDIM.
    expected = dataclasses.replace(wanted, record=True, model_dir=None,
                                   eta=wanted.eta if wanted.sampler == "ddim" else 0.0)
    exact = current_request(view) == expected
    missing = [name for name in RUN_FIELDS if name in skipped and name not in OPTIONAL_FIELDS]
    reasons = []
    if missing:
        reasons.append("the file does not say " + ", ".join(missing) + " (defaults used)")
    if wanted.model_dir is not None:
        reasons.append(f"it was made by the model in {wanted.model_dir}; this page samples the "
                       "shipped model")
    reasons.extend(notes)
    if not exact and not notes:
        reasons.append("some values are outside this page's ranges (guidance 0–20, batch size "
                       "1–64, seeds 0–2³¹−1) and were clipped")
    return Restored(wanted, exact and wanted.model_dir is None and not missing, tuple(reasons))
