"""modassist's domain errors.

ModassistError            anything a user can act on; printed as one line, never a traceback
├── ParseError            input that is not in a format we read (exit status 2)
├── ModelError            a model file missing, tampered with or of the wrong version
├── ConfigError           settings that cannot work together
├── DataError             data too small or one-sided to measure or fit (also a ValueError)
└── StoreError            a store operation that cannot be done as asked (more in bot.store)
    ├── DatabaseCorruptError     the database file fails SQLite's integrity check, or is no database (exit 2)
    ├── SchemaTooNewError        the database was written by a newer modassist (exit 2)
    └── DatabaseUnwritableError  read-only file or directory, full disk, failed write (exit 2)
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


class StoreError(ModassistError):
    """A store operation that cannot be done as asked."""


class DatabaseCorruptError(StoreError):
    """The database file is damaged (or not an SQLite database at all); nothing is read or written."""

    exit_code = 2

    def __init__(self, path: str, detail: str, *, not_a_database: bool = False) -> None:
        self.path = path
        self.detail = detail
        if not_a_database:
            message = (
                f"{path}: not an SQLite database ({detail});"
                " check the path, or restore the file from a backup"
            )
        else:
            message = (
                f"{path}: the database is corrupted ({detail}); restore it from a backup"
                " (`modassist db backup` makes one), or move it aside to start an empty one"
            )
        super().__init__(message)


class SchemaTooNewError(StoreError):
    """The database's schema is newer than any migration this modassist knows."""

    exit_code = 2

    def __init__(self, path: str, version: int, newest: int) -> None:
        self.path = path
        self.version = version
        self.newest = newest
        super().__init__(
            f"{path}: schema version {version}, but this modassist knows versions up to {newest}: the file"
            " was written by a newer modassist; upgrade modassist or use another database file"
        )


class DatabaseUnwritableError(StoreError):
    """The database cannot be opened or written: `reason` says why, `advice` what to do."""

    exit_code = 2

    def __init__(self, path: str, reason: str, advice: str) -> None:
        self.path = path
        self.reason = reason
        self.advice = advice
        super().__init__(f"{path}: {reason}; {advice}")
