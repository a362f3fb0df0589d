"""Test doubles for the store, service and sink tests: two small real detectors, a generated forum, and an
idempotent sink that keeps a ledger of every delivery in its own SQLite file.

The detectors implement the classifiers' Detector protocol for real (they are not mocks of the service):
`KeywordDetector` judges a post alone, `EchoDetector` depends on the thread's earlier posts, so a lost or
wrongly rebuilt thread context changes its scores.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import sqlite3
from pathlib import Path

from bot.sinks import DeliveryError, SentReceipt
from bot.store import AlertView
from classifiers.result import Detection, Evidence
from classifiers.suite import DetectorSuite
from classifiers.thread import Post, Thread

FORUM = "https://forum.test"


class _KeywordState:
    def __init__(self, word: str) -> None:
        self.word = word

    def review(self, post: Post) -> Detection:
        at = post.text.lower().find(self.word)
        if at < 0:
            return Detection("inflammatory", 0.05)
        return Detection(
            "inflammatory",
            0.9,
            (f"insulting language: '{self.word}'.",),
            (Evidence(at, at + len(self.word)),),
        )


class KeywordDetector:
    """Flags a post as inflammatory when it contains `word`."""

    category = "inflammatory"
    version = "keyword-1"

    def __init__(self, word: str = "idiot") -> None:
        self.word = word

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> _KeywordState:
        return _KeywordState(self.word)


class _EchoState:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}
        self.position = 0

    def review(self, post: Post) -> Detection:
        self.position += 1
        words = post.text.lower().split()
        pairs = list(itertools.pairwise(words))
        repeated = [p for p in pairs if p in self.seen]
        score = round(len(repeated) / len(pairs), 4) if pairs else 0.0
        first = min((self.seen[p] for p in repeated), default=None)
        for p in pairs:
            self.seen.setdefault(p, self.position)
        reasons = (f"{score:.0%} of this post repeats post #{first}.",) if first is not None else ()
        return Detection("duplicated_quote", score, reasons)


class EchoDetector:
    """Scores the share of a post's word pairs already said earlier in its thread (context-dependent)."""

    category = "duplicated_quote"
    version = "echo-1"

    def use_threshold(self, value: float) -> None:
        """Nothing to follow: this double explains every post alike."""

    def begin_thread(self, thread_id: str, title: str) -> _EchoState:
        return _EchoState()


def make_suite() -> DetectorSuite:
    """The two test detectors with the default thresholds (0.6 each)."""
    return DetectorSuite([KeywordDetector(), EchoDetector()])


_VOCAB = [f"w{i}" for i in range(400)]


def make_forum(n_posts: int, n_threads: int, seed: int) -> list[Thread]:
    """A deterministic forum: threads of random-word posts; some insult, some repeat an earlier post."""
    rng = random.Random(seed)
    posts: list[list[Post]] = [[] for _ in range(n_threads)]
    for i in range(n_posts):
        t = i % n_threads if i < n_threads else rng.randrange(n_threads)
        earlier = posts[t]
        words = [rng.choice(_VOCAB) for _ in range(rng.randint(6, 18))]
        roll = rng.random()
        if roll < 0.2 and earlier:
            source = rng.choice(earlier).text.split()
            words = source[: rng.randint(6, len(source))] + words[:2]  # mostly a repeat
        elif roll < 0.3:
            words.insert(rng.randrange(len(words)), "idiot")
        pid = f"t{t}-p{len(earlier) + 1}"
        earlier.append(
            Post(
                id=pid,
                text=" ".join(words),
                author=f"user{rng.randrange(25)}",
                position=len(earlier) + 1,
                url=f"{FORUM}/threads/{t}/post-{pid}",
            )
        )
    return [
        Thread(id=f"t{t}", title=f"Thread {t}", posts=tuple(ps), url=f"{FORUM}/threads/{t}")
        for t, ps in enumerate(posts)
    ]


