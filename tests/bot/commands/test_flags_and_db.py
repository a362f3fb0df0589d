"""`modassist flags`, `modassist db migrate` and `modassist db status`, run through their argument parsers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.errors import ModassistError
from bot.migrations import load_migrations
from bot.service import ModerationService
from bot.store import Store
from classifiers.thread import Post, Thread
from tests.bot.store_doubles import make_suite


def run(*argv: str) -> int:
    args = build_parser(argv).parse_args(argv)
    return int(args.func(args))


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def _populate(path: Path) -> None:
    async def go() -> None:
        store = await Store.open(path)
        try:
            service = ModerationService(store, make_suite())
            await service.review(
                Thread(
                    "border.1",
                    "Border [b]news[/b]",
                    (
                        Post("1", "tariffs on avocados", author="harbourwatch", position=1),
                        Post("2", "you idiot", author="tidewalker", position=2),
                        Post("3", "tariffs on avocados again", author="harbourwatch", position=3),
                    ),
                    url="https://forum.test/threads/border.1/",
                )
            )
            await service.review(
                Thread(
                    "ai.2",
                    "Gadget news",
                    (Post("9", "what an idiot", author="grumpybosun"),),
                    url="https://forum.test/t/2",
                )
            )
        finally:
            await store.close()

    asyncio.run(go())


def test_db_migrate_creates_the_database_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.db"
    assert run("db", "migrate", "--db", str(path)) == 0
    out = capsys.readouterr().out
    assert "applied 0001_initial" in out and f"schema version {len(load_migrations())}" in out
    assert run("db", "migrate", "--db", str(path)) == 0
    assert "applied" not in capsys.readouterr().out


def test_db_status_shows_version_pending_migrations_and_row_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.db"

    async def first_schema_only() -> None:
        await (await Store.open(path, migrations=load_migrations()[:1])).close()

    asyncio.run(first_schema_only())
    assert run("db", "status", "--db", str(path)) == 1  # pending migrations
    out = capsys.readouterr().out
    assert "schema version 1 of" in out and "pending: 0002_moderation" in out
    assert run("db", "migrate", "--db", str(path)) == 0
    _populate(path)
    capsys.readouterr()
    assert run("db", "status", "--db", str(path)) == 0
    out = capsys.readouterr().out
    assert "pending:" not in out
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.count("│") == 3
    }
    assert rows["posts"] == "4" and rows["flags"] == "3" and rows["alerts"] == "3"
    assert "outbox: 3 pending" in out


def test_db_status_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(ModassistError, match="no database"):
        run("db", "status", "--db", str(tmp_path / "missing.db"))
    assert not (tmp_path / "missing.db").exists()


def test_flags_lists_open_flags_with_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "flags.db"
    _populate(path)
    assert run("flags", "--db", str(path)) == 0
    out = capsys.readouterr().out
    assert "Open flags (3)" in out
    assert "tidewalker" in out and "grumpybosun" in out and "harbourwatch" in out
    assert "insulting language: 'idiot'." in out and "0.90 / 0.60" in out
    assert "Border [b]news[/b]" in out  # titles are text, not markup
    run("flags", "--db", str(path), "--category", "duplicated_quote")
    out = capsys.readouterr().out
    assert "Open flags (1)" in out and "harbourwatch" in out and "tidewalker" not in out
    for spelling in ("duplicated-quote", "Duplicated quote"):  # as the report spells it, and as typed
        run("flags", "--db", str(path), "--category", spelling)
        out = capsys.readouterr().out
        assert "Open flags (1)" in out and "harbourwatch" in out and "tidewalker" not in out
    with pytest.raises(SystemExit):
        run("flags", "--db", str(path), "--category", "spam")
    choices = "off-topic, inflammatory, duplicated quote"  # as the reports spell them
    assert f"no category 'spam'; choose from {choices}" in capsys.readouterr().err
    run("flags", "--db", str(path), "--author", "TIDEWALKER")  # the author's case history
    out = capsys.readouterr().out
    assert "Case history: tidewalker" in out and "flag 1 · inflammatory" in out and "grumpybosun" not in out
    run("flags", "--db", str(path), "--thread", "gadget")
    out = capsys.readouterr().out
    assert "Open flags (1)" in out and "grumpybosun" in out
    run("flags", "--db", str(path), "--thread", "nothing like it")
    assert "No open flags matching the filters." in capsys.readouterr().out
    run("flags", "--db", str(path), "--limit", "1")
    assert "Showing the newest 1" in capsys.readouterr().out


def test_flags_refuses_a_missing_database_and_a_bad_category(tmp_path: Path) -> None:
    with pytest.raises(ModassistError, match="no database"):
        run("flags", "--db", str(tmp_path / "missing.db"))
    with pytest.raises(SystemExit):
        run("flags", "--db", str(tmp_path / "missing.db"), "--category", "rude")
