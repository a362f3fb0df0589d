"""Waiting on a fake server: the fakes notify a condition after every change, tests wait for a predicate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def notify(changed: asyncio.Condition) -> None:
    """Wake everything waiting in `wait_until` on `changed`, so its predicate is checked again."""
    async with changed:
        changed.notify_all()


async def wait_until(
    changed: asyncio.Condition,
    predicate: Callable[[], Any],
    timeout: float,  # noqa: ASYNC109
) -> Any:
    """Wait until `predicate()` is truthy (checked now and after every `notify(changed)`); returns it."""
    async with asyncio.timeout(timeout), changed:
        while not (result := predicate()):
            await changed.wait()
        return result
