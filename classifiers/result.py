"""What a detector says about a post: a score, the reasons and the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Category = Literal["off_topic", "inflammatory", "duplicated_quote"]
CATEGORIES: tuple[Category, ...] = ("off_topic", "inflammatory", "duplicated_quote")


def category_named(text: str) -> Category | None:
    """The category a person means by `text`, however it is spelt: "off_topic", "off-topic", "Off topic",
    "duplicated quote", "duplicated-quote" (None if none)."""
    key = "_".join(text.strip().casefold().replace("-", " ").replace("_", " ").split())
    return next((c for c in CATEGORIES if c == key), None)


# An 'alert' flag is posted to the moderators' channel; a 'minor' one is only listed (`/modq list`, digests).
Severity = Literal["alert", "minor"]
SEVERITIES: tuple[Severity, ...] = ("alert", "minor")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A character span of the post's `text` (end exclusive) and why it matters.

    `in_quote` is set when the span lies in a marked quote rather than in `text`; `quote_index`
    then names the quote (index into `Post.quotes`).
    """

    start: int
    end: int
    note: str = ""
    source_post_id: str | None = None
    quote_index: int | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """One detector's judgement of one post, flagged or not."""

    category: Category
    score: float
    reasons: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    details: dict[str, object] = field(default_factory=dict)
    severity: Severity = "alert"


@dataclass(frozen=True, slots=True)
class Flag:
    """A detection whose score reached its category's threshold."""

    category: Category
    score: float
    threshold: float
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    model_version: str = ""
    severity: Severity = "alert"

    @property
    def alerts(self) -> bool:
        """Whether the flag is posted to the moderators (a 'minor' one is only listed)."""
        return self.severity == "alert"


@dataclass(frozen=True, slots=True)
class DetectorFailure:
    """A detector that could not judge one post: which one, and what went wrong (for the output and the
    moderators). The post's other detectors still judge it."""

    category: Category
    message: str

    @classmethod
    def of(cls, category: Category, exc: BaseException) -> DetectorFailure:
        """The failure for an exception raised while judging a post."""
        return cls(category, one_line(exc))


def one_line(exc: BaseException) -> str:
    """An exception as moderators see it: its type and the first line of its message (at most 300 chars)."""
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
