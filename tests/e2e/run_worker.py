"""`modassist run` as a process, with the e2e detector suite instead of the shipped models: Settings come from
the environment (MODASSIST_*), exactly as for the real command; SIGINT/SIGTERM are handled by `serve`. Also
what a process forked by the tests runs: this `main`, another worker's, or the real command line
(`forked_command`: `bot.cli.main`)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import resource
import signal
import socket
import sys
from pathlib import Path

from bot import cli
from bot.runtime import serve
from config.settings import Settings, get_settings
from tests.e2e.doubles import make_suite

# What `serve` imports only when it has a Discord token (discord.py, the bot, its cogs' modules, the sink and
# the channel watcher). The fork server (tests/forks.py) imports this module once, so a worker forked from it
# starts its bot without importing them again: that took 0.2 s of CPU at every start, before any post was read
# (the bot still loads its cogs as extensions, executing those two small modules anew).
PRELOADED = (
    "bot.discord",
    "bot.discord.cogs.queue",
    "bot.discord.cogs.watch",
    "bot.watchers.discord_channels",
    # What `modassist run` itself imports (forked_command runs it): the command and the detectors' modules.
    "bot.commands.run",
    "bot.detectors",
)
for _name in PRELOADED:
    importlib.import_module(_name)


def main() -> int:
    """Run until a signal; the exit status is serve's."""
    return asyncio.run(
        serve(Settings(), make_suite(), flush_seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    )


def forked(env: dict[str, str], cwd: Path) -> None:
    """`main` in a process forked by the tests (tests/forks.py): `env` is its whole environment, `cwd` its
    working directory, and its output is discarded."""
    _become(env, cwd, os.devnull, None, None)
    sys.argv = sys.argv[:1]
    sys.exit(main())


# Where a forked process writes one of its outputs: a socket (a stream the test reads), a file (appended to;
# os.devnull discards it), or None (standard error only: into standard output).
Output = socket.socket | str | None


def _become(env: dict[str, str], cwd: Path, stdout: Output, stderr: Output, file_limit: int | None) -> None:
    """Make this forked process what a new `python -m ...` started by the tests would be: `env` its whole
    environment, `cwd` its working directory, its output on `stdout` and `stderr`, `file_limit` its
    RLIMIT_FSIZE (writes past it fail with EFBIG instead of killing it)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, end in ((1, stdout), (2, stderr if stderr is not None else stdout)):
        if isinstance(end, str):
            file = os.open(end, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(file, fd)
            os.close(file)
        elif end is not None:
            os.dup2(end.fileno(), fd)
    for end in (stdout, stderr):
        if isinstance(end, socket.socket):
            end.close()
    if file_limit is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))


def forked_with_output(
    module: str,
    env: dict[str, str],
    cwd: Path,
    stdout: Output,
    stderr: Output,
    *,
    file_limit: int | None = None,
) -> None:
    """`module`'s `main` (this one, or `tests.e2e.fault_worker`) in a process forked by the tests, as
    `python -m module` would run it: `env` is its whole environment, `cwd` its working directory, its output
    goes to `stdout` and `stderr` (both to `stdout` when that is None), and `file_limit` is its RLIMIT_FSIZE
    (writes past it fail with EFBIG instead of killing it)."""
    _become(env, cwd, stdout, stderr, file_limit)
    sys.argv = [module]
    sys.exit(importlib.import_module(module).main())


def forked_command(argv: list[str], env: dict[str, str], cwd: Path, stdout: Output, stderr: Output) -> None:
    """`modassist ARGV` in a process forked by the tests: the real entry point, `bot.cli.main(argv)` (its
    argument parsing, the settings read from `env`, the command itself), as the console script runs it, but
    without the second of CPU time a new interpreter spends importing numpy, pydantic, aiohttp, rich and
    discord.py (the fork server has imported them; see PRELOADED)."""
    _become(env, cwd, stdout, stderr, None)
    get_settings.cache_clear()  # none were read in the fork server; if they had been, they are the test's now
    sys.argv = ["modassist", *argv]
    status = cli.main(argv)
    # A new interpreter finalises what is left when it exits (aiohttp then reports an unclosed session); a
    # forked process ends with os._exit, which would not: collect it here, while stderr is still open.
    gc.collect()
    sys.exit(status)


if __name__ == "__main__":
    sys.exit(main())
