"""Short lines quoted inline, in plain text without quote markup.

A reply that opens with a line of two to four words said earlier in the thread ("Which one?", "Is maternal
instinct real?"), set apart from the rest by a blank line, quotes that line to answer it. The line is too
short for a word shingle, so it is looked up as it stands (case and spacing aside, as whole words) in the
recent posts of the thread, the latest first: a one-liner is quoted to answer a recent post.
"""

from __future__ import annotations

import re
from collections import deque

from classifiers.text import words

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_WORD = re.compile(r"\w")
_HEAD = 100  # characters: a line of at most four words ends within them
RECENT_POSTS = 30  # posts a short line is looked up in: about one page of a forum


def opening_line(text: str, most_words: int) -> str | None:
    """The post's first line, squashed and case-folded, when it has 2 to `most_words` words (not an
    address such as "@alice,") and a blank line and more words follow it; else None."""
    end = text.find("\n", 0, _HEAD)  # (most posts stop here, or at the count of words below)
    if end < 0:
        return None
    first = text[:end]
    parts = first.split()
    if not 2 <= len(parts) <= most_words or parts[0][0] == "@":
        return None
    found = _BLANK_LINE.match(text, end)
    if found is None:
        return None
    if len(words(first)) < 2:  # dots and dashes are no words
        return None
    line = " ".join(parts)
    if _WORD.search(text, found.end()) is None:
        return None  # the line is the whole post
    return line.casefold()


def stands_in(needle: str, haystack: str) -> bool:
    """Whether `needle` stands in `haystack` as whole words (no letter or digit on either side)."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = start == 0 or not haystack[start - 1].isalnum()
        if before and (end == len(haystack) or not haystack[end].isalnum()):
            return True
        start = haystack.find(needle, start + 1)
    return False


class RecentTexts:
    """The texts of a thread's latest posts (at most `RECENT_POSTS`), case-folded and squashed when
    first searched."""

    def __init__(self) -> None:
        self._texts: deque[tuple[int, str]] = deque(maxlen=RECENT_POSTS)  # (ref index, text)
        self._folded: dict[int, str] = {}  # ref index -> its text case-folded, once searched
        self._squashed: dict[int, str] = {}  # and spacing squashed, once a search found every word in it

    def add(self, index: int, text: str) -> None:
        """Remember a post's text under its ref index."""
        texts = self._texts
        if len(texts) == RECENT_POSTS and self._folded:
            gone = texts[0][0]
            self._folded.pop(gone, None)
            self._squashed.pop(gone, None)
        texts.append((index, text))

    def find(self, needle: str) -> int | None:
        """The ref index of the latest post `needle` stands in, or None."""
        parts = needle.split()
        folded_texts, squashed_texts = self._folded, self._squashed
        for index, text in reversed(self._texts):
            folded = folded_texts.get(index)
            if folded is None:
                folded = folded_texts[index] = text.casefold()
            # Spacing aside, each of the line's words stands in the text as it is: a cheap first sieve.
            if not all(part in folded for part in parts):
                continue
            squashed = squashed_texts.get(index)
            if squashed is None:
                squashed = squashed_texts[index] = " ".join(folded.split())
            if stands_in(needle, squashed):
                return index
        return None
