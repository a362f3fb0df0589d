"""Configuration: one Settings class."""

from config.errors import ConfigurationError
from config.settings import LoadedSettings, Settings, get_settings, load_settings

__all__ = ["ConfigurationError", "LoadedSettings", "Settings", "get_settings", "load_settings"]
