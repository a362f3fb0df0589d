"""Who wrote a passage (`Ref`), and what the measures ask a thread's memory about it (`ThreadMemory`).

A thread's memory (`_thread.DuplicateThreadState`) numbers the posts and outside sources it has seen; the
runs of repeated words (`_runs.Run.source`) name them by that index, and the measures (`_measure`) ask
the memory who they are. Both modules import these types from here, so the measures never import the
memory that calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

from classifiers.thread import post_name

if TYPE_CHECKING:
    from classifiers.duplicates import QuoteDuplicateDetector


class Ref(NamedTuple):
    """Who wrote a passage: an earlier post of the thread, or the source a marked quote names.

    (A named tuple: one is made for every post, and a tuple is the cheapest immutable record to make.)
    """

    post_id: str | None
    author: str | None
    position: int | None

    def label(self) -> str:
        """'post #3 by alice', 'post p1 by bob', 'the message by carol' or 'an outside source'."""
        if self.position is None and self.post_id is None:
            where = "an outside source"
        else:
            name = post_name(self.position, self.post_id)
            where = f"post {name}" if name.startswith("#") else name
        return f"{where} by {self.author}" if self.author else where


NOBODY = Ref(None, None, None)


class ThreadMemory(Protocol):
    """What `_measure.measure` reads of a thread's memory (`_thread.DuplicateThreadState` is one)."""

    @property
    def detector(self) -> QuoteDuplicateDetector:
        """The detector whose settings (rules, evidence threshold) the memory follows."""
        ...

    @property
    def posts_before(self) -> int:
        """Posts of the thread reviewed before the current one."""
        ...

    def ref(self, index: int) -> Ref:
        """The post (or outside source) a ref index stands for; `NOBODY` once forgotten."""
        ...

    def label(self, index: int) -> str:
        """`Ref.label` of a ref."""
        ...

    def fresh_words(self, index: int) -> int:
        """Words first said in that post (0 when unknown)."""
        ...

    def is_outside(self, index: int) -> bool:
        """Whether the ref is a source outside the thread (a marked quote of something never posted)."""
        ...
