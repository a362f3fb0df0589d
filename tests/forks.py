"""Test workers, and the real `modassist run` (`bot.cli.main`, tests/e2e/processes.py `fork_command`), forked
from a server that has imported them once (multiprocessing's forkserver).

A worker started this way is a process of its own, as a killed or signalled one must be, but it starts in
milliseconds instead of spending a second on imports: a test that kills it at random moments kills it while it
works, not while it imports. The server is started by the first fork of a test process (of each xdist worker)
and ends with it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os

FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["tests.bot.crash_worker", "tests.e2e.run_worker"])


class ForkedProcess:
    """A process forked from the server, answering like `subprocess.Popen` where the tests need it: its
    exit status and a signal (subclasses start `self._process` and add the way they wait)."""

    _process: multiprocessing.process.BaseProcess

    @property
    def returncode(self) -> int | None:
        """The exit status (minus the signal that ended it), None while it runs."""
        return self._process.exitcode

    def send_signal(self, signal_number: int) -> None:
        """Send the process a signal."""
        assert self._process.pid is not None
        os.kill(self._process.pid, signal_number)
