"""The one composition root: everything `modassist run` runs, built from the settings with plain imports.

`Runtime.open` builds, in this order, and nothing runs yet:

- the store (opened and migrated; a read-only database is refused at once);
- the moderation service, which reviews posts into the store (with the thresholds moderators changed);
- the moderators' use cases (`bot.moderation.Moderation`), over the same store and detector suite;
- the watchers, which feed new posts to the service (forum threads, JSON Lines files; Discord channels are
  read by a cog of the bot); `Moderation` tells the forum watcher when `/modq watch` changes the watches;
- with a Discord token: the bot (its own cogs are extensions it loads; the channel watcher is built here with
  its dependencies and added as a cog) and the Discord sink; without one, the console sink;
- the dispatcher, which sends the alert outbox to the sink.

`start` logs the bot in and starts the dispatcher and the watchers; `close` stops them in order.

Shutting down: the dispatcher finishes the alert it is sending (for up to `bot.shutdown_grace_seconds`),
then, with `flush_seconds`, keeps sending what is due for that long; whatever is left stays in the outbox,
pending, for the next start (an alert cut off mid-send is first looked for in the mod channel's history, and
re-sent only if it is not there: `bot.redelivery`). The bot logs out and the database is closed last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from rich.console import Console

from bot.errors import ConfigError, ModassistError
from bot.intake import RetryPolicy
from bot.moderation import Moderation
from bot.service import ModerationService
from bot.sinks import AlertSink, ConsoleSink, Dispatcher
from bot.sources.xenforo_api import XenForoApi
from bot.store import Store
from bot.watchers import ForumWatcher, JsonlWatcher
from classifiers.suite import DetectorSuite
from config.settings import Settings

if TYPE_CHECKING:
    from discord.ext import commands

    from bot.discord.app import CogFactory, ModassistBot

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """A source of posts that feeds the service until `stop` is set (forum threads, JSON Lines files)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


def build_watchers(
    settings: Settings, store: Store, service: ModerationService, moderation: Moderation
) -> list[Watcher]:
    """The forum watcher (always: threads can be added at run time, and it hears of them from `moderation`)
    and one watcher per configured JSON Lines path."""
    retry = RetryPolicy.from_settings(settings.watch)
    forum = ForumWatcher(
        store,
        service,
        settings.watch.forum,
        allow_private_addresses=settings.bot.fetch_private_addresses,
        retry=retry,
    )

    async def wake_forum() -> None:
        forum.wake()

    moderation.on_watches_changed(wake_forum)
    jsonl = settings.watch.jsonl
    files = [
        JsonlWatcher(store, service, path, poll_seconds=jsonl.poll_seconds, retry=retry)
        for path in jsonl.paths
    ]
    return [forum, *files]


def build_bot(
    settings: Settings,
    store: Store,
    service: ModerationService,
    moderation: Moderation,
    cog_factories: Sequence[CogFactory] | None = None,
) -> ModassistBot:
    """The Discord bot; `cog_factories` (default: the channel watcher) are added after its own cogs."""
    import discord

    from bot.discord.app import ModassistBot, intents_for  # only with a token: discord.py is slow to import

    if cog_factories is None:
        from bot.watchers.discord_channels import DiscordChannelWatcher

        def channel_watcher(bot: ModassistBot) -> commands.Cog:
            cog = DiscordChannelWatcher(bot, settings, store, service)
            moderation.on_watches_changed(cog.reload)
            return cog

        cog_factories = [channel_watcher]
    # modassist never joins a voice channel: discord.py's warnings that the voice libraries are missing
    # (PyNaCl, davey) would only alarm a new user at every start.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    return ModassistBot(settings, moderation, intents=intents_for(settings), extra_cogs=cog_factories)


def forum_api(settings: Settings) -> XenForoApi | None:
    """The XenForo API client for the forums with a key (`bot.xenforo_api_keys`), or None without any."""
    keys = settings.bot.xenforo_api_keys
    if not keys:
        return None
    secrets = {base: key.get_secret_value() for base, key in keys.items()}
    allow_private = settings.bot.fetch_private_addresses
    return XenForoApi(secrets, settings.bot.xenforo_api_users, allow_private=allow_private)


