"""Pydantic's validation errors as one line per mistake: the setting, the value and where it was given, and
what is allowed (`thresholds.inflammatory = 1.5 (from MODASSIST_THRESHOLDS__INFLAMMATORY): must be a number
from 0 to 1`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from config.names import item_model_of, model_of

# Where a setting's value came from: `(setting path, list indexes as digits) -> ("from ...", the value as the
# user wrote it)`, or None.
Origin = Callable[[tuple[str, ...]], tuple[str, str] | None]


def validation_problems(model: type[BaseModel], error: ValidationError, origin: Origin) -> list[str]:
    """One line per error of `error`, raised while building `model`."""
    lines = []
    for detail in error.errors(include_url=False):
        location = tuple(str(part) for part in detail["loc"])
        lines.append(problem_line(model, location, detail["type"], detail["msg"], detail["input"], origin))
    return lines


def problem_line(
    model: type[BaseModel], location: tuple[str, ...], kind: str, message: str, value: Any, origin: Origin
) -> str:
    """`setting = value (from SOURCE): must be ALLOWED` for one mistake."""
    field_path = tuple(part for part in location if not part.isdigit())
    setting = _dotted(location) or "settings"
    found = origin(location)
    given = f" = {found[1]}" if found else ""
    if not found and not isinstance(value, dict):
        given = f" = {_shown(value)}"
    where = f" ({found[0]})" if found else ""
    if kind == "value_error" and isinstance(value, dict):  # a section's own check, over several keys
        keys = [(key, origin((*location, key))) for key in value]
        given = ", ".join(f"{key} = {at[1]} ({at[0]})" for key, at in keys if at)
        return f"{setting}{f' ({given})' if given else ''}: {message.removeprefix('Value error, ')}"
    if kind == "value_error":  # our own validators' words, e.g. "must be a ws:// or wss:// URL"
        return f"{setting}{given}{where}: {message.removeprefix('Value error, ')}"
    field = field_at(model, field_path)
    allowed = describe(field.annotation, field.metadata) if field is not None else None
    if allowed is None:
        return f"{setting}{given}{where}: {message[:1].lower()}{message[1:]}"
    return f"{setting}{given}{where}: must be {allowed}"


def field_at(model: type[BaseModel], path: tuple[str, ...]) -> FieldInfo | None:
    """The field a dotted path names (list items stand for their list), or None."""
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    for name in path:
        if current is None or name not in current.model_fields:
            return None
        field = current.model_fields[name]
        current = model_of(field.annotation) or item_model_of(field.annotation)
    return field


def describe(annotation: Any, metadata: list[Any]) -> str | None:
    """What a field accepts, in words: "a number from 0 to 1", "one of 'a', 'b'", "a list of whole numbers,
    written [123, 456]"; None when we have no better words than pydantic's."""
    inner = [arg for arg in get_args(annotation) if arg is not type(None)]
    if type(None) in get_args(annotation) and len(inner) == 1:
        annotation = inner[0]
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(value) for value in get_args(annotation))
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        return kind + _bounds(metadata)
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        if item is int:
            return "a list of whole numbers, written [123, 456] (or [] for none)"
        return 'a list, written ["first", "second"] (or [] for none)'
    if annotation is str:
        choices = _choices(metadata)
        return f"one of {choices}" if choices else None
    if annotation in (Path, SecretStr):
        return "text"
    return None


def _bounds(metadata: list[Any]) -> str:
    low = next((item for item in metadata if isinstance(item, Ge | Gt)), None)
    high = next((item for item in metadata if isinstance(item, Le | Lt)), None)
    if isinstance(low, Ge) and isinstance(high, Le):
        return f" from {_number(low.ge)} to {_number(high.le)}"
    parts = []
    if low is not None:
        parts.append(f"at least {_number(low.ge)}" if isinstance(low, Ge) else f"above {_number(low.gt)}")
    if high is not None:
        parts.append(f"at most {_number(high.le)}" if isinstance(high, Le) else f"below {_number(high.lt)}")
    return " " + " and ".join(parts) if parts else ""


def _choices(metadata: list[Any]) -> str | None:
    for item in metadata:
        match = re.fullmatch(r"\^\(([\w|]+)\)\$", str(getattr(item, "pattern", "")))
        if match:
            return ", ".join(repr(choice) for choice in match.group(1).split("|"))
    return None


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _dotted(location: tuple[str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


def _shown(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def env_origin(prefix: str, sources: list[tuple[str, Mapping[str, str | None]]]) -> Origin:
    """Where a setting came from, among variables (`sources`: name of the place, its variables), in order
    of precedence; the value is shown as written."""

    def origin(path: tuple[str, ...]) -> tuple[str, str] | None:
        at = next((i for i, part in enumerate(path) if part.isdigit()), len(path))  # a list item: the list
        wanted = prefix + "__".join(path[:at]).upper()
        for place, variables in sources:
            for name, value in variables.items():
                if name.upper() == wanted and value is not None:
                    return f"from {place}{name}", value
        return None

    return origin


def parse_problem(model: type[BaseModel], message: str, origin: Origin) -> str:
    """One line for pydantic-settings' "error parsing value for field X" (a variable that is not JSON where
    a list or a section needs it)."""
    match = re.search(r'field "(\w+)"', message)
    if match is None:
        return message
    name = match.group(1)
    field = model.model_fields.get(name)
    allowed = describe(field.annotation, field.metadata) if field is not None else None
    if allowed is None and field is not None and model_of(field.annotation) is not None:
        allowed = 'a JSON object such as {"key": value} (or set each key: MODASSIST_SECTION__KEY)'
    found = origin((name,))
    given = f" = {found[1]} ({found[0]})" if found else ""
    return f"{name}{given}: must be {allowed}" if allowed else f"{name}{given}: {message}"


def urgent_problems(urgent_threshold: float, thresholds: Mapping[str, float], origin: Origin) -> list[str]:
    """With urgent alerts on, `alerts.urgent_threshold` must be above every category's flag threshold (a
    second, higher bar): one line naming the thresholds it is not above, or none."""
    below = [
        f"thresholds.{name} = {_number(value)}"
        for name, value in thresholds.items()
        if value >= urgent_threshold
    ]
    if not below:
        return []
    found = origin(("alerts", "urgent_threshold"))
    given = f" = {found[1]} ({found[0]})" if found else f" = {_number(urgent_threshold)}"
    return [
        f"alerts.urgent_threshold{given}: must be above every flag threshold, with urgent alerts on"
        f" ({', '.join(below)})"
    ]
