"""`modassist run`: console alerts without a token, the bot with one, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from bot.errors import ConfigError
from bot.runtime import Runtime, serve
from bot.service import ModerationService
from bot.store import Store
from config.settings import Settings
from tests.e2e.conftest import eventually, make_settings
from tests.e2e.doubles import make_suite, make_thread
from tests.e2e.processes import fork_worker
from tests.fakes.discord_server import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = r"/channels/\d+/messages"


async def seed(database: Path, *texts: str) -> None:
    """Review a thread into the database, leaving its alerts pending in the outbox."""
    store = await Store.open(database)
    try:
        await ModerationService(store, make_suite()).review(make_thread("t1", *texts))
    finally:
        await store.close()


def outbox(database: Path) -> dict[str, int]:
    """Outbox rows per status, read with plain sqlite3 (also while `modassist run` holds the database)."""
    with sqlite3.connect(database, timeout=5) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status").fetchall())


async def test_without_a_token_alerts_are_printed_on_the_console(tmp_path: Path) -> None:
    database = tmp_path / "modassist.db"
    await seed(database, "you idiot", "fine")
    output = io.StringIO()
    stop = asyncio.Event()
    settings = Settings(database=database, discord_token=None, alerts={"poll_interval_seconds": 0.1})
    task = asyncio.create_task(
        serve(
            settings, make_suite(), stop=stop, console=Console(file=output, width=120), handle_signals=False
        )
    )

    async def printed() -> bool:
        return "insulting language" in output.getvalue()

    await eventually(printed)
    stop.set()
    assert await task == 0
    text = output.getvalue()
    assert "no Discord token" in text
    assert "you idiot" in text and "Thread t1" in text
    assert outbox(database) == {"sent": 1}


async def test_with_a_token_the_bot_runs_and_a_stop_leaves_unsent_alerts_pending(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    settings = make_settings(fake, tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, make_suite(), stop=stop, handle_signals=False))
    await fake.wait_ready()
    store = await Store.open(settings.database)
    try:
        service = ModerationService(store, make_suite())
        await service.review(make_thread("t1", "idiot one"))
        await fake.wait_for_request("POST", MESSAGES)
        fake.fail("POST", MESSAGES, 429, retry_after=300.0)  # then Discord holds the alerts back
        await service.review(make_thread("t2", "idiot two", "idiot three"))
        await fake.wait_for_request("POST", MESSAGES, count=2)
    finally:
        await store.close()
    stop.set()
    assert await task == 0
    # The alerts held back wait for the next start (only the first asked Discord); the gateway is closed.
    assert outbox(settings.database) == {"pending": 2, "sent": 1}
    assert len(fake.recorded("POST", MESSAGES)) == 2
    await fake.wait_until(lambda: not fake._sockets)


async def test_a_token_without_a_mod_channel_is_a_config_error(fake: FakeDiscord, tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path, mod_channel_id=None)
    with pytest.raises(ConfigError, match="mod_channel_id"):
        await Runtime.open(settings, make_suite())


async def test_a_token_discord_refuses_is_a_config_error(fake: FakeDiscord, tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path, discord_token="not-the-token")
    runtime = await Runtime.open(settings, make_suite())
    try:
        with pytest.raises(ConfigError, match="refused the token"):
            await runtime.start()
    finally:
        await runtime.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_process_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    database = tmp_path / "modassist.db"
    await seed(database, "idiot", "crypto")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MODASSIST_DATABASE": str(database),
        "MODASSIST_ALERTS__POLL_INTERVAL_SECONDS": "0.1",
        "COLUMNS": "120",
    }
    env.pop("MODASSIST_DISCORD_TOKEN", None)
    # `python -m tests.e2e.run_worker`, forked from the tests' fork server (without a second of imports)
    process = await fork_worker("tests.e2e.run_worker", cwd=tmp_path, env=env)  # tmp_path: no .env
    assert process.stdout is not None
    seen = ""
    async with asyncio.timeout(30):
        while seen.count("alert ") < 2:  # both console panels (their subtitles say "alert N")
            line = await process.stdout.readline()
            assert line, f"the process ended early: {(await process.stderr.read()).decode()}"  # type: ignore[union-attr]
            seen += line.decode()
        process.send_signal(sig)
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert outbox(database) == {"sent": 2}
    # Closed cleanly: the WAL was checkpointed away and nothing holds the database.
    assert not (tmp_path / "modassist.db-wal").exists() or (tmp_path / "modassist.db-wal").stat().st_size == 0
