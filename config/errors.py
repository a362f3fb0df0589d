"""The one error of the settings package (`bot.cli` turns it into lines on stderr and exit status 2)."""

from __future__ import annotations


class ConfigurationError(Exception):
    """Settings that cannot be used: `problems` holds one line per mistake, each naming the setting, the
    value given (and where) and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
