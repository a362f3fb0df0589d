"""Settings shared by the whole suite."""

import os
from typing import Any

import pytest
from hypothesis import settings
from threadpoolctl import threadpool_limits
from xdist.scheduler import LoadFileScheduling

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
# (measured wall time, the slowest first) lead, so that the workers start on the longest.
_LONGEST_FIRST = (
    "tests/lab/commands/test_eval_offtopic.py",  # leads the scikit-learn unit below (about 13.6 s in all)
    "tests/e2e/test_watch_run.py",
    "tests/e2e/test_discord_embeds.py",
    "tests/e2e/test_run_lines.py",
    "tests/e2e/test_run_faults.py",
    "tests/bot/test_crash.py",
    "tests/e2e/test_exactly_once.py",
    "tests/e2e/test_crash_discord.py",
)
_SLOW_FIRST = ("tests/e2e/", "tests/lab/commands/")
# The files whose tests import scikit-learn (training, the lab's commands and measures, the peer): one unit
# of work for a single xdist worker. Importing it costs about 2 s of CPU time, which each worker paid when
# these files were spread over all three; their modules import it inside the tests that need it, so that
# collecting them does not (the suite's run fails no test if a file is missing here: it only costs time).
_SCIKIT_LEARN = (
    "tests/lab/",
    "tests/classifiers/inflammatory/test_inflammatory.py",
    "tests/classifiers/offtopic/test_offtopic.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker per core, and one more. Part of the suite waits rather than computes: the crash
    tests sleep a random while before each kill and pace their workers, the fault tests hold a lock or a
    full disk for seconds, the watch tests wait for the next poll (some 30 s of such waits in all). With one
    worker per core a core stands idle through each of them; the extra worker runs other files then. The
    extra worker's own cost is its collection (about 2 s of CPU; on a shared 2-core machine the summed CPU
    time of the suite was 145-158 s with 2 workers and 157-158 s with 3, within the machine's noise)."""
    del config
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` with the `_SCIKIT_LEARN` files as one unit (the first of them sets its place)."""
    if config.getvalue("dist") != "loadfile":
        return None

    class _Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "scikit-learn" if path.startswith(_SCIKIT_LEARN) else path

    return _Scheduling(config, log)


def _rank(item: pytest.Item) -> tuple[int, int]:
    path = item.nodeid.split("::")[0]
    if path in _LONGEST_FIRST:
        return (0, _LONGEST_FIRST.index(path))
    return (1, 0) if item.nodeid.startswith(_SLOW_FIRST) else (2, 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files, then the other slow ones, then the rest; the order kept within each file."""
    items.sort(key=_rank)
