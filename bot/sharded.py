"""`classify` and `scan` on several cores: threads sharded across worker processes, output in input order.

The main process reads and parses the input, sends each post to the worker that owns its thread (the
least loaded one at the thread's first post, `Shards`; a thread's posts always go to the same worker, in
input order, so each is judged against the posts before
it exactly as in one process), and writes the verdicts back in input order. Workers are forked after the
models are loaded, so they share the model pages with the main process instead of loading their own.

Memory stays bounded: at most `window` posts, holding at most `window_chars` characters of text, are in
flight (read but not yet written); when a slow thread holds up the oldest line, reading waits. A worker
that dies or fails is reported, and the run stops with the lines before it written: nothing is silently
dropped.

Identical output to one process, except that each worker remembers the last `max_threads` threads (and
`STREAM_STATE_CHARS` characters of thread text) *of its own share*: a thread whose posts are more than 256
other threads (or that much text) apart keeps its context here where one process would have started it
afresh.
"""

from __future__ import annotations

import argparse
import os
import queue
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TextIO

from bot.errors import ModassistError, ParseError
from bot.output import BATCH_CHARS, STREAM_STATE_CHARS, dumps, failure_line, review_record
from bot.sources.jsonl import parse_jsonl_line
from classifiers.suite import DetectorSuite, PostReview, StreamReviewer
from classifiers.thread import Post, Thread

if TYPE_CHECKING:
    from multiprocessing.context import ForkProcess

# multiprocessing and concurrent.futures (30 ms to import) are imported where workers are started: a
# one-worker run, and the start-up to the first verdict, never need them.

Item = tuple[int, str | None, str, Post]  # input order, thread id, thread title, post
Verdict = tuple[int, str, str | None]  # input order, output line, failure message (or None)
_STOP = None
_POLL_SECONDS = 0.5
_DRAIN_EVERY = 16  # posts read between looks for answered batches (each look costs a lock and a poll)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def workers_argument(value: str) -> int:
    """`--workers`: a whole number from 1 to 64 (argparse turns the error into one line, exit 2)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"--workers must be a whole number from 1 to 64, got {value!r}")
    return number


def can_fork() -> bool:
    """Whether workers can be forked with the models already loaded (Linux, macOS: not Windows)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


@dataclass
class Shards:
    """Which worker judges each post: a thread goes, at its first post, to the worker with the least work
    outstanding (characters of text, and a share per post, handed to it and not yet `answered`), and all
    its later posts go there too; a post without a thread goes to the least loaded worker. (A hash of the
    thread id left one of two workers with 57% of the benchmark's posts, and the run waits for the slower
    one; counting the work sent so far rather than outstanding left one worker idle for a second at the
    end of the benchmark while the other finished its queue: workers do not run at the same speed.)

    The last `remembered` threads are kept (memory stays bounded): a thread seen again after that many
    others starts afresh on the least loaded worker, as each worker keeps far fewer threads' state anyway.
    """

    workers: int
    remembered: int = 65_536
    load: list[int] = field(default_factory=list)
    owner: OrderedDict[str, int] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.load = [0] * self.workers

    def worker_of(self, thread_id: str | None, post: Post) -> int:
        """The worker of `post`, counting it as that worker's work."""
        worker = self.owner.get(thread_id) if thread_id is not None else None
        if worker is None:
            worker = self.load.index(min(self.load))
            if thread_id is not None:
                self.owner[thread_id] = worker
                if len(self.owner) > self.remembered:
                    self.owner.popitem(last=False)
        elif thread_id is not None:
            self.owner.move_to_end(thread_id)
        self.load[worker] += work(post)
        return worker

    def answered(self, worker: int, done: int) -> None:
        """`worker` has judged posts worth `done` (the sum of their `work`)."""
        self.load[worker] -= done


def work(post: Post) -> int:
    """What judging `post` costs a worker, in characters' worth."""
    return len(post.text) + _POST_COST


