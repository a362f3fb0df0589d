"""Each alert exactly once in the moderators' channel, even when `modassist run` dies between Discord's
answer and the outbox's "sent", and however long it stays down: the fake's nonce window is off (0) here, so
only reading the channel's history back can keep a re-send from posting the alert a second time.

The console cannot look back: there an alert cut off by a crash is printed again, with the same id."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.store import AlertRecord, Store
from tests.e2e import processes
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_thread
from tests.e2e.processes import ForkedWithOutput, discord_settings, fork_command
from tests.e2e.test_discord_run import outbox, seed
from tests.fakes.discord_server import FakeDiscord

MESSAGES = r"/channels/\d+/messages"
_FOOTER = re.compile(r"(alert|digest) (\d+) · ")


def shown(fake: FakeDiscord) -> Counter[str]:
    """How often each alert ("alert 2", "digest 3") appears among the bot's messages in the mod channel."""
    counts: Counter[str] = Counter()
    for message in fake.channel_messages():
        if int(message["author"]["id"]) != fake.BOT.id:
            continue
        for embed in message["embeds"]:
            if match := _FOOTER.match(embed.get("footer", {}).get("text", "")):
                counts[f"{match.group(1)} {match.group(2)}"] += 1
    return counts


def message_ids(database: Path) -> dict[int, int]:
    """Alert id -> the Discord message the outbox recorded for it."""
    with sqlite3.connect(database, timeout=5) as db:
        return dict(db.execute("SELECT id, message_id FROM alerts WHERE message_id IS NOT NULL").fetchall())


def run_env(database: Path, fake: FakeDiscord | None) -> dict[str, str]:
    """The environment of `modassist run`: only the settings given here (and a wide console)."""
    settings = {"database": str(database), "alerts__poll_interval_seconds": "0.1"}
    env = processes.run_env(**settings, **(discord_settings(fake) if fake is not None else {}))
    env["COLUMNS"] = "120"
    return env


@asynccontextmanager
async def modassist_run(
    env: dict[str, str], cwd: Path, *, read_stdout: bool = False
) -> AsyncIterator[ForkedWithOutput]:
    """`modassist run` as a process of its own (the real `bot.cli.main`, forked from the tests' fork server;
    from `cwd`: no .env of the repository), its stderr appended to cwd/stderr.log, its stdout a stream with
    `read_stdout` (else discarded); killed if still running."""
    stdout = None if read_stdout else Path(os.devnull)
    process = await fork_command("run", cwd=cwd, env=env, stdout=stdout, stderr=cwd / "stderr.log")
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_for_outbox(database: Path, expected: dict[str, int], cwd: Path) -> None:
    """Until the outbox reads `expected` (the process's errors in the failure message otherwise)."""

    async def reached() -> bool:
        return outbox(database) == expected

    try:
        await eventually(reached, timeout=60)
    except TimeoutError:
        raise AssertionError(
            f"outbox {outbox(database)}, not {expected}; stderr:\n{(cwd / 'stderr.log').read_text()}"
        ) from None


