"""Crash safety: a real worker process is SIGKILLed at random points while it ingests 1,000 posts and
dispatches their alerts; after restarts every post is stored once, every flag is the one an uninterrupted
review raises, and every alert reached the (idempotent) sink exactly once."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
from pathlib import Path

from tests.bot import crash_worker
from tests.bot.store_doubles import check_deliveries, check_store, make_forum
from tests.forks import FORKS, ForkedProcess

POSTS, THREADS, SEED = 1000, 40, 7

_numbers = itertools.count()


class Worker(ForkedProcess):
    """A running crash worker, forked (tests/forks.py), answering like `subprocess.Popen` (its output is kept
    in files)."""

    def __init__(self, directory: Path, *args: str | int | Path) -> None:
        n = next(_numbers)
        self._out, self._err = directory / f"worker-{n}.out", directory / f"worker-{n}.err"
        self._process = FORKS.Process(
            target=crash_worker.forked, args=([str(a) for a in args], self._out, self._err)
        )
        self._process.start()

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Wait until the worker ends (`subprocess.TimeoutExpired` past `timeout`); its stdout and stderr."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("crash_worker", timeout or 0.0)
        return self._out.read_text(encoding="utf-8"), self._err.read_text(encoding="utf-8")


def test_sigkill_at_random_points_loses_nothing_and_alerts_each_flag_once(tmp_path: Path) -> None:
    rng = random.Random(20251129)
    db, ledger = tmp_path / "modassist.db", tmp_path / "ledger.db"
    common = ["--db", db, "--ledger", ledger, "--posts", POSTS, "--threads", THREADS, "--seed", SEED]
    # New posts arrive 3 ms apart, and the kills from outside come 0.15-0.6 s after a start: all of them land
    # while the worker works (with 6 ms and 0.3-1.2 s, 4 or 5 of the 9 came after it had finished, idle
    # machine; 5.9 s -> 5.3 s).
    common += ["--fail-rate", "0.05", "--pace", "0.003"]
    killed_from_outside = killed_after_send = finished = 0
    for run in range(1, 13):
        extra = ["--run-seed", str(run)]
        if run in (1, 3, 5):
            # Early on, with many alerts still to send: the worker kills itself right after a delivery,
            # before it can mark it sent.
            proc = Worker(tmp_path, *common, *extra, "--kill-after", str(rng.randint(1, 5)))
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGKILL, err
            killed_after_send += 1
            continue
        proc = Worker(tmp_path, *common, *extra)
        try:
            _, err = proc.communicate(timeout=rng.uniform(0.15, 0.6))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            killed_from_outside += 1
        else:
            assert proc.returncode == 0, err
            finished += 1
    final = Worker(tmp_path, *common, "--run-seed", "99")
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["new"] + json.loads(out.splitlines()[-1])["unchanged"] == POSTS

    print(f"killed from outside {killed_from_outside}, after a send {killed_after_send}; {finished} finished")
    assert killed_from_outside >= 3, "the kills did not land while the worker was busy"
    assert killed_after_send == 3
    threads = make_forum(POSTS, THREADS, SEED)
    stored = check_store(db, threads)
    delivered = check_deliveries(db, ledger)
    assert stored["posts"] == POSTS
    # Each kill after a send left one delivery unconfirmed; the restart re-sent it and the sink ignored it.
    assert delivered["repeats"] >= killed_after_send
    print(f"stored {stored}, delivered {delivered}")
    assert delivered["digests"] >= 1


def test_two_writer_processes_neither_lose_nor_duplicate_rows(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    common = ["--db", db, "--posts", 600, "--threads", 20, "--seed", 11, "--cache", 4]
    first = Worker(tmp_path, *common)
    second = Worker(tmp_path, *common, "--reverse")
    results = [p.communicate(timeout=120) for p in (first, second)]
    for proc, (_, err) in zip((first, second), results, strict=True):
        assert proc.returncode == 0, err
    counts = [json.loads(out.splitlines()[-1]) for out, _ in results]
    # Between them the two writers stored each post once; each saw the other's posts as already stored.
    assert sum(c["new"] for c in counts) == 600
    assert all(c["new"] + c["unchanged"] == 600 for c in counts)
    assert all(c["edited"] == 0 for c in counts)
    check_store(db, make_forum(600, 20, 11))
