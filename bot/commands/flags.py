"""`modassist flags`: the moderation queue without Discord.

`modassist flags` lists the open flags (filtered by category or thread); `--author NAME` shows that author's
case history instead (every flag, its decisions); `flags show ID`, `flags confirm ID` and `flags dismiss ID`
show and decide one flag through the same use cases as the Discord buttons (`bot.moderation`), audited with
the operating-system user and 'command line'. A flag already confirmed or dismissed is refused, naming who
decided it and when. Deciding here does not edit the flag's Discord alert (no Discord connection here).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.text import Text

from bot.errors import ModassistError
from bot.flag_report import VERDICT_DONE, print_author_history, print_flag, print_open_flags
from bot.moderation import Moderation
from bot.records import CATEGORY_LABELS, AuthorHistory, Decision, FlagDetail, Verdict
from bot.report import flags_table
from bot.store import Store
from bot.store.integrity import refusing_unusable
from classifiers.result import CATEGORIES, Category, category_named
from config.settings import get_settings

T = TypeVar("T")

# The categories as every report spells them (any spelling is accepted as input).
_CHOICES = ", ".join(CATEGORY_LABELS[c] for c in CATEGORIES)

TABLE_COLUMNS = 120  # narrower terminals get the open flags as lines, with their links whole


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `flags` command."""
    parser = sub.add_parser(
        "flags",
        help="the moderation queue: list, show, confirm or dismiss flags",
        description="List flags no moderator has settled yet (open or escalated), newest first; with"
        " --author, that author's case history. `flags show|confirm|dismiss ID` acts on one flag.",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="the database file (default: settings' database)"
    )
    _register_actions(parser)
    parser.add_argument(
        "--category",
        type=_category,
        metavar="CATEGORY",
        help=f"only this category: {_CHOICES} (any spelling: off_topic, duplicated-quote, ...)",
    )
    parser.add_argument("--thread", help="only this thread: its id at the source, or part of its title")
    parser.add_argument(
        "--author", help="this author's case history: every flag and decision (case-insensitive)"
    )
    parser.add_argument("--limit", type=int, default=50, help="at most this many flags (default 50)")
    parser.set_defaults(func=run, action=None)


def _register_actions(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions on one flag")
    for name, help_text in (
        ("show", "one flag in full: where, why, and every decision"),
        ("confirm", "confirm a flag: the post breaks the rules"),
        ("dismiss", "dismiss a flag as a false alarm"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:])
        action.add_argument("flag_id", type=_flag_id, metavar="FLAG_ID", help="the flag's number")
        # SUPPRESS: given before the action (`flags --db X show 3`), --db is not reset by the action.
        action.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="the database file")
        if name != "show":
            action.add_argument("--note", help="why, for the record")


def _flag_id(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"a flag id is a positive number, not {text!r}")
    return number


def operator() -> str:
    """The operating-system user who runs the command (who the audit names as deciding)."""
    try:
        return getpass.getuser()
    except OSError:  # no login name, no USER/LOGNAME: the numeric user
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


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
        raise argparse.ArgumentTypeError(f"no category {text!r}; choose from {_CHOICES}")
    return found


def run(args: argparse.Namespace) -> int:
    """Print the open flags, an author's case history, or show or decide one flag."""
    if args.limit < 1:
        raise ModassistError("--limit must be at least 1")
    path = existing_database(args.db)
    console = Console()
    if args.action == "show":
        with refusing_unusable(path):
            detail, decisions = asyncio.run(_with_moderation(path, lambda m: m.flag(args.flag_id)))
        print_flag(console, detail, decisions)
        return 0
    if args.action in ("confirm", "dismiss"):
        return _decide(console, path, args.flag_id, args.action, args.note)
    if args.author is not None:
        with refusing_unusable(path):
            history = asyncio.run(
                _with_moderation(path, lambda m: m.author_history(args.author, limit=args.limit))
            )
        print_author_history(console, _filtered(history, args.category, args.thread), limit=args.limit)
        return 0
    with refusing_unusable(path):
        flags = asyncio.run(_load(path, args.category, args.thread, None, args.limit))
    if not flags:
        console.print(
            "No open flags"
            + (" matching the filters." if args.category or args.thread or args.author else ".")
        )
        return 0
    if console.width < TABLE_COLUMNS:  # the table's columns would be cut to a few letters each
        print_open_flags(console, flags)
    else:
        console.print(flags_table(flags))
    if len(flags) == args.limit:
        console.print(f"[dim]Showing the newest {args.limit}; use --limit for more.[/dim]")
    return 0


def _decide(console: Console, path: Path, flag_id: int, verdict: Verdict, note: str | None) -> int:
    """Decide the flag as the operating-system user; a flag already settled is refused (exit 1)."""
    user = operator()

    async def decide(moderation: Moderation) -> tuple[FlagDetail, list[Decision]]:
        await moderation.decide_flag(
            flag_id,
            verdict,
            moderator_id=None,
            moderator_name=user,
            note=note,
            unsettled_only=True,
            via="command line",
        )
        return await moderation.flag(flag_id)

    with refusing_unusable(path):
        detail, decisions = asyncio.run(_with_moderation(path, decide))
    console.print(
        Text(f"Flag {flag_id} {VERDICT_DONE[verdict]} by {user} (audited as from the command line).")
    )
    console.print()
    print_flag(console, detail, decisions)
    return 0


def _filtered(history: AuthorHistory, category: str | None, thread: str | None) -> AuthorHistory:
    """The history with only the flags of `category` and of a thread whose id or title matches `thread`."""
    wanted = thread.casefold() if thread is not None else None
    flags = tuple(
        d
        for d in history.flags
        if (category is None or d.flag.category == category)
        and (
            wanted is None
            or wanted == d.thread.external_id.casefold()
            or wanted in (d.thread.title or "").casefold()
        )
    )
    return replace(history, flags=flags)


async def _with_moderation(path: Path, use: Callable[[Moderation], Awaitable[T]]) -> T:
    store = await Store.open(path, busy_timeout=get_settings().store.busy_timeout_seconds)
    try:
        return await use(Moderation(store))
    finally:
        await store.close()


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
