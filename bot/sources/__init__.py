"""Where threads come from: pasted thread text, JSON Lines, saved or live XenForo 2 pages.

    load_thread(path_or_url)    the one thread in a file, stdin ("-") or an http(s) URL
    load_threads(path_or_url)   every thread (JSON Lines may hold several)
    fetch_threads(url)          the same from an http(s) URL, without blocking the event loop (the bot)
    parse_bytes(data, source)   the same from bytes already in memory (e.g. a Discord attachment)
    parse_text(text, source)    the same from a string already in memory
    detect_format(text)         "jsonl", "xenforo" or "pasted"

Every failure (missing file, wrong encoding, binary or empty input, input over the size cap, a format
we do not read, an unreachable URL) is a `bot.errors.ParseError` naming the source and what was
expected; nothing else escapes. Each `Thread` has `source_format` set to the format it was read from.

Imported lazily: a command that only reads JSON Lines (`classify`) does not pay for the HTML parser or
the HTTP client. The names below resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.sources.detect import MAX_INPUT_BYTES, detect_format, parse_text
    from bot.sources.fetch import fetch_page, fetch_page_async
    from bot.sources.reading import fetch_threads, load_thread, load_threads, parse_bytes

__all__ = [
    "MAX_INPUT_BYTES",
    "detect_format",
    "fetch_page",
    "fetch_page_async",
    "fetch_threads",
    "load_thread",
    "load_threads",
    "parse_bytes",
    "parse_text",
]

_HOME = {
    "MAX_INPUT_BYTES": "detect",
    "detect_format": "detect",
    "parse_text": "detect",
    "fetch_page": "fetch",
    "fetch_page_async": "fetch",
    "fetch_threads": "reading",
    "load_thread": "reading",
    "load_threads": "reading",
    "parse_bytes": "reading",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.sources' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.sources.{home}"), name)
