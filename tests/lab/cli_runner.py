"""Running `modassist-lab`: the real entry point in a subprocess, or in-process through `lab.cli.main` (error
paths, and the long evaluation runs whose tests read only the printed output and the exit status)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.settings import get_settings
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


def modassist_lab_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`lab.cli.main(ARGS)` in this process under the conditions of `modassist_lab` (the repository root as
    the working directory, no MODASSIST_* settings, settings read afresh), its printing captured; usable from
    a module-scoped fixture, where capsys is not. It spares the interpreter's start and the imports of a
    subprocess where a test checks what the command printed and returned, not the process."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("MODASSIST_")]:
            patch.delenv(name)
        patch.setenv("COLUMNS", "200")
        patch.chdir(ROOT)
        get_settings.cache_clear()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(list(args))
        finally:
            get_settings.cache_clear()
    return subprocess.CompletedProcess(["modassist-lab", *args], status, out.getvalue(), err.getvalue())


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
