"""Running the `modassist` command line: in this process through `bot.cli.main` (`run_cli`, for error paths
and output), or as the real console script in a subprocess (`modassist`, for the one smoke test per command
and for what needs a process of its own: fewer rights, resource limits, signals, a kill)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from bot.cli import main
from config.settings import get_settings
from tests.paths import ROOT

__all__ = ["ROOT", "modassist", "run_cli"]


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


def run_cli(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    columns: int | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`modassist ARGS` run in this process by `bot.cli.main`, as `modassist` runs it in a subprocess: the
    same arguments, environment (no MODASSIST_* of the developer's, `env` added), working directory,
    standard input (empty unless given) and exit status; its standard output and error are captured as the
    bytes the process would have written, decoded strictly as UTF-8 (no newline translation).

    Call it from a plain (not async) test: the commands run their own event loop."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape", newline="")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="")
    source = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    with _as_a_fresh_process(cwd=cwd or ROOT, columns=columns, env=env) as patch:
        patch.setattr(sys, "stdin", source)
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        try:
            status = main(list(args))
        except SystemExit as exit_:  # argparse's errors, as the interpreter turns them into a status
            status = _exit_status(exit_.code, stderr)
        finally:
            stdout.flush()
            stderr.flush()
    return subprocess.CompletedProcess(
        ["modassist", *args],
        status,
        _written(stdout),
        _written(stderr),
    )


@contextlib.contextmanager
def _as_a_fresh_process(
    *, cwd: Path, columns: int | None, env: Mapping[str, str] | None
) -> Iterator[pytest.MonkeyPatch]:
    """The state a new `modassist` process starts from, restored afterwards: the environment, the working
    directory, no cached settings, and a root logger without handlers (so that `main` installs its own on
    this run's standard error, as it does in a new process, and not pytest's capture)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("MODASSIST_")]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        if columns is not None:
            patch.setenv("COLUMNS", str(columns))
        patch.chdir(cwd)
        root.handlers = []
        get_settings.cache_clear()
        try:
            yield patch
        finally:
            get_settings.cache_clear()
            for handler in root.handlers:
                handler.close()
            root.handlers, root.level = handlers, level


def _exit_status(code: object, stderr: io.TextIOWrapper) -> int:
    """What the interpreter does with `SystemExit(code)`: None is 0, an int is itself, else printed, 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


def _written(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")
