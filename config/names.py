"""Setting names nobody defined: `MODASSIST_*` variables and TOML keys that match no setting, each with the
closest real name ("did you mean ...?"), so that a typo is reported instead of silently ignored."""

from __future__ import annotations

import difflib
import json
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings section an annotation stands for (`X` or `X | None` with X a model), else None."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = inner[0] if len(inner) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def item_model_of(annotation: Any) -> type[BaseModel] | None:
    """The model of a list's items (`list[WatchedThread]`), else None."""
    if get_origin(annotation) is list:
        return model_of(get_args(annotation)[0])
    return None


def setting_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every dotted setting name of `model`, sections included (`thresholds`, `thresholds.inflammatory`)."""
    for name, field in model.model_fields.items():
        yield prefix + name
        section = model_of(field.annotation)
        if section is not None:
            yield from setting_paths(section, f"{prefix}{name}.")


def suggestion(name: str, known: list[str]) -> str:
    """ "; did you mean X?" for the closest known name, or "" when none is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def unknown_variables(
    model: type[BaseModel], prefix: str, variables: Mapping[str, str | None], *, extra: tuple[str, ...] = ()
) -> list[str]:
    """One line for each variable that starts with `prefix` (case-insensitive, as the settings read them)
    and names no setting; `extra` are names read elsewhere (`CONFIG`)."""
    known = [path.replace(".", "__").upper() for path in setting_paths(model)] + list(extra)
    lines = []
    for variable in sorted(variables):
        upper = variable.upper()
        if not upper.startswith(prefix) or upper[len(prefix) :] in known:
            continue
        hint = suggestion(upper[len(prefix) :], known)
        hint = hint.replace("mean ", f"mean {prefix}") if hint else ""
        lines.append(f"{variable} matches no setting and is ignored{hint}")
    return lines


def unknown_keys(model: type[BaseModel], table: Mapping[str, Any], path: str = "") -> list[str]:
    """One line for each key of a TOML table (and its sub-tables) that names no setting of `model`."""
    lines = []
    fields = model.model_fields
    for key, value in table.items():
        here = f"{path}{key}"
        if key not in fields:
            lines.append(_unknown_key(here, key, path, fields, is_table=isinstance(value, dict)))
            continue
        section = model_of(fields[key].annotation)
        items = item_model_of(fields[key].annotation)
        if section is not None and isinstance(value, dict):
            lines += unknown_keys(section, value, f"{here}.")
        elif items is not None and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    lines += unknown_keys(items, item, f"{here}[{index}].")
    return lines


def _unknown_key(here: str, key: str, path: str, fields: Mapping[str, Any], *, is_table: bool) -> str:
    names = list(fields)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    shown = f"[{here}]" if is_table else here
    if close:
        better = f"{path}{close[0]}"
        return f"no setting {shown}; did you mean {f'[{better}]' if is_table else better}?"
    kinds = "the keys" if path else "the sections and keys"
    return f"no setting {shown}; {kinds} here are: {', '.join(names)}"


def unknown_json_keys(model: type[BaseModel], prefix: str, variables: Mapping[str, str | None]) -> list[str]:
    """One line for each key that names no setting inside a whole section given as JSON in one variable
    (`MODASSIST_THRESHOLDS='{"inflamatory": 0.7}'`): the settings would ignore it."""
    lines = []
    fields = model.model_fields
    for variable, value in sorted(variables.items()):
        name = variable.upper().removeprefix(prefix).lower() if variable.upper().startswith(prefix) else ""
        section = model_of(fields[name].annotation) if name in fields else None
        if section is None or not value:
            continue
        try:
            table = json.loads(value)
        except ValueError:
            continue  # not JSON: the settings themselves report the value
        if isinstance(table, dict):
            lines += [f"{variable}: {line}" for line in unknown_keys(section, table, f"{name}.")]
    return lines
