"""`modassist run`: the long-running moderation assistant.

It opens the store, builds the detector suite and the service, and runs until SIGINT or SIGTERM:

- the dispatcher, which sends the alert outbox to a sink: the moderators' Discord channel when a token is
  configured, else the console (rich panels on stdout);
- the Discord bot (with a token): alert buttons and the `/modq` commands;
- the watchers, which feed new posts to the service (`WATCHER_FACTORIES`: forum threads, JSON Lines files;
  Discord channels are read by a cog of the bot).

Shutting down: the dispatcher finishes the alert it is sending (for up to `bot.shutdown_grace_seconds`),
then, with `--flush SECONDS`, keeps sending what is due for that long; whatever is left stays in the outbox,
pending, for the next start (an alert cut off mid-send is first looked for in the mod channel's history, and
re-sent only if it is not there: `bot.redelivery`). The bot logs out and the database is closed last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from rich.console import Console

from bot.errors import ConfigError
from bot.service import ModerationService
from bot.sinks import AlertSink, ConsoleSink, Dispatcher
from bot.store import Store
from bot.store.integrity import refusing_unusable
from classifiers.suite import DetectorSuite
from config.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.discord.app import CogFactory, ModassistBot

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """A source of posts that feeds the service until `stop` is set (issue 7: forum threads, channels)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a watcher factory gets: everything `modassist run` built (the bot is None without a token)."""

    settings: Settings
    store: Store
    service: ModerationService
    bot: ModassistBot | None


WatcherFactory = Callable[[RunContext], Iterable[Watcher]]
# Dotted paths "module:function" of watcher factories, and of cog factories added to the bot (for Discord
# watchers and their commands, e.g. `/modq watch`). Add a line here to add one.
WATCHER_FACTORIES: tuple[str, ...] = ("bot.watchers:forum_watchers", "bot.watchers:jsonl_watchers")
BOT_COG_FACTORIES: tuple[str, ...] = (
    "bot.watchers.discord_channels:DiscordChannelWatcher",
    "bot.discord.cogs.watch:WatchCog",
)


def _load(path: str) -> Callable[..., object]:
    module, _, name = path.partition(":")
    factory = getattr(importlib.import_module(module), name)
    if not callable(factory):
        raise ConfigError(f"{path} is not callable")
    return factory  # type: ignore[no-any-return]


@dataclass(slots=True)
class Runtime:
    """Store, service, dispatcher, bot and watchers of one `modassist run`; `start`, then `close`."""

    settings: Settings
    store: Store
    service: ModerationService
    dispatcher: Dispatcher
    sink: AlertSink
    bot: ModassistBot | None = None
    watcher_factories: Sequence[WatcherFactory] = ()
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
        watcher_factories: Sequence[WatcherFactory] | None = None,
    ) -> Runtime:
        """Build everything (nothing runs yet). `store` defaults to `settings.database`, opened and migrated;
        the runtime owns it and closes it. Without a token, alerts go to `console`."""
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
            bot = None
            sink: AlertSink
            if settings.discord_token is not None:
                if settings.mod_channel_id is None:
                    raise ConfigError(
                        "a Discord token is set but no mod_channel_id (MODASSIST_MOD_CHANNEL_ID)"
                    )
                from bot.discord import DiscordSink, ModassistBot  # only with a token

                cogs = cog_factories
                if cogs is None:
                    cogs = [_load(path) for path in BOT_COG_FACTORIES]  # type: ignore[misc]
                from bot.watchers.discord_channels import intents_for

                bot = ModassistBot(settings, store, service, intents=intents_for(settings), extra_cogs=cogs)
                sink = DiscordSink(bot, settings.mod_channel_id)
            else:
                sink = ConsoleSink(console)
            dispatcher = Dispatcher(store, sink, settings.alerts)
            if watcher_factories is None:
                watcher_factories = [_load(path) for path in WATCHER_FACTORIES]  # type: ignore[misc]
            return cls(settings, store, service, dispatcher, sink, bot, tuple(watcher_factories))
        except BaseException:
            await store.close()
            raise

    async def start(self) -> None:
        """Log the bot in (and connect it), then start the dispatcher and the watchers."""
        if self.bot is not None:
            assert self.settings.discord_token is not None
            import discord  # only with a token

            try:
                await self.bot.login(self.settings.discord_token.get_secret_value())
            except discord.LoginFailure as exc:
                raise ConfigError(f"Discord refused the token: {exc}") from exc
            self._tasks["bot"] = asyncio.create_task(self.bot.connect(reconnect=True), name="modassist-bot")
        self._tasks["dispatcher"] = asyncio.create_task(
            self.dispatcher.run(self._dispatcher_stop), name="modassist-dispatcher"
        )
        context = RunContext(self.settings, self.store, self.service, self.bot)
        for factory in self.watcher_factories:
            for watcher in factory(context):
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
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def close(self, *, flush_seconds: float = 0.0) -> None:
        """Stop the watchers, let the dispatcher finish its alert (and flush for `flush_seconds`), log the
        bot out, close the store. Safe to call more than once."""
        self.stop.set()
        watchers = [task for name, task in self._tasks.items() if name.startswith("watcher:")]
        for task in watchers:
            task.cancel()
        self._dispatcher_stop.set()
        dispatcher_task = self._tasks.get("dispatcher")
        try:
            if dispatcher_task is not None:
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


async def serve(
    settings: Settings,
    suite: DetectorSuite,
    *,
    stop: asyncio.Event | None = None,
    console: Console | None = None,
    flush_seconds: float = 0.0,
    handle_signals: bool = True,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop`); returns the exit status."""
    console = console or Console(highlight=False)
    runtime = await Runtime.open(settings, suite, console=console)
    if stop is not None:
        runtime.stop = stop
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for sig in signals:
        loop.add_signal_handler(sig, runtime.stop.set)
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
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` command."""
    parser = sub.add_parser(
        "run",
        help="run the bot and the alert dispatcher (console alerts without a Discord token)",
        description=(
            "Send flagged posts' alerts to the moderators' Discord channel and answer their buttons and /modq"
            " commands; without MODASSIST_DISCORD_TOKEN alerts are printed on the console. SIGINT or SIGTERM"
            " stops it cleanly."
        ),
    )
    parser.add_argument(
        "--flush",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on shutdown, keep sending due alerts for up to SECONDS (default: leave them in the outbox)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run until interrupted."""
    settings = get_settings()
    from bot.detectors import build_suite  # loading the models is slow: only when run

    suite = build_suite(settings)
    # Opening the store refuses a damaged, newer, read-only or full database; these failures, at start or
    # later (closing, flushing), end in one line naming the file (exit 2), not a traceback.
    with contextlib.suppress(KeyboardInterrupt), refusing_unusable(settings.database):
        return asyncio.run(serve(settings, suite, flush_seconds=args.flush))
    return 130
