"""`modassist run` as a process, with the e2e detector suite instead of the shipped models: Settings come from
the environment (MODASSIST_*), exactly as for the real command; SIGINT/SIGTERM are handled by `serve`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.runtime import serve
from config.settings import Settings
from tests.e2e.doubles import make_suite


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


if __name__ == "__main__":
    sys.exit(main())
