"""The store's schema: numbered SQL migrations `NNNN_name.sql`, applied in order, recorded in the database."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its version number, name and SQL script."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """sha256 of the script, recorded when applied so an edited migration is noticed."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations() -> tuple[Migration, ...]:
    """The shipped migrations in version order; versions must run 1, 2, 3, ... without gaps."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"migration {migration.version:04d}_{migration.name} found where {expected} was due"
            )
    return tuple(found)
