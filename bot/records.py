"""The records modassist's rooms pass each other: frozen dataclasses (never rows) and their literal types.

The store (`bot.store`) takes and returns them, and re-exports them; they live here, outside the store, so
that code which must not reach the database (Discord, the sinks) can still name what it is handed. Also
here: the kinds of watch, and a sink's receipt. `RecordNotFoundError` is defined with the other errors in
`bot.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.errors import RecordNotFoundError as RecordNotFoundError  # defined with the others
from classifiers.result import Evidence, Flag, Severity
from classifiers.thread import Post, Quote

Verdict = Literal["confirm", "dismiss", "escalate"]
VERDICTS: tuple[Verdict, ...] = ("confirm", "dismiss", "escalate")
FlagStatus = Literal["open", "confirmed", "dismissed", "escalated", "superseded"]
AlertStatus = Literal["pending", "sending", "sent", "failed", "folded"]
AlertKind = Literal["post", "digest"]
PostOutcome = Literal["new", "edited", "unchanged"]

# Kinds of watch (`Watch.kind`). DISCORD_POSITION is how far a Discord channel's messages are stored (its
# newest stored message id): kept like a watch's state, never shown as a watch.
FORUM_THREAD = "xenforo"
DISCORD_CHANNEL = "discord_channel"
JSONL_FILE = "jsonl"
DISCORD_POSITION = "discord_position"

# The source kind of posts read from Discord channels (`SourceRecord.kind`; its key is the guild id).
DISCORD_SOURCE = "discord"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Post ids are unique within (`kind`, `key`): a forum's origin, a guild, a file."""

    kind: str
    key: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A stored source."""

    id: int
    kind: str
    key: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """A stored thread. `version` grows with every write of its posts."""

    id: int
    source_id: int
    external_id: str
    title: str
    url: str | None
    version: int


@dataclass(frozen=True, slots=True)
class PostVersion:
    """What identifies the stored content of a post: its content hash and revision."""

    id: int
    external_id: str
    content_hash: str
    revision: int


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A stored post, latest revision."""

    id: int
    thread_id: int
    source_id: int
    external_id: str
    author: str | None
    author_id: int | None
    position: int | None
    url: str | None
    created_at: str | None
    user_title: str | None
    text: str
    quotes: tuple[Quote, ...]
    content_hash: str
    revision: int
    scores: Mapping[str, float]
    first_seen_at: datetime
    reviewed_at: datetime
    review_error: str | None = None  # set when the detectors could not (fully) review this revision

    def to_post(self) -> Post:
        """The post as the detectors see it."""
        return Post(
            id=self.external_id,
            text=self.text,
            author=self.author,
            position=self.position,
            url=self.url,
            created_at=self.created_at,
            user_title=self.user_title,
            quotes=self.quotes,
        )


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A stored flag of one post revision."""

    id: int
    post_id: int
    revision: int
    alert_id: int | None
    category: str
    score: float
    threshold: float
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    model_version: str
    status: FlagStatus
    created_at: datetime
    severity: Severity = "alert"  # 'minor': listed for moderators, never alerted on its own


@dataclass(frozen=True, slots=True)
class FlagDetail:
    """A flag with its post and thread, as a moderator sees it."""

    flag: FlagRecord
    post: PostRecord
    thread: ThreadRecord


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An outbox row: one flagged post revision, or a digest folding several."""

    id: int
    kind: AlertKind
    thread_id: int
    post_id: int | None
    revision: int | None
    digest_id: int | None
    status: AlertStatus
    attempts: int
    next_try_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One flagged post inside an alert (a digest has several)."""

    alert_id: int
    post: PostRecord
    flags: tuple[FlagRecord, ...]


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert with everything a sink needs to render it. `claim_token` is set on claimed alerts."""

    alert: AlertRecord
    source: SourceRecord
    thread: ThreadRecord
    items: tuple[AlertItem, ...]
    claim_token: str | None = None
    # A digest also lists the thread's open minor flags, which never make an alert of their own.
    listed: tuple[FlagDetail, ...] = ()

    @property
    def id(self) -> int:
        """The alert's id."""
        return self.alert.id

    @property
    def kind(self) -> AlertKind:
        """'post' or 'digest'."""
        return self.alert.kind

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and restarts: a sink that remembers it delivers the alert once."""
        return f"modassist-alert-{self.alert.id}"

    @property
    def alert_ids(self) -> tuple[int, ...]:
        """The post alerts this delivery covers (the alert itself, or a digest's members)."""
        return tuple(item.alert_id for item in self.items)


@dataclass(frozen=True, slots=True)
class Decision:
    """A moderator's verdict on a flag."""

    id: int
    flag_id: int
    moderator_id: int | None
    moderator_name: str | None
    verdict: Verdict
    note: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderator action or settings change."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    target_kind: str | None
    target_id: int | None
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """The Discord message a post alert is about: where it is and who wrote it (`post_id`: our post)."""

    post_id: int
    guild_id: int
    channel_id: int
    message_id: int
    author_id: int | None
    author: str | None


@dataclass(frozen=True, slots=True)
class ForumPost:
    """The forum post a post alert is about (`post_id`: ours): its forum's post id, its thread's (None when
    the page did not say), and its page."""

    post_id: int
    forum_post_id: int
    forum_thread_id: int | None
    url: str
    author: str | None


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """Flags of one category and what moderators decided about them."""

    category: str
    flags: int
    open: int
    confirmed: int
    dismissed: int
    escalated: int

    @property
    def precision(self) -> float | None:
        """confirmed / decided; None while nothing is decided."""
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """An author's flags (newest first) and the decisions on them."""

    author: str
    posts: int
    flags: tuple[FlagDetail, ...]
    decisions: tuple[Decision, ...]


@dataclass(frozen=True, slots=True)
class Watch:
    """A watched thread, channel or file."""

    id: int
    kind: str
    target: str
    interval_seconds: float | None
    added_by: int | None
    added_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class WatchState:
    """How far a watch has read: the newest post seen and the HTTP validators of the last answer."""

    watch_id: int
    last_post_id: str | None = None
    last_page_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None


# What the service hands in, and what it gets back


@dataclass(frozen=True, slots=True)
class ReviewedPost:
    """A post with the result of its review, ready to be stored."""

    post: Post
    content_hash: str
    scores: Mapping[str, float]
    flags: tuple[Flag, ...]
    author_id: int | None = None
    review_error: str | None = None  # the detectors could not (fully) review it: alerted as such


@dataclass(frozen=True, slots=True)
class RecordedPost:
    """What storing one reviewed post did. 'unchanged' means another writer stored this content first."""

    external_id: str
    post_id: int
    outcome: PostOutcome
    revision: int
    flag_ids: tuple[int, ...]
    alert_id: int | None


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What `record_reviews` did; `previous_version` is the thread's version before this write."""

    thread: ThreadRecord
    previous_version: int
    posts: tuple[RecordedPost, ...]

    @property
    def alert_ids(self) -> tuple[int, ...]:
        """The outbox rows written."""
        return tuple(p.alert_id for p in self.posts if p.alert_id is not None)


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """The stored thread (None if unseen) and the stored versions of some of its posts."""

    thread: ThreadRecord | None
    versions: Mapping[str, PostVersion] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentReceipt:
    """A sink's confirmation. `duplicate` is set when the sink had already delivered this key."""

    channel_id: int | None = None
    message_id: int | None = None
    duplicate: bool = False


# How the console spells each category (scan, flags, console alerts alike); Discord capitalises them.
CATEGORY_LABELS = {
    "off_topic": "off-topic",
    "inflammatory": "inflammatory",
    "duplicated_quote": "duplicated quote",
}


def category_words(category: str) -> str:
    """'duplicated quote' for 'duplicated_quote'; an unknown category as it is."""
    return CATEGORY_LABELS.get(category, category)