async def test_sigkill_after_discord_posted_an_alert_does_not_post_it_again(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    database = tmp_path / "modassist.db"
    await seed(database, "idiot one", "idiot two", "idiot three")
    fake.nonce_window = 0  # the restart comes "after Discord forgot the nonce"
    env = run_env(database, fake)

    # Discord creates the second alert's message but its answer is held: SIGKILL then, before "sent".
    answer = fake.hold("POST", MESSAGES, skip=1)
    async with modassist_run(env, tmp_path) as first:
        await fake.wait_for_request("POST", MESSAGES, count=2, timeout=60)
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    answer.set()
    assert shown(fake) == {"alert 1": 1, "alert 2": 1}
    assert outbox(database) == {"sent": 1, "sending": 2}  # alert 2 posted, unconfirmed; alert 3 never posted

    async with modassist_run(env, tmp_path) as second:
        await wait_for_outbox(database, {"sent": 3}, tmp_path)
        second.send_signal(signal.SIGTERM)
        assert await second.wait() == 0, (tmp_path / "stderr.log").read_text()

    assert shown(fake) == {"alert 1": 1, "alert 2": 1, "alert 3": 1}
    assert len(fake.recorded("POST", MESSAGES)) == 3
    # The outbox points at the very messages in the channel (decisions edit them later).
    posted = {int(m["embeds"][0]["footer"]["text"].split()[1]): int(m["id"]) for m in fake.channel_messages()}
    assert message_ids(database) == posted


async def test_when_the_history_cannot_be_read_the_unconfirmed_alert_waits_instead_of_being_sent_blind(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    fake.nonce_window = 0
    first_run = await start_runtime(bot={"shutdown_grace_seconds": 0.0})
    fake.hold("POST", MESSAGES)
    await first_run.service.review(make_thread("t1", "idiot"))
    await fake.wait_for_request("POST", MESSAGES)
    await first_run.close()  # cut off: Discord has the message, the outbox says 'sending'
    [message] = fake.channel_messages()

    fake.fail("GET", MESSAGES, 503)  # the history request of the next start fails (once)
    fast_retry = {"retry_base_seconds": 0.05, "retry_max_seconds": 0.1}
    second_run = await start_runtime(alerts={"poll_interval_seconds": 0.05, **fast_retry})
    sent = await eventually(lambda: _sent(second_run.store, 1))
    assert sent.message_id == int(message["id"])
    assert len(fake.recorded("GET", MESSAGES)) == 2  # the failed look, then the one that found it
    assert len(fake.recorded("POST", MESSAGES)) == 1 and shown(fake) == {"alert 1": 1}
    assert sent.attempts == 3  # the claim that met the 503, then the one that found the message


async def test_a_cut_off_digest_is_recognised_by_its_footer_and_only_in_the_bots_own_messages(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    fake.nonce_window = 0
    burst = {"burst_max_alerts": 1}  # two flagged posts of one thread: one digest (alert 3)
    first_run = await start_runtime(alerts=burst, bot={"shutdown_grace_seconds": 0.0})
    # A moderator's message that looks like the digest comes first; it must not count as delivered.
    lookalike = fake.add_message(
        fake.MODERATOR, embeds=[{"title": "quoting", "footer": {"text": "digest 3 · 1 authors · forum"}}]
    )
    fake.hold("POST", MESSAGES)
    await first_run.service.review(make_thread("t1", "idiot one", "idiot two"))
    await fake.wait_for_request("POST", MESSAGES)
    await first_run.close()
    digest = next(m for m in fake.channel_messages() if m["id"] != lookalike["id"])
    assert digest["embeds"][0]["footer"]["text"].startswith("digest 3 · ")

    second_run = await start_runtime(alerts=burst)
    sent = await eventually(lambda: _sent(second_run.store, 3))
    assert sent.message_id == int(digest["id"])
    assert len(fake.recorded("POST", MESSAGES)) == 1 and shown(fake) == {"digest 3": 1}
    members = [(await second_run.store.get_alert(i)).alert for i in (1, 2)]
    assert [(m.status, m.message_id) for m in members] == [("sent", int(digest["id"]))] * 2


async def test_the_look_up_pages_through_a_busy_channel(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path
) -> None:
    fake.nonce_window = 0
    await seed(tmp_path / "modassist.db", "idiot")
    for i in range(150):  # moderators talk between the alert's creation and its message
        fake.add_message(fake.MODERATOR, content=f"chatter {i}")
    fake.hold("POST", MESSAGES)
    first_run = await start_runtime(bot={"shutdown_grace_seconds": 0.0})
    await fake.wait_for_request("POST", MESSAGES)
    await first_run.close()
    alert_message = fake.channel_messages()[-1]

    second_run = await start_runtime()
    sent = await eventually(lambda: _sent(second_run.store, 1))
    assert sent.message_id == int(alert_message["id"])
    assert len(fake.recorded("POST", MESSAGES)) == 1 and shown(fake) == {"alert 1": 1}
    first_page, second_page = fake.recorded("GET", MESSAGES)  # 100 messages, then the other 51
    assert int(second_page.query["after"]) > int(first_page.query["after"])


async def test_the_console_prints_a_cut_off_alert_again_with_the_same_id(tmp_path: Path) -> None:
    database = tmp_path / "modassist.db"
    await seed(database, "idiot one", "idiot two", "idiot three")
    env = run_env(database, None)
    printed: list[str] = []

    async def read_panels(process: ForkedWithOutput, *, stop_after: int | None) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            # A panel's subtitle: "alert 2 · 2025-03-01 10:00:00 UTC".
            if match := re.search(r"\b(alert|digest) (\d+) · \d{4}-\d\d-\d\d", line.decode()):
                printed.append(f"{match.group(1)} {match.group(2)}")
                if stop_after is not None and len(printed) >= stop_after:
                    return

    async with modassist_run(env, tmp_path, read_stdout=True) as first:
        await asyncio.wait_for(read_panels(first, stop_after=1), timeout=60)
        first.send_signal(signal.SIGKILL)  # anywhere between "printed" and "sent"
        await asyncio.wait_for(read_panels(first, stop_after=None), timeout=60)
        assert await first.wait() == -signal.SIGKILL
    async with modassist_run(env, tmp_path, read_stdout=True) as second:
        reader = asyncio.ensure_future(read_panels(second, stop_after=None))
        await wait_for_outbox(database, {"sent": 3}, tmp_path)
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(reader, timeout=60)
        assert await second.wait() == 0

    # At least once, and a repeat only for the one alert a crash can cut off, under its own id.
    counts = Counter(printed)
    assert set(counts) == {"alert 1", "alert 2", "alert 3"}, printed
    assert sum(counts.values()) - len(counts) <= 1, printed


async def _sent(store: Store, alert_id: int) -> AlertRecord | None:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == "sent" else None
