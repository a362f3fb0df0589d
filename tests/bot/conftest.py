"""Fixtures shared by the bot tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store in a real SQLite file under tmp_path (tests needing a clock define their own)."""
    store = await Store.open(tmp_path / "modassist.db")
    try:
        yield store
    finally:
        await store.close()
