"""`modassist config check`: the settings in force (secrets masked), the watches and every warning, at 80
columns; exit status 2 (one line per mistake, from bot/cli) when the settings cannot be read."""

from __future__ import annotations

import argparse
import asyncio
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.records import DISCORD_CHANNEL, FORUM_THREAD, JSONL_FILE
from bot.store import Store
from bot.store.integrity import refusing_unusable
from bot.textsafety import clean_line
from config.errors import ConfigurationError
from config.settings import LoadedSettings, Settings, load_settings, log_warnings

WIDTH = 80
# Shown under "watches", not among the settings.
WATCH_LISTS = (
    "watch.forum.threads",
    "watch.discord.channel_ids",
    "watch.discord.category_ids",
    "watch.jsonl.paths",
)
KINDS = {FORUM_THREAD: "forum thread", DISCORD_CHANNEL: "Discord channel", JSONL_FILE: "JSON Lines file"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `config` command group."""
    parser = sub.add_parser("config", help="the configuration: check it and show the settings in force")
    config_sub = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser(
        "check",
        help="print the settings in force (secrets masked), the watches and every warning; exit 2 on a"
        " mistake",
    )
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Print the effective settings, the watches and the warnings; a mistake raises ConfigurationError."""
    check()
    return 0


def check() -> LoadedSettings:
    """Read the settings and print their summary (`config check`, and `run` as it starts); a mistake raises
    ConfigurationError, after logging the warnings."""
    try:
        loaded = load_settings()
    except ConfigurationError as exc:
        # bot/cli prints the mistakes; the warnings first, as every command does
        log_warnings(exc.warnings)
        raise
    stored = _stored_watches(loaded.settings)
    for line in report(loaded, stored):
        print(clean_line(line) if line.strip() else "")
    return loaded


def report(loaded: LoadedSettings, stored: list[str]) -> Iterator[str]:
    """The lines of `config check`, each at most 80 columns (a long value, e.g. a URL, is never cut)."""
    settings = loaded.settings
    read = ["the environment", ".env" if Path(".env").is_file() else ""]
    read.append(str(loaded.toml_file) if loaded.toml_file else "")
    yield from _wrapped(f"Settings (from {', '.join(r for r in read if r)} and the defaults; * = changed):")
    defaults = _flat(Settings.model_construct().model_dump())
    for key, value in _flat(settings.model_dump()).items():
        if key in WATCH_LISTS:
            continue
        changed = "*" if _shown(value) != _shown(defaults.get(key)) else " "
        yield from _wrapped(f"{changed} {key} = {_shown(value)}")
    yield ""
    yield "Watches:"
    watches = list(configured_watches(settings)) + stored
    yield from (line for watch in watches for line in _wrapped(f"  {watch}")) if watches else ["  none"]
    yield ""
    warnings = [*loaded.warnings, *run_problems(settings), *unused_without_token(settings)]
    yield "Warnings:" if warnings else "Warnings: none"
    for warning in warnings:
        yield from _wrapped(f"  {warning}")


def run_problems(settings: Settings) -> list[str]:
    """What stops `modassist run` though every setting is valid alone (other commands work): one line each."""
    if settings.discord_token is not None and settings.mod_channel_id is None:
        return [
            "mod_channel_id is not set: with a Discord token, `modassist run` needs the id of the"
            " moderators' channel (MODASSIST_MOD_CHANNEL_ID=123...; unset the token for console alerts)"
        ]
    return []


# Settings only the Discord bot reads: set without a token, they do nothing.
DISCORD_ONLY = (
    "mod_channel_id",
    "guild_ids",
    "moderator_role_ids",
    "bot.admin_role_ids",
    "alerts.urgent_role_id",
    "bot.xenforo_api_keys",
)


def unused_without_token(settings: Settings) -> list[str]:
    """Warnings for what a missing Discord token silently leaves unused: Discord watches and the settings
    only the bot reads."""
    if settings.discord_token is not None:
        return []
    flat = _flat(settings.model_dump())
    unused = [name for name in DISCORD_ONLY if flat.get(name) not in (None, [], {})]
    watch = settings.watch.discord
    warnings = []
    if watch.channel_ids or watch.category_ids or watch.enabled:
        warnings.append(
            "watch.discord is configured but there is no Discord token (discord_token): no Discord channel"
            " is watched until MODASSIST_DISCORD_TOKEN is set"
        )
    if unused:
        warnings.append(
            f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} set but unused without a Discord"
            " token (discord_token): alerts go to the console"
        )
    return warnings


def configured_watches(settings: Settings) -> Iterator[str]:
    """One line per watch the settings configure."""
    forum, discord, jsonl = settings.watch.forum, settings.watch.discord, settings.watch.jsonl
    for thread in forum.threads:
        every = thread.interval_seconds or forum.default_interval_seconds
        yield f"forum thread {thread.url} (every {every:g} s)"
    for channel in discord.channel_ids:
        yield f"Discord channel {channel}"
    for category in discord.category_ids:
        yield f"Discord category {category} (all its channels)"
    if discord.enabled and not (discord.channel_ids or discord.category_ids):
        yield "Discord: channels added with /modq watch add (watch.discord.enabled)"
    for path in jsonl.paths:
        yield f"JSON Lines file {'stdin' if path == '-' else path} (checked every {jsonl.poll_seconds:g} s)"


def _stored_watches(settings: Settings) -> list[str]:
    """The watches moderators added with `/modq watch add`, from the database when it exists."""
    path = settings.database
    if not path.is_file():
        return [f"(no database at {path} yet: watches added with /modq watch add are kept there)"]
    with refusing_unusable(path):
        return asyncio.run(_read_watches(path, settings.store.busy_timeout_seconds))


async def _read_watches(path: Path, busy_timeout: float) -> list[str]:
    store = await Store.open(path, busy_timeout=busy_timeout, migrate=False)
    try:
        if (await store.schema_status()).pending:
            return [f"({path} needs `modassist db migrate` before its watches can be listed)"]
        watches = [w for w in await store.watches() if w.kind in KINDS]
    finally:
        await store.close()
    return [f"{KINDS[w.kind]} {w.target} (added with /modq watch add, in {path})" for w in watches]


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _shown(value: Any) -> str:
    """A value as it would be written in the TOML file; a secret only says whether it is set."""
    if isinstance(value, SecretStr):
        return "(set, hidden)" if value.get_secret_value() else '""'
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _wrapped(line: str) -> list[str]:
    """A line folded at 80 columns on spaces, continued with an indent; words longer than that stay whole."""
    return textwrap.wrap(
        line, WIDTH, subsequent_indent="      ", break_long_words=False, break_on_hyphens=False
    ) or [line]
