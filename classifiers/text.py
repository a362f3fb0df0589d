"""Text normalisation shared by every detector.

One definition of "a word" for the whole product: NFKC, zero-width and format characters removed,
case folded, whitespace collapsed. Forum boilerplate lines (login nags, attachment file names, the
trailing "Top") are never a post's words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Zero-width and other invisible format characters that obfuscate words ("id\u200biot").
_INVISIBLE_POINTS = (
    *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0xFEFF, 0x3164, 0xFFA0),
    *range(0x200B, 0x2010),  # zero-width space, joiners, marks
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # bidi isolates
)
_INVISIBLE = dict.fromkeys(_INVISIBLE_POINTS)
_INVISIBLE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _INVISIBLE) + "]")
_WS = re.compile(r"\s+")
# A word: letters/digits, keeping inner apostrophes and hyphens ("don't", "U.S." -> "u.s").
WORD_RE = re.compile(r"\w+(?:['’.\-]\w+)*", re.UNICODE)

_BOILERPLATE = [
    re.compile(
        r"^please,?\s+log\s*in\s+or\s+register\s+to\s+view\s+(urls?|links?|images?|media)\s+content!?$", re.I
    ),
    re.compile(r"^[\w\-. ()\[\]]{1,120}\.(jpe?g|png|gif|webp|bmp|heic|mp4|webm|pdf|zip|txt)$", re.I),
    re.compile(r"^(view attachment \d+|click to expand\.{0,3}|top)$", re.I),
    re.compile(r"^\S+ said:?$", re.I),
]


def strip_invisible(text: str) -> str:
    """Remove zero-width and bidi format characters."""
    if text.isascii():  # O(1) in CPython
        return text
    return _INVISIBLE_RE.sub("", text) if _INVISIBLE_RE.search(text) else text


def normalize(text: str) -> str:
    """NFKC, invisible characters removed, case folded, whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    return _WS.sub(" ", text).strip().casefold()


# Every boilerplate line holds one of these (lower case); a text without any skips the line-by-line check.
_BOILERPLATE_HINTS = (
    "register to view",
    "attachment",
    "expand",
    "said",
    ".jp",
    ".png",
    ".gif",
    ".webp",
    ".bmp",
    ".heic",
    ".mp4",
    ".webm",
    ".pdf",
    ".zip",
    ".txt",
)  # and a line that is just "top"
_MAX_BOILERPLATE_LINE = 160
_TOP_LINE = re.compile(r"(?:^|\n)[ \t\u00a0]*top[ \t\u00a0\r]*(?:\n|$)")


def has_boilerplate(text: str) -> bool:
    """True when some line of `text` is forum boilerplate."""
    return bool(boilerplate_spans(text))


def is_boilerplate_line(line: str) -> bool:
    """True for forum chrome that is never part of a post's words."""
    if line.isascii():
        # Cheap checks first: most lines hold none of the hints and need no normalisation.
        lowered = line.strip(" \t\r").lower()
        if lowered == "top":
            return True
        if not any(hint in lowered for hint in _BOILERPLATE_HINTS):
            return False
    stripped = normalize(line.replace("\u00a0", " "))
    if not stripped:
        return False
    return any(p.match(stripped) for p in _BOILERPLATE)


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised word and where it stands in the original text."""

    word: str
    start: int
    end: int


def boilerplate_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the boilerplate lines of `text` (end exclusive, newline excluded)."""
    if text.isascii():
        lowered = text.lower()
        keys = lowered.encode("ascii").translate(_ASCII_TABLE).split()
        return _ascii_boilerplate_spans(text, lowered, _BOILERPLATE_KEYS.intersection(keys))
    return _unicode_boilerplate_spans(text, _BOILERPLATE_KEYS.intersection(_unicode_keys(text)))


def _unicode_boilerplate_spans(text: str, present: Iterable[bytes]) -> list[tuple[int, int]]:
    """`boilerplate_spans` of any `text`, given which `_BOILERPLATE_KEYS` its words hold.

    Every line that is not plain ASCII is read; an ASCII line only when one of those words stands in it.
    """
    words = [key.decode("ascii") for key in present]
    spans = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        if len(line) <= _MAX_BOILERPLATE_LINE:
            if line.isascii():
                if words and any(word in line.lower() for word in words) and is_boilerplate_line(line):
                    spans.append((pos, end))
            elif is_boilerplate_line(line):
                spans.append((pos, end))
        pos = end + 1
    # Like every text, it must hold a hint first (rarely read: only when a line is boilerplate).
    return spans if spans and _has_hint(text.lower()) else []


