"""The machine-readable output of `classify` and `scan --json` (the contract in DESIGN.md), and the
`classify` stream that writes it."""

from __future__ import annotations

import json
from typing import IO, Any, TextIO

from bot.errors import ParseError
from bot.sources.jsonl import parse_jsonl_line
from classifiers.result import CATEGORIES
from classifiers.suite import DetectorSuite, PostReview, StreamReviewer
from classifiers.thread import Post

# The thread text whose state `classify` keeps (a worker each): about 20 bytes of detector state per
# character on forum threads, so some 40 MiB. The least recently seen threads are forgotten past it (and
# past 256 threads), so memory stays bounded whatever the input's size; a stream whose threads do not
# interleave is judged exactly as with no bound.
STREAM_STATE_CHARS = 2_000_000
# A batch is also cut once its posts hold this many characters: the detectors' vectorised passes keep a
# few arrays per character of the batch (the inflammatory features: some 50 bytes a character), so 256 long
# posts (480,000 characters on the benchmark input) set the peak of the whole run. Scores do not depend on
# how posts are batched.
BATCH_CHARS = 100_000


def review_record(review: PostReview, *, with_post: bool = False) -> dict[str, Any]:
    """One output line: id, all three scores, flags (and `notes` if the review was limited); with
    `with_post`, also author, position and url."""
    record: dict[str, Any] = {"id": review.post.id}
    if with_post:
        record["author"] = review.post.author
        record["position"] = review.post.position
        record["url"] = review.post.url
    scores = review.scores
    failed = {f.category for f in review.failures}
    # A failed detector's score is null (DESIGN.md); the key stays, so every line has the same keys.
    record["scores"] = {
        c: round(scores[c], 4) if c in scores else None for c in CATEGORIES if c in scores or c in failed
    }
    record["flags"] = [
        {
            "category": flag.category,
            "score": round(flag.score, 4),
            "threshold": flag.threshold,
            "reasons": list(flag.reasons),
        }
        for flag in review.flags
    ]
    if review.failures:
        first = review.failures[0]
        record["error"] = {"detector": first.category, "message": first.message}
        if len(review.failures) > 1:
            record["error"]["others"] = [
                {"detector": f.category, "message": f.message} for f in review.failures[1:]
            ]
    if review.notes:  # only when the review was limited (a very long post), so other lines stay as they were
        record["notes"] = list(review.notes)
    return record


def failure_line(review: PostReview) -> str:
    """The stderr line of a post a detector failed on: which detectors, and why."""
    names = ", ".join(f"{f.category} ({f.message})" for f in review.failures)
    return f"modassist classify: post {review.post.id}: {names} failed"


def dumps(record: dict[str, Any]) -> str:
    """One JSON line (UTF-8 kept readable, no trailing newline)."""
    return _ENCODER.encode(record)


# One encoder for every line: `json.dumps` with options builds a new one per call (a fifth of its time).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def classify_stream(
    suite: DetectorSuite,
    source: IO[str],
    sink: IO[str],
    errors: TextIO,
    *,
    flush_each: bool = False,
    batch_size: int = 256,
    batch_chars: int = BATCH_CHARS,
) -> int:
    """Classify every line of `source` into `sink`; report malformed lines on `errors`; return how many lines
    were malformed or not fully reviewed (a detector failed: the line carries an "error" and the run goes on).

    Lines are judged in batches of `batch_size` lines, or fewer once they hold `batch_chars` characters of
    text (the models score a batch in one pass), so memory stays bounded; with `flush_each` (a pipe or
    terminal, where a tool may wait for each answer) every line is answered as soon as it is read.
    """
    reviewer = StreamReviewer(suite, max_chars=STREAM_STATE_CHARS)
    size = 1 if flush_each else max(1, batch_size)
    bad = 0
    batch: list[tuple[str | None, str, Post]] = []
    chars = 0

    def write(items: list[tuple[str | None, str, Post]]) -> int:
        failed = 0
        for review in reviewer.review_many(items):
            sink.write(dumps(review_record(review)) + "\n")
            if review.failures:
                failed += 1
                print(failure_line(review), file=errors)
        if flush_each:
            sink.flush()
        return failed

    for lineno, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = parse_jsonl_line(line, lineno)
        except ParseError as exc:
            bad += 1
            print(f"modassist classify: {exc}; line skipped", file=errors)
            continue
        batch.append(item)
        chars += len(item[2].text)
        if len(batch) >= size or chars >= batch_chars:
            bad += write(batch)
            batch, chars = [], 0
    if batch:
        bad += write(batch)
    return bad
