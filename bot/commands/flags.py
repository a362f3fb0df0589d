"""`modassist flags`: the open flags in the store, as a table, filtered by category, thread or author."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console

from bot.errors import ModassistError
from bot.moderation import Moderation
from bot.records import FlagDetail
from bot.report import flags_table
from bot.store import Store
from bot.store.integrity import refusing_unusable
from classifiers.result import CATEGORIES, Category, category_named
from config.settings import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `flags` command."""
    parser = sub.add_parser(
        "flags",
        help="list the open flags in the store",
        description="List flags no moderator has settled yet (open or escalated), newest first.",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="the database file (default: settings' database)"
    )
    parser.add_argument(
        "--category",
        type=_category,
        metavar="{" + ",".join(CATEGORIES) + "}",
        help="only this category (off-topic and off_topic alike)",
    )
    parser.add_argument("--thread", help="only this thread: its id at the source, or part of its title")
    parser.add_argument("--author", help="only posts by this author (case-insensitive)")
    parser.add_argument("--limit", type=int, default=50, help="at most this many flags (default 50)")
    parser.set_defaults(func=run)


def database_path(arg: Path | None) -> Path:
    """The database named on the command line, else the configured one."""
    return arg if arg is not None else get_settings().database


def existing_database(arg: Path | None) -> Path:
    """The database path, which must exist (listing never creates a database)."""
    path = database_path(arg)
    if not path.is_file():
        raise ModassistError(f"no database at {path}: run `modassist db migrate --db {path}` or `scan --db`")
    return path


def _category(text: str) -> Category:
    found = category_named(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"no category {text!r}; choose from {', '.join(CATEGORIES)}")
    return found


def run(args: argparse.Namespace) -> int:
    """Print the open flags."""
    if args.limit < 1:
        raise ModassistError("--limit must be at least 1")
    path = existing_database(args.db)
    with refusing_unusable(path):
        flags = asyncio.run(_load(path, args.category, args.thread, args.author, args.limit))
    console = Console()
    if not flags:
        console.print(
            "No open flags"
            + (" matching the filters." if args.category or args.thread or args.author else ".")
        )
        return 0
    console.print(flags_table(flags))
    if len(flags) == args.limit:
        console.print(f"[dim]Showing the newest {args.limit}; use --limit for more.[/dim]")
    return 0


async def _load(
    path: Path, category: str | None, thread: str | None, author: str | None, limit: int
) -> list[FlagDetail]:
    store = await Store.open(path, busy_timeout=get_settings().store.busy_timeout_seconds)
    try:
        return await Moderation(store).open_flags(
            category=category, thread=thread, author=author, limit=limit
        )
    finally:
        await store.close()
