"""`modassist run` as a real process, stopped by SIGTERM while it polls a forum: every aiohttp session is
closed on the way out, so aiohttp has no "Unclosed client session" / "Unclosed connector" to report.

Without a token the forum watcher's session is the only one; with a token (on the fake Discord) the bot's
HTTP session and the `/modq scan` session are closed too.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from tests.e2e.processes import discord_settings, fork_command, run_env
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.forum_server import ForumServer


@pytest.mark.parametrize("with_discord", [False, True], ids=["console", "discord"])
async def test_sigterm_leaves_no_unclosed_session(
    tmp_path: Path, fake: FakeDiscord, forum: ForumServer, with_discord: bool
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    env = run_env(
        database=str(tmp_path / "modassist.db"),
        bot__fetch_private_addresses="true",  # the forum is on 127.0.0.1
        watch__forum__threads=json.dumps([thread.url]),
        watch__forum__default_interval_seconds="0.05",
        watch__forum__min_interval_seconds="0.01",
        **(discord_settings(fake) if with_discord else {}),
    )
    process = await fork_command("run", cwd=tmp_path, env=env)
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
