"""`modassist run` as a process, with the e2e detector suite instead of the shipped models: Settings come from
the environment (MODASSIST_*), exactly as for the real command; SIGINT/SIGTERM are handled by `serve`."""

from __future__ import annotations

import asyncio
import sys

from bot.runtime import serve
from config.settings import Settings
from tests.e2e.doubles import make_suite


def main() -> int:
    """Run until a signal; the exit status is serve's."""
    return asyncio.run(
        serve(Settings(), make_suite(), flush_seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    )


if __name__ == "__main__":
    sys.exit(main())
