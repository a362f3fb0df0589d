"""Burst folding as a pure function: which due alerts go out as they are, and per thread whether fresh
alerts go out one by one, wait for the next digest, or fold into one (the store carries it out:
tests/bot/store/test_store.py and tests/bot/test_sinks.py claim real rows)."""

from __future__ import annotations

import pytest

from bot.store.folding import DueAlert, Folding, Window, fold_burst, split_due


def test_only_never_tried_post_alerts_are_fresh_and_they_are_grouped_by_thread_in_order() -> None:
    due = [
        DueAlert(1, "post", 10, "pending", 0),
        DueAlert(2, "post", 20, "pending", 0),
        DueAlert(3, "post", 10, "pending", 1),  # a retry goes out as it was first claimed
        DueAlert(4, "digest", 10, "pending", 0),  # a digest is never folded again
        DueAlert(5, "post", 10, "sending", 1),  # a lease ran out
        DueAlert(6, "post", 10, "pending", 0),
    ]
    units, fresh = split_due(due)
    assert units == [3, 4, 5]
    assert fresh == {10: [1, 6], 20: [2]}
    assert list(fresh) == [10, 20]


@pytest.mark.parametrize(
    ("fresh", "window", "expected"),
    [
        # Within the burst limit, counting the singles the thread sent within the window: one by one.
        ([1, 2], Window(), Folding("send", (1, 2))),
        ([1, 2, 3, 4, 5], Window(), Folding("send", (1, 2, 3, 4, 5))),
        ([1, 2], Window(singles=3), Folding("send", (1, 2))),
        # Over it, with no digest in the window: all fresh ones fold into a new digest.
        ([1, 2, 3, 4, 5, 6], Window(), Folding("fold", (1, 2, 3, 4, 5, 6))),
        ([1, 2], Window(singles=4), Folding("fold", (1, 2))),
        # Over it, with a digest in the window: they wait until the window has passed since that digest.
        ([7], Window(singles=5, last_digest_at=1000.0), Folding("hold", (7,), hold_until=1060.0)),
        ([7, 8], Window(singles=4, last_digest_at=990.5), Folding("hold", (7, 8), hold_until=1050.5)),
        # A digest in the window does not hold alerts that fit within the limit.
        ([7], Window(singles=0, last_digest_at=1000.0), Folding("send", (7,))),
    ],
)
def test_a_threads_fresh_alerts_are_sent_held_or_folded(
    fresh: list[int], window: Window, expected: Folding
) -> None:
    assert fold_burst(fresh, window, burst_max=5, burst_window=60.0) == expected


def test_a_burst_limit_of_zero_folds_every_fresh_alert() -> None:
    assert fold_burst([1], Window(), burst_max=0, burst_window=60.0) == Folding("fold", (1,))
