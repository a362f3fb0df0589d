"""Finding the repeated words of a post: runs of shingles already seen in the thread, and passages a post
pastes twice.

Word by word, the work is done in C: shingles are looked up and stored in the thread's dict in one pass
that returns the runs of repeated shingles (`lookup_runs`), and passages pasted twice are found in one
pass too (`self_runs`), both by the optional C extension `classifiers._shingles` when it is built, else by
numpy and `dict.setdefault` (the same results). Only posts that repeat something go on to the rest, and
that works on runs of repeated words, not word by word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import le, sub

import numpy as np
import numpy.typing as npt

from classifiers.shingles import lookup_runs as lookup_runs
from classifiers.shingles import native
from classifiers.shingles import python_lookup_runs as python_lookup_runs

NONE = -1
SELF = -2  # a passage repeated within the same post


@dataclass(slots=True)
class Run:
    """Words [start, end) of a post that repeat `source` (a ref index, or SELF)."""

    start: int
    end: int
    source: int


def _repeated_within(hashes: npt.NDArray[np.int64], size: int) -> list[int]:
    """Positions, in order, of the shingles of a post that already stood in it at least `size` shingles
    before (a passage pasted twice, not a word repeated in a row)."""
    count = len(hashes)
    if count < _SORT_FROM or not count:  # in C, with a dict
        first: dict[int, int] = {}
        positions = range(count)
        firsts = map(first.setdefault, hashes.tolist(), positions)
        return list(compress(positions, map(le, firsts, map(sub, positions, repeat(size)))))
    # Long posts: a stable sort groups equal shingles, the first of a group is its earliest place.
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts_group = np.empty(count, dtype=bool)
    starts_group[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    earliest = np.empty(count, dtype=np.intp)
    earliest[order] = order[starts_group][starts_group.cumsum() - 1]
    found: list[int] = (earliest <= np.arange(-size, count - size)).nonzero()[0].tolist()
    return found


_SORT_FROM = 150  # shingles; below, the dict is faster


def python_self_runs(
    hashes: npt.NDArray[np.int64], size: int, runs: list[tuple[int, int, int]], marker: int
) -> list[tuple[int, int, int]]:
    """`runs` (first, last + 1, value), in order and apart, with the runs (first, last + 1, `marker`)
    added of the positions outside them whose shingle already stood in the post at least `size`
    shingles before; all in order (`runs` itself when no shingle did). (The C extension does the same.)
    """
    again = _repeated_within(hashes, size)
    if not again:
        return runs
    added: list[tuple[int, int, int]] = []
    r = 0
    for i in again:
        while r < len(runs) and runs[r][1] <= i:
            r += 1
        if r < len(runs) and runs[r][0] <= i:
            continue  # within a run that repeats an earlier post
        if added and added[-1][1] == i:
            added[-1] = (added[-1][0], i + 1, marker)
        else:
            added.append((i, i + 1, marker))
    return sorted(runs + added) if added else list(runs)


# A shingle is new to the thread at every place it stands in the post or at none, so the places where it
# stood before in the post can be found over them all and those within runs of repeated shingles dropped.
self_runs: Callable[
    [npt.NDArray[np.int64], int, list[tuple[int, int, int]], int], list[tuple[int, int, int]]
] = native.self_runs if native is not None else python_self_runs


def word_runs(shingle_runs: Iterable[tuple[int, int, int]], size: int, gap: int) -> list[Run]:
    """Turn runs of shingles (first, last + 1, source), in order, into runs of words.

    A shingle covers `size` words. Words already covered keep their first source. Two runs of the same
    source separated by at most `gap` words are one passage with a small edit inside.
    """
    runs: list[Run] = []
    for pos, last, src in shingle_runs:
        end = last - 1 + size
        if runs:
            prev = runs[-1]
            if src == prev.source and pos <= prev.end + gap:
                if end > prev.end:
                    prev.end = end
                continue
            if pos < prev.end:
                pos = prev.end
                if pos >= end:
                    continue
        runs.append(Run(pos, end, src))
    return runs
