"""Restarts: alerts left in the outbox go out when the bot comes back, an alert cut off mid-send is not
posted twice, and the buttons of alerts posted before the restart still work."""

from __future__ import annotations

from pathlib import Path

from bot.service import ModerationService
from bot.store import AlertRecord, Store
from tests.e2e.conftest import StartRuntime, eventually
from tests.e2e.doubles import make_suite, make_thread
from tests.e2e.test_discord_alerts import MESSAGES, buttons, field, posted
from tests.fakes.discord_server import FakeDiscord


async def test_alerts_written_while_the_bot_was_down_go_out_when_it_starts(
    fake: FakeDiscord, start_runtime: StartRuntime, tmp_path: Path
) -> None:
    store = await Store.open(tmp_path / "modassist.db")
    try:
        await ModerationService(store, make_suite()).review(
            make_thread("t1", "idiot", "fine post", "crypto idiot")
        )
        assert (await store.outbox_counts()) == {"pending": 2}
    finally:
        await store.close()

    runtime = await start_runtime()
    first, second = await posted(fake, 2)
    assert "idiot" in first["embeds"][0]["description"]
    assert "crypto idiot" in second["embeds"][0]["description"]
    assert await eventually(lambda: _all_sent(runtime.store))


async def test_an_alert_cut_off_mid_send_is_not_posted_twice_and_old_buttons_still_work(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    # First run: Discord creates the message but the bot goes down before it hears back.
    first_run = await start_runtime(bot={"shutdown_grace_seconds": 0.0})
    fake.hold("POST", MESSAGES)
    await first_run.service.review(make_thread("t1", "idiot"))
    await fake.wait_for_request("POST", MESSAGES)
    await first_run.close()
    [message] = fake.channel_messages()
    store = await Store.open(first_run.settings.database)
    try:
        assert (await store.get_alert(1)).alert.status == "sending"  # unconfirmed: the at-least-once window
    finally:
        await store.close()

    # Second run on the same database: the alert was claimed before, so the bot first looks for it in the
    # channel's history, finds the first run's message and records it instead of posting again.
    second_run = await start_runtime()
    sent = await eventually(lambda: _sent(second_run.store, 1))
    assert sent.message_id == int(message["id"])
    assert len(fake.recorded("POST", MESSAGES)) == 1 and len(fake.channel_messages()) == 1
    assert fake.recorded("GET", MESSAGES), "the history was not read"

    # The buttons of the message posted by the first run work in the second (persistent DynamicItems).
    click = await fake.click(fake.MODERATOR, int(message["id"]), buttons(message)[1]["custom_id"])
    [embed] = (await fake.response(click))["data"]["embeds"]
    assert "Dismissed by **rolemod**" in field(embed, "Decision")
    assert (await second_run.store.category_stats())[1].dismissed == 1


async def _all_sent(store: Store) -> bool:
    counts = await store.outbox_counts()
    return set(counts) == {"sent"}


async def _sent(store: Store, alert_id: int) -> AlertRecord | None:
    alert = (await store.get_alert(alert_id)).alert
    return alert if alert.status == "sent" else None
