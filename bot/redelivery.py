"""Before an alert goes out again: did an earlier, unconfirmed try deliver it already?

A delivery unit claimed before (`attempts` > 1) may have reached its sink without the outbox hearing of it:
the process died between the sink's answer and "sent", or the answer was lost. A sink that can read its own
deliveries back (`DeliveryLookup`, e.g. the Discord sink through the channel's history) is asked once per
dispatch round about all such units; the dispatcher marks those it found sent instead of sending them again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bot.records import AlertView, SentReceipt

log = logging.getLogger(__name__)


@runtime_checkable
class DeliveryLookup(Protocol):
    """A sink that can tell which alerts an earlier, unconfirmed try delivered."""

    async def find_delivered(self, alerts: Sequence[AlertView]) -> dict[int, SentReceipt]:
        """Receipts (duplicate=True) by alert id for those of `alerts` already delivered; raise on failure."""
        ...


def claimed_before(alert: AlertView) -> bool:
    """An earlier claim of this unit may have delivered it unconfirmed (each claim counts an attempt)."""
    return alert.alert.attempts > 1


async def find_delivered(
    sink: object, claimed: Sequence[AlertView], *, within_seconds: float
) -> tuple[dict[int, SentReceipt], Exception | None]:
    """Which of the `claimed` units claimed before `sink` already delivered, or why it could not tell
    (then none of them may be sent blind); nothing to ask when the sink cannot look or none was claimed."""
    resent = [a for a in claimed if claimed_before(a)]
    if not resent or not isinstance(sink, DeliveryLookup):
        return {}, None
    try:
        async with asyncio.timeout(within_seconds):
            found = await sink.find_delivered(resent)
    except Exception as exc:  # the look-up's failure, whatever it is, is these alerts' failure
        log.warning("could not check whether %d re-sent alerts went out already: %s", len(resent), exc)
        return {}, exc
    if found:
        log.info("%d alerts had gone out before a crash or a lost reply: marked sent", len(found))
    return found, None
