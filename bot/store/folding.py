"""Burst folding, decided without the database: which due alerts go out as they are, and, per thread, whether
its fresh alerts go out one by one, wait for the next digest, or fold into a new digest.

Per thread, over a sliding window of `burst_window` seconds: at most `burst_max` alerts go out one by one;
when the fresh alerts would exceed that, all of them are folded into one digest, and at most one digest per
window goes out: later fresh alerts wait for the window to pass and join the next digest.
`bot.store.outbox.Outbox.claim_alerts` reads the rows, asks these functions, and carries out the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.records import AlertKind, AlertStatus


@dataclass(frozen=True, slots=True)
class DueAlert:
    """An outbox row that is due."""

    id: int
    kind: AlertKind
    thread_id: int
    status: AlertStatus
    attempts: int

    @property
    def fresh(self) -> bool:
        """A post alert never tried: the only kind that may still be folded (a unit is fixed at its first
        claim, so a retried alert or digest keeps its content and its idempotency key)."""
        return self.kind == "post" and self.status == "pending" and self.attempts == 0


@dataclass(frozen=True, slots=True)
class Window:
    """A thread's alerts claimed within the window: single post alerts, and when the last digest went."""

    singles: int = 0
    last_digest_at: float | None = None


@dataclass(frozen=True, slots=True)
class Folding:
    """What to do with a thread's fresh alerts: 'send' them one by one, 'hold' them until `hold_until`, or
    'fold' them into one new digest."""

    action: Literal["send", "hold", "fold"]
    alert_ids: tuple[int, ...]
    hold_until: float | None = None


def split_due(due: Sequence[DueAlert]) -> tuple[list[int], dict[int, list[int]]]:
    """The ids that go out as they are (retries, digests), and the fresh post alerts by thread, in order."""
    units: list[int] = []
    fresh: dict[int, list[int]] = {}
    for alert in due:
        if alert.fresh:
            fresh.setdefault(alert.thread_id, []).append(alert.id)
        else:
            units.append(alert.id)
    return units, fresh


def fold_burst(alert_ids: Sequence[int], window: Window, *, burst_max: int, burst_window: float) -> Folding:
    """Decide for one thread's fresh alerts, given what the thread sent within the window."""
    ids = tuple(alert_ids)
    if window.singles + len(ids) <= burst_max:
        return Folding("send", ids)
    if window.last_digest_at is not None:
        # A digest went out within the window: hold these for the next one.
        return Folding("hold", ids, hold_until=window.last_digest_at + burst_window)
    return Folding("fold", ids)
