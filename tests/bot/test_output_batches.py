"""`classify_stream` cuts its batches by characters too: long posts are answered a few at a time."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest

from bot.detectors import build_suite
from bot.output import classify_stream
from classifiers.suite import DetectorSuite
from config.settings import Settings


@pytest.fixture(scope="module")
def suite() -> DetectorSuite:
    return build_suite(Settings(_env_file=None))  # type: ignore[call-arg]


class _Source:
    """Lines of long posts, counting how many were read."""

    def __init__(self, n: int, chars: int) -> None:
        sentence = "The harbour board met again about the ferry timetable and the cost of dredging. "
        text = (sentence * (chars // len(sentence) + 1))[:chars]
        self.lines = [
            json.dumps({"id": f"p{i}", "thread_id": f"t{i % 3}", "text": f"{i} {text}"}) + "\n"
            for i in range(n)
        ]
        self.read = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.read += 1
            yield line


class _Sink(io.StringIO):
    """Records how many source lines had been read at each line written."""

    def __init__(self, source: _Source) -> None:
        super().__init__()
        self.source = source
        self.read_at_write: list[int] = []

    def write(self, s: str) -> int:
        self.read_at_write.append(self.source.read)
        return super().write(s)


def test_a_batch_is_cut_at_its_character_budget(suite: DetectorSuite) -> None:
    source = _Source(12, 30_000)
    sink = _Sink(source)
    bad = classify_stream(suite, source, sink, sys.stderr, batch_chars=100_000)  # type: ignore[arg-type]
    assert bad == 0
    # Four posts of 30,000 characters reach the budget: the first answers come before the fifth line is read.
    assert sink.read_at_write[0] == 4
    assert len(sink.getvalue().splitlines()) == 12


def test_batches_cut_by_characters_give_the_same_lines(suite: DetectorSuite) -> None:
    outputs = []
    for budget in (1, 100_000, 10**9):
        source = _Source(7, 5_000)
        sink = _Sink(source)
        classify_stream(suite, source, sink, sys.stderr, batch_chars=budget)  # type: ignore[arg-type]
        outputs.append(sink.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
