"""`classify --workers N` and `scan --workers N`: threads sharded across forked processes, the output in
input order and the same as one process; a worker that fails or dies is reported, never a hang or a silent
gap."""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

import pytest

from bot.errors import ModassistError
from bot.output import classify_stream
from bot.sharded import Shards, classify_sharded, work
from classifiers.result import Detection
from classifiers.suite import DetectorSuite
from classifiers.thread import Post
from tests.bot.cli_runner import run_cli
from tests.e2e.doubles import ExplodingDetector, PhraseDetector

SUBJECTS = {
    "ferry": "The harbour ferry will run every hour from Monday after the new pier opened with two berths.",
    "garden": "My tomato plants have yellow leaves at the bottom and the soil stays wet for days after rain.",
    "laptop": "The laptop battery drops from full to empty in ninety minutes since the last system update.",
    "league": "Our five-a-side league starts again in March and we still need a goalkeeper for Tuesdays.",
}


def _interleaved(copies: int) -> str:
    """Posts of several threads, interleaved; each thread's third reply pastes its opening post (a
    duplicated quote only a worker that saw the opening post can find) and one reply is rude."""
    lines = []
    for turn in range(5):
        for n in range(copies):
            for name, opening in SUBJECTS.items():
                thread = f"{name}-{n}"
                text = {
                    0: opening,
                    1: f"Thanks, that helps with the {name} question.",
                    2: f"{opening} This.",
                    3: "You are an idiot and a clown if you believe that.",
                    4: f"Any news on the {name} since last week?",
                }[turn]
                record = {"id": f"{thread}-{turn}", "thread_id": thread, "thread_title": name, "text": text}
                lines.append(json.dumps(record))
        if turn == 2:
            lines.append("this line is not JSON")
    return "\n".join(lines) + "\n"


def test_two_workers_write_what_one_process_writes_in_input_order(tmp_path: Path) -> None:
    source = tmp_path / "posts.jsonl"
    source.write_text(_interleaved(3), encoding="utf-8")
    one = run_cli("classify", "--input", str(source), "--workers", "1")
    two = run_cli("classify", "--input", str(source), "--workers", "2")
    assert one.returncode == two.returncode == 1  # the malformed line
    assert "line 37" in two.stderr and "Traceback" not in two.stderr
    assert two.stdout == one.stdout
    records = [json.loads(line) for line in two.stdout.splitlines()]
    assert len(records) == 60
    repeats = [r for r in records if r["id"].endswith("-2")]
    assert all("duplicated_quote" in {f["category"] for f in r["flags"]} for r in repeats)


def test_scan_on_two_workers_reports_what_one_process_reports(tmp_path: Path) -> None:
    source = tmp_path / "threads.jsonl"
    source.write_text(_interleaved(2).replace("this line is not JSON\n", ""), encoding="utf-8")
    one = run_cli("scan", "--json", str(source), "--workers", "1")
    two = run_cli("scan", "--json", str(source), "--workers", "2")
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    assert len(two.stdout.splitlines()) == 40


def test_workers_must_be_a_small_whole_number(tmp_path: Path) -> None:
    source = tmp_path / "posts.jsonl"
    source.write_text(_interleaved(1), encoding="utf-8")
    for command, value in [("classify", "0"), ("classify", "-2"), ("scan", "many"), ("scan", "65")]:
        args = ["--input", str(source)] if command == "classify" else [str(source)]
        result = run_cli(command, *args, "--workers", value)
        assert result.returncode == 2
        assert "--workers must be a whole number from 1 to 64" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_thread_always_goes_to_the_same_worker() -> None:
    shards = Shards(4)
    first = shards.worker_of("ferry-1", Post(id="0", text="x" * 5000))
    others = {shards.worker_of(f"t{n}", Post(id=str(n), text="short")) for n in range(40)}
    assert {shards.worker_of("ferry-1", Post(id=str(n), text="again")) for n in range(50)} == {first}
    assert others == {0, 1, 2, 3}
    without = Shards(3)
    assert [without.worker_of(None, Post(id=str(n), text="same")) for n in range(4)] == [0, 1, 2, 0]


def test_threads_are_shared_out_by_the_work_they_bring() -> None:
    # A hash of the ids (crc32, the first rule) sent 6 of these 10 threads to one of two workers: 60% of
    # the work; shared by work, each worker gets half.
    shards = Shards(2)
    for n in range(10):
        worker = [shards.worker_of(f"thread-{n}", Post(id=f"{n}-{k}", text="word " * 40)) for k in range(20)]
        assert len(set(worker)) == 1
    assert shards.load[0] == shards.load[1]


