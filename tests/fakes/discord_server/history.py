"""Channel history for the fake Discord: snowflakes that carry their creation time, as Discord's do, and
the paging of `GET /channels/{id}/messages` (`limit`, `before`, `after`).

Discord's ids are `(milliseconds since 2015-01-01) << 22` plus a counter, so `before`/`after` also select by
time (discord.py turns `history(after=datetime)` into such an id). Each page holds at most `limit` messages
(1-100, default 50), newest first, as Discord sends it: with `after`, the oldest messages after that id;
otherwise the newest before `before` (or the newest of all).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Fresh, increasing ids with the current time in their high bits."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        """The next id: never below the last one, never behind the clock."""
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, stamp)
        return self._last


class HistoryQueryError(ValueError):
    """A query Discord would refuse with 400 (Invalid Form Body)."""


def history_page(messages: Iterable[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """One page of a channel's `messages` for the query string of `GET /channels/{id}/messages`."""
    if "around" in query:
        raise HistoryQueryError("the fake does not serve `around`")
    try:
        limit = int(query.get("limit", "50"))
        before = int(query["before"]) if "before" in query else None
        after = int(query["after"]) if "after" in query else None
    except ValueError as exc:
        raise HistoryQueryError(f"not a number: {exc}") from exc
    if not 1 <= limit <= 100:
        raise HistoryQueryError(f"limit {limit} is not within 1-100")
    chosen = sorted(
        (
            m
            for m in messages
            if (before is None or int(m["id"]) < before) and (after is None or int(m["id"]) > after)
        ),
        key=lambda m: int(m["id"]),
    )
    page = chosen[:limit] if after is not None else chosen[-limit:]
    return page[::-1]
