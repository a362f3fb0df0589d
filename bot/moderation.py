"""The moderators' use cases, written once and called by Discord and the command line alike.

`Moderation` holds the store (and, in a process that reviews posts, the running detector suite): deciding
an alert or a flag, looking up a flag, an alert, an author's history, the open flags and the figures per
category, the thresholds, and the watches. Discord (`bot.discord`) renders what these return and routes
clicks and commands to them; it never reads the store itself. The Discord message of a decided alert is
refreshed by Discord code (`bot.discord.views.show_decision`), from the alert these return.

Thresholds: a moderator's change (`/modq thresholds`) is stored as a setting override, audited, and applied
to the running suite at once; `apply_threshold_overrides` applies the stored ones to a suite built from
Settings, so every process that reviews posts into a store (`modassist run`, with or without Discord, and
`modassist scan --db`) judges by the moderators' thresholds, not by the config's.

Watches: adding or removing one is audited in the store, then every listener (`on_watches_changed`: the
forum watcher, the Discord channel watcher) is told, so the change is picked up at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.errors import CommandError
from bot.records import (
    DISCORD_POSITION,
    DISCORD_SOURCE,
    AlertView,
    AuditEntry,
    AuthorHistory,
    CategoryStats,
    Decision,
    DiscordMessage,
    FlagDetail,
    FlagRecord,
    ForumPost,
    Verdict,
    Watch,
    WatchState,
)
from bot.sources.xenforo_api import ForumApiAccess, XenForoApi
from bot.store import Store
from classifiers.result import CATEGORIES, Category
from classifiers.suite import DetectorSuite

log = logging.getLogger(__name__)

_THRESHOLD_PREFIX = "thresholds."

WatchListener = Callable[[], Awaitable[None]]

DELETE_MESSAGE = "action.delete_message"  # audited when a moderator deletes a post's Discord message
TIMEOUT_MEMBER = "action.timeout_member"  # audited when a moderator times out a post's Discord author
SOFT_DELETE_POST = "action.soft_delete_post"  # audited when a moderator soft-deletes a forum post
LOCK_THREAD = "action.lock_thread"  # audited (on the alerted post) when a moderator locks its forum thread
# The time-outs a moderator may choose, in seconds, with their labels (Discord allows up to 28 days).
TIMEOUT_CHOICES: dict[int, str] = {600: "10 min", 3600: "1 h", 86400: "1 day", 604800: "1 week"}


def discord_message(alert: AlertView) -> DiscordMessage | None:
    """The Discord message a post alert is about, or None: posts from other sources (forums, files), and
    digests, are acted on elsewhere."""
    if alert.source.kind != DISCORD_SOURCE or alert.kind != "post" or len(alert.items) != 1:
        return None
    post = alert.items[0].post
    try:
        guild_id, channel_id = int(alert.source.key), int(alert.thread.external_id)
        message_id = int(post.external_id)
    except ValueError:
        return None
    return DiscordMessage(post.id, guild_id, channel_id, message_id, post.author_id, post.author)


def forum_post(alert: AlertView) -> ForumPost | None:
    """The forum post a post alert is about, or None: Discord messages, digests, and posts without a
    numeric id (XenForo's) or a web page."""
    if alert.source.kind == DISCORD_SOURCE or alert.kind != "post" or len(alert.items) != 1:
        return None
    post = alert.items[0].post
    url = post.url or alert.thread.url
    if not post.external_id.isdigit() or not url or not url.lower().startswith(("http://", "https://")):
        return None
    thread = alert.thread.external_id
    return ForumPost(
        post.id, int(post.external_id), int(thread) if thread.isdigit() else None, url, post.author
    )


def threshold_key(category: str) -> str:
    """The setting-override key of a category's threshold ('thresholds.inflammatory')."""
    return f"{_THRESHOLD_PREFIX}{category}"


async def change_threshold(
    store: Store,
    suite: DetectorSuite,
    category: Category,
    value: float,
    *,
    actor_id: int | None,
    actor_name: str | None,
) -> float:
    """Change a category's threshold now and for every later start (audited); returns the old value."""
    old = suite.thresholds[category]
    await store.change_setting(threshold_key(category), value, actor_id=actor_id, actor_name=actor_name)
    suite.set_threshold(category, value)
    log.warning("threshold %s changed from %.2f to %.2f by %s", category, old, value, actor_id)
    return old


async def apply_threshold_overrides(store: Store, suite: DetectorSuite) -> dict[str, float]:
    """Apply the thresholds moderators changed (stored in `store`) to `suite`; returns those applied."""
    applied: dict[str, float] = {}
    for key, value in (await store.setting_overrides()).items():
        category = key.removeprefix(_THRESHOLD_PREFIX)
        if (
            key.startswith(_THRESHOLD_PREFIX)
            and category in suite.thresholds
            and isinstance(value, int | float)
        ):
            suite.set_threshold(category, float(value))
            applied[category] = float(value)
    if applied:
        log.info("thresholds changed at run time: %s", applied)
    return applied


class Moderation:
    """The moderators' use cases over one store. `suite` is the running detector suite (its thresholds are
    shown and changed); the command line, which only reads flags, goes without."""

    def __init__(
        self, store: Store, suite: DetectorSuite | None = None, *, forum_api: XenForoApi | None = None
    ) -> None:
        self._store = store
        self._suite = suite
        self._forum_api = forum_api
        self._watch_listeners: list[WatchListener] = []

    @property
    def suite(self) -> DetectorSuite:
        """The running detector suite (for the thresholds and an on-demand scan)."""
        if self._suite is None:
            raise RuntimeError("this Moderation was opened without a detector suite")
        return self._suite

    # -- flags and alerts ----------------------------------------------------------------------------

    async def open_flags(
        self,
        *,
        category: str | None = None,
        thread: str | None = None,
        author: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlagDetail]:
        """Flags no moderator has settled yet (open or escalated), newest first, filtered."""
        return await self._store.open_flags(
            category=category, thread=thread, author=author, limit=limit, offset=offset
        )

    async def flag(self, flag_id: int) -> tuple[FlagDetail, list[Decision]]:
        """One flag with its post and thread, and every decision on it, oldest first."""
        return await self._store.get_flag(flag_id), await self._store.decisions_for(flag_id)

    async def shown_alert(self, alert_id: int) -> AlertView:
        """The alert as a message shows it: a post alert folded into a digest is shown by the digest."""
        alert = await self._store.get_alert(alert_id)
        if alert.alert.digest_id is not None:
            return await self._store.get_alert(alert.alert.digest_id)
        return alert

    async def latest_decisions(self, flags: Sequence[FlagRecord]) -> dict[int, Decision]:
        """The decision in force for each decided flag."""
        latest: dict[int, Decision] = {}
        for flag in flags:
            if flag.status in ("open", "superseded"):
                continue
            decisions = await self._store.decisions_for(flag.id)
            if decisions:
                latest[flag.id] = decisions[-1]
        return latest

    async def alert_history(self, alert: AlertView) -> dict[int, list[Decision]]:
        """Every decision on each flag of the alert, by flag id."""
        return {f.id: await self._store.decisions_for(f.id) for item in alert.items for f in item.flags}

    async def author_history(self, author: str, *, limit: int = 50) -> AuthorHistory:
        """An author's flags (newest first, at most `limit`) and the decisions on them."""
        return await self._store.author_history(author, limit=limit)

    async def category_stats(self) -> list[CategoryStats]:
        """Per category: flags, and what moderators decided about them."""
        return await self._store.category_stats()

    async def decide_alert(
        self, alert_id: int, verdict: Verdict, *, moderator_id: int | None, moderator_name: str | None
    ) -> tuple[Decision, ...]:
        """Decide every current flag of an alert (a digest: all its posts); returns the decisions taken."""
        decisions = await self._store.decide_alert(
            alert_id, verdict, moderator_id=moderator_id, moderator_name=moderator_name
        )
        log.info("alert %d: %s by %s (%d flags)", alert_id, verdict, moderator_id, len(decisions))
        return decisions

    async def decide_flag(
        self,
        flag_id: int,
        verdict: Verdict,
        *,
        moderator_id: int | None,
        moderator_name: str | None,
        note: str | None = None,
        unsettled_only: bool = False,
        via: str | None = None,
    ) -> tuple[Decision, FlagDetail]:
        """Decide one flag; returns the decision and the flag as it stands now (its alert to refresh).

        `unsettled_only`: a flag already confirmed or dismissed is refused (`AlreadyDecidedError`, which
        names who decided it and when) instead of decided again. `via` says where the decision came from
        (the audit keeps it: 'command line')."""
        decision = await self._store.record_decision(
            flag_id,
            verdict,
            moderator_id=moderator_id,
            moderator_name=moderator_name,
            note=note,
            unsettled_only=unsettled_only,
            via=via,
        )
        return decision, await self._store.get_flag(flag_id)

    # -- actions on the post where it was published --------------------------------------------------

    async def message_actions(self, message: DiscordMessage) -> list[AuditEntry]:
        """What moderators did to the message (deleted it, ...), oldest first."""
        return await self._store.post_actions(message.post_id)

    async def record_message_action(
        self,
        message: DiscordMessage,
        action: str,
        *,
        outcome: str,
        reason: str,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        extra: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Audit what a moderator did to the message or its author (`outcome`: what Discord said, e.g.
        'already_gone'; `extra`: the action's own details, e.g. a time-out's end)."""
        details = {
            **(extra or {}),
            "alert_id": alert_id,
            "guild_id": message.guild_id,
            "channel_id": message.channel_id,
            "message_id": message.message_id,
            "author_id": message.author_id,
            "outcome": outcome,
            "reason": reason,
        }
        entry = await self._store.record_post_action(
            message.post_id, action, actor_id=actor_id, actor_name=actor_name, details=details
        )
        log.warning("%s on message %d (%s) by %s", action, message.message_id, outcome, actor_id)
        return entry

    def forum_access(self, post: ForumPost) -> ForumApiAccess | None:
        """The XenForo API of the post's forum, or None when no key is configured for it."""
        return self._forum_api.access(post.url) if self._forum_api is not None else None

    async def post_actions(self, post_id: int) -> list[AuditEntry]:
        """What moderators did to the post where it was published, oldest first."""
        return await self._store.post_actions(post_id)

    async def act_on_forum(
        self,
        post: ForumPost,
        action: str,
        *,
        reason: str,
        alert_id: int,
        actor_id: int | None,
        actor_name: str | None,
        author_alert: str | None = None,
    ) -> AuditEntry:
        """Soft-delete the post (`SOFT_DELETE_POST`; `author_alert`: XenForo tells its author this) or lock
        its thread (`LOCK_THREAD`) through XenForo's API, and audit it (outcome 'deleted' / 'locked', or
        'not_found' when XenForo answered 404). `CommandError` without a key or a thread id;
        `ForumApiError` when XenForo refuses."""
        access = self.forum_access(post)
        if self._forum_api is None or access is None:
            raise CommandError(f"No XenForo API key is configured for {post.url} (bot.xenforo_api_keys).")
        if action == SOFT_DELETE_POST:
            done = await self._forum_api.soft_delete_post(
                access, post.forum_post_id, reason=reason, author_alert=author_alert
            )
            outcome = "deleted" if done else "not_found"
        else:
            if post.forum_thread_id is None:
                raise CommandError("The forum did not say this post's thread id, so it cannot be locked.")
            done = await self._forum_api.lock_thread(access, post.forum_thread_id)
            outcome = "locked" if done else "not_found"
        details = {
            "alert_id": alert_id,
            "forum": access.base,
            "forum_post_id": post.forum_post_id,
            "forum_thread_id": post.forum_thread_id,
            "outcome": outcome,
            "reason": reason,
            "author_alert": author_alert,
        }
        entry = await self._store.record_post_action(
            post.post_id, action, actor_id=actor_id, actor_name=actor_name, details=details
        )
        log.warning("%s on forum post %d (%s) by %s", action, post.forum_post_id, outcome, actor_id)
        return entry

    # -- thresholds ----------------------------------------------------------------------------------

    async def thresholds(self) -> tuple[dict[str, float], dict[str, Any]]:
        """The thresholds in force, in category order, and the setting overrides moderators stored."""
        suite = self.suite
        ordered: dict[str, float] = {c: suite.thresholds[c] for c in CATEGORIES if c in suite.thresholds}
        return ordered, await self._store.setting_overrides()

    async def change_threshold(
        self,
        category: Category,
        value: float,
        *,
        actor_id: int | None,
        actor_name: str | None,
        urgent_threshold: float | None = None,
    ) -> float:
        """Change a category's threshold now and for every later start (audited); returns the old value.
        With urgent alerts on (`urgent_threshold`), a value at or above it is refused (`CommandError`, nothing
        stored): every alert of the category would ping the on-duty role, which the settings refuse too."""
        if urgent_threshold is not None and value >= urgent_threshold:
            name = "off-topic" if category == "off_topic" else category.replace("_", " ")
            raise CommandError(
                f"With urgent alerts on, the {name} threshold must stay below the urgent threshold"
                f" ({urgent_threshold:.2f}, alerts.urgent_threshold): at {value:.2f} every {name} alert would"
                " ping the on-duty role. Choose a lower value, or raise alerts.urgent_threshold in the"
                " settings and restart."
            )
        return await change_threshold(
            self._store, self.suite, category, value, actor_id=actor_id, actor_name=actor_name
        )

    # -- watches -------------------------------------------------------------------------------------

    def on_watches_changed(self, listener: WatchListener) -> None:
        """Call `listener` after every watch added or removed here (in the order they were registered)."""
        self._watch_listeners.append(listener)

    async def _watches_changed(self) -> None:
        for listener in self._watch_listeners:
            await listener()

    async def watch_list(self) -> list[tuple[Watch, WatchState]]:
        """The active watches with how far each has read (channel positions are not watches)."""
        return [
            (watch, await self._store.watch_state(watch.id))
            for watch in await self._store.watches()
            if watch.kind != DISCORD_POSITION
        ]

    async def find_watch(self, number: int | None, target: tuple[str, str] | None) -> Watch | None:
        """The active watch with this number, else the one of this (kind, target); None if there is none."""
        watches = await self._store.watches()
        found = next((w for w in watches if w.id == number), None) if number is not None else None
        if found is None and target is not None:
            found = next((w for w in watches if (w.kind, w.target) == target), None)
        return found

    async def add_watch(
        self,
        kind: str,
        target: str,
        *,
        interval_seconds: float | None,
        actor_id: int | None,
        actor_name: str | None,
    ) -> Watch:
        """Watch `target` (audited) and tell the watchers."""
        watch = await self._store.add_watch(
            kind, target, interval_seconds=interval_seconds, actor_id=actor_id, actor_name=actor_name
        )
        await self._watches_changed()
        return watch

    async def remove_watch(self, watch: Watch, *, actor_id: int | None, actor_name: str | None) -> None:
        """Stop watching (audited; the read position is kept for a later re-add) and tell the watchers."""
        await self._store.remove_watch(watch.id, actor_id=actor_id, actor_name=actor_name)
        await self._watches_changed()
