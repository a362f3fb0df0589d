"""Running `modassist-lab`: the real entry point in a subprocess (one smoke run per command), or in-process
through `lab.cli.main` (error paths)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.cli import main

ROOT = Path(__file__).resolve().parents[2]


def modassist_lab(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m lab ARGS` from the repository root, without the developer's MODASSIST_* settings, with a
    wide console so that table rows stay on one line."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MODASSIST_")}
    environment["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=environment,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Outcome:
    """What an in-process run returned and printed."""

    status: int
    out: str
    err: str


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """`lab.cli.main(ARGS)` in this process, its printing captured."""
    status = main(list(args))
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err)
