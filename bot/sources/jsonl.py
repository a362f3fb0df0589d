"""JSON Lines in the `classify` input format (DESIGN.md), one post per line.

Only `id` and `text` are required; `thread_id`, `thread_title`, `author`, `url`, `created_at` and `quotes`
(a list of `{text, author, post_id}`) are optional, and unknown keys are ignored. Ids given as numbers
become strings. Threads may interleave; posts of a thread keep file order and get 1-based positions.
A post without `thread_id` is a thread of its own (its thread id is the post id).

Marked quotes and inline text: when a quote's text appears verbatim in `text`, that occurrence (the first
one) is removed from the post's text, so `Post.text` holds the post's own words and quoted words are not
counted twice. A quote not found verbatim leaves `text` as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bot.errors import ParseError
from classifiers.thread import Post, Quote, Thread

FORMAT = "jsonl"
EXPECTED = "a JSON object per line with string 'id' and 'text' (the classify input format)"

_MAX_LINE_CHARS = 16 * 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_jsonl_line(line: str, lineno: int, *, source: str | None = None) -> tuple[str | None, str, Post]:
    """Parse one input line into (thread_id or None, thread_title or "", Post); ParseError if malformed.

    The post's `position` is left None: the caller knows the thread order (see `parse_jsonl`).
    `source` (a file name) prefixes the line number in error messages.
    """
    where = f"line {lineno}" if source is None else f"{source}, line {lineno}"
    if len(line) > _MAX_LINE_CHARS:
        raise ParseError(where, EXPECTED, f"the line is longer than {_MAX_LINE_CHARS} characters")
    try:
        if line.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
        record = _DECODER.decode(line)
    except (ValueError, RecursionError) as exc:
        raise ParseError(where, EXPECTED, f"not valid JSON: {_short(exc)}") from None
    if not isinstance(record, dict):
        raise ParseError(where, EXPECTED, f"a JSON {type(record).__name__}, not an object")

    post_id = _id(record, "id", where, required=True)
    assert post_id is not None  # required=True
    text = record.get("text")
    if not isinstance(text, str):
        raise ParseError(where, EXPECTED, "'text' is missing or not a string")
    quotes = _quotes(record.get("quotes"), where)
    text = _clean(text)
    for quote in quotes:
        text = _remove_once(text, quote.text)
    post = Post(
        id=post_id,
        text=text,
        author=_opt_str(record, "author", where),
        url=_opt_str(record, "url", where),
        created_at=_opt_str(record, "created_at", where),
        quotes=quotes,
    )
    thread_title = _opt_str(record, "thread_title", where) or ""
    return _id(record, "thread_id", where, required=False), thread_title, post


def parse_jsonl(text: str, source: str) -> list[Thread]:
    """Every thread in a JSON Lines text, in order of first appearance; ParseError on the first bad line."""
    # Split on "\n" only: str.splitlines would also split inside strings at U+2028 and friends.
    return threads_from_lines(text.split("\n"), source)


def threads_from_lines(lines: Iterable[str], source: str) -> list[Thread]:
    """Group parsed lines into threads (blank lines skipped); ParseError if there is no post at all."""
    groups: dict[tuple[bool, str], tuple[str, list[Post]]] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        thread_id, title, post = parse_jsonl_line(line, lineno, source=source)
        key = (True, thread_id) if thread_id is not None else (False, post.id)
        known_title, posts = groups.setdefault(key, (title, []))
        if not known_title and title:
            groups[key] = (title, posts)
        posts.append(replace(post, position=len(posts) + 1))
    if not groups:
        raise ParseError(source, EXPECTED, "no posts found")
    return [
        Thread(id=key[1], title=title, posts=tuple(posts), source_format=FORMAT)
        for key, (title, posts) in groups.items()
    ]


def _quotes(value: Any, where: str) -> tuple[Quote, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ParseError(where, EXPECTED, "'quotes' must be a list of objects")
    quotes = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ParseError(where, EXPECTED, f"quote {n} must be an object with a string 'text'")
        quotes.append(
            Quote(
                text=_clean(item["text"]),
                author=_opt_str(item, "author", where),
                post_id=_id(item, "post_id", where, required=False),
            )
        )
    return tuple(quotes)


def _id(record: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    """A string id; numbers are turned into strings (1 -> "1")."""
    value = record.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParseError(where, EXPECTED, f"'{key}' must be a string or a number")
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    result = _clean(str(value))
    if not result.strip():
        raise ParseError(where, EXPECTED, f"'{key}' is empty")
    return result


def _opt_str(record: dict[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(where, EXPECTED, f"'{key}' must be a string")
    return _clean(value)


def _remove_once(text: str, quoted: str) -> str:
    """`text` without the first verbatim occurrence of `quoted` (blank quotes are never removed)."""
    if not quoted.strip():
        return text
    at = text.find(quoted)
    if at < 0:
        return text
    before, after = text[:at], text[at + len(quoted) :]
    if before.endswith(" ") and after.startswith(" "):
        after = after[1:]
    return (before + after).strip()


def _clean(value: str) -> str:
    """Replace lone surrogates (JSON allows escaping them) with U+FFFD so the text is valid Unicode."""
    # An ASCII string has none: the check is a tenth of the search (half of parsing a line was this).
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every line: `json.loads` with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _short(exc: Exception) -> str:
    message = str(exc)
    return message if len(message) <= 120 else message[:117] + "..."
