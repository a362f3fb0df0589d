"""Acting from the alert on the XenForo post it is about, through the real discord.py, the fake Discord and
the fake XenForo API: Soft-delete and Lock with their ephemeral confirmations, the headers and parameters
XenForo gets, our audit, the alert edited; no key (no buttons, a hint), XenForo's 403 and 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.runtime import Runtime
from classifiers.thread import Post, Thread
from tests.e2e.conftest import StartRuntime
from tests.e2e.test_discord_actions import press, text_of
from tests.e2e.test_discord_alerts import buttons, posted
from tests.fakes.discord_server import MANAGE_MESSAGES, MANAGE_THREADS, FakeDiscord
from tests.fakes.xenforo_api import FakeXenForo

POST_ID, THREAD_ID = 1234, 45
HINT = "Soft-delete and Lock from here need the forum's XenForo API key: set bot.xenforo_api_keys."


@pytest.fixture
async def xf() -> AsyncIterator[FakeXenForo]:
    """The fake XenForo API, with post 1234 in thread 45."""
    server = await FakeXenForo().start()
    server.add_post(POST_ID, THREAD_ID)
    try:
        yield server
    finally:
        await server.close()
    server.assert_clean()


def helpers_may_lock(fake: FakeDiscord) -> None:
    """Give the Helpers role Manage Threads too (locking a thread needs it), before the bot connects."""
    fake.roles[fake.ROLE_HELPER] = ("Helpers", MANAGE_MESSAGES | MANAGE_THREADS)


def forum_thread(base: str, thread_id: str = str(THREAD_ID)) -> Thread:
    url = f"{base}/threads/night-ferry.{thread_id}/"
    post = Post(
        id=str(POST_ID),
        text="Only an idiot takes the night ferry.",
        author="visitor",
        position=1,
        url=f"{url}post-{POST_ID}",
    )
    return Thread(id=thread_id, title="Night ferry", posts=(post,), url=url, source_format="xenforo")


async def alerted_post(
    fake: FakeDiscord,
    xf: FakeXenForo,
    start_runtime: StartRuntime,
    key: str | None,
    thread: Thread | None = None,
    **bot: Any,
) -> tuple[Runtime, dict[str, Any], int]:
    """The post reviewed with `key` configured for the fake forum: (runtime, alert message, alert id)."""
    keys = {"xenforo_api_keys": {xf.base: key}} if key else {}
    runtime = await start_runtime(bot={**keys, **bot})
    await runtime.service.review(thread or forum_thread(xf.base))
    [alert] = await posted(fake)
    return runtime, alert, int(buttons(alert)[0]["custom_id"].split(":")[1])


def actions_field(message: dict[str, Any]) -> str | None:
    embed = message["embeds"][0]
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == "Actions"), None)


async def confirm(
    fake: FakeDiscord, alert: dict[str, Any], alert_id: int, action: str, question: str, yes: str = "yes"
) -> dict[str, Any]:
    """Press `action`, check the private question, press its `yes` button; the bot's answer."""
    ask = await fake.click(fake.HELPER, int(alert["id"]), f"alert:{alert_id}:{action}")
    asked = await fake.response(ask)
    assert asked["data"]["flags"] & 64 and question in text_of(asked), asked
    assert ask.original is not None
    expected = [
        f"alert:{alert_id}:{action}-{y}" for y in (("yes", "tell") if action == "softdelete" else ("yes",))
    ]
    assert [b["custom_id"] for b in buttons(ask.original)] == expected
    return await press(fake, fake.HELPER, int(ask.original["id"]), f"alert:{alert_id}:{action}-{yes}")


