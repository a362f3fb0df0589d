"""No bidi override (or control character) reaches Discord, through the real discord.py and the fake Discord.

A poster names themself `@everyone\\u202enimda`, which a client renders "@everyoneadmin"; titles, ids, post
text and the words a detector quotes in its reason can carry the same characters. Every string of every
payload the bot sends (the alert, its edit after a decision, Details, Author history, `/modq list`, `show`,
`author` and `scan`) is checked as the fake received it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime
from bot.textsafety import BIDI_CONTROLS
from classifiers.suite import DetectorSuite
from classifiers.thread import Post, Thread
from tests.e2e.conftest import make_settings
from tests.e2e.doubles import PhraseDetector
from tests.e2e.test_discord_alerts import MESSAGES, buttons, posted
from tests.fakes.discord_server import FakeDiscord

AUTHOR = "@everyone\u202enimda"
THREAD = Thread(
    id="t\u20661",
    title="Harbour \u2067news\u2069 \u202dtoday\u202c",
    url="https://forum.test/threads/t1/",
    posts=(
        Post(
            id="p\u202e1",  # no position: the id is shown
            text="you idiot\u202egnp.exe and \u200fmore\u061c",
            author=AUTHOR,
            url="https://forum.test/threads/t1/post-1\u202e",
        ),
    ),
)


def strings(payload: Any) -> Iterator[str]:
    """Every string in a JSON payload, keys included."""
    if isinstance(payload, str):
        yield payload
    elif isinstance(payload, dict):
        for key, value in payload.items():
            yield key
            yield from strings(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from strings(value)


def assert_no_bidi(payload: Any) -> None:
    """No bidi control and no control character but newline anywhere in what the bot sent."""
    bad = {
        f"U+{ord(c):04X} in {text!r}"
        for text in strings(payload)
        for c in text
        if c in BIDI_CONTROLS or (c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F))
    }
    assert not bad, sorted(bad)


@pytest.fixture
async def runtime(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[Runtime]:
    """`modassist run`'s runtime on the fake, with a detector whose reason quotes the word it matched,
    bidi characters and all."""
    suite = DetectorSuite([PhraseDetector("inflammatory", r"idiot\S*", 0.91, "insulting language")])
    runtime = await Runtime.open(make_settings(fake, tmp_path), suite)
    try:
        await runtime.start()
        await runtime.wait_ready(timeout=20)
        yield runtime
    finally:
        await runtime.close()


async def test_an_alert_and_its_buttons_carry_no_bidi_override(fake: FakeDiscord, runtime: Runtime) -> None:
    await runtime.service.review(THREAD)
    body = (await fake.wait_for_request("POST", MESSAGES)).json
    assert_no_bidi(body)
    [embed] = body["embeds"]
    assert embed["author"]["name"] == "@everyonenimda"  # shown in its stored order, not reordered
    assert "'idiotgnp.exe'" in json.dumps(embed, ensure_ascii=False)  # the reason keeps the word it quotes
    assert embed["url"] == THREAD.url  # the post's own link has a bidi override: not used

    [message] = await posted(fake)
    details = next(b for b in buttons(message) if b["custom_id"].endswith(":details"))
    author = next(b for b in buttons(message) if b["custom_id"].endswith(":author"))
    confirm = next(b for b in buttons(message) if b["custom_id"].endswith(":confirm"))
    for button in (details, author, confirm):
        response = await fake.response(
            await fake.click(fake.MODERATOR, int(message["id"]), button["custom_id"])
        )
        assert response["data"].get("embeds"), response
        assert_no_bidi(response)


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (("list",), {}),
        (("show",), {"id": 1}),
        (("author",), {"name": AUTHOR}),
    ],
)
async def test_command_replies_carry_no_bidi_override(
    fake: FakeDiscord, runtime: Runtime, path: tuple[str, ...], options: dict[str, Any]
) -> None:
    await runtime.service.review(THREAD)
    await posted(fake)
    response = await fake.response(await fake.slash(fake.MODERATOR, "modq", *path, **options))
    assert response["data"]["embeds"], response
    assert_no_bidi(response)


async def test_a_scan_report_carries_no_bidi_override(fake: FakeDiscord, runtime: Runtime) -> None:
    rows = [
        {"id": "1", "thread_id": "t", "thread_title": THREAD.title, "author": "ana", "text": "Ferries."},
        {"id": "2\u202e", "thread_id": "t", "author": AUTHOR, "text": THREAD.posts[0].text},
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    attachment = fake.add_attachment("thread\u202elsnoj.txt", data, "application/x-ndjson")
    interaction = await fake.slash(fake.MODERATOR, "modq", "scan", file=attachment)
    await fake.response(interaction)
    followup = await fake.followup(interaction)
    [embed] = followup["embeds"]
    assert embed["title"] == "Scan: 1 of 2 posts flagged"
    assert_no_bidi(followup)
