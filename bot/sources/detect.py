"""Recognising an input's format and parsing it: JSON Lines, a XenForo 2 page, or pasted thread text.

Detection, in order:
1. the first non-blank character is `{`: JSON Lines;
2. the text starts with `<`, or holds `<html`, `<!DOCTYPE` or `<article` markup: HTML, which must be a
   XenForo 2 thread page (`article.message--post` posts); other HTML is a ParseError;
3. anything else: pasted thread text, which needs a title line and at least one post.

Two fallbacks keep pasted threads readable: text that does not start with `<` and only mentions markup
somewhere, and text whose first line starts with `{` but is no JSON at all (a title such as "{Poll} ..."),
are read as pasted text when they parse as that; otherwise the first format's error stands.
"""

from __future__ import annotations

import json
import re

from bot.errors import ParseError
from bot.sources import jsonl, pasted
from classifiers.thread import Thread

JSONL = jsonl.FORMAT
XENFORO = "xenforo"  # bot.sources.xenforo.FORMAT (imported when a page is read: it brings the HTML parser)
PASTED = pasted.FORMAT

EXPECTED_ANY = "a thread (pasted text, JSON Lines or a XenForo 2 page)"
MAX_INPUT_BYTES = 50 * 1024 * 1024  # inputs larger than this are refused, not parsed

_HTML_MARKERS = re.compile(r"<(?:!doctype\s+html|html[\s>]|article[\s>])", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BINARY_SAMPLE = 8192


def detect_format(text: str) -> str:
    """The format name ("jsonl", "xenforo" or "pasted") the text looks like; it is not validated."""
    head = text.lstrip("\ufeff \t\r\n\f\v")
    if head.startswith("{"):
        return JSONL
    if head.startswith("<") or _HTML_MARKERS.search(text):
        return XENFORO
    return PASTED


def parse_text(
    text: str, source: str, *, base_url: str | None = None, max_chars: int = MAX_INPUT_BYTES
) -> list[Thread]:
    """Detect the format of `text` and parse it into threads; `source` names the input in errors.

    Pasted text and XenForo pages give one thread, JSON Lines one per thread id. `base_url` resolves
    relative permalinks of a XenForo page that has no canonical URL. Raises ParseError, never anything else.
    """
    if len(text) > max_chars:
        raise ParseError(source, f"an input of at most {max_chars} characters", f"it has {len(text)}")
    text = _SURROGATE.sub("\ufffd", text).removeprefix("\ufeff")
    if not text.strip():
        raise ParseError(source, EXPECTED_ANY, "the input is empty")
    _refuse_binary(text, source)
    kind = detect_format(text)
    if kind == JSONL:
        try:
            return jsonl.parse_jsonl(text, source)
        except ParseError as not_jsonl:
            # A pasted thread whose title starts with "{": its first line is no JSON at all.
            if _first_line_is_json(text):
                raise
            return _pasted_or(not_jsonl, text, source)
    if kind == XENFORO:
        from bot.sources import xenforo

        try:
            return [xenforo.parse_xenforo(text, source, base_url=base_url)]
        except ParseError as not_xenforo:
            if text.lstrip().startswith("<"):
                raise
            # Pasted text that merely mentions markup somewhere.
            return _pasted_or(not_xenforo, text, source)
    return [pasted.parse_pasted(text, source)]


def _pasted_or(error: ParseError, text: str, source: str) -> list[Thread]:
    """The text as a pasted thread if it reads as one, else the error of the format it looked like."""
    try:
        return [pasted.parse_pasted(text, source)]
    except ParseError:
        raise error from None


def _first_line_is_json(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def decode(data: bytes, source: str) -> str:
    """UTF-8 bytes (a BOM is allowed) as text; ParseError for other encodings and binary data."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            source, "UTF-8 text", f"byte {exc.start} is not valid UTF-8: binary data or another encoding"
        ) from None


def _refuse_binary(text: str, source: str) -> None:
    """Text mostly made of control characters is binary data that happened to decode."""
    sample = text[:_BINARY_SAMPLE]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > max(8, len(sample) // 10):
        raise ParseError(source, "text", "it looks like binary data (many control characters)")