async def test_soft_delete_calls_xenforo_audits_and_shows_it_on_the_alert(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    labels = [b.get("label") for b in buttons(alert)]
    assert labels[-2:] == ["Soft-delete the post", "Lock the thread"]
    assert actions_field(alert) is None

    done = await confirm(fake, alert, alert_id, "softdelete", "Soft-delete the post by **visitor**")
    assert done["type"] == 7 and text_of(done) == "Soft-deleted on the forum."
    [call] = xf.calls
    assert (call.method, call.path) == ("DELETE", f"/api/posts/{POST_ID}")
    assert call.headers == {"XF-Api-Key": xf.KEY}
    reason = f"modassist alert {alert_id} (Inflammatory): soft-deleted by helper (Discord)"
    assert call.params == {"hard_delete": "false", "reason": reason}
    assert xf.state.posts[POST_ID]["message_state"] == "deleted"

    [audit] = await runtime.store.audit_log(action="action.")
    assert (audit.action, audit.actor_id, audit.actor_name, audit.target_kind) == (
        "action.soft_delete_post",
        fake.HELPER.id,
        "helper",
        "post",
    )
    assert audit.details["outcome"] == "deleted" and audit.details["forum_post_id"] == POST_ID
    assert audit.details["forum"] == xf.base and audit.details["reason"] == reason
    edited = await fake.wait_until(lambda: actions_field(fake.messages[int(alert["id"])]))
    assert "Post soft-deleted on the forum by **helper**" in edited and "<t:" in edited

    again = await press(fake, fake.ADMIN, int(alert["id"]), f"alert:{alert_id}:softdelete")
    assert text_of(again).startswith("Already done: 🗑 Post soft-deleted on the forum by **helper**")
    assert len(xf.calls) == 1


async def test_soft_delete_telling_the_author_sends_author_alert_and_its_reason(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    done = await confirm(fake, alert, alert_id, "softdelete", "Soft-delete the post", yes="tell")
    assert text_of(done) == "Soft-deleted on the forum; XenForo tells its author why."
    [call] = xf.calls
    told = "Your post was removed by the moderators (Inflammatory)."
    assert call.params["author_alert"] == "true" and call.params["author_alert_reason"] == told
    assert call.params["hard_delete"] == "false"
    [audit] = await runtime.store.audit_log(action="action.")
    assert audit.details["author_alert"] == told and audit.details["outcome"] == "deleted"


async def test_a_confirmation_asked_before_a_restart_still_works_after_it(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    helpers_may_lock(fake)
    first_run, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    ask = await fake.click(fake.HELPER, int(alert["id"]), f"alert:{alert_id}:lock")
    await fake.response(ask)
    assert ask.original is not None
    await first_run.close()

    await start_runtime(bot={"xenforo_api_keys": {xf.base: xf.KEY}})
    done = await press(fake, fake.HELPER, int(ask.original["id"]), f"alert:{alert_id}:lock-yes")
    assert text_of(done) == "Thread locked on the forum."
    assert xf.state.threads[THREAD_ID]["discussion_open"] is False


async def test_lock_the_thread_with_a_super_user_key(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    helpers_may_lock(fake)
    users = {"xenforo_api_users": {xf.base: xf.SUPER_USER}}
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.SUPER_KEY, **users)
    done = await confirm(fake, alert, alert_id, "lock", "Lock the thread of the post by **visitor**")
    assert text_of(done) == "Thread locked on the forum."
    [call] = xf.calls
    assert (call.method, call.path) == ("POST", f"/api/threads/{THREAD_ID}")
    assert call.headers == {"XF-Api-Key": xf.SUPER_KEY, "XF-Api-User": str(xf.SUPER_USER)}
    assert call.params == {"discussion_open": "false"}
    assert xf.state.threads[THREAD_ID]["discussion_open"] is False
    [audit] = await runtime.store.audit_log(action="action.")
    assert (audit.action, audit.details["outcome"], audit.details["forum_thread_id"]) == (
        "action.lock_thread",
        "locked",
        THREAD_ID,
    )
    edited = await fake.wait_until(lambda: actions_field(fake.messages[int(alert["id"])]))
    assert "Thread locked on the forum by **helper**" in edited


async def test_without_a_key_there_are_no_buttons_and_the_alert_says_how_to_enable_them(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    _, alert, _ = await alerted_post(fake, xf, start_runtime, None)
    custom_ids = [str(b.get("custom_id", "")) for b in buttons(alert)]
    assert not [c for c in custom_ids if c.endswith((":softdelete", ":lock"))], custom_ids
    assert actions_field(alert) == HINT
    assert not xf.calls


async def test_xenforos_403_is_one_line_and_nothing_is_audited(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.WEAK_KEY)
    refused = await confirm(fake, alert, alert_id, "softdelete", "Soft-delete the post")
    assert refused["data"]["flags"] & 64
    assert text_of(refused) == "XenForo refused: the API key may not do this (no_permission)."
    assert xf.state.posts[POST_ID]["message_state"] == "visible"
    assert not await runtime.store.audit_log(action="action.")


async def test_xenforos_404_is_said_plainly_audited_and_the_alert_updated(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    runtime, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY)
    del xf.state.posts[POST_ID]  # deleted on the forum meanwhile
    done = await confirm(fake, alert, alert_id, "softdelete", "Soft-delete the post")
    assert text_of(done) == "The forum has no such post any more (404)."
    [audit] = await runtime.store.audit_log(action="action.")
    assert audit.details["outcome"] == "not_found"
    edited = await fake.wait_until(lambda: actions_field(fake.messages[int(alert["id"])]))
    assert "Post not found on the forum (XenForo: 404) by **helper**" in edited


async def test_without_the_threads_xenforo_id_there_is_no_lock_button(
    fake: FakeDiscord, xf: FakeXenForo, start_runtime: StartRuntime
) -> None:
    thread = forum_thread(xf.base, thread_id="xenforo-3f9a")  # a saved page that did not say it
    _, alert, alert_id = await alerted_post(fake, xf, start_runtime, xf.KEY, thread)
    custom_ids = [str(b.get("custom_id", "")) for b in buttons(alert)]
    assert f"alert:{alert_id}:softdelete" in custom_ids and f"alert:{alert_id}:lock" not in custom_ids
