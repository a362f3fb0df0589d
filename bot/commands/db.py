"""`modassist db migrate`, `db status` and `db backup`: the store's schema, soundness and contents."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.commands.flags import database_path, existing_database
from bot.errors import DatabaseCorruptError
from bot.migrations import Migration
from bot.store import SchemaStatus, Store
from bot.store.backup import backup_database
from bot.store.integrity import describe, refusing_unusable
from config.settings import get_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` command group."""
    parser = sub.add_parser("db", help="the database: migrate it, check it and show its status, back it up")
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    migrate = db_sub.add_parser("migrate", help="create the database or bring its schema up to date")
    migrate.add_argument(
        "--db", type=Path, default=None, help="the database file (default: settings' database)"
    )
    migrate.set_defaults(func=run_migrate)
    status = db_sub.add_parser(
        "status", help="check the file (SQLite's integrity check); schema version, pending migrations, rows"
    )
    status.add_argument(
        "--db", type=Path, default=None, help="the database file (default: settings' database)"
    )
    status.set_defaults(func=run_status)
    backup = db_sub.add_parser(
        "backup", help="copy the database to a new FILE, safely while modassist runs and writes to it"
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="the backup to write (must not exist)")
    backup.add_argument(
        "--db", type=Path, default=None, help="the database file (default: settings' database)"
    )
    backup.set_defaults(func=run_backup)


def _timeout() -> float:
    return get_settings().store.busy_timeout_seconds


def run_migrate(args: argparse.Namespace) -> int:
    """Apply the pending migrations, each in one transaction."""
    path = database_path(args.db)
    with refusing_unusable(path):
        applied, status = asyncio.run(_migrate(path))
    console = Console()
    for migration in applied:
        console.print(f"applied {migration.version:04d}_{migration.name}")
    console.print(f"{path}: schema version {status.version} (latest {status.latest})")
    return 0


async def _migrate(path: Path) -> tuple[tuple[Migration, ...], SchemaStatus]:
    store = await Store.open(path, busy_timeout=_timeout(), migrate=False)
    try:
        applied = await store.migrate()
        return applied, await store.schema_status()
    finally:
        await store.close()


def run_status(args: argparse.Namespace) -> int:
    """Check the file, print the schema version, pending migrations, and rows per table; exit 1 if migrations
    are pending. A damaged file is refused (`DatabaseCorruptError`, exit 2)."""
    path = existing_database(args.db)
    with refusing_unusable(path):
        status, counts, outbox = asyncio.run(_status(path))
    console = Console()
    console.print(f"[bold]{path}[/bold]: schema version {status.version} of {status.latest}")
    for migration in status.pending:
        console.print(f"  pending: {migration.version:04d}_{migration.name}", style="yellow")
    for version in status.modified:
        console.print(f"  warning: migration {version:04d} was edited after it was applied", style="red")
    table = Table(title="rows")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    if outbox:
        console.print("outbox: " + ", ".join(f"{n} {status_}" for status_, n in sorted(outbox.items())))
    return 1 if status.pending else 0


async def _status(path: Path) -> tuple[SchemaStatus, dict[str, int], dict[str, int]]:
    store = await Store.open(path, busy_timeout=_timeout(), migrate=False)
    try:
        # Opening ran the quick check; the full one also finds indexes that disagree with their tables.
        problems = await store.integrity_problems()
        if problems:
            raise DatabaseCorruptError(str(path), describe(problems))
        status = await store.schema_status()
        counts = await store.row_counts()
        if "posts" in counts:
            counts["posts not fully reviewed"] = await store.unreviewable_posts()
        outbox = await store.outbox_counts() if "alerts" in counts else {}
        return status, counts, outbox
    finally:
        await store.close()


def run_backup(args: argparse.Namespace) -> int:
    """Copy the database to a new file with SQLite's online backup API, then check the copy."""
    path = existing_database(args.db)
    result = backup_database(path, args.file, busy_timeout=_timeout())
    # Plain print: the line names two paths, which a console would wrap mid-path.
    print(f"{path}: backed up to {result.target} ({result.pages} pages, {result.size} bytes, checked)")
    return 0
