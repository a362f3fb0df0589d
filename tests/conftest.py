"""Settings shared by the whole suite."""

import os

import pytest
from hypothesis import settings
from threadpoolctl import threadpool_limits

# One BLAS thread per process. pytest-xdist already runs one worker per core, and OpenBLAS's threads spin
# while they wait: with two workers on two cores they fought each other and the sentence encoder's tests ran
# four times slower. Set here, before the workers and the commands the tests start inherit the environment;
# `threadpool_limits` covers a numpy this process has already loaded. (The suite passes either way.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
threadpool_limits(1)

# No per-example time limit: Hypothesis's default 200 ms deadline is a timing assertion, and on a busy CI
# machine it fails tests whose results are right. Speed is measured by the scripts in benchmarks/, not here.
settings.register_profile("modassist", deadline=None)
settings.load_profile("modassist")

# The files that run real processes, the slowest, first: each xdist worker takes one file at a time, and a
# long file left for the end would run while the other worker has nothing left to do (so the run keeps this
# order: --no-loadscope-reorder, without which xdist starts with the files of most tests). The longest files
# (measured wall time, the slowest first) lead, so that the two workers start on the two longest.
_LONGEST_FIRST = (
    "tests/lab/commands/test_eval_offtopic.py",
    "tests/e2e/test_watch_run.py",
    "tests/e2e/test_crash_discord.py",
    "tests/e2e/test_discord_embeds.py",
    "tests/bot/test_crash.py",
)
_SLOW_FIRST = ("tests/e2e/", "tests/lab/commands/")


def _rank(item: pytest.Item) -> tuple[int, int]:
    path = item.nodeid.split("::")[0]
    if path in _LONGEST_FIRST:
        return (0, _LONGEST_FIRST.index(path))
    return (1, 0) if item.nodeid.startswith(_SLOW_FIRST) else (2, 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files, then the other slow ones, then the rest; the order kept within each file."""
    items.sort(key=_rank)
