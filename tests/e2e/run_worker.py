"""`modassist run` as a process, with the e2e detector suite instead of the shipped models: Settings come from
the environment (MODASSIST_*), exactly as for the real command; SIGINT/SIGTERM are handled by `serve`."""

from __future__ import annotations

import asyncio
import importlib
import os
import resource
import signal
import socket
import sys
from pathlib import Path

from bot.runtime import serve
from config.settings import Settings
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
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.argv = sys.argv[:1]
    sys.exit(main())


def forked_with_output(
    module: str,
    env: dict[str, str],
    cwd: Path,
    stdout: socket.socket,
    stderr: socket.socket | None,
    file_limit: int | None,
) -> None:
    """`module`'s `main` (this one, or `tests.e2e.fault_worker`) in a process forked by the tests, as
    `python -m module` would run it: `env` is its whole environment, `cwd` its working directory, its output
    goes to `stdout` and `stderr` (both to `stdout` when that is None), and `file_limit` is its RLIMIT_FSIZE
    (writes past it fail with EFBIG instead of killing it)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    os.dup2(stdout.fileno(), 1)
    os.dup2((stderr or stdout).fileno(), 2)
    for end in (stdout, stderr):
        if end is not None:
            end.close()
    if file_limit is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    sys.argv = [module]
    sys.exit(importlib.import_module(module).main())


if __name__ == "__main__":
    sys.exit(main())
