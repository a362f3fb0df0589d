"""Fixtures for the bot's end-to-end tests: the fake Discord, Settings pointing at it, and `modassist run`'s
Runtime (store, service, dispatcher, bot) started against it, exactly as the command builds it.

The detector suite is made of `PhraseDetector`s (tests/e2e/doubles.py), so each test says which posts get
flagged and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.discord.app import CogFactory
from bot.runtime import Runtime
from bot.store import Store
from classifiers.suite import DetectorSuite
from config.settings import AlertSettings, BotSettings, Settings
from tests.e2e.doubles import make_suite
from tests.fakes.discord_server import TOKEN, FakeDiscord
from tests.fakes.forum_server import ForumServer


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord; the test fails if discord.py used a route the fake does not implement."""
    server = await FakeDiscord().start()
    try:
        yield server
    finally:
        await server.close()
    server.assert_clean()


def make_settings(fake: FakeDiscord, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a bot on the fake (fast start, quick polling, no jitter-sensitive waits)."""
    bot = overrides.pop("bot", {})
    alerts = overrides.pop("alerts", {})
    values: dict[str, Any] = {
        "discord_token": TOKEN,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "guild_ids": [fake.GUILD_ID],
        "mod_channel_id": fake.MOD_CHANNEL_ID,
        "moderator_role_ids": [fake.ROLE_MODERATOR],
        "database": tmp_path / "modassist.db",
        "bot": BotSettings(
            **{
                # discord.py waits this long after the last GUILD_CREATE before `on_ready`, at every start
                # of a bot (about 130 in tests/e2e). The fake sends GUILD_CREATE right behind READY, but a
                # process starved for longer than this in between sees `on_ready` with the server still
                # unavailable (a started `modassist run` did, at 0.05 s, in 1 suite of 6: see processes.py).
                # 0.02 saved 3 s of waits in one process, which the suite's third worker now fills anyway.
                "guild_ready_timeout_seconds": 0.05,
                "shutdown_grace_seconds": 5.0,
                "fetch_private_addresses": True,  # the test forum is on 127.0.0.1
                **bot,
            }
        ),
        "alerts": AlertSettings(**{"poll_interval_seconds": 0.2, **alerts}),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def forum() -> AsyncIterator[ForumServer]:
    """A local XenForo-like forum on 127.0.0.1 (a test may define its own `forum`)."""
    server = await ForumServer().start()
    try:
        yield server
    finally:
        await server.close()


StartRuntime = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def start_runtime(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[StartRuntime]:
    """Start `modassist run`'s Runtime on the fake and wait until the bot is ready; closed at teardown.

    Keyword arguments override Settings fields; `store=` passes an opened store (e.g. with a test clock),
    `cogs=` extra cog factories for the bot, `suite=` other detectors than the phrase doubles.
    """
    started: list[Runtime] = []

    async def start(
        *,
        store: Store | None = None,
        cogs: Sequence[CogFactory] | None = None,
        wait: bool = True,
        suite: DetectorSuite | None = None,
        **overrides: Any,
    ) -> Runtime:
        settings = make_settings(fake, tmp_path, **overrides)
        runtime = await Runtime.open(settings, suite or make_suite(), store=store, cog_factories=cogs)
        started.append(runtime)
        await runtime.start()
        if wait:
            await runtime.wait_ready(timeout=20)
        return runtime

    try:
        yield start
    finally:
        for runtime in reversed(started):
            await runtime.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:  # noqa: ASYNC109
    """Poll `check()` until it returns something truthy: for state with no event to await (the store is
    written by the dispatcher after the fake has answered)."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):  # noqa: ASYNC110 - no event: another task writes the store
            await asyncio.sleep(0.01)
        return result
