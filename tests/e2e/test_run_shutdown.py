"""`modassist run` as a real process, stopped by SIGTERM while it polls a forum: every aiohttp session is
closed on the way out, so aiohttp has no "Unclosed client session" / "Unclosed connector" to report.

Without a token the forum watcher's session is the only one; with a token (on the fake Discord) the bot's
HTTP session and the `/modq scan` session are closed too.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_server import TOKEN, FakeDiscord
from tests.fakes.forum_server import ForumServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("with_discord", [False, True], ids=["console", "discord"])
async def test_sigterm_leaves_no_unclosed_session(
    tmp_path: Path, fake: FakeDiscord, forum: ForumServer, with_discord: bool
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODASSIST_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MODASSIST_DATABASE=str(tmp_path / "modassist.db"),
        MODASSIST_BOT__FETCH_PRIVATE_ADDRESSES="true",  # the forum is on 127.0.0.1
        MODASSIST_WATCH__FORUM__THREADS=json.dumps([thread.url]),
        MODASSIST_WATCH__FORUM__DEFAULT_INTERVAL_SECONDS="0.05",
        MODASSIST_WATCH__FORUM__MIN_INTERVAL_SECONDS="0.01",
    )
    if with_discord:
        env.update(
            MODASSIST_DISCORD_TOKEN=TOKEN,
            MODASSIST_DISCORD_API_BASE=fake.api_base,
            MODASSIST_DISCORD_GATEWAY_URL=fake.gateway_url,
            MODASSIST_GUILD_IDS=json.dumps([fake.GUILD_ID]),
            MODASSIST_MOD_CHANNEL_ID=str(fake.MOD_CHANNEL_ID),
        )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,  # no .env from the repository
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            if with_discord:
                await fake.wait_ready(timeout=60)
            # Polled a few times: the watcher's session holds a kept-alive connection to the forum.
            await forum.wait_for_requests(3, timeout=60)
            process.send_signal(signal.SIGTERM)
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Unclosed" not in log, log
