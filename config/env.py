"""Where the settings come from, known without pydantic: the environment variables' prefix, the variable
naming the TOML file, the `.env` file, and whether any of them is there at all (`configured`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "MODASSIST_"
CONFIG_VARIABLE = "MODASSIST_CONFIG"  # names the TOML file
ENV_FILE = ".env"  # read from the working directory


def configured(environ: Mapping[str, str] | None = None, folder: Path | None = None) -> bool:
    """Whether anything but the defaults could set a setting: a `MODASSIST_*` variable (in any case, as the
    settings read them; the TOML file's name is one) or a `.env` file in `folder` (default: the working
    directory). Without either, the settings are their defaults."""
    variables = os.environ if environ is None else environ
    if any(name.upper().startswith(ENV_PREFIX) for name in variables):
        return True
    return os.path.lexists((folder or Path()) / ENV_FILE)
