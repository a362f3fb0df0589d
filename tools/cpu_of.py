"""Wall time and the CPU time of every process a command starts, grandchildren included (Linux).

    .venv/bin/python tools/cpu_of.py .venv/bin/python -m pytest

`/usr/bin/time` counts only the children its command waits for: the processes the tests fork from their fork
server, and anything else orphaned, are missed. Here this process becomes a child subreaper, so orphans are
handed to it; it waits for every one of them before reading `RUSAGE_CHILDREN`. Exits with the command's
status.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    """Run `argv`, wait for all its descendants, print wall and CPU seconds to standard error."""
    if not argv:
        print("usage: tools/cpu_of.py COMMAND [ARG ...]", file=sys.stderr)
        return 2
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("tools/cpu_of.py: cannot become a child subreaper (Linux only)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    status = subprocess.call(argv)
    wall = time.perf_counter() - started
    while True:  # the orphaned descendants, reparented to this process
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"wall {wall:.1f} s; CPU of every descendant {cpu:.1f} s "
        f"(user {usage.ru_utime:.1f} + system {usage.ru_stime:.1f})",
        file=sys.stderr,
    )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
