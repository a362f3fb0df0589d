"""The thread model every detector works on: frozen `Post`, `Quote` and `Thread`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

_MACHINE_ID_DIGITS = 15  # an id of this many digits or more is a machine number (a Discord message id)


def machine_id(post_id: str | None) -> bool:
    """Whether a post's id is a long machine number (a Discord message id), not a name a reader sees."""
    return post_id is None or (post_id.isdigit() and len(post_id) >= _MACHINE_ID_DIGITS)


def post_name(position: int | None, post_id: str | None) -> str:
    """How a reader names a post: "#3" by its place in the thread, else "post p1" by an id a person could
    have written, else "the message" (a long machine number, such as a Discord message id, names nothing
    a reader sees; the alert links to the message instead)."""
    if position is not None:
        return f"#{position}"
    if post_id and not machine_id(post_id):
        return f"post {post_id}"
    return "the message"


@dataclass(frozen=True, slots=True)
class Quote:
    """A quote block the source marked up (XenForo `blockquote`, a `quotes` entry in JSON Lines).

    `text` is the quoted block's own words; quotes nested inside it are kept in `nested`, so a quote
    pyramid stays a pyramid. `author` and `post_id` are None for unattributed quotes (a pasted article).
    """

    text: str
    author: str | None = None
    post_id: str | None = None
    nested: tuple[Quote, ...] = ()

    def depth(self) -> int:
        """How deep the nesting goes: 1 for a plain quote, 2 for a quote inside a quote, ..."""
        return 1 + max((q.depth() for q in self.nested), default=0)

    def walk(self) -> Iterator[Quote]:
        """This quote and every quote nested in it, outermost first."""
        yield self
        for inner in self.nested:
            yield from inner.walk()


@dataclass(frozen=True, slots=True)
class Post:
    """One post. `text` is what the post shows outside marked quote blocks.

    Where the source has no quote markup (pasted threads, 4forums exports) quoted text stands inline in
    `text` and the detectors find it by overlap with earlier posts.
    """

    id: str
    text: str
    author: str | None = None
    position: int | None = None
    url: str | None = None
    created_at: str | None = None
    user_title: str | None = None
    quotes: tuple[Quote, ...] = ()

    def all_quotes(self) -> Iterator[Quote]:
        """Every marked quote of the post, nested ones included."""
        for q in self.quotes:
            yield from q.walk()


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread: its title and its posts in thread order."""

    id: str
    title: str
    posts: tuple[Post, ...] = field(default_factory=tuple)
    url: str | None = None
    source_format: str | None = None

    def __len__(self) -> int:
        return len(self.posts)
