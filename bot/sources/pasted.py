"""Pasted thread text: a XenForo thread copied from the browser as plain text (the founding format).

The layout, as a browser copy produces it::

    Thread title
    <blank>
    Author name
    <blank>
    Rank line(s)            e.g. "Colonel" / "Registered Member"; absent for some posts
    Body ...
    <U+00A0>                a line holding only a no-break space ends the post
    <blank>
    Next author
    ...
    Top                     the page's "back to top" link closes the thread

Ranks are recognised without a fixed list of titles: a short title-like block that ends with a
membership line ("Registered Member", "Moderator", "VIP Professional", "Banned Idiot", ...), or lines
made only of rank words ("Lieutenant General"). Anything else is the body. A no-break-space line only
ends a post when what follows looks like the next post's header (a name line, then a blank line) or the
end of the thread, so a stray no-break space inside a body stays part of it.

Posts get ids by position ("1", "2", ...) and no URL; body text is kept as it is (attachment names and
login nags included: the detectors skip those lines).
"""

from __future__ import annotations

import bisect
import hashlib
import re

from bot.errors import ParseError
from classifiers.text import is_boilerplate_line
from classifiers.thread import Post, Thread

FORMAT = "pasted"
EXPECTED = (
    "pasted thread text (a title line, then posts: author, blank line, rank lines, body,"
    " each ending at a no-break-space line)"
)

NBSP = "\u00a0"
_MAX_AUTHOR_CHARS = 60  # XenForo user names are at most 50 characters
_MAX_RANK_CHARS = 40
_MAX_RANK_LINES = 4
_SENTENCE_END = tuple(".,;:!?…")

# Words that make up rank titles on their own ("Lieutenant General", "Junior Member").
_RANK_WORDS_TEXT = """
    private corporal lance sergeant staff master first chief warrant officer petty specialist technical
    lieutenant second captain major colonel brigadier general commodore admiral marshal field air vice rear
    commander ensign cadet recruit airman seaman sub flight wing squadron group chief-of-staff
    junior senior registered member members new moderator mod super global administrator admin vip
    professional banned idiot well-known known active veteran guest supporter premium elite expert legend
    retired deputy donor contributor regular established full trusted probationary honorary
"""
_RANK_WORDS = frozenset(_RANK_WORDS_TEXT.split())
# A membership line closes a rank block: it ends with one of these words ("Registered Member",
# "Super Moderator", "VIP Professional", "Banned Idiot", "Staff").
_MEMBERSHIP = re.compile(
    r"\b(member|moderator|mod|administrator|admin|staff|banned|idiot|professional|guest|supporter|veteran)"
    r"\W*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")


def parse_pasted(text: str, source: str) -> Thread:
    """Parse a pasted thread; raises ParseError unless there is a title and at least one post."""
    page = _Lines(text.replace("\r\n", "\n").split("\n"))
    start = page.next_content(0)
    if start is None:
        raise ParseError(source, EXPECTED, "the input is empty")
    title = page.lines[start].strip()
    first = page.next_content(start + 1)
    if first is None or not page.is_header(first):
        raise ParseError(source, EXPECTED, "no post after the title line")

    posts: list[Post] = []
    header: int | None = first
    while header is not None:
        end, next_header = page.post_end(header)
        posts.append(_build_post(page, header, end, position=len(posts) + 1))
        header = next_header
    return Thread(id=_thread_id(title, posts[0]), title=title, posts=tuple(posts), source_format=FORMAT)


