"""The duplicated-quote detector: posts that add little beyond repeating their thread, and re-quotes.

It finds repeated words whether they are marked as quotes or pasted inline, by overlap of hashed word
shingles over normalised text (robust to re-wrapping, case and small edits), and says where they come
from (`_runs`, `_thread`). It then asks the moderator's question (`_verdict`, whose docstring states the
rules): does the post over-quote (repeat earlier posts and add at most 15 words), re-quote a passage the
thread already quoted, or build a quote pyramid? Those are alerts. A post that pastes its own passages
twice is listed as minor. An ordinary reply that quotes what it answers and answers it is not flagged,
however long the quote. Where the source marks its quotes, the markup says what is quoted (overlap outside
it counts from 10 words); in plain text, short opening lines said earlier are quotes too (`_lines`).
"""

from __future__ import annotations

from classifiers.duplicates._thread import DuplicateThreadState
from classifiers.duplicates._verdict import Rules
from classifiers.result import Category

__all__ = ["DuplicateThreadState", "QuoteDuplicateDetector", "Rules"]


class QuoteDuplicateDetector:
    """Judges what a post repeats of its thread; implements `classifiers.suite.Detector`."""

    category: Category = "duplicated_quote"
    version = "duplicates-3"

    def __init__(
        self,
        shingle_size: int = 5,
        gap_fill: int = 3,
        rules: Rules | None = None,
        max_shingles: int = 200_000,
        max_posts: int = 20_000,
        evidence_min_score: float = 0.3,
    ) -> None:
        if shingle_size < 2:
            raise ValueError("shingle_size must be at least 2")
        self.shingle_size = shingle_size
        self.gap_fill = gap_fill
        self.rules = rules if rules is not None else Rules()
        self.max_shingles = max_shingles
        self.max_posts = max_posts
        self.evidence_min_score = evidence_min_score

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold: evidence spans are computed for posts that reach it."""
        self.evidence_min_score = min(self.evidence_min_score, value)

    def begin_thread(self, thread_id: str, title: str) -> DuplicateThreadState:
        """A fresh memory for one thread."""
        return DuplicateThreadState(self)