@dataclass(slots=True)
class Runtime:
    """Store, service, moderation, dispatcher, bot and watchers of one `modassist run`; `start`, then
    `close`."""

    settings: Settings
    store: Store
    service: ModerationService
    moderation: Moderation
    dispatcher: Dispatcher
    sink: AlertSink
    bot: ModassistBot | None = None
    watchers: Sequence[Watcher] = ()
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _dispatcher_stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        suite: DetectorSuite,
        *,
        store: Store | None = None,
        console: Console | None = None,
        cog_factories: Sequence[CogFactory] | None = None,
    ) -> Runtime:
        """Build everything (nothing runs yet). `store` defaults to `settings.database`, opened and migrated;
        the runtime owns it and closes it. Without a token, alerts go to `console`. `cog_factories` replace
        the default extra cogs of the bot (the channel watcher)."""
        if store is None:
            store = await Store.open(settings.database, busy_timeout=settings.store.busy_timeout_seconds)
        try:
            # A read-only database opens (reading needs no write) but would fail the first alert: refuse now.
            await store.check_writable()
            dispatcher: Dispatcher | None = None

            def wake() -> None:
                if dispatcher is not None:
                    dispatcher.wake()

            service = await ModerationService.open(
                store, suite, cache_threads=settings.store.review_cache_threads, on_new_alerts=wake
            )
            moderation = Moderation(store, suite, forum_api=forum_api(settings))
            watchers = build_watchers(settings, store, service, moderation)
            bot = None
            sink: AlertSink
            if settings.discord_token is not None:
                if settings.mod_channel_id is None:
                    raise ConfigError(
                        "a Discord token is set but no mod_channel_id (MODASSIST_MOD_CHANNEL_ID)"
                    )
                from bot.discord.sink import DiscordSink  # only with a token

                bot = build_bot(settings, store, service, moderation, cog_factories)
                sink = DiscordSink(bot, settings.mod_channel_id, clock=store.now)
            else:
                sink = ConsoleSink(console)
            dispatcher = Dispatcher(store, sink, settings.alerts)
            return cls(settings, store, service, moderation, dispatcher, sink, bot, tuple(watchers))
        except BaseException:
            await store.close()
            raise

    async def start(self) -> None:
        """Log the bot in (and connect it), then start the dispatcher and the watchers."""
        if self.bot is not None:
            assert self.settings.discord_token is not None
            import aiohttp
            import discord  # only with a token

            if not await wait_for_discord(self.settings.discord_api_base, self.stop):
                return  # stopped while Discord could not be reached: nothing was started
            try:
                await self.bot.login(self.settings.discord_token.get_secret_value())
            except discord.LoginFailure as exc:
                raise ConfigError(f"Discord refused the token: {exc}") from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise ModassistError(
                    f"lost Discord while logging in ({exc}); start modassist run again"
                ) from None
            self._tasks["bot"] = asyncio.create_task(self.bot.connect(reconnect=True), name="modassist-bot")
        self._tasks["dispatcher"] = asyncio.create_task(
            self.dispatcher.run(self._dispatcher_stop), name="modassist-dispatcher"
        )
        for watcher in self.watchers:
            self._tasks[f"watcher:{watcher.name}"] = asyncio.create_task(
                watcher.run(self.stop), name=f"modassist-watcher-{watcher.name}"
            )

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a plain deadline
        """Wait until the bot has connected and seen its guilds (at once without a bot)."""
        if self.bot is None:
            return
        ready = asyncio.ensure_future(self.bot.wait_until_ready())
        bot_task = self._tasks["bot"]
        done, _ = await asyncio.wait({ready, bot_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if bot_task in done:
                bot_task.result()  # raises why the bot stopped
            raise TimeoutError(f"the bot was not ready within {timeout} s")

    async def run_until_stopped(self) -> None:
        """Wait for `stop`, or for the bot or the dispatcher to end (a failure is raised)."""
        stopped = asyncio.ensure_future(self.stop.wait())
        vital = {t for name, t in self._tasks.items() if name in ("bot", "dispatcher")}
        try:
            done, _ = await asyncio.wait({stopped, *vital}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        for task in done & vital:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error

    async def close(self, *, flush_seconds: float = 0.0) -> None:
        """Stop the watchers, let the dispatcher finish its alert (and flush for `flush_seconds`), log the
        bot out, close the store. Safe to call more than once."""
        self.stop.set()
        watchers = [task for name, task in self._tasks.items() if name.startswith("watcher:")]
        for task in watchers:
            task.cancel()
        self._dispatcher_stop.set()
        try:
            await self._stop_dispatcher(flush_seconds)
            # Watchers close their HTTP sessions as they stop: let them finish before anything is cancelled
            # twice (a second cancellation would cut that short).
            if watchers:
                await asyncio.wait(watchers, timeout=self.settings.bot.shutdown_grace_seconds)
            if self.bot is not None and not self.bot.is_closed():
                await self.bot.close()
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            self._tasks.clear()
        finally:
            await self.store.close()

    async def _stop_dispatcher(self, flush_seconds: float) -> None:
        """Let the dispatcher finish the alert it is sending, then flush for `flush_seconds`."""
        dispatcher_task = self._tasks.get("dispatcher")
        if dispatcher_task is None:
            return
        grace = self.settings.bot.shutdown_grace_seconds
        try:
            await asyncio.wait_for(asyncio.shield(dispatcher_task), timeout=grace)
        except TimeoutError:
            log.warning("an alert was still being sent after %.0f s; it stays in the outbox", grace)
            dispatcher_task.cancel()
        except Exception:
            log.exception("the dispatcher failed")
        if flush_seconds > 0:
            try:
                emptied = await self.dispatcher.drain(max_seconds=flush_seconds)
            except Exception:
                log.exception("flushing the outbox failed")
                emptied = False
            if not emptied:
                log.warning("alerts left in the outbox: %s", await self.store.outbox_counts())


async def wait_for_discord(
    api_base: str, stop: asyncio.Event, *, first_delay: float = 1.0, max_delay: float = 60.0
) -> bool:
    """Until Discord's API answers at all (any HTTP status: the network is there), or `stop` is set; one
    warning line per failed try, waiting twice as long each time (up to `max_delay`). True once it answers."""
    import aiohttp

    delay = first_delay
    url = api_base.rstrip("/") + "/gateway"
    while not stop.is_set():
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(10)),
            ):
                return True
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("cannot reach Discord at %s (%s); trying again in %.0f s", api_base, reason, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, max_delay)
    return False


async def serve(
    settings: Settings,
    suite: DetectorSuite,
    *,
    stop: asyncio.Event | None = None,
    console: Console | None = None,
    flush_seconds: float = 0.0,
    handle_signals: bool = True,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop`); returns the exit status. Says on `console` when the bot has
    connected (each time it does) and, last, that it has stopped and why."""
    console = console or Console(highlight=False)
    runtime = await Runtime.open(settings, suite, console=console)
    if stop is not None:
        runtime.stop = stop
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        runtime.stop.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    if runtime.bot is not None:
        _announce_connections(runtime.bot, console)
    try:
        await runtime.start()
        if runtime.bot is None:
            console.print(
                "[bold]modassist run[/]: no Discord token (MODASSIST_DISCORD_TOKEN), so alerts are printed"
                " here. Ctrl-C stops.",
            )
        await runtime.run_until_stopped()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await runtime.close(flush_seconds=flush_seconds)
    _say(console, f"stopped ({received[0].name})" if received else "stopped")
    return 0


def _announce_connections(bot: ModassistBot, console: Console) -> None:
    """A line on `console` whenever the bot is ready: who it is and the servers it sees."""

    async def connected() -> None:
        _say(console, bot.connected_line())

    bot.add_listener(connected, "on_ready")


def _say(console: Console, line: str) -> None:
    """`modassist run: LINE`, on one line, printed as it is (no markup: it may quote names from Discord)."""
    console.print(f"modassist run: {line}", markup=False, highlight=False, soft_wrap=True)
