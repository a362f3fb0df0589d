"""Running the `modassist` command line the way a user does: the real console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modassist(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    columns: int | None = None,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `modassist ARGS` from the repository root (or `cwd`), without the developer's MODASSIST_*
    settings; `columns` widens the console so that table rows stay on one line; `prefix` is a command that
    runs it (e.g. `setpriv ...` or `sh -c 'ulimit ...'` to run it with fewer rights or limits); `env` adds
    variables (settings the test gives)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MODASSIST_")}
    environment.update(env or {})
    if columns is not None:
        environment["COLUMNS"] = str(columns)
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        env=environment,
        timeout=120,
        check=False,
    )