def test_a_new_thread_goes_to_the_worker_with_the_least_work_outstanding() -> None:
    # Workers do not run at the same speed: the one that has answered its posts gets the next thread, even
    # if it was handed more work in all (else the other one is left with a queue at the end of the run).
    shards = Shards(2)
    long_post, short_post = Post(id="1", text="x" * 3000), Post(id="2", text="y" * 1000)
    assert shards.worker_of("a", long_post) == 0
    assert shards.worker_of("b", short_post) == 1
    assert shards.worker_of("c", short_post) == 1
    shards.answered(0, work(long_post))
    assert shards.load == [0, 2 * work(short_post)]
    assert shards.worker_of("d", short_post) == 0
    assert shards.worker_of("b", long_post) == 1  # a thread stays on its worker


def test_a_forgotten_thread_starts_afresh_on_the_least_loaded_worker() -> None:
    shards = Shards(2, remembered=2)
    assert shards.worker_of("a", Post(id="1", text="x" * 1000)) == 0
    assert shards.worker_of("b", Post(id="2", text="y")) == 1
    assert shards.worker_of("c", Post(id="3", text="z")) == 1  # "a" forgotten: the memory holds two threads
    assert list(shards.owner) == ["b", "c"]
    assert shards.worker_of("a", Post(id="4", text="x")) == 1


def _double_suite(*extra: object) -> DetectorSuite:
    return DetectorSuite(
        [PhraseDetector("inflammatory", r"\bidiot\b", 0.9, "insulting language"), *extra]  # type: ignore[list-item]
    )


def _jsonl(*texts: str) -> io.StringIO:
    return io.StringIO(
        "".join(
            json.dumps({"id": str(i), "thread_id": f"t{i % 5}", "text": t}) + "\n"
            for i, t in enumerate(texts)
        )
    )


def test_a_detector_failure_is_a_line_with_an_error_as_in_one_process() -> None:
    texts = [f"post {i} about ferries" for i in range(40)]
    texts[7] = "kaboom, you idiot"
    suite = _double_suite(ExplodingDetector("duplicated_quote", batch=False))
    sharded_out, sharded_err = io.StringIO(), io.StringIO()
    bad = classify_sharded(suite, _jsonl(*texts), sharded_out, sharded_err, workers=3, batch_size=4)
    one_out, one_err = io.StringIO(), io.StringIO()
    assert classify_stream(suite, _jsonl(*texts), one_out, one_err) == bad == 1
    assert sharded_out.getvalue() == one_out.getvalue()
    assert sharded_err.getvalue() == one_err.getvalue()
    assert "post 7: duplicated_quote (ValueError: cannot read this post) failed" in sharded_err.getvalue()


def test_long_posts_are_batched_and_held_back_by_characters_with_the_same_output() -> None:
    # Batches of 50 characters and at most 600 in flight: every long post is a batch of its own and
    # reading waits for it, the order and lines stay those of one process.
    texts = [
        ("you idiot " if i % 7 == 0 else "") + f"post {i} " + "about ferries " * (i % 30) for i in range(90)
    ]
    suite = _double_suite()
    sharded_out = io.StringIO()
    bad = classify_sharded(suite, _jsonl(*texts), sharded_out, io.StringIO(), workers=3, batch_chars=50)
    one_out = io.StringIO()
    assert classify_stream(suite, _jsonl(*texts), one_out, io.StringIO()) == bad == 0
    assert sharded_out.getvalue() == one_out.getvalue()
    assert len(sharded_out.getvalue().splitlines()) == 90


class _DyingDetector:
    """Kills the process it runs in (SIGKILL, as the kernel's OOM killer would) on a post saying 'die'."""

    category = "off_topic"
    version = "dying-1"

    def use_threshold(self, value: float) -> None:
        """Nothing to follow."""

    def begin_thread(self, thread_id: str, title: str) -> _DyingDetector:
        return self

    def review(self, post: Post) -> Detection:
        if "die" in post.text.split():
            os.kill(os.getpid(), signal.SIGKILL)
        return Detection("off_topic", 0.1)


def test_a_killed_worker_stops_the_run_with_what_came_before_written() -> None:
    texts = [f"post {i} about ferries" for i in range(30)]
    texts[20] = "then die here"
    out, errors = io.StringIO(), io.StringIO()
    with pytest.raises(ModassistError, match=r"worker \d of 2 stopped \(signal 9\).*--workers 1"):
        classify_sharded(
            _double_suite(_DyingDetector()), _jsonl(*texts), out, errors, workers=2, batch_size=2
        )
    written = [json.loads(line)["id"] for line in out.getvalue().splitlines()]
    assert written == [str(i) for i in range(len(written))]  # a prefix, in order
    assert len(written) < 21


def test_memory_stays_bounded_when_one_thread_is_slow() -> None:
    """Many more posts than the window: every verdict is written, in order, whatever the shard sizes."""
    texts = [f"post {i} about ferries" for i in range(1_000)]
    source = io.StringIO(
        "".join(
            json.dumps({"id": str(i), "thread_id": "big" if i % 10 else f"t{i}", "text": t}) + "\n"
            for i, t in enumerate(texts)
        )
    )
    out = io.StringIO()
    assert classify_sharded(_double_suite(), source, out, io.StringIO(), workers=2, batch_size=3) == 0
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [str(i) for i in range(1_000)]
