"""Text from posts, sources and servers made safe to show on a terminal or in Discord.

Anything a poster, a forum or a remote server wrote (post text, author names, thread titles, URLs, ids,
reasons quoting them, HTTP reason phrases) reaches a moderator's screen. Two kinds of character must not:

- control characters (C0 but tab and newline, DEL, C1): ESC starts terminal sequences that clear the screen,
  retitle the window or plant OSC 8 hyperlinks, and U+009B is a one-byte CSI; each becomes U+FFFD, so the
  moderator sees that something was there;
- bidirectional formatting characters (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates,
  U+200E/U+200F marks, U+061C): they reorder what follows, so `@everyone\\u202enimda` shows as
  "@everyoneadmin"; they are invisible, so they are removed and the text reads in its stored order.

`clean_text` keeps line breaks (post text, excerpts); `clean_line` is for one-line fields (names, titles,
URLs, ids, reasons), where a line break would let the value forge the next line of an alert.
"""

from __future__ import annotations

import logging
import re

# Tab and newline are kept by clean_text; every other C0 character, DEL and C1 is replaced.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
# Unicode's own line and paragraph separators break lines in Discord clients and some terminals.
_SEPARATORS = re.compile("[\u2028\u2029]")
_BREAKS = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")


def clean_text(text: str) -> str:
    """Multi-line text made safe to show: control characters replaced, bidi controls removed."""
    text = _BIDI.sub("", text)
    text = _SEPARATORS.sub("\n", text)
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


def clean_line(text: str) -> str:
    """One-line text made safe to show: like `clean_text`, with line breaks and tabs turned into spaces."""
    return clean_text(_BREAKS.sub(" ", text))


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines carry no terminal control sequence (log messages quote URLs, server
    answers and names); tracebacks keep their line breaks."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, cleaned."""
        return clean_text(super().format(record))
