"""`/modq list` and `/modq thresholds` offer the categories as every alert spells them ('Off-topic'), and
answer in that spelling, while the command still gets the key ('off_topic'): one spelling everywhere a
moderator reads (issue 18)."""

from __future__ import annotations

from tests.e2e.conftest import StartRuntime
from tests.e2e.test_discord_commands import reply
from tests.fakes.discord_server import FakeDiscord

SPELT = [
    {"name": "Off-topic", "value": "off_topic"},
    {"name": "Inflammatory", "value": "inflammatory"},
    {"name": "Duplicated quote", "value": "duplicated_quote"},
]


async def test_the_category_choices_are_spelt_as_the_alerts_spell_them(
    fake: FakeDiscord, start_runtime: StartRuntime
) -> None:
    runtime = await start_runtime()
    [sync] = fake.recorded("PUT", rf"/applications/{fake.APPLICATION_ID}/guilds/{fake.GUILD_ID}/commands")
    [group] = sync.json
    for name in ("list", "thresholds"):
        command = next(o for o in group["options"] if o["name"] == name)
        category = next(o for o in command["options"] if o["name"] == "category")
        assert category["choices"] == SPELT, name

    changed = await reply(
        fake, await fake.slash(fake.ADMIN, "modq", "thresholds", category="off_topic", value=0.8)
    )
    assert changed["content"] == "The Off-topic threshold is now 0.80 (was 0.70); new posts are judged by it."
    assert runtime.service.suite.thresholds["off_topic"] == 0.8
