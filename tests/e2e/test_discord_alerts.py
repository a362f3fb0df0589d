"""Alerts in the moderators' channel, end to end: the real discord.py posting to the fake Discord, moderators
clicking the buttons, Discord refusing (403) and rate limiting (429), and restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.discord.embeds import COLOUR_CONFIRMED, COLOUR_DISMISSED, COLOUR_HIGH
from bot.sources import load_thread
from bot.store import Store
from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.suite import DetectorSuite
from tests.bot.store_doubles import FakeClock
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import FORUM, make_suite, make_thread
from tests.fakes.discord_server import FakeDiscord

MESSAGES = r"/channels/\d+/messages"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "regional-security-news.txt"


async def posted(fake: FakeDiscord, count: int = 1) -> list[dict[str, Any]]:
    """The first `count` messages in the moderators' channel (waiting for them)."""
    await fake.wait_until(lambda: len(fake.channel_messages()) >= count)
    return fake.channel_messages()[:count]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message, row by row."""
    return [c for row in message["components"] for c in row["components"]]


def field(embed: dict[str, Any], name: str) -> str:
    """The value of the embed's field called `name`."""
    return next(f["value"] for f in embed["fields"] if f["name"] == name)


async def test_an_alert_goes_out_with_its_embed_buttons_and_no_mentions(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    thread = make_thread("t1", "Tariffs on avocados again.", "Only an idiot would post crypto tips here.")
    await runtime.service.review(thread)

    request = await fake.wait_for_request("POST", MESSAGES)
    body = request.json
    assert request.path.endswith(f"/channels/{fake.MOD_CHANNEL_ID}/messages")
    assert body["allowed_mentions"] == {"parse": []}
    assert not body.get("content")
    [embed] = body["embeds"]
    assert embed["title"] == "⚑ Inflammatory 0.91 · Off-topic 0.78"
    assert embed["url"] == f"{FORUM}/threads/t1/post-2"
    assert embed["color"] == COLOUR_HIGH.value  # by the highest score
    assert embed["author"]["name"] == "harbourwatch"
    assert embed["timestamp"].startswith("2025-03-01T10:00:00")
    assert embed["description"] == "> Only an idiot would post crypto tips here."
    assert field(embed, "Thread") == "Thread t1"
    assert field(embed, "Position") == "#2"
    assert "insulting language: 'idiot' (score 0.91)" in field(embed, "Inflammatory 0.91 (threshold 0.60)")
    assert "'crypto'" in field(embed, "Off-topic 0.78 (threshold 0.70)")

    [row] = body["components"]
    alert_id = (await runtime.store.author_history("harbourwatch")).flags[0].flag.alert_id
    ids = [b.get("custom_id") or b.get("url") for b in row["components"]]
    assert ids == [
        f"alert:{alert_id}:confirm",
        f"alert:{alert_id}:dismiss",
        f"alert:{alert_id}:details",
        f"alert:{alert_id}:author",
        f"{FORUM}/threads/t1/post-2",
    ]
    assert [b["label"] for b in row["components"]] == [
        "Confirm",
        "Dismiss",
        "Details",
        "Author history",
        "Open post",
    ]
    assert body["nonce"] == f"modassist-alert-{alert_id}" and body["enforce_nonce"] is True

    # The outbox row is marked sent with the message Discord confirmed, so decisions can edit it later.
    [message] = await posted(fake)
    sent = await eventually(lambda: _sent(runtime.store, alert_id))
    assert sent.message_id == int(message["id"])
    assert sent.channel_id == fake.MOD_CHANNEL_ID


async def _sent(store: Store, alert_id: int) -> Any:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == "sent" else None


async def test_a_hostile_post_can_neither_ping_nor_disguise_a_link(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    hostile = "@everyone [click](http://evil.example) you idiot <@&700000000000000302> **free** ||nitro||"
    await runtime.service.review(make_thread("t1", hostile, author="@here"))

    body = (await fake.wait_for_request("POST", MESSAGES)).json
    assert body["allowed_mentions"] == {"parse": []}
    assert not body.get("content")
    [embed] = body["embeds"]
    text = embed["description"]
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "[click](" not in text and "\\[click\\](http://evil.example)" in text
    assert "<@&" not in text.replace("\\<@\u200b&", "")
    assert "\\*\\*free\\*\\*" in text and "\\|\\|nitro\\|\\|" in text
    # The author's name is shown as plain text in the embed's author line (no markdown, no mention there).
    assert embed["author"]["name"] == "@here"
    assert all("@everyone" not in f["value"] for f in embed["fields"])


async def test_a_moderators_click_stores_the_decision_and_shows_it_on_the_alert(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await runtime.service.review(make_thread("t1", "what an idiot"))
    [message] = await posted(fake)
    alert_id = int(buttons(message)[0]["custom_id"].split(":")[1])

    # A member of the configured moderator role (no Discord permission of its own) confirms.
    click = await fake.click(fake.MODERATOR, int(message["id"]), f"alert:{alert_id}:confirm")
    response = await fake.response(click)
    assert response["type"] == 7  # the alert message itself is updated
    [embed] = response["data"]["embeds"]
    decision = field(embed, "Decision")
    assert "Confirmed by **rolemod**" in decision and f"<@{fake.MODERATOR.id}>" in decision
    assert "<t:" in decision  # when, in each reader's time zone
    assert embed["color"] == COLOUR_CONFIRMED.value
    assert [b.get("custom_id") for b in buttons(response["data"])][:2] == [
        f"alert:{alert_id}:confirm",
        f"alert:{alert_id}:dismiss",
    ]
    assert fake.messages[int(message["id"])]["embeds"] == response["data"]["embeds"]

    [flag] = (await runtime.store.author_history("harbourwatch")).flags
    assert flag.flag.status == "confirmed"
    [stored] = await runtime.store.decisions_for(flag.flag.id)
    assert (stored.verdict, stored.moderator_id, stored.moderator_name) == (
        "confirm",
        fake.MODERATOR.id,
        "rolemod",
    )
    [audit] = await runtime.store.audit_log(action="decision.")
    assert (audit.action, audit.actor_id, audit.target_id) == (
        "decision.confirm",
        fake.MODERATOR.id,
        flag.flag.id,
    )

    # A member with Manage Messages (no moderator role) changes it to a dismissal.
    click = await fake.click(fake.HELPER, int(message["id"]), f"alert:{alert_id}:dismiss")
    [embed] = (await fake.response(click))["data"]["embeds"]
    assert "Dismissed by **helper**" in field(embed, "Decision")
    assert embed["color"] == COLOUR_DISMISSED.value
    assert (await runtime.store.get_flag(flag.flag.id)).flag.status == "dismissed"


async def test_a_non_moderators_click_is_refused_privately_and_changes_nothing(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await runtime.service.review(make_thread("t1", "what an idiot"))
    [message] = await posted(fake)
    before = dict(fake.messages[int(message["id"])])

    for custom_id in (b["custom_id"] for b in buttons(message) if "custom_id" in b):
        click = await fake.click(fake.VISITOR, int(message["id"]), custom_id)
        response = await fake.response(click)
        assert response["type"] == 4
        assert response["data"]["flags"] & 64  # ephemeral
        assert "Only moderators" in response["data"]["content"]
        assert response["data"]["allowed_mentions"] == {"parse": []}

    [flag] = (await runtime.store.author_history("harbourwatch")).flags
    assert flag.flag.status == "open"
    assert await runtime.store.decisions_for(flag.flag.id) == []
    assert fake.messages[int(message["id"])] == before
    assert not fake.recorded("PATCH", MESSAGES + r"/\d+")


async def test_details_and_author_history_answer_privately(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    await runtime.service.review(
        make_thread("t1", "first idiot", "second idiot, and crypto", author="Repeat")
    )
    first, second = await posted(fake, 2)

    details = await fake.click(fake.HELPER, int(second["id"]), buttons(second)[2]["custom_id"])
    response = await fake.response(details)
    assert response["type"] == 4 and response["data"]["flags"] & 64
    [embed] = response["data"]["embeds"]
    assert "2 flags" in embed["title"]
    assert any("insulting language" in f["value"] for f in embed["fields"])

    history = await fake.click(fake.HELPER, int(first["id"]), buttons(first)[3]["custom_id"])
    [embed] = (await fake.response(history))["data"]["embeds"]
    assert embed["title"] == "Author history: Repeat"
    assert "3 flags" in embed["footer"]["text"]
    assert len(await runtime.store.audit_log()) == 0  # looking is not deciding


async def test_a_burst_goes_out_as_one_digest_and_one_click_decides_it_all(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts={"burst_max_alerts": 3})
    texts = [f"idiot number {i}" for i in range(6)]
    await runtime.service.review(make_thread("t1", *texts))

    [message] = await posted(fake)
    [embed] = message["embeds"]
    assert embed["title"] == "⚑ Burst: 6 flagged posts in one thread"
    assert embed["url"] == f"{FORUM}/threads/t1"
    assert embed["description"].count("insulting language") == 6
    digest_id = int(buttons(message)[0]["custom_id"].split(":")[1])

    click = await fake.click(fake.ADMIN, int(message["id"]), f"alert:{digest_id}:confirm")
    [embed] = (await fake.response(click))["data"]["embeds"]
    assert "Confirmed by **admin**" in field(embed, "Decision")
    stats = {s.category: s for s in await runtime.store.category_stats()}
    assert (stats["inflammatory"].flags, stats["inflammatory"].confirmed) == (6, 6)


async def test_a_403_fails_the_alert_for_good_and_the_next_one_still_goes_out(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    fake.fail("POST", MESSAGES, 403)
    await runtime.service.review(make_thread("t1", "idiot one"))
    failed = await eventually(lambda: _status(runtime.store, 1, "failed"))
    assert "forbidden" in (failed.last_error or "").lower()
    assert failed.attempts == 1  # permanent: not retried

    await runtime.service.review(make_thread("t2", "idiot two"))
    [message] = await posted(fake)
    assert "idiot two" in message["embeds"][0]["description"]


async def test_a_short_429_is_waited_out_inside_discord_py(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    fake.fail("POST", MESSAGES, 429, retry_after=0.25)
    await runtime.service.review(make_thread("t1", "idiot"))
    [message] = await posted(fake)
    first, second = fake.recorded("POST", MESSAGES)
    assert second.at - first.at >= 0.25  # retry_after honoured
    assert second.json == first.json
    assert (await eventually(lambda: _status(runtime.store, 1, "sent"))).message_id == int(message["id"])


async def test_a_long_429_hands_the_alert_back_to_the_outbox_until_the_limit_ends(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path
) -> None:
    clock = FakeClock()
    store = await Store.open(tmp_path / "modassist.db", clock=clock)
    runtime = await start_runtime(store=store)
    fake.fail("POST", MESSAGES, 429, retry_after=120.0)  # longer than discord.py may wait (30 s)
    await runtime.service.review(make_thread("t1", "idiot"))
    pending = await eventually(lambda: _pending_with_error(runtime.store, 1))
    assert pending.next_try_at.timestamp() == clock.now + 120.0
    assert "rate limited" in (pending.last_error or "")

    # The next alert waits out the same limit without asking Discord.
    clock.now += 20.0
    await runtime.service.review(make_thread("t2", "idiot"))
    held = await eventually(lambda: _pending_with_error(runtime.store, 2))
    assert held.next_try_at.timestamp() == pending.next_try_at.timestamp()
    assert len(fake.recorded("POST", MESSAGES)) == 1

    clock.now += 101.0
    runtime.dispatcher.wake()
    first, second = await posted(fake, 2)
    assert (await eventually(lambda: _status(runtime.store, 1, "sent"))).message_id == int(first["id"])
    assert (await eventually(lambda: _status(runtime.store, 2, "sent"))).message_id == int(second["id"])


async def test_a_429_without_discords_headers_is_retried_by_the_outbox(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path
) -> None:
    clock = FakeClock()
    store = await Store.open(tmp_path / "modassist.db", clock=clock)
    runtime = await start_runtime(store=store)
    fake.fail("POST", MESSAGES, 429, retry_after=7.0, via=False)  # e.g. a proxy's: no Via header
    await runtime.service.review(make_thread("t1", "idiot"))
    pending = await eventually(lambda: _pending_with_error(runtime.store, 1))
    assert pending.next_try_at.timestamp() == clock.now + 7.0  # from Retry-After


async def _status(store: Store, alert_id: int, status: str) -> Any:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == status else None


async def _pending_with_error(store: Store, alert_id: int) -> Any:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == "pending" and alert.last_error else None


async def test_a_huge_post_with_a_huge_title_author_and_url_still_fits_discords_limits(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    body = ("[x](http://evil.example) @everyone **" * 20_000) + " idiot " + ("<@123456789012345678> " * 5_000)
    thread = make_thread("t1", body, author="A" * 5_000, title="T" * 10_000)
    long_url = "https://forum.test/" + "p" * 3_000  # too long for an embed URL or a link button
    thread = replace(thread, posts=tuple(replace(p, url=long_url) for p in thread.posts))
    await runtime.service.review(thread)
    [message] = await posted(fake)  # the fake refuses (and the test fails on) anything over a limit
    [embed] = message["embeds"]
    assert len(embed["description"]) <= 4096 and "idiot" in embed["description"]
    assert len(embed["author"]["name"]) <= 256
    assert field(embed, "Thread").endswith("…")
    assert embed["url"] == f"{FORUM}/threads/t1"  # the thread's link instead
    assert buttons(message)[-1]["label"] == "Open thread"


async def test_the_example_threads_self_repeat_is_listed_and_never_posted(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    # The example thread (after the founding thread): tidewalker's near-total quote (#2), portsider's
    # re-quote (#5) and grumpybosun's insults (#6) are alerts; the opening post's self-repeat is minor.
    # The phrase doubles and the real duplicated-quote detector.
    runtime = await start_runtime(suite=DetectorSuite([*make_suite().detectors, QuoteDuplicateDetector()]))
    thread = load_thread(str(EXAMPLE))
    await runtime.service.review(thread)

    messages = await posted(fake, 3)
    authors = sorted(m["embeds"][0]["author"]["name"] for m in messages)
    assert authors == ["grumpybosun", "portsider", "tidewalker"]
    flags = {(d.post.position, d.flag.category): d.flag for d in await runtime.store.open_flags()}
    minor = flags[1, "duplicated_quote"]
    assert minor.severity == "minor" and minor.alert_id is None
    assert flags[2, "duplicated_quote"].severity == flags[5, "duplicated_quote"].severity == "alert"
    assert (4, "duplicated_quote") not in flags
    await eventually(lambda: _all_sent(runtime.store))
    assert len(fake.channel_messages()) == 3  # nothing was posted for the opening post


async def _all_sent(store: Store) -> bool:
    return (await store.outbox_counts()) == {"sent": 3}
