"""The moderation service: reviews posts in their thread's context and keeps the outcome.

`ModerationService.review(thread)` takes a thread with the posts a source just read (some may be stored
already), reviews the new and edited ones with the detector suite, and writes posts, flags and alert outbox
rows in one transaction. A post already stored with the same content is neither reviewed nor flagged again.

Thread context survives restarts: the detectors keep per-thread state in a `ThreadReviewer`; when none is
cached for a thread (a restart, an eviction, another writer's posts), the stored posts of the thread are
replayed through a fresh reviewer, results ignored, before the new posts are judged. Reviewers of live threads
are cached, at most `cache_threads` of them, least recently used first out. The detectors are synchronous and
CPU-bound, so reviews run in an executor and never hold the event loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.moderation import apply_threshold_overrides
from bot.store import (
    PostRecord,
    PostVersion,
    RecordedPost,
    RecordResult,
    ReviewedPost,
    SourceRef,
    Store,
    ThreadRecord,
    post_content_hash,
)
from classifiers.suite import DetectorSuite, PostReview, ThreadReviewer
from classifiers.thread import Post, Thread

_ThreadKey = tuple[str, str, str]


def source_for_thread(thread: Thread) -> SourceRef:
    """The default source of a thread: a web forum's origin (its post ids are unique forum-wide), else the
    thread itself (post ids of pasted text or files are only unique within their thread)."""
    if thread.url:
        parts = urlsplit(thread.url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return SourceRef("web", f"{parts.scheme}://{parts.netloc}".lower())
    return SourceRef(thread.source_format or "local", thread.url or thread.id)


@dataclass(frozen=True, slots=True)
class ThreadReview:
    """What reviewing one thread's posts did.

    `reviews` holds the detectors' judgement of each post stored now (new or edited), in thread order;
    `recorded` says per post what was stored ('new', 'edited', 'unchanged') with its flag and alert ids.
    """

    thread: ThreadRecord | None
    reviews: tuple[PostReview, ...]
    recorded: tuple[RecordedPost, ...]

    def _count(self, outcome: str) -> int:
        return sum(1 for r in self.recorded if r.outcome == outcome)

    @property
    def new(self) -> int:
        """Posts stored for the first time."""
        return self._count("new")

    @property
    def edited(self) -> int:
        """Posts stored as a new revision."""
        return self._count("edited")

    @property
    def unchanged(self) -> int:
        """Posts already stored with this content: not reviewed, flagged or alerted again."""
        return self._count("unchanged")

    @property
    def flag_count(self) -> int:
        """Flags written."""
        return sum(len(r.flag_ids) for r in self.recorded)

    @property
    def alert_ids(self) -> tuple[int, ...]:
        """Outbox rows written."""
        return tuple(r.alert_id for r in self.recorded if r.alert_id is not None)


@dataclass(slots=True)
class _CachedReviewer:
    reviewer: ThreadReviewer
    version: int  # the stored thread version the reviewer's state matches
    title: str


class ModerationService:
    """Reviews threads' new and edited posts and stores posts, flags and alerts atomically."""

    def __init__(
        self,
        store: Store,
        suite: DetectorSuite,
        *,
        cache_threads: int = 256,
        executor: Executor | None = None,
        on_new_alerts: Callable[[], None] | None = None,
    ) -> None:
        """`on_new_alerts` is called after a write that added outbox rows (e.g. to wake the dispatcher)."""
        if cache_threads < 1:
            raise ValueError("cache_threads must be at least 1")
        self.store = store
        self.suite = suite
        self._cache_threads = cache_threads
        self._executor = executor
        self._on_new_alerts = on_new_alerts
        self.unreviewable = 0  # posts stored as unreviewable by this process (see bot/intake.py)
        self._cache: OrderedDict[_ThreadKey, _CachedReviewer] = OrderedDict()
        # One review of a thread at a time in this process: a reviewer's state is sequential.
        self._locks: weakref.WeakValueDictionary[_ThreadKey, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    async def open(
        cls,
        store: Store,
        suite: DetectorSuite,
        *,
        cache_threads: int = 256,
        executor: Executor | None = None,
        on_new_alerts: Callable[[], None] | None = None,
    ) -> ModerationService:
        """The service every entry point uses: `suite` first takes the thresholds moderators changed and
        `store` keeps (`/modq thresholds`), so each process judges by them, not by the config's."""
        await apply_threshold_overrides(store, suite)
        return cls(store, suite, cache_threads=cache_threads, executor=executor, on_new_alerts=on_new_alerts)

    @property
    def cached_threads(self) -> int:
        """How many threads' reviewers are cached."""
        return len(self._cache)

    async def review(
        self,
        thread: Thread,
        *,
        source: SourceRef | None = None,
        author_ids: Mapping[str, int] | None = None,
    ) -> ThreadReview:
        """Review the thread's new and edited posts in context; store posts, flags, alerts in one transaction.

        `thread.posts` are the posts just read, in thread order; stored, unchanged ones are skipped. `source`
        defaults to `source_for_thread(thread)`. `author_ids` maps post ids to Discord user ids.
        """
        src = source or source_for_thread(thread)
        key: _ThreadKey = (src.kind, src.key, thread.id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            try:
                return await self._review(src, key, thread, author_ids or {})
            except BaseException:
                # The reviewer may have seen posts that were never stored: rebuild it next time.
                self._cache.pop(key, None)
                raise

    async def review_many(
        self, threads: Iterable[Thread], *, source: SourceRef | None = None
    ) -> list[ThreadReview]:
        """Review several threads one after the other."""
        return [await self.review(t, source=source) for t in threads]

    async def _review(
        self, source: SourceRef, key: _ThreadKey, thread: Thread, author_ids: Mapping[str, int]
    ) -> ThreadReview:
        latest: dict[str, Post] = {}
        for post in thread.posts:  # one id twice: the later content wins, the first position stays
            latest[post.id] = post
        hashes = {pid: post_content_hash(p) for pid, p in latest.items()}
        snapshot = await self.store.thread_snapshot(source, thread.id, hashes)
        if not thread.title and snapshot.thread is not None and snapshot.thread.title:
            thread = replace(thread, title=snapshot.thread.title)  # a source naming it once (JSON Lines)
        versions = snapshot.versions
        todo = [
            p for pid, p in latest.items() if pid not in versions or versions[pid].content_hash != hashes[pid]
        ]
        if not todo:
            recorded = tuple(_unchanged(pid, v) for pid in latest if (v := versions.get(pid)) is not None)
            return ThreadReview(snapshot.thread, (), recorded)

        edits = {p.id: p for p in todo if p.id in versions}
        new = [p for p in todo if p.id not in versions]
        version = snapshot.thread.version if snapshot.thread is not None else 0
        cached, history = await self._context(key, thread, snapshot.thread, version, edited=bool(edits))
        loop = asyncio.get_running_loop()
        reviewer, reviews = await loop.run_in_executor(
            self._executor, self._judge, thread, cached, history, edits, new
        )
        result = await self.store.record_reviews(
            source,
            thread.id,
            thread.title,
            [_reviewed_post(r, hashes[r.post.id], author_ids) for r in reviews],
            url=thread.url,
        )
        self._keep_reviewer(key, reviewer, result, version, thread.title)
        done = _thread_review(result, reviews, latest, versions)
        if result.alert_ids and self._on_new_alerts is not None:
            self._on_new_alerts()
        return done

    async def _context(
        self, key: _ThreadKey, thread: Thread, stored: ThreadRecord | None, version: int, *, edited: bool
    ) -> tuple[_CachedReviewer | None, list[PostRecord] | None]:
        """The cached reviewer when it matches the stored thread (`version`, title, no edits), else None and
        the stored posts to replay through a fresh one."""
        cached = self._cache.get(key)
        if edited or cached is None or cached.version != version or cached.title != thread.title:
            history = await self.store.thread_posts(stored.id) if stored is not None else []
            return None, history
        return cached, None

    def _judge(
        self,
        thread: Thread,
        cached: _CachedReviewer | None,
        history: list[PostRecord] | None,
        edits: Mapping[str, Post],
        new: list[Post],
    ) -> tuple[ThreadReviewer, list[PostReview]]:
        """Runs in the executor: replays the stored thread if needed, then judges the posts to review."""
        # (post, keep): stored posts replayed as context only are judged but their results dropped.
        sequence: list[tuple[Post, bool]] = []
        pending = dict(edits)
        if cached is not None:
            reviewer = cached.reviewer
        else:
            reviewer = self.suite.begin_thread(thread.id, thread.title)
            for stored in history or ():
                edited = pending.pop(stored.external_id, None)
                if edited is None:
                    sequence.append((stored.to_post(), False))
                else:
                    sequence.append((edited, True))  # judged where it stands in the thread
        # Edits of posts stored under another thread of the source are judged here, after the context.
        sequence += [(p, True) for p in [*pending.values(), *new]]
        results = reviewer.review_many([post for post, _ in sequence])  # one batch: faster models
        return reviewer, [r for r, (_, keep) in zip(results, sequence, strict=True) if keep]

    def _keep_reviewer(
        self, key: _ThreadKey, reviewer: ThreadReviewer, result: RecordResult, version: int, title: str
    ) -> None:
        """Cache the reviewer for the thread's next posts, unless another writer came between."""
        if result.previous_version == version:
            self._cache[key] = _CachedReviewer(reviewer, result.thread.version, title)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_threads:
                self._cache.popitem(last=False)
        else:
            # Another writer stored posts of this thread meanwhile: the reviewer has not seen them.
            self._cache.pop(key, None)

    async def store_unreviewed(
        self,
        thread: Thread,
        error: str,
        *,
        source: SourceRef | None = None,
        author_ids: Mapping[str, int] | None = None,
    ) -> ThreadReview:
        """Store the thread's new and edited posts without a review, as unreviewable with `error`.

        Each gets an alert ("could not review post X: reason"), so a post that cannot be reviewed is
        reported to the moderators, never dropped. Posts stored already with this content are left alone.
        """
        src = source or source_for_thread(thread)
        key: _ThreadKey = (src.kind, src.key, thread.id)
        ids = author_ids or {}
        latest = {post.id: post for post in thread.posts}
        hashes = {pid: post_content_hash(p) for pid, p in latest.items()}
        snapshot = await self.store.thread_snapshot(src, thread.id, hashes)
        todo = [
            ReviewedPost(post, hashes[pid], {}, (), ids.get(pid), review_error=error)
            for pid, post in latest.items()
            if pid not in snapshot.versions or snapshot.versions[pid].content_hash != hashes[pid]
        ]
        unchanged = tuple(
            _unchanged(pid, v) for pid, v in snapshot.versions.items() if v.content_hash == hashes.get(pid)
        )
        if not todo:
            return ThreadReview(snapshot.thread, (), unchanged)
        self._cache.pop(key, None)  # the thread changed without its reviewer seeing it
        result = await self.store.record_reviews(src, thread.id, thread.title, todo, url=thread.url)
        if result.alert_ids and self._on_new_alerts is not None:
            self._on_new_alerts()
        return ThreadReview(result.thread, (), result.posts + unchanged)


def failure_text(review: PostReview) -> str | None:
    """What the detectors that failed on a post said, as stored with it (None: every detector judged it)."""
    if not review.failures:
        return None
    return "; ".join(
        f"the {f.category.replace('_', '-')} detector failed ({f.message})" for f in review.failures
    )


def _reviewed_post(review: PostReview, content_hash: str, author_ids: Mapping[str, int]) -> ReviewedPost:
    """A review as the store records it."""
    scores = {str(c): s for c, s in review.scores.items()}
    author_id = author_ids.get(review.post.id)
    return ReviewedPost(review.post, content_hash, scores, review.flags, author_id, failure_text(review))


def _thread_review(
    result: RecordResult,
    reviews: list[PostReview],
    latest: Mapping[str, Post],
    versions: Mapping[str, PostVersion],
) -> ThreadReview:
    """What a review stored, per post in thread order (posts stored before: unchanged), and the reviews of
    the posts stored now."""
    stored = {r.external_id: r for r in result.posts}
    outcomes = [stored[pid] for pid in latest if pid in stored]
    outcomes += [_unchanged(pid, v) for pid, v in versions.items() if pid not in stored]
    kept = tuple(r for r in reviews if stored[r.post.id].outcome != "unchanged")
    return ThreadReview(result.thread, kept, tuple(sorted(outcomes, key=_position_in(latest))))


def _unchanged(external_id: str, version: PostVersion) -> RecordedPost:
    """The outcome for a post stored before with the same content: not stored, flagged or alerted again."""
    return RecordedPost(external_id, version.id, "unchanged", version.revision, (), None)


def _position_in(latest: Mapping[str, Post]) -> Callable[[RecordedPost], int]:
    order = {pid: i for i, pid in enumerate(latest)}
    return lambda r: order.get(r.external_id, len(order))


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """What persisting a scan did, per thread and in total."""

    threads: tuple[ThreadReview, ...]

    @property
    def new(self) -> int:
        """Posts stored for the first time."""
        return sum(t.new for t in self.threads)

    @property
    def edited(self) -> int:
        """Posts stored as a new revision."""
        return sum(t.edited for t in self.threads)

    @property
    def unchanged(self) -> int:
        """Posts that were stored already."""
        return sum(t.unchanged for t in self.threads)

    @property
    def flags(self) -> int:
        """Flags written."""
        return sum(t.flag_count for t in self.threads)

    @property
    def alerts(self) -> int:
        """Outbox rows written."""
        return sum(len(t.alert_ids) for t in self.threads)


async def review_threads_into(
    db_path: Path | str,
    threads: Iterable[Thread],
    suite: DetectorSuite,
    *,
    source: SourceRef | None = None,
    busy_timeout: float = 10.0,
) -> ScanSummary:
    """Open (and migrate) the store at `db_path`, review `threads` into it and close it (`scan --db`).

    Alerts for new flags wait in the outbox for the dispatcher (`modassist run`).
    """
    store = await Store.open(db_path, busy_timeout=busy_timeout)
    try:
        service = await ModerationService.open(store, suite)
        return ScanSummary(tuple(await service.review_many(threads, source=source)))
    finally:
        await store.close()


def persist_threads(
    db_path: Path | str, threads: Sequence[Thread], suite: DetectorSuite, *, source: SourceRef | None = None
) -> ScanSummary:
    """`review_threads_into` for synchronous callers (runs its own event loop)."""
    return asyncio.run(review_threads_into(db_path, threads, suite, source=source))