_POST_COST = 500  # characters' worth of work a post costs whatever its length (detectors' per-post steps)


def _work(suite: DetectorSuite, number: int, tasks: Any, results: Any) -> None:
    """Worker `number`: judge each batch in order with one reviewer, send back the output lines."""
    reviewer = StreamReviewer(suite, max_chars=STREAM_STATE_CHARS)
    try:
        while (batch := tasks.get()) is not _STOP:
            reviews = reviewer.review_many([item[1:] for item in batch])
            verdicts: list[Verdict] = []
            for (seq, *_), review in zip(batch, reviews, strict=True):
                message = failure_line(review) if review.failures else None
                verdicts.append((seq, dumps(review_record(review)), message))
            results.put((number, verdicts))
    except BaseException as exc:  # reported by the main process, which stops the run
        results.put(f"{type(exc).__name__}: {exc}")
        raise


@dataclass
class _Pool:
    """The workers, their task queues, and the verdicts waiting for their turn to be written."""

    suite: DetectorSuite
    workers: int
    batch_size: int
    batch_chars: int
    window: int
    window_chars: int
    sink: IO[str]
    errors: TextIO
    shards: Shards = field(init=False)
    procs: list[ForkProcess] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    pending: list[list[Item]] = field(default_factory=list)
    pending_chars: list[int] = field(default_factory=list)
    in_flight: list[deque[int]] = field(default_factory=list)  # per worker, the work of each batch sent
    # and not yet answered
    done: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    next_out: int = 0
    read: int = 0  # posts handed to workers
    unwritten: deque[int] = field(default_factory=deque)  # characters of each post read, not yet written
    unwritten_chars: int = 0
    failed: int = 0

    def start(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.shards = Shards(self.workers)
        self.results = ctx.Queue()
        for number in range(self.workers):
            tasks = ctx.Queue()
            proc = ctx.Process(target=_work, args=(self.suite, number, tasks, self.results), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.tasks.append(tasks)
            self.pending.append([])
            self.pending_chars.append(0)
            self.in_flight.append(deque())

    def add(self, item: Item) -> None:
        """Hand `item` to its worker: batched, but sent at once to a worker that has nothing to do.

        When `window` posts (or `window_chars` characters) are in flight, reading waits for verdicts;
        meanwhile only the batch holding the oldest unwritten post, and those of idle workers, are sent
        early (sending every partial batch at each post read then cut the batches to a few dozen posts:
        290 batches instead of 146)."""
        worker = self.shards.worker_of(item[1], item[3])
        chars = len(item[3].text)
        self.pending[worker].append(item)
        self.pending_chars[worker] += chars
        self.unwritten.append(chars)
        self.unwritten_chars += chars
        self.read += 1
        if self.read % _DRAIN_EVERY == 0:
            self._collect(wait=False)
        if (
            len(self.pending[worker]) >= self.batch_size
            or self.pending_chars[worker] >= self.batch_chars
            or not self.in_flight[worker]
        ):
            self._send(worker)
        while self.read - self.next_out >= self.window or self.unwritten_chars >= self.window_chars:
            for other in range(self.workers):
                pending = self.pending[other]
                if pending and (not self.in_flight[other] or pending[0][0] == self.next_out):
                    self._send(other)
            self._collect()

    def finish(self) -> None:
        self._flush_pending()
        while self.next_out < self.read:
            self._collect()
        for tasks in self.tasks:
            tasks.put(_STOP)
        for proc in self.procs:
            proc.join()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()

    def _send(self, worker: int) -> None:
        if self.pending[worker]:
            self.tasks[worker].put(self.pending[worker])
            self.in_flight[worker].append(sum(work(item[3]) for item in self.pending[worker]))
            self.pending[worker] = []
            self.pending_chars[worker] = 0

    def _flush_pending(self) -> None:
        for worker in range(self.workers):
            self._send(worker)

    def _collect(self, *, wait: bool = True) -> None:
        """Take the answered batches of verdicts (waiting for one, or only those already there) and write
        whatever is now next in input order."""
        while True:
            try:
                got = self.results.get(timeout=_POLL_SECONDS) if wait else self.results.get_nowait()
            except queue.Empty:
                if not wait:
                    return
                self._check_alive()
                continue
            if isinstance(got, str):
                raise ModassistError(
                    f"a classify worker failed ({got}); lines from {self.next_out + 1} on not written"
                )
            worker, verdicts = got
            self.shards.answered(worker, self.in_flight[worker].popleft())
            for seq, line, message in verdicts:
                self.done[seq] = (line, message)
            self._write_ready()
            if wait:
                return

    def _write_ready(self) -> None:
        while self.next_out in self.done:
            line, message = self.done.pop(self.next_out)
            self.sink.write(line + "\n")
            if message is not None:
                self.failed += 1
                print(message, file=self.errors)
            self.next_out += 1
            self.unwritten_chars -= self.unwritten.popleft()

    def _check_alive(self) -> None:
        for number, proc in enumerate(self.procs, start=1):
            if proc.exitcode is not None:
                how = f"signal {-proc.exitcode}" if proc.exitcode < 0 else f"status {proc.exitcode}"
                raise ModassistError(
                    f"classify worker {number} of {self.workers} stopped ({how}); the posts from the "
                    f"{self.next_out + 1}th on were not written; run again with --workers 1 to find the post"
                )


def classify_sharded(
    suite: DetectorSuite,
    source: IO[str],
    sink: IO[str],
    errors: TextIO,
    *,
    workers: int,
    batch_size: int = 256,
    batch_chars: int = BATCH_CHARS,
    parse: Callable[[str, int], tuple[str | None, str, Post]] = parse_jsonl_line,
) -> int:
    """`bot.output.classify_stream` over a file on `workers` processes: the same lines, in the same order.

    (A pipe or terminal, where a tool waits for each answer, is answered line by line by one process.)
    """
    size, chars = max(1, batch_size), max(1, batch_chars)
    # Eight batches a worker (some 800,000 characters): work for the others while the batch holding the
    # oldest post waits behind its worker's queue.
    pool = _Pool(suite, workers, size, chars, max(8 * size * workers, 256), 8 * chars * workers, sink, errors)
    pool.start()
    bad = 0
    try:
        for lineno, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                thread_id, title, post = parse(line, lineno)
            except ParseError as exc:
                bad += 1
                print(f"modassist classify: {exc}; line skipped", file=errors)
                continue
            pool.add((pool.read, thread_id, title, post))
        pool.finish()
    finally:
        pool.stop()
    return bad + pool.failed


_SCAN_SUITE: list[DetectorSuite] = []  # in a scan worker: the suite it was forked with


def _start_scan_worker(suite: DetectorSuite) -> None:
    _SCAN_SUITE[:] = [suite]


def _review_one(thread: Thread) -> list[PostReview]:
    return _SCAN_SUITE[0].review_thread(thread)


def review_threads(suite: DetectorSuite, threads: list[Thread], *, workers: int) -> list[list[PostReview]]:
    """Each thread reviewed whole, on up to `workers` forked processes; the results in thread order.

    A worker that dies stops the run with a `ModassistError` (the pool would otherwise wait for ever).
    """
    workers = min(workers, len(threads))
    if workers <= 1 or not can_fork():
        return [suite.review_thread(thread) for thread in threads]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("fork")  # the suite is handed over by fork, never pickled
    try:
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_start_scan_worker, initargs=(suite,)
        ) as pool:
            return list(pool.map(_review_one, threads))
    except BrokenProcessPool as exc:
        raise ModassistError(
            f"a scan worker stopped before the end ({exc}); run again with --workers 1 to find the thread"
        ) from None
