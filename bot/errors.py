"""modassist's domain errors.

ModassistError            anything a user can act on; printed as one line, never a traceback
├── ParseError            input that is not in a format we read (exit status 2)
├── ModelError            a model file missing, tampered with or of the wrong version
├── ConfigError           settings that cannot work together
└── DataError             data too small or one-sided to measure or fit (also a ValueError)
"""

from __future__ import annotations


class ModassistError(Exception):
    """An error the user can act on. `exit_code` is the command line's exit status for it."""

    exit_code = 1


class ParseError(ModassistError):
    """Input that modassist cannot read; names the source and what was expected."""

    exit_code = 2

    def __init__(self, source: str, expected: str, detail: str = "") -> None:
        self.source = source
        self.expected = expected
        self.detail = detail
        message = f"{source}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class ConfigError(ModassistError):
    """Settings that cannot work."""

    exit_code = 2


class DataError(ModassistError, ValueError):
    """Labelled data that cannot be measured or fitted: too few rows, or only one label."""

    exit_code = 2
