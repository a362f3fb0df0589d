"""Configuration: one Settings class.

The names below are imported on first use: importing `config.errors` or `config.defaults` alone must not
import pydantic (about 0.3 s), which `modassist classify` never needs when nothing configures it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from config.errors import ConfigurationError

if TYPE_CHECKING:
    from config.settings import LoadedSettings, Settings, get_settings, load_settings

__all__ = ["ConfigurationError", "LoadedSettings", "Settings", "get_settings", "load_settings"]
_FROM_SETTINGS = frozenset(__all__) - {"ConfigurationError"}


def __getattr__(name: str) -> Any:
    if name in _FROM_SETTINGS:
        return getattr(importlib.import_module("config.settings"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