def _has_hint(lowered: str) -> bool:
    """True when some line of `lowered` may be boilerplate: it holds a hint or a line is just "top"."""
    return any(hint in lowered for hint in _BOILERPLATE_HINTS) or bool(_TOP_LINE.search(lowered))


def _ascii_boilerplate_spans(text: str, lowered: str, present: Iterable[bytes]) -> list[tuple[int, int]]:
    """`boilerplate_spans` of plain ASCII `text`, given which `_BOILERPLATE_KEYS` its words hold.

    An ASCII boilerplate line always holds one of those words, so only the lines where they stand are
    read: the same spans as reading every line, for a fraction of the cost.
    """
    starts: set[int] = set()
    for key in present:
        word = key.decode("ascii")
        found = lowered.find(word)
        while found >= 0:
            starts.add(lowered.rfind("\n", 0, found) + 1)
            line_end = lowered.find("\n", found)
            found = -1 if line_end < 0 else lowered.find(word, line_end)
    spans = []
    for start in sorted(starts):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        if end - start <= _MAX_BOILERPLATE_LINE and is_boilerplate_line(text[start:end]):
            spans.append((start, end))
    # Like every text, it must hold a hint first (rarely read: only when a line is boilerplate).
    return spans if spans and _has_hint(lowered) else []


