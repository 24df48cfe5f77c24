"""One declarative table per tab: request field ↔ control, used to build *and* to restore.

A tab lists its fields once (``Binding(Field("steps", "steps_spin"), …)``); ``read`` collects
the controls' values for the request's constructor and ``restore`` puts a saved record's values
back, collecting a note for each value a control cannot show exactly instead of guessing.
Widget-agnostic through a small adapter per widget kind, the way Orange3's ``Setting``
declarations drive both directions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QSpinBox,
)


def is_number(value: Any) -> bool:
    """A real int or float (``True`` is an int to Python, never a number to a record)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Field:
    """One request field and the view attribute that holds its control.

    ``to_request``/``from_request`` convert between the control's value and the field's when
    they differ (e.g. a tuple of spin boxes, a seed drawn at random); ``label`` names the value
    in restore notes.
    """

    name: str
    control: str
    label: str = ""
    to_request: Callable[[Any], Any] | None = None
    from_request: Callable[[Any], Any] | None = None

    @property
    def readable_label(self) -> str:
        return self.label or self.name.replace("_", " ")


class Binding:
    def __init__(self, *fields: Field):
        names = [field.name for field in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"a field is bound twice: {names}")
        self.fields = fields

    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def read(self, view) -> dict[str, Any]:
        """The request's keyword arguments, as the controls show them now."""
        values = {}
        for field in self.fields:
            value = read_control(getattr(view, field.control))
            values[field.name] = field.to_request(value) if field.to_request else value
        return values

    def restore(self, view, record: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> list[str]:
        """Set every bound control that ``record`` names; returns notes on values refused."""
        notes: list[str] = []
        for field in self.fields:
            if field.name in skip or field.name not in record or record[field.name] is None:
                continue
            value = record[field.name]
            if field.from_request is not None:
                try:
                    value = field.from_request(value)
                except (TypeError, ValueError):
                    notes.append(f"{field.readable_label} {record[field.name]!r} is not valid")
                    continue
            problem = write_control(getattr(view, field.control), value)
            if problem:
                notes.append(f"{field.readable_label} {problem}")
        return notes


# -- adapters: one read and one write per widget kind ----------------------------------------
def read_control(widget) -> Any:
    if isinstance(widget, (tuple, list)):
        return tuple(read_control(each) for each in widget)
    if isinstance(widget, (QSpinBox, QDoubleSpinBox, QSlider)):
        return widget.value()
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return data if data is not None else widget.currentText()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    raise TypeError(f"no binding adapter for {type(widget).__name__}")


def write_control(widget, value: Any) -> str | None:
    """Show ``value`` in ``widget``; returns why not (a note) when it cannot be shown exactly."""
    if isinstance(widget, (tuple, list)):
        if not isinstance(value, (tuple, list)) or len(value) != len(widget):
            return f"{value!r} does not have {len(widget)} values"
        problems = [write_control(each, item) for each, item in zip(widget, value, strict=True)]
        return next((problem for problem in problems if problem), None)
    if isinstance(widget, (QSpinBox, QSlider)):
        if is_number(value) and float(value).is_integer():
            value = int(value)
        if not is_integer(value) or not widget.minimum() <= value <= widget.maximum():
            return f"{value!r} is outside {widget.minimum()} … {widget.maximum()}"
        widget.setValue(value)
        return None
    if isinstance(widget, QDoubleSpinBox):
        if not is_number(value) or not widget.minimum() <= value <= widget.maximum():
            return f"{value!r} is outside {widget.minimum():g} … {widget.maximum():g}"
        widget.setValue(float(value))
        return None
    if isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index < 0 and isinstance(value, str):
            index = widget.findText(value)
        if index < 0:
            return f"{value!r} is not one of the choices"
        widget.setCurrentIndex(index)
        return None
    if isinstance(widget, QAbstractButton):
        if not isinstance(value, bool):
            return f"{value!r} is not on/off"
        widget.setChecked(value)
        return None
    if isinstance(widget, (QLineEdit, QPlainTextEdit)):
        if not isinstance(value, str):
            return f"{value!r} is not text"
        if isinstance(widget, QLineEdit):
            widget.setText(value)
        else:
            widget.setPlainText(value)
        return None
    raise TypeError(f"no binding adapter for {type(widget).__name__}")