class LedgerSink:
    """An idempotent sink: remembers every idempotency key in a SQLite ledger, so a repeat is a no-op.

    Every delivery also lists the alert ids it covers, without a uniqueness constraint: an alert delivered
    under two keys would show up twice. `kill_after` SIGKILLs the process right after that many new
    deliveries were recorded, before the dispatcher can mark them sent (the at-least-once window).
    `fail_rate` makes that share of sends raise, to exercise retries.
    """

    def __init__(
        self, path: Path, *, kill_after: int | None = None, fail_rate: float = 0.0, seed: int = 0
    ) -> None:
        self.path = path
        self._kill_after = kill_after
        self._fail_rate = fail_rate
        self._rng = random.Random(seed)
        with self._connect() as db:
            db.executescript(
                "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
                " kind TEXT NOT NULL, alert_ids TEXT NOT NULL, repeats INTEGER NOT NULL DEFAULT 0);"
                "CREATE TABLE IF NOT EXISTS delivered_alerts (alert_id INTEGER NOT NULL, key TEXT NOT NULL);"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    async def send(self, alert: AlertView) -> SentReceipt:
        if self._fail_rate and self._rng.random() < self._fail_rate:
            raise DeliveryError("the test sink refused (simulated outage)")
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT id FROM deliveries WHERE key = ?", (alert.idempotency_key,)).fetchone()
            if row is not None:
                db.execute("UPDATE deliveries SET repeats = repeats + 1 WHERE id = ?", (row[0],))
                db.execute("COMMIT")
                return SentReceipt(channel_id=1, message_id=1_000_000 + row[0], duplicate=True)
            cursor = db.execute(
                "INSERT INTO deliveries (key, kind, alert_ids) VALUES (?, ?, ?)",
                (alert.idempotency_key, alert.kind, json.dumps(list(alert.alert_ids))),
            )
            delivery_id = cursor.lastrowid
            assert delivery_id is not None
            db.executemany(
                "INSERT INTO delivered_alerts (alert_id, key) VALUES (?, ?)",
                [(a, alert.idempotency_key) for a in alert.alert_ids],
            )
            db.execute("COMMIT")
        finally:
            db.close()
        if self._kill_after is not None:
            self._kill_after -= 1
            if self._kill_after <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
        return SentReceipt(channel_id=1, message_id=1_000_000 + delivery_id)


class ListSink:
    """Keeps the alerts it was sent; `failures` makes the first sends raise those exceptions in turn;
    `delay` is how long a send takes."""

    def __init__(self, failures: list[Exception] | None = None, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[AlertView] = []
        self.failures = list(failures or [])
        self.arrived = asyncio.Event()

    async def send(self, alert: AlertView) -> SentReceipt:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(alert)
        self.arrived.set()
        return SentReceipt(channel_id=10, message_id=500 + len(self.sent))


class FakeClock:
    """A settable clock for the store (Unix seconds)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def expected_flags(threads: list[Thread]) -> dict[tuple[str, str], float]:
    """(post id, category) -> score of every flag an uninterrupted review of the forum raises."""
    suite = make_suite()
    return {
        (review.post.id, flag.category): flag.score
        for thread in threads
        for review in suite.review_thread(thread)
        for flag in review.flags
    }


def check_store(db_path: Path, threads: list[Thread]) -> dict[str, int]:
    """Assert the store holds every post once, exactly the flags of an uninterrupted review, and one alert per
    flagged post; return a few counts."""
    want_posts = {p.id for t in threads for p in t.posts}
    want_flags = expected_flags(threads)
    db = sqlite3.connect(db_path)
    try:
        posts = db.execute("SELECT external_id, revision FROM posts").fetchall()
        assert len(posts) == len(want_posts), "a post is missing or stored twice"
        assert {p for p, _ in posts} == want_posts
        assert all(rev == 1 for _, rev in posts), "a post was stored as an edit of itself"
        flags = db.execute(
            "SELECT p.external_id, f.category, f.score FROM flags f JOIN posts p ON p.id = f.post_id"
        ).fetchall()
        assert len(flags) == len(want_flags), "a flag is missing or written twice"
        assert {(p, c): s for p, c, s in flags} == want_flags, "thread context was lost across a restart"
        alerts = db.execute(
            "SELECT p.external_id FROM alerts a JOIN posts p ON p.id = a.post_id WHERE a.kind = 'post'"
        ).fetchall()
        flagged = {p for p, _ in want_flags}
        assert len(alerts) == len(flagged), "a flagged post has no alert, or two"
        assert {a for (a,) in alerts} == flagged
        unlinked = db.execute(
            "SELECT COUNT(*) FROM flags f LEFT JOIN alerts a ON a.id = f.alert_id"
            " WHERE a.id IS NULL OR a.post_id != f.post_id"
        ).fetchone()[0]
        assert unlinked == 0, "a flag does not point at its post's alert"
        return {"posts": len(posts), "flags": len(flags), "alerts": len(alerts)}
    finally:
        db.close()


def check_deliveries(db_path: Path, ledger_path: Path) -> dict[str, int]:
    """Assert every post alert was sent and delivered exactly once (alone or in a digest), with the ledger's
    message ids recorded on the outbox rows; return the number of suppressed repeats and digests."""
    db = sqlite3.connect(db_path)
    ledger = sqlite3.connect(ledger_path)
    try:
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status").fetchall())
        assert set(statuses) == {"sent"}, f"alerts left undelivered: {statuses}"
        post_alerts = {a for (a,) in db.execute("SELECT id FROM alerts WHERE kind = 'post'")}
        delivered = ledger.execute(
            "SELECT alert_id, COUNT(*) FROM delivered_alerts GROUP BY alert_id"
        ).fetchall()
        twice = [a for a, n in delivered if n > 1]
        assert not twice, f"alerts delivered more than once: {twice[:10]}"
        assert {a for a, _ in delivered} == post_alerts, "an alert was never delivered, or an unknown one was"
        units = dict(db.execute("SELECT id, message_id FROM alerts WHERE digest_id IS NULL").fetchall())
        deliveries = ledger.execute("SELECT id, key, repeats, kind FROM deliveries").fetchall()
        assert len(deliveries) == len(units)
        for delivery_id, key, _, _ in deliveries:
            unit = int(key.rsplit("-", 1)[1])
            assert units[unit] == 1_000_000 + delivery_id, f"alert {unit} records another message id"
        return {
            "repeats": sum(r for _, _, r, _ in deliveries),
            "digests": sum(1 for *_, kind in deliveries if kind == "digest"),
        }
    finally:
        db.close()
        ledger.close()
