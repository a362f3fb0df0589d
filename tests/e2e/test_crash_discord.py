"""Crash safety of `modassist run` with the Discord sink (issue 13): 1,000 posts through a followed JSON Lines
file, 15 SIGKILLs at random moments (every third right after an alert message reached the mod channel, the
others at a moment drawn over the span in which a process does its share), a restart each time. Discord's
nonces are switched off in the fake (window 0), so only modassist's own bookkeeping can keep an alert from
being posted twice.

At the end every post is stored once, every flagged post is alerted, and every alert is in the mod channel
exactly once (a digest counts for the posts it folds).
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import re
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.bot.watch_doubles import eventually
from tests.e2e.processes import Forked, discord_settings, run_env
from tests.fakes.discord_server import FakeDiscord

POSTS = 1000
THREADS = 40
KILLS = 15
FOOTER = re.compile(r"^(alert|digest) (\d+) ")


def post(i: int) -> dict[str, str]:
    """Post i of thread i % THREADS; every ninth post is an insult the phrase detector flags."""
    text = f"Reply {i} about the ferry timetable."
    if i % 9 == 4:
        text += " Only an idiot would defend it."
    return {"id": f"p{i}", "thread_id": f"t{i % THREADS}", "author": f"user{i % 17}", "text": text}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord(nonce_window=0).start()
    try:
        yield server
    finally:
        await server.close()


async def start(fake: FakeDiscord, db: Path, export: Path) -> Forked:
    env = run_env(
        database=str(db),
        alerts__poll_interval_seconds="0.05",
        watch__jsonl__paths=json.dumps([str(export)]),
        watch__jsonl__poll_seconds="0.05",
        **discord_settings(fake),
    )
    # Forked from a server that imported it once: each of the kills below lands while it works.
    return Forked(db.parent, env)


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return list(conn.execute(sql))
    except sqlite3.OperationalError:
        return []  # not created yet


def settled(db: Path, posts: int = POSTS) -> bool:
    """`posts` posts stored (every post by default) and nothing left to send."""
    stored = db_rows(db, "SELECT COUNT(*) FROM posts")
    left = db_rows(db, "SELECT COUNT(*) FROM alerts WHERE status IN ('pending', 'sending')")
    return bool(stored) and stored[0][0] == posts and bool(left) and left[0][0] == 0


async def kill_at_a_random_moment(
    fake: FakeDiscord,
    process: Forked,
    rng: random.Random,
    after_post: bool,
    done: Callable[[], bool],
    span: float,
) -> float | None:
    """SIGKILL `process`; the seconds it took to be `done`, when it was before the kill."""
    took = None
    if after_post:  # right after an alert message exists in the channel (the bot has likely not heard back)
        seen = len(fake.channel_messages())
        try:
            async with asyncio.timeout(20):
                while len(fake.channel_messages()) == seen:  # noqa: ASYNC110 - the fake has no event
                    await asyncio.sleep(0.002)
        except TimeoutError:
            pass
    else:
        # A moment over the span in which a process starts, stores its share and sends its alerts: `span`,
        # what the last process that got done took (0.2-0.3 s on an idle machine, over 1 s under load). One
        # that is `done` before the moment is killed as soon as it is: idle, and idling longer would change
        # nothing it left behind.
        began = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(rng.uniform(0.1, 1.2 * span)):
                await eventually(done)
            took = asyncio.get_running_loop().time() - began
        except TimeoutError:
            pass
    process.send_signal(signal.SIGKILL)
    await process.wait()
    return took


async def test_fifteen_sigkills_lose_nothing_and_alert_each_flag_once(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    rng = random.Random(13)
    db, export = tmp_path / "modassist.db", tmp_path / "posts.jsonl"
    export.touch()
    lines = [json.dumps(post(i)) + "\n" for i in range(POSTS)]
    cut_off = 0  # alerts caught by a kill between Discord's message and the bot's record of it
    chunks = [lines[k * POSTS // (KILLS + 1) : (k + 1) * POSTS // (KILLS + 1)] for k in range(KILLS + 1)]
    span = 0.5  # seconds a process takes to do its share, until one has been seen done
    for k in range(KILLS):
        process = await start(fake, db, export)
        with export.open("a", encoding="utf-8") as handle:
            handle.writelines(chunks[k])
        share = (k + 1) * POSTS // (KILLS + 1)  # the posts written to the file so far
        done = functools.partial(settled, db, share)
        took = await kill_at_a_random_moment(fake, process, rng, after_post=k % 3 == 0, done=done, span=span)
        span = took or span
        cut_off += db_rows(db, "SELECT COUNT(*) FROM alerts WHERE status = 'sending'")[0][0]  # type: ignore[operator]
    process = await start(fake, db, export)
    with export.open("a", encoding="utf-8") as handle:
        handle.writelines(chunks[KILLS])
    try:
        await eventually(lambda: settled(db), timeout=240)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()

    print(f"alerts cut off mid-send by the kills: {cut_off}")
    assert cut_off > 0  # the kills did catch alerts mid-send
    stored = [row[0] for row in db_rows(db, "SELECT external_id FROM posts")]
    assert len(stored) == POSTS and set(stored) == {f"p{i}" for i in range(POSTS)}
    flagged = {
        row[0] for row in db_rows(db, "SELECT p.external_id FROM flags f JOIN posts p ON p.id = f.post_id")
    }
    assert flagged == {f"p{i}" for i in range(POSTS) if i % 9 == 4}

    # Each message in the mod channel names its alert in the footer; no alert twice, none missing.
    posted = [FOOTER.match(m["embeds"][0]["footer"]["text"]) for m in fake.channel_messages()]
    assert all(posted)
    ids = [int(match.group(2)) for match in posted if match]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    sent = {int(r[0]) for r in db_rows(db, "SELECT id FROM alerts WHERE status = 'sent'")}
    assert set(ids) == sent
    # Every flagged post is in exactly one sent alert: its own, or the digest that folded it.
    delivery = db_rows(
        db,
        "SELECT p.external_id, COALESCE(a.digest_id, a.id) FROM alerts a JOIN posts p ON p.id = a.post_id"
        " WHERE a.kind = 'post'",
    )
    assert {pid for pid, _ in delivery} == flagged
    assert all(int(unit) in sent for _, unit in delivery)  # type: ignore[call-overload]