def tokenize(text: str, *, skip_boilerplate: bool = True) -> list[Token]:
    """The post's words with their character spans in `text`; boilerplate lines are skipped."""
    skip = boilerplate_spans(text) if skip_boilerplate else []
    cleaned = strip_invisible(text)
    if cleaned is text:
        found = [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    else:
        # Map positions in the cleaned text back to the original text.
        index = [i for i, ch in enumerate(text) if ch not in _INVISIBLE_CHARS]
        found = [(m.group(), index[m.start()], index[m.end() - 1] + 1) for m in WORD_RE.finditer(cleaned)]
    tokens = []
    k = 0
    for word, start, end in found:
        while k < len(skip) and skip[k][1] <= start:
            k += 1
        if k < len(skip) and skip[k][0] <= start < skip[k][1]:
            continue
        tokens.append(Token(word.lower() if word.isascii() else _fold(word), start, end))
    return tokens


_INVISIBLE_CHARS = frozenset(chr(c) for c in _INVISIBLE)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold().replace("’", "'")


def words(text: str) -> list[str]:
    """The normalised words of `text`, boilerplate lines skipped (fast path for plain ASCII text)."""
    if not has_boilerplate(text) and not _INVISIBLE_RE.search(text):
        if text.isascii():
            return WORD_RE.findall(text.lower())
        return [w.lower() if w.isascii() else _fold(w) for w in WORD_RE.findall(text)]
    return [t.word for t in tokenize(text)]


def own_text(text: str) -> str:
    """`text` without its boilerplate lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_boilerplate_line(line)).strip()


# -- fast word keys for overlap detection ---------------------------------------------------------------
# The duplicated-quote detector compares every post with its whole thread, so it needs words fast. Its
# words are runs of letters, digits and "_" (punctuation, apostrophes included, splits words), folded and
# encoded as UTF-8 bytes, so plain ASCII text takes a path that never leaves C.

_ASCII_SEPARATORS = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_ASCII_TABLE = bytes.maketrans(_ASCII_SEPARATORS, b" " * len(_ASCII_SEPARATORS))
_KEY_RE = re.compile(r"\w+")
_SPACE = ord(" ")
# Word characters by code point: ASCII ones from the table above, 128 stands for every non-ASCII one.
_IS_WORD_POINT = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)] + [True])


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the character `spans` replaced by spaces."""
    if not spans:
        return text
    parts = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(" " * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# Every boilerplate line of plain ASCII text holds one of these words (as `word_keys` splits it): the
# login nag "register", "attachment", "expand", "said", "top" and the file name extensions.
_BOILERPLATE_KEYS = frozenset(
    b"register attachment expand said top jpg jpeg png gif webp bmp heic mp4 webm pdf zip txt".split()
)


def word_keys(text: str) -> list[bytes]:
    """The words of `text` as folded UTF-8 keys for overlap detection; boilerplate lines are skipped."""
    if text.isascii():
        keys = text.encode("ascii").lower().translate(_ASCII_TABLE).split()
        # Hashing the words here costs little: the shingle hashes need them anyway.
        if _BOILERPLATE_KEYS.isdisjoint(keys):
            return keys
        spans = _ascii_boilerplate_spans(text, text.lower(), _BOILERPLATE_KEYS.intersection(keys))
        if not spans:
            return keys
        return _blank(text, spans).encode("ascii").lower().translate(_ASCII_TABLE).split()
    keys = _unicode_keys(text)
    spans = _unicode_boilerplate_spans(text, _BOILERPLATE_KEYS.intersection(keys))
    return _unicode_keys(_blank(text, spans)) if spans else keys


# Non-ASCII characters that are not word characters: spaces for the word split below.
_NON_ASCII_SEPARATOR = re.compile(r"[^\w\x00-\x7f]")


def _separated_lines(text: str, fold: bool) -> str:
    """`text` line by line: ASCII lines as they are (`str.isascii` costs nothing), the others with their
    non-ASCII separators made spaces (after NFKC, invisible characters removed and case folding if `fold`).

    NFKC and case folding never reach across a newline, so line by line gives what the whole text gives.
    """
    lines = text.split("\n")
    if fold:
        return "\n".join(
            line
            if line.isascii()
            else _NON_ASCII_SEPARATOR.sub(
                " ", unicodedata.normalize("NFKC", strip_invisible(line)).casefold()
            )
            for line in lines
        )
    return "\n".join(line if line.isascii() else _NON_ASCII_SEPARATOR.sub(" ", line) for line in lines)


def _unicode_keys(text: str) -> list[bytes]:
    """`word_keys` of `text` with boilerplate lines counted: the runs of word characters (`\\w+`) of its
    folded form, as UTF-8. The folded text's separators are all ASCII, so C-level byte methods split it."""
    return _separated_lines(text, fold=True).encode("utf-8").lower().translate(_ASCII_TABLE).split()


def shingle_hashes(keys: Sequence[Hashable], size: int) -> list[int]:
    """Hashes of every run of `size` consecutive word keys, hash(tuple(keys[i:i + size])) (none for a text
    shorter than that)."""
    if len(keys) < size:
        return []
    return list(map(hash, zip(*(keys[i:] for i in range(size)), strict=False)))


def forget_oldest(table: dict[Any, Any], limit: int) -> None:
    """Drop the oldest entries of an insertion-ordered dict until it holds at most `limit` entries."""
    excess = len(table) - limit
    if excess > 0:
        for key in [k for k, _ in zip(table, range(excess), strict=False)]:
            del table[key]


def ascii_word_bounds(text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Where the words `word_keys` finds in plain ASCII `text` start and end (boilerplate not skipped)."""
    # The words are the runs of bytes other than space once separators are spaces: find where the runs
    # begin and end in C (numpy), padded with a space each side so that every run has both.
    padded = np.frombuffer(b" " + text.encode("ascii").translate(_ASCII_TABLE) + b" ", dtype=np.uint8)
    is_word = padded != _SPACE
    edges = (is_word[1:] != is_word[:-1]).nonzero()[0]
    return edges[0::2], edges[1::2]


def word_key_spans(text: str) -> list[tuple[int, int]] | None:
    """Character spans in `text` of the words `word_keys` returns, or None where they cannot be aligned."""
    text = _blank(text, boilerplate_spans(text))
    if text.isascii():
        starts, ends = ascii_word_bounds(text)
        return list(zip(starts.tolist(), ends.tolist(), strict=True))
    index: list[int] | None = None
    if _INVISIBLE_RE.search(text):
        index = [i for i, ch in enumerate(text) if ch not in _INVISIBLE_CHARS]
        text = "".join(text[i] for i in index)
    # The runs of word characters (`\\w+`), found in C: non-ASCII separators become spaces (same length),
    # then every remaining non-ASCII character is a word character.
    points = np.frombuffer(_separated_lines(text, fold=False).encode("utf-32-le"), dtype=np.uint32)
    is_word = np.zeros(len(points) + 2, dtype=bool)
    is_word[1:-1] = _IS_WORD_POINT[np.minimum(points, 128)]
    edges = (is_word[1:] != is_word[:-1]).nonzero()[0]
    starts, ends = edges[0::2], edges[1::2]
    wide = (points > 127).nonzero()[0]
    for k in sorted(set((np.searchsorted(starts, wide, side="right") - 1).tolist())):
        piece = text[starts[k] : ends[k]]
        if len(_KEY_RE.findall(unicodedata.normalize("NFKC", piece))) != 1:
            return None  # normalisation splits or merges words here: no reliable spans
    found = zip(starts.tolist(), ends.tolist(), strict=True)
    spans = list(found) if index is None else [(index[start], index[end - 1] + 1) for start, end in found]
    # Normalisation can also turn symbols into letters ("℠" -> "sm"): then the counts differ. Once its
    # boilerplate lines are blank, the text has none left, unless removing invisible characters made some.
    keys = word_keys(text) if index is not None else _unicode_keys(text)
    return spans if len(spans) == len(keys) else None
