"""The machine-readable output of `classify` and `scan --json` (the contract in DESIGN.md)."""

from __future__ import annotations

import json
from typing import Any

from classifiers.result import CATEGORIES
from classifiers.suite import PostReview


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


def dumps(record: dict[str, Any]) -> str:
    """One JSON line (UTF-8 kept readable, no trailing newline)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