class _Lines:
    """The pasted text as lines, with the look-ups the parser needs precomputed (linear time overall)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        # _next[i]: the first line at or after i holding something other than whitespace (len = none).
        self._next = [len(lines)] * (len(lines) + 1)
        for i in range(len(lines) - 1, -1, -1):
            self._next[i] = i if lines[i].strip() else self._next[i + 1]
        self.separators = self._separator_lines()

    def next_content(self, index: int, end: int | None = None) -> int | None:
        """The first non-blank line at or after `index` and before `end` (default: the end)."""
        stop = len(self.lines) if end is None else end
        found = self._next[min(index, len(self.lines))]
        return found if found < stop else None

    def _separator_lines(self) -> list[int]:
        """Candidate post separators, in order: whitespace-only lines holding a no-break space.

        Copies that lost the no-break spaces (turned into plain spaces) fall back to whitespace-only
        lines that are not empty.
        """
        marked = [i for i, line in enumerate(self.lines) if NBSP in line and not line.strip()]
        if marked:
            return marked
        return [i for i, line in enumerate(self.lines) if line and not line.strip()]

    def post_end(self, header: int) -> tuple[int, int | None]:
        """(index one past the post's last line, index of the next post's header or None)."""
        for i in self.separators[bisect.bisect_left(self.separators, header + 2) :]:
            following = self.next_content(i + 1)
            if following is None or self.is_tail(following):
                return i, None
            if self.is_header(following):
                return i, following
        # No closing separator: the post runs to the end; a final "Top" line is the page's, not the post's.
        end = len(self.lines)
        last = self.last_content()
        if last is not None and last > header + 1 and self.lines[last].strip() == "Top":
            end = last
        return end, None

    def is_tail(self, index: int) -> bool:
        """True if `index` starts the page's tail: a "Top" line and nothing after it."""
        return self.lines[index].strip() == "Top" and self.next_content(index + 1) is None

    def is_header(self, index: int) -> bool:
        """A post header: a name-like line followed by a blank line."""
        if index + 1 >= len(self.lines) or self.lines[index + 1].strip():
            return False
        name = self.lines[index].strip()
        return (
            0 < len(name) <= _MAX_AUTHOR_CHARS
            and not name.endswith(_SENTENCE_END)
            and not is_boilerplate_line(name)
            and "://" not in name
        )

    def last_content(self) -> int | None:
        for i in range(len(self.lines) - 1, -1, -1):
            if self.lines[i].strip():
                return i
        return None


def _build_post(page: _Lines, header: int, end: int, position: int) -> Post:
    lines = page.lines
    author = lines[header].strip()
    start = page.next_content(header + 1, end)
    ranks: list[str] = []
    if start is not None:
        ranks = _rank_lines(lines, start, end)
        start += len(ranks)
    body = lines[start:end] if start is not None else []
    first = next((k for k, line in enumerate(body) if line.strip()), len(body))
    last = next((k for k in range(len(body) - 1, -1, -1) if body[k].strip()), -1)
    return Post(
        id=str(position),
        text="\n".join(body[first : last + 1]),
        author=author,
        position=position,
        user_title=" / ".join(ranks) or None,
    )


def _rank_lines(lines: list[str], start: int, end: int) -> list[str]:
    """The rank lines at the head of a post body (possibly none)."""
    block: list[str] = []
    for i in range(start, min(end, start + _MAX_RANK_LINES)):
        line = lines[i].strip()
        if not _is_rank_like(line):
            break
        block.append(line)
    closing = [k for k, line in enumerate(block) if _MEMBERSHIP.search(line)]
    if closing:
        return block[: closing[-1] + 1]
    count = 0
    for line in block:
        if not _is_rank_words(line):
            break
        count += 1
    return block[:count]


def _is_rank_like(line: str) -> bool:
    """Short, title-like, no sentence punctuation: could be a rank or user title."""
    if not 0 < len(line) <= _MAX_RANK_CHARS or line.endswith(_SENTENCE_END) or is_boilerplate_line(line):
        return False
    words = _WORD.findall(line)
    if not words or len(line.split()) > 5:
        return False
    return all(w[0].isupper() for w in words) or _MEMBERSHIP.search(line) is not None


def _is_rank_words(line: str) -> bool:
    words = line.split()
    return bool(words) and all(w.casefold().strip("()") in _RANK_WORDS for w in words)


def _thread_id(title: str, first: Post) -> str:
    """A stable id from the title and the opening post, so pasting the thread again gives the same id."""
    digest = hashlib.sha256()
    for part in (title, first.author or "", first.text[:2000]):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return f"pasted-{digest.hexdigest()[:16]}"
