"""Fixtures shared by the bot tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.store import Store
from tests.bot.db_files import copy_of


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file of a new, empty store, made once per test process by `Store.open`: each `store` starts from
    a copy. A new file runs every migration, each committed and synced (49 ms, 15 ms of it CPU time, per
    store); a copy opens in 6 ms. The migrations from a blank file are tested in tests/bot/migrations/."""
    path = tmp_path_factory.mktemp("migrated") / "modassist.db"

    async def create() -> None:
        store = await Store.open(path)
        await store.close()

    # In a thread of its own: asyncio.run here would replace the event loop of the test that asked first.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, create()).result()
    assert not path.with_name(path.name + "-wal").exists()  # closed whole: the file is the database
    return path


@pytest.fixture
async def store(tmp_path: Path, migrated_database: Path) -> AsyncIterator[Store]:
    """A store in a real SQLite file under tmp_path (tests needing a clock define their own)."""
    store = await Store.open(copy_of(migrated_database, tmp_path / "modassist.db"))
    try:
        yield store
    finally:
        await store.close()
