"""Text normalisation shared by every detector.

One definition of "a word" for the whole product: NFKC, zero-width and format characters removed,
case folded, whitespace collapsed. Forum boilerplate lines (login nags, attachment file names, the
trailing "Top") are never a post's words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Zero-width and other invisible format characters that obfuscate words ("id\u200biot").
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064,
     0xFEFF, 0x3164, 0xFFA0]
    + list(range(0x200B, 0x2010))
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A)),
    None,
)
_WS = re.compile(r"\s+")
# A word: letters/digits, keeping inner apostrophes and hyphens ("don't", "U.S." -> "u.s").
WORD_RE = re.compile(r"\w+(?:['’.\-]\w+)*", re.UNICODE)

_BOILERPLATE = [
    re.compile(r"^please,?\s+log\s*in\s+or\s+register\s+to\s+view\s+(urls?|links?|images?|media)\s+content!?$", re.I),
    re.compile(r"^[\w\-. ()\[\]]{1,120}\.(jpe?g|png|gif|webp|bmp|heic|mp4|webm|pdf|zip|txt)$", re.I),
    re.compile(r"^(view attachment \d+|click to expand\.{0,3}|top)$", re.I),
    re.compile(r"^\S+ said:?$", re.I),
]


def strip_invisible(text: str) -> str:
    """Remove zero-width and bidi format characters."""
    return text.translate(_INVISIBLE)


def normalize(text: str) -> str:
    """NFKC, invisible characters removed, case folded, whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    return _WS.sub(" ", text).strip().casefold()


def is_boilerplate_line(line: str) -> bool:
    """True for forum chrome that is never part of a post's words."""
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


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line)))
        pos += len(line)
    return spans


def tokenize(text: str, *, skip_boilerplate: bool = True) -> list[Token]:
    """The post's words with their character spans in `text`; boilerplate lines are skipped."""
    tokens: list[Token] = []
    for start, end in _line_spans(text) if skip_boilerplate else [(0, len(text))]:
        line = text[start:end]
        if skip_boilerplate and is_boilerplate_line(line):
            continue
        cleaned = strip_invisible(line)
        if cleaned == line:
            for m in WORD_RE.finditer(line):
                tokens.append(Token(_fold(m.group()), start + m.start(), start + m.end()))
        else:
            # Map positions in the cleaned line back to the original line.
            index = [i for i, ch in enumerate(line) if ch not in _INVISIBLE_CHARS]
            for m in WORD_RE.finditer(cleaned):
                tokens.append(Token(_fold(m.group()), start + index[m.start()], start + index[m.end() - 1] + 1))
    return tokens


_INVISIBLE_CHARS = frozenset(chr(c) for c in _INVISIBLE)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold().replace("’", "'")


def words(text: str) -> list[str]:
    """The normalised words of `text`, boilerplate lines skipped."""
    return [t.word for t in tokenize(text)]


def own_text(text: str) -> str:
    """`text` without its boilerplate lines."""
    return "".join(
        line for line in text.splitlines(keepends=True) if not is_boilerplate_line(line)
    ).strip()
