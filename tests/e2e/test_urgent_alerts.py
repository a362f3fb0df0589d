"""Urgent alerts (opt-in): an alert whose highest flag score reaches `alerts.urgent_threshold` mentions the
on-duty role `alerts.urgent_role_id`, and nothing else, as the fake Discord receives it; below the
threshold, or with the setting off, nothing is mentioned."""

from __future__ import annotations

from typing import Any

from bot.store import AlertRecord, Store
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import MESSAGES
from tests.fakes.discord_server import FakeDiscord

ON_DUTY = 700000000000000400  # the on-duty role (not the moderators' role)
URGENT = {"urgent_role_id": ON_DUTY, "urgent_threshold": 0.9}  # 'idiot' scores 0.91, 'crypto' 0.78
ONLY_THE_ROLE = {"parse": [], "roles": [ON_DUTY]}
NOTHING = {"parse": []}


async def _sent_body(fake: FakeDiscord, count: int = 1) -> dict[str, Any]:
    return (await fake.wait_for_request("POST", MESSAGES, count=count)).json


async def test_an_alert_above_the_urgent_threshold_mentions_only_the_on_duty_role(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts=URGENT)
    await runtime.service.review(make_thread("t1", "what an idiot"))

    body = await _sent_body(fake)
    assert body["content"] == f"<@&{ON_DUTY}> Urgent: Inflammatory 0.91"
    assert body["allowed_mentions"] == ONLY_THE_ROLE
    assert body["embeds"][0]["title"] == "⚑ Inflammatory 0.91"


async def test_an_alert_below_the_urgent_threshold_mentions_nobody(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts=URGENT)
    await runtime.service.review(make_thread("t1", "crypto tips"))

    body = await _sent_body(fake)
    assert not body.get("content")
    assert body["allowed_mentions"] == NOTHING


async def test_a_hostile_urgent_post_still_pings_only_the_on_duty_role(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts=URGENT)
    hostile = "@everyone @here you idiot <@&700000000000000302> <@700000000000000999>"
    await runtime.service.review(make_thread("t1", hostile, author="@everyone"))

    body = await _sent_body(fake)
    assert body["content"] == f"<@&{ON_DUTY}> Urgent: Inflammatory 0.91"  # no post text in the content
    assert body["allowed_mentions"] == ONLY_THE_ROLE
    assert "700000000000000302" not in str(body["allowed_mentions"])


async def test_with_the_setting_off_no_alert_ever_mentions_anyone(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts={"urgent_threshold": 0.9})  # a threshold but no role: off
    await runtime.service.review(make_thread("t1", "what an idiot"))
    await runtime.service.review(make_thread("t2", "@everyone idiot <@&700000000000000302>"))

    for count in (1, 2):
        body = await _sent_body(fake, count)
        assert not body.get("content") and body["allowed_mentions"] == NOTHING


async def test_a_digest_with_an_urgent_flag_pings_once(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts={**URGENT, "burst_max_alerts": 1})
    await runtime.service.review(make_thread("t1", "crypto one", "idiot two", "idiot three"))

    body = await _sent_body(fake)
    assert body["embeds"][0]["footer"]["text"].startswith("digest ")
    assert body["content"] == f"<@&{ON_DUTY}> Urgent: Inflammatory 0.91"
    assert body["allowed_mentions"] == ONLY_THE_ROLE
    await eventually(lambda: _all_sent(runtime.store))
    assert len(fake.recorded("POST", MESSAGES)) == 1


async def test_an_urgent_alert_cut_off_mid_send_does_not_ping_again_after_a_restart(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    fake.nonce_window = 0  # the restart comes after Discord forgot the nonce
    first_run = await start_runtime(alerts=URGENT, bot={"shutdown_grace_seconds": 0.0})
    fake.hold("POST", MESSAGES)
    await first_run.service.review(make_thread("t1", "idiot"))
    await fake.wait_for_request("POST", MESSAGES)
    await first_run.close()
    [message] = fake.channel_messages()
    assert message["content"] == f"<@&{ON_DUTY}> Urgent: Inflammatory 0.91"

    second_run = await start_runtime(alerts=URGENT)
    sent = await eventually(lambda: _sent(second_run.store, 1))
    assert sent.message_id == int(message["id"])
    assert len(fake.recorded("POST", MESSAGES)) == 1  # found in the history: not posted (nor pinged) twice


async def _all_sent(store: Store) -> bool:
    return set(await store.outbox_counts()) == {"sent"}


async def _sent(store: Store, alert_id: int) -> AlertRecord | None:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == "sent" else None
