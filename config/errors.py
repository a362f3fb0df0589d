"""The one error of the settings package (`bot.cli` turns it into lines on stderr and exit status 2)."""

from __future__ import annotations


class ConfigurationError(Exception):
    """Settings that cannot be used: `problems` holds one line per mistake, each naming the setting, the
    value given (and where) and what is allowed; `warnings` the names that match no setting, found on the
    way."""

    def __init__(self, problems: list[str], warnings: list[str] | None = None) -> None:
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("; ".join(problems))
