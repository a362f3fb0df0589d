"""Who may act on a XenForo post from its alert, through the real discord.py, the fake Discord and the fake
XenForo API: the moderator needs Discord's permission for the same action, server-wide (Manage Messages to
soft-delete, Manage Threads to lock); a moderator role alone is not enough. A missing permission is one
line, nothing reaches XenForo and nothing is audited; the bot itself needs no Discord permission."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import StartRuntime
from tests.e2e.test_discord_actions import press, text_of
from tests.e2e.test_xenforo_actions import alerted_post, confirm, xf
from tests.fakes.discord_server import MANAGE_MESSAGES, MANAGE_THREADS, FakeDiscord
from tests.fakes.xenforo_api import FakeXenForo

__all__ = ["xf"]  # the fixture

NO_DELETE = (
    "You need the Manage Messages permission in this server to soft-delete forum posts; a moderator role"
    " alone is not enough."
)
NO_LOCK = (
    "You need the Manage Threads permission in this server to lock forum threads; a moderator role alone"
    " is not enough."
)


async def test_a_moderator_with_only_the_moderator_role_may_not_act_on_the_forum(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    message_id = int(alert["id"])
    for custom_id, said in [("softdelete", NO_DELETE), ("lock", NO_LOCK)]:
        refused = await press(fake, fake.MODERATOR, message_id, f"alert:{alert_id}:{custom_id}")
        assert refused["data"]["flags"] & 64, custom_id  # private
        assert text_of(refused) == said, custom_id
    assert not xf.calls
    assert not await runtime.store.audit_log(action="action.")
    assert xf.state.posts[1234]["message_state"] == "visible"


async def test_manage_messages_may_soft_delete_but_locking_needs_manage_threads(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    refused = await press(fake, fake.HELPER, int(alert["id"]), f"alert:{alert_id}:lock")
    assert text_of(refused) == NO_LOCK
    assert not xf.calls

    done = await confirm(fake, alert, alert_id, "softdelete", "Soft-delete the post")
    assert text_of(done) == "Soft-deleted on the forum."
    assert [c.method for c in xf.calls] == ["DELETE"]
    [audit] = await runtime.store.audit_log(action="action.")
    assert audit.action == "action.soft_delete_post"


async def test_manage_threads_or_administrator_may_lock(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    fake.roles[fake.ROLE_HELPER] = ("Helpers", MANAGE_MESSAGES | MANAGE_THREADS)  # before the bot connects
    _, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    done = await confirm(fake, alert, alert_id, "lock", "Lock the thread")
    assert text_of(done) == "Thread locked on the forum."

    again: dict[str, Any] = await press(fake, fake.ADMIN, int(alert["id"]), f"alert:{alert_id}:lock")
    assert text_of(again).startswith("Already done:")  # an admin passes the check; it is done already
