"""HTML to plain text as a reader sees it: block elements and `<br>` as line breaks, scripts, styles and
forum chrome skipped, whitespace collapsed, quote blocks handed to a callback (used by the XenForo reader)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4.element import CData, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

_SURROGATE = re.compile("[\ud800-\udfff]")
_HTML_WS = re.compile(r"[ \t\n\r\f]+")
_POST_NUMBER = re.compile(r"(\d+)\s*$")
_QUOTE_SOURCE = re.compile(r"post:\s*(\d+)")
_GOTO_POST = re.compile(r"(?:[?&]id=|#post-|/posts?[-/])(\d+)")
_THREAD_ID = re.compile(r"/threads/(?:[^/]*\.)?(\d+)(?:/|$)")
_POSITION = re.compile(r"^#\s*([\d,.\u00a0 ]+)$")

_SKIP_TAGS_TEXT = """
    script style noscript template head title meta link button select option textarea input svg iframe
    object embed video audio canvas map
"""
_BLOCK_TAGS_TEXT = """
    address article aside blockquote center dd details dl dt div fieldset figcaption figure footer form
    h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody tfoot thead tr ul
"""
_SKIP_TAGS = frozenset(_SKIP_TAGS_TEXT.split())
_BLOCK_TAGS = frozenset(_BLOCK_TAGS_TEXT.split())
_SKIP_CLASSES = frozenset(
    ["bbCodeBlock-title", "bbCodeBlock-expandLink", "js-selectToQuoteEnd", "bbCodeSpoiler-button", "label"]
)
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction, CData)


def _attribute(tag: Tag, name: str) -> str:
    """An attribute's value, stripped ("" when absent)."""
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return (value or "").strip()


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    if isinstance(value, str):
        return value.split()
    return list(value) if value else []


def _is_quote(tag: Tag) -> bool:
    return tag.name == "blockquote" or "bbCodeBlock--quote" in _classes(tag)


class _TextBuilder:
    """Accumulates rendered text: inline runs collapse whitespace, blocks and `<br>` break lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._line: list[str] = []
        self._has_text = False
        self._ends_with_space = False

    def inline(self, raw: str) -> None:
        piece = _HTML_WS.sub(" ", raw)
        if not self._has_text:
            piece = piece.lstrip(" ")
        elif self._ends_with_space and piece.startswith(" "):
            piece = piece[1:]
        if piece:
            self._add(piece)

    def preformatted(self, raw: str) -> None:
        first, *rest = raw.replace("\r\n", "\n").split("\n")
        self._add(first)
        for part in rest:
            self.newline()
            self._add(part)

    def _add(self, piece: str) -> None:
        if not piece:
            return
        self._line.append(piece)
        self._has_text = True
        self._ends_with_space = piece.endswith(" ")

    def newline(self) -> None:
        self.lines.append("".join(self._line).rstrip(" "))
        self._line = []
        self._has_text = False
        self._ends_with_space = False

    def block(self) -> None:
        """Start a new line unless the current one is empty."""
        if self._has_text:
            self.newline()
        else:
            self._line = []

    def text(self) -> str:
        self.block()
        out: list[str] = []
        for line in self.lines:
            if not line and (not out or not out[-1]):
                continue  # no leading blank lines, at most one blank line in a row
            out.append(line)
        while out and not out[-1]:
            out.pop()
        return "\n".join(out)


_BLOCK_END = object()
_PRE_END = object()
_CELL_END = object()


def _render(root: Tag, on_quote: Callable[[Tag], bool]) -> str:
    """Render `root`'s content as text (iteratively: saved pages can nest deeply)."""
    out = _TextBuilder()
    in_pre = 0
    stack: list[object] = list(reversed(root.contents))
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            out.block()
        elif node is _PRE_END:
            in_pre -= 1
            out.block()
        elif node is _CELL_END:
            out.inline(" ")
        elif isinstance(node, NavigableString):
            if not isinstance(node, _SKIP_STRINGS):
                (out.preformatted if in_pre else out.inline)(str(node))
        elif isinstance(node, Tag) and node.name == "pre":
            # Code blocks keep their own line breaks and spacing.
            out.block()
            in_pre += 1
            stack.append(_PRE_END)
            stack.extend(reversed(node.contents))
        elif isinstance(node, Tag):
            _push_tag(node, out, stack, on_quote)
    return out.text()


def _push_tag(tag: Tag, out: _TextBuilder, stack: list[object], on_quote: Callable[[Tag], bool]) -> None:
    """Handle an element: emit what it shows now, push its children (and an end marker) to the stack."""
    name = tag.name
    classes = _classes(tag)
    if name in _SKIP_TAGS or _SKIP_CLASSES.intersection(classes):
        return
    if name == "br":
        out.newline()
        return
    if name == "img":
        if any(c.startswith("smilie") for c in classes):
            out.inline(_attribute(tag, "alt"))
        return
    if "bbCodeBlock--unfurl" in classes:
        # A link preview: the linked page's title and snippet are not the poster's words; its URL is.
        out.block()
        out.inline(_attribute(tag, "data-url"))
        out.block()
        return
    if _is_quote(tag):
        out.block()
        if on_quote(tag):
            out.block()
            return
    if name in _BLOCK_TAGS or _is_quote(tag):
        out.block()
        stack.append(_BLOCK_END)
    elif name in ("td", "th"):
        stack.append(_CELL_END)
    stack.extend(reversed(tag.contents))
