"""Reading the settings files ourselves (the TOML file named by MODASSIST_CONFIG, `.env`), so that a missing
or malformed file is one line naming it, and so that their keys can be checked against the settings."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config.errors import ConfigurationError


def read_toml(variable: str) -> tuple[Path | None, dict[str, Any] | None]:
    """The TOML file the environment variable names and its tables; (None, None) when it is unset."""
    name = os.environ.get(variable)
    if not name:
        return None, None
    path = Path(name)
    if not path.is_file():
        what = "no such file" if not path.exists() else "not a file"
        raise ConfigurationError(
            [
                f"{variable}={name}: {what} ({variable} names the TOML settings file;"
                " unset it to use only the environment and the defaults)"
            ]
        )
    try:
        with path.open("rb") as file:
            return path, tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error has no line attribute: its message ends with "(at line L, column C)".
        where = re.search(r" \(at (line \d+, column \d+)\)$", str(exc))
        reason = str(exc)[: where.start()] if where else str(exc)
        at = f", {where.group(1)}" if where else ""
        raise ConfigurationError([f"{path}{at}: not valid TOML: {reason}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError([f"{path}: cannot be read ({exc})"]) from None


def read_dotenv(env_file: object) -> dict[str, str | None]:
    """The variables of the `.env` file the settings read (none when there is no such file)."""
    if not isinstance(env_file, str) or not Path(env_file).is_file():
        return {}
    return dict(dotenv_values(env_file))


def toml_origin(
    toml_file: Path | None, table: dict[str, Any] | None, path: tuple[str, ...]
) -> tuple[str, str] | None:
    """("from FILE", the value as TOML-like text) when the TOML file gives the setting at `path` (list
    indexes as digits)."""
    value: Any = table
    for part in path:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict | list) or value is table:
            return None
        else:  # a value that stands for a section (a thread's URL for the thread): the value as given
            break
    return f"from {toml_file}", json.dumps(value, ensure_ascii=False, default=str)
