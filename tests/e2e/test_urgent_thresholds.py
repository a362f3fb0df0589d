"""Urgent alerts and thresholds changed at run time (`/modq thresholds`), through the real discord.py and the
fake Discord: with urgent alerts on, a flag threshold at or above the urgent threshold (every alert of the
category would ping the on-duty role) is refused in one line and not stored; `/modq thresholds` says when the
role is pinged; a threshold stored before the urgent threshold was lowered is a warning at start and shown
in `/modq thresholds`."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import StartRuntime
from tests.e2e.doubles import make_thread
from tests.e2e.test_discord_alerts import MESSAGES, field
from tests.e2e.test_discord_commands import reply
from tests.fakes.discord_server import FakeDiscord

ON_DUTY = 700000000000000400
URGENT = {"urgent_role_id": ON_DUTY, "urgent_threshold": 0.9}  # 'idiot' scores 0.91 inflammatory
REFUSED = (
    "With urgent alerts on, the inflammatory threshold must stay below the urgent threshold (0.90,"
    " alerts.urgent_threshold): at 0.95 every inflammatory alert would ping the on-duty role. Choose a lower"
    " value, or raise alerts.urgent_threshold in the settings and restart."
)
CONFLICT = (
    "the Inflammatory threshold (0.95) is at or above alerts.urgent_threshold (0.90): every Inflammatory"
    " alert pings the on-duty role; lower it with /modq thresholds, or raise alerts.urgent_threshold"
)


async def test_a_threshold_at_or_above_the_urgent_one_is_refused_and_not_stored(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime(alerts=URGENT)
    for value in (0.95, 0.9):
        refused = await reply(
            fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="inflammatory", value=value)
        )
        assert refused["content"] == REFUSED.replace("0.95", f"{value:.2f}")
    assert runtime.service.suite.thresholds["inflammatory"] == 0.6
    assert not await runtime.store.audit_log(action="setting.change")

    # Below it is fine, and 'idiot' (0.91) is still flagged and pings the role.
    changed = await reply(
        fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="inflammatory", value=0.85)
    )
    assert "now 0.85 (was 0.60)" in changed["content"]
    await runtime.service.review(make_thread("t1", "what an idiot"))
    body = (await fake.wait_for_request("POST", MESSAGES)).json
    assert body["content"] == f"<@&{ON_DUTY}> Urgent: Inflammatory 0.91"


async def test_thresholds_say_when_the_on_duty_role_is_pinged(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    await start_runtime(alerts=URGENT)
    shown = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "thresholds"))
    assert field(shown["embeds"][0], "Urgent ping") == f"0.90 and above ping <@&{ON_DUTY}>"
    assert shown["allowed_mentions"] == {"parse": []}


async def test_without_urgent_alerts_any_threshold_is_taken_and_the_ping_shown_off(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    changed = await reply(
        fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="inflammatory", value=0.95)
    )
    assert "now 0.95" in changed["content"]
    assert runtime.service.suite.thresholds["inflammatory"] == 0.95
    shown = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "thresholds"))
    assert field(shown["embeds"][0], "Urgent ping") == "off (alerts.urgent_role_id is not set)"


async def test_a_stored_threshold_above_a_lowered_urgent_one_is_said_at_start_and_shown(
    fake: FakeDiscord, start_runtime: StartRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    first = await start_runtime()  # urgent alerts off: 0.95 is taken
    await reply(fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="inflammatory", value=0.95))
    await first.close()

    with caplog.at_level(logging.WARNING, logger="bot.discord.app"):
        await start_runtime(alerts=URGENT)
    assert [r.getMessage() for r in caplog.records if r.name == "bot.discord.app"] == [CONFLICT]
    shown = await reply(fake, await fake.slash(fake.MODERATOR, "modq", "thresholds"))
    assert field(shown["embeds"][0], "Urgent ping") == (f"0.90 and above ping <@&{ON_DUTY}>\n⚠ {CONFLICT}")
