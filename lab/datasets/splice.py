"""Threads with foreign posts spliced in: exact off-topic labels for measuring the off-topic detector.

Each host thread (a 4forums political thread) receives a few posts taken from threads of *other*
subforums and from the non-political pool, inserted at random places after its first reply. The
splice is deterministic: the same inputs and seed always give the same threads, posts and positions.
Donor posts must have at least `min_words` words, so that each label is one a reader could judge, and
each is the post of its donor thread closest in length to a randomly drawn post of the host (of at least
`min_words` words too), so that a post's length says nothing about whether it was spliced in.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from classifiers.text import words
from classifiers.thread import Post, Thread
from lab.datasets.iac import IacThread

DEFAULT_SEED = "modassist-splice-v1"


@dataclass(frozen=True, slots=True)
class SplicedThread:
    """A host thread with spliced posts; `spliced` holds their ids, `origin` where each came from."""

    thread: Thread
    host_subforum: str
    spliced: frozenset[str]
    origin: dict[str, str]

    def labels(self) -> list[int]:
        """1 for a spliced post, 0 for the thread's own, for every post after the opening one."""
        return [int(p.id in self.spliced) for p in self.thread.posts[1:]]


def fold_of(thread_id: str, folds: int = 2) -> int:
    """A thread's fold, stable across runs and machines."""
    return zlib.crc32(thread_id.encode("utf-8")) % folds


def _eligible(thread: IacThread, min_words: int) -> list[tuple[int, Post]]:
    sized = ((len(words(p.text)), p) for p in thread.thread.posts)
    return [(n, p) for n, p in sized if n >= min_words]


def splice(
    hosts: Sequence[IacThread],
    political: Sequence[IacThread],
    nonpolitical: Sequence[IacThread],
    *,
    rate: float = 0.1,
    min_spliced: int = 2,
    min_words: int = 25,
    seed: str = DEFAULT_SEED,
) -> list[SplicedThread]:
    """Splice about `rate` foreign posts into each host, alternating political and non-political donors.

    Political donors come only from subforums other than the host's; the host itself is never a donor.
    """
    eligible = {t.thread.id: _eligible(t, min_words) for t in [*political, *nonpolitical]}
    out: list[SplicedThread] = []
    for host in hosts:
        rng = random.Random(f"{seed}:{host.thread.id}")
        pools = [
            [t for t in political if t.subforum != host.subforum and eligible[t.thread.id]],
            [t for t in nonpolitical if t.thread.id != host.thread.id and eligible[t.thread.id]],
        ]
        posts = list(host.thread.posts)
        host_sizes = [n for n, _ in _eligible(host, min_words)] or [min_words]
        n = max(min_spliced, round(rate * len(posts)))
        spliced: list[Post] = []
        origin: dict[str, str] = {}
        for k in range(n):
            pool = pools[k % 2] or pools[(k + 1) % 2]
            if not pool:
                break
            donor = rng.choice(pool)
            target = math.log(rng.choice(host_sizes))
            _, post = min(eligible[donor.thread.id], key=lambda c: (abs(math.log(c[0]) - target), c[1].id))
            new_id = f"splice:{host.thread.id}:{k}:{post.id}"
            spliced.append(replace(post, id=new_id, quotes=()))
            origin[new_id] = f"{donor.subforum or 'non-political'}: {donor.thread.title}"
        for post in spliced:
            # Never before the first reply: the detector needs an opening post and one reply of context.
            posts.insert(rng.randint(2, len(posts)), post)
        renumbered = tuple(replace(p, position=i) for i, p in enumerate(posts, start=1))
        out.append(
            SplicedThread(
                thread=replace(host.thread, posts=renumbered),
                host_subforum=host.subforum,
                spliced=frozenset(origin),
                origin=origin,
            )
        )
    return out
