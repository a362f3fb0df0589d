"""Test workers forked from a server that has imported them once (multiprocessing's forkserver).

A worker started this way is a process of its own, as a killed or signalled one must be, but it starts in
milliseconds instead of spending a second on imports: a test that kills it at random moments kills it while it
works, not while it imports. The server is started by the first fork of a test process (of each xdist worker)
and ends with it.
"""

from __future__ import annotations

import multiprocessing

FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["tests.bot.crash_worker", "tests.e2e.run_worker"])
