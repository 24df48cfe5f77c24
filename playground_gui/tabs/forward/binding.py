"""The forward page's one table: request and record field ↔ control.

The names are the fields of ``LoadImageRequest`` (working size, grayscale), ``ForwardRequest``
(seed) and of the record an export stores (``engine.forward.export.export_record``: the same
names, plus t), so the same table builds the requests and restores a saved PNG's record. The
schedule is not a control of this page (it is the shared ``ScheduleSet``) and the image source
is loaded by a job: the session restores those two.
"""

from __future__ import annotations

from contextlib import ExitStack

from PySide6.QtCore import QSignalBlocker

from engine.forward.types import LoadImageRequest
from playground_gui.binding import Binding, Field

BINDING = Binding(
    Field("seed", "seed_spin", label="the seed"),
    Field("working_size", "size_spin", label="the working size"),
    Field("grayscale", "grayscale_check", label="grayscale"),
    Field("t", "slider"),
)
IMAGE_FIELDS = ("working_size", "grayscale")  # what LoadImageRequest takes from the controls
# t is shown once the restored image is computed (its T may differ): the session keeps it.
RESTORED_LATER = ("t",)


def image_options(view) -> dict:
    values = BINDING.read(view)
    return {name: values[name] for name in IMAGE_FIELDS}


def load_request(view, *, source_key: str | None = None,
                 path: str | None = None) -> LoadImageRequest:
    return LoadImageRequest(source_key=source_key, path=path, **image_options(view))


def restore_controls(view, record: dict) -> list[str]:
    """Show the record's seed, working size and grayscale without triggering the reloads and
    recomputations their changes start (the restore asks for one, later); notes on refusals."""
    # Records without the flag (or with null) were colour: the control says so too.
    record = {**record, "grayscale": bool(record.get("grayscale") or False)}
    with ExitStack() as blocked:
        for field in BINDING.fields:
            if field.name not in RESTORED_LATER:
                blocked.enter_context(QSignalBlocker(getattr(view, field.control)))
        return BINDING.restore(view, record, skip=RESTORED_LATER)
