"""`/modq watch add` refuses, at once, a thread every later poll would refuse: one whose host is, or resolves
to, an address that is not public (unless `bot.fetch_private_addresses` is on). Through the fake Discord."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartRuntime
from tests.e2e.test_discord_commands import reply
from tests.e2e.test_watch_commands import FAST_FORUM
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.forum_server import ForumServer


@pytest.mark.parametrize(
    ("host", "refusal"),
    [
        ("127.0.0.1", "127.0.0.1 is not a public address"),
        ("localhost", "localhost: "),  # a name is judged by the addresses it resolves to (/etc/hosts)
        ("[::127.0.0.1]", "::7f00:1 (127.0.0.1) is not a public address"),
        ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe (169.254.169.254) is not a public address"),
        ("[2002:a00:1::]", "2002:a00:1:: (10.0.0.1) is not a public address"),
        ("192.0.0.9", "192.0.0.9 is not a public address"),
    ],
)
async def test_a_thread_on_a_private_address_is_refused_when_added(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: ForumServer, host: str, refusal: str
) -> None:
    runtime = await start_runtime(bot={"fetch_private_addresses": False}, watch={"forum": FAST_FORUM})
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    url = thread.url.replace("127.0.0.1", host)
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=url))
    assert refusal in answer["content"] and "is not a public address" in answer["content"]
    assert "bot.fetch_private_addresses is off" in answer["content"]
    assert await runtime.store.watches() == []
    assert "watch.add" not in [e.action for e in await runtime.store.audit_log()]
    assert not forum.requests


async def test_with_private_addresses_allowed_the_same_thread_is_watched(
    fake: FakeDiscord, start_runtime: StartRuntime, forum: ForumServer
) -> None:
    runtime = await start_runtime(bot={"fetch_private_addresses": True}, watch={"forum": FAST_FORUM})
    thread = forum.add_thread("Harbour ferry", ("Quill", "The night ferry stops in October."))
    answer = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "watch", "add", url=thread.url))
    assert "Watching" in answer["content"]
    assert [w.target for w in await runtime.store.watches()] == [thread.url]
    await forum.wait_for_requests(1)
