"""A XenForo 2 thread page (saved from the browser or fetched live) as a `Thread`.

Posts are the page's `article.message--post` elements: author from `data-author`, id from
`data-content="post-N"` (the id is "N"), permalink from the post's share link (resolved against the page's
`link[rel=canonical]` / `og:url`, or the URL the page was fetched from), user title from `.userTitle`, time
from `time[datetime]`, position from the "#N" link (else 1-based page order), body from
`.message-body .bbWrapper`.

Quote blocks (`blockquote.bbCodeBlock--quote`, also the `div` form some styles use, and plain
`blockquote`s) become `Quote`s: `data-quote` is the quoted author and `data-source="post: N"` the quoted
post; quotes inside quotes stay nested. The "X said:" title and the "Click to expand..." link are dropped,
and a post's text holds only its own words, never the text of its quote blocks. A quote without
attribution (a pasted article) has author and post id None. Block elements and `<br>` become line breaks.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import warnings
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import Tag

from bot.errors import ParseError
from bot.sources.html_text import _HTML_WS, _SURROGATE, _attribute, _classes, _is_quote, _render
from classifiers.thread import Post, Quote, Thread

FORMAT = "xenforo"
EXPECTED = "a XenForo 2 thread page (HTML with article.message--post posts)"

MAX_QUOTE_DEPTH = 32  # deeper quote pyramids are flattened into the 32nd level's text

_POST_NUMBER = re.compile(r"(\d+)\s*$")
_QUOTE_SOURCE = re.compile(r"post:\s*(\d+)")
_GOTO_POST = re.compile(r"(?:[?&]id=|#post-|/posts?[-/])(\d+)")
_THREAD_ID = re.compile(r"/threads/(?:[^/]*\.)?(\d+)(?:/|$)")
_POSITION = re.compile(r"^#\s*([\d,.\u00a0 ]+)$")


def parse_xenforo(text: str, source: str, *, base_url: str | None = None) -> Thread:
    """Parse a XenForo 2 thread page; ParseError if it holds no `article.message--post` posts."""
    soup = _soup(text)
    articles = [a for a in soup.select("article.message--post") if isinstance(a, Tag)]
    if not articles:
        raise ParseError(source, EXPECTED, "no article.message--post elements found")
    base = _page_url(soup, base_url)
    authors_by_post = {_post_id(a) or "": _attribute(a, "data-author") for a in articles}
    quote_reader = _QuoteReader(authors_by_post)
    chromes = [_Chrome(article) for article in articles]
    posts = [
        _post(article, chrome, index, base, quote_reader)
        for index, (article, chrome) in enumerate(zip(articles, chromes, strict=True), start=1)
    ]
    posts = _with_positions(posts, [chrome.position() for chrome in chromes])
    title = _title(soup)
    thread_id = _thread_id(soup, base, title)
    return Thread(id=thread_id, title=title, posts=tuple(posts), url=base, source_format=FORMAT)


def _soup(text: str) -> BeautifulSoup:
    # lxml cannot encode lone surrogates, and HTML turns NUL into U+FFFD anyway.
    cleaned = _SURROGATE.sub("\ufffd", text).replace("\x00", "\ufffd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(cleaned, "lxml")


def _post(article: Tag, chrome: _Chrome, index: int, base: str | None, quote_reader: _QuoteReader) -> Post:
    post_id = _post_id(article) or f"p{index}"
    body = article.select_one(".message-body .bbWrapper")
    text, quotes = ("", ()) if body is None else quote_reader.render(body, depth=0)
    return Post(
        id=post_id,
        text=text,
        author=_attribute(article, "data-author") or chrome.text_of("message-name"),
        position=index,
        url=chrome.permalink(post_id, base),
        created_at=chrome.created_at(),
        user_title=chrome.text_of("userTitle"),
        quotes=quotes,
    )


def _post_id(article: Tag) -> str | None:
    for attribute in ("data-content", "id"):
        value = _attribute(article, attribute)
        if value and (match := _POST_NUMBER.search(value)):
            return match.group(1)
    return None


class _Chrome:
    """The elements of a post outside its body (which users write): name, title, time, links.

    Collected in one walk that never enters `.message-body`, so the cost is linear in the page.
    """

    def __init__(self, article: Tag) -> None:
        self.tags: list[tuple[Tag, bool]] = []  # (element, inside .message-attribution)
        stack: list[tuple[Tag, bool]] = [(article, False)]
        while stack:
            tag, in_attribution = stack.pop()
            classes = _classes(tag)
            if "message-body" in classes:
                continue
            in_attribution = in_attribution or "message-attribution" in classes
            if tag is not article:
                self.tags.append((tag, in_attribution))
            stack.extend((c, in_attribution) for c in reversed(tag.contents) if isinstance(c, Tag))

    def text_of(self, css_class: str) -> str | None:
        """The text of the first element with `css_class`, whitespace collapsed."""
        for tag, _ in self.tags:
            if css_class in _classes(tag):
                value = _HTML_WS.sub(" ", tag.get_text()).strip()
                if value:
                    return value
        return None

    def permalink(self, post_id: str, base: str | None) -> str | None:
        """The share link (or any link to this post), made absolute against `base` when known."""
        anchors = [t for t, _ in self.tags if t.name == "a" and _attribute(t, "href")]
        anchors.sort(key=lambda t: "message-attribution-gadget" not in _classes(t))
        for anchor in anchors:
            href = _attribute(anchor, "href")
            if f"post-{post_id}" in href or f"/posts/{post_id}" in href:
                link = _joined(base, href)
                if link:
                    return link
        return None

    def created_at(self) -> str | None:
        times = [(t, inside) for t, inside in self.tags if t.name == "time" and _attribute(t, "datetime")]
        times.sort(key=lambda pair: not pair[1])  # the post's own time is in its attribution header
        return _attribute(times[0][0], "datetime") if times else None

    def position(self) -> int | None:
        """The post's number as the forum shows it ("#12"), if it does."""
        for tag, inside in self.tags:
            if inside and tag.name == "a":
                match = _POSITION.match(_HTML_WS.sub(" ", tag.get_text()).strip())
                if match:
                    digits = re.sub(r"\D", "", match.group(1))
                    return int(digits) if digits and len(digits) < 10 else None
        return None


def _with_positions(posts: list[Post], numbers: list[int | None]) -> list[Post]:
    """Use the forum's own post numbers when every post has one and they increase (page 2 starts at 21)."""
    known = [n for n in numbers if n is not None]
    if len(known) != len(posts) or any(b <= a for a, b in itertools.pairwise(known)):
        return posts
    return [replace(post, position=number) for post, number in zip(posts, known, strict=True)]


def _page_url(soup: BeautifulSoup, base_url: str | None) -> str | None:
    """The page's canonical URL (absolute where possible), else the URL it was fetched from."""
    candidates = ((soup.select_one("link[rel=canonical]"), "href"), (_og(soup, "og:url"), "content"))
    for tag, attribute in candidates:
        if isinstance(tag, Tag):
            value = _joined(base_url, _attribute(tag, attribute))
            if value:
                return value
    return base_url if _joined(None, base_url) else None


def _joined(base: str | None, href: str | None) -> str | None:
    """`href` made absolute against `base`; None for a link no URL parser reads (`https://[forum.example/`)."""
    if not href:
        return None
    try:
        link = urljoin(base, href) if base else href
        urlsplit(link)
    except ValueError:
        return None
    return link


def _og(soup: BeautifulSoup, name: str) -> Tag | None:
    for tag in soup.find_all("meta"):
        if isinstance(tag, Tag) and _attribute(tag, "property") == name:
            return tag
    return None


def _title(soup: BeautifulSoup) -> str:
    heading = soup.select_one("h1.p-title-value")
    if isinstance(heading, Tag):
        # Thread prefixes ("Question", "Solved") are labels, not part of the title.
        words = [
            s for s in heading.find_all(string=True) if not any("label" in _classes(p) for p in s.parents)
        ]
        value = _HTML_WS.sub(" ", "".join(words)).strip()
        if value:
            return value
    og_title = _og(soup, "og:title")
    if og_title is not None:
        value = _attribute(og_title, "content")
        if value:
            return value
    if isinstance(soup.title, Tag):
        value = _HTML_WS.sub(" ", soup.title.get_text()).strip()
        # "<thread title> | <forum name>"
        return value.rsplit(" | ", 1)[0].strip() if " | " in value else value
    return ""


def _thread_id(soup: BeautifulSoup, url: str | None, title: str) -> str:
    html = soup.find("html")
    if isinstance(html, Tag):
        key = _attribute(html, "data-content-key")
        if key.startswith("thread-") and key[7:].isdigit():
            return key[7:]
    if url and (match := _THREAD_ID.search(url)):
        return match.group(1)
    digest = hashlib.sha256(title.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"xenforo-{digest}"


class _QuoteReader:
    """Renders a body to text, lifting quote blocks out as (possibly nested) `Quote`s."""

    def __init__(self, authors_by_post: dict[str, str]) -> None:
        self._authors_by_post = authors_by_post

    def render(self, root: Tag, depth: int) -> tuple[str, tuple[Quote, ...]]:
        """The text of `root` without its quote blocks, and those blocks as quotes (in order)."""
        quotes: list[Quote] = []

        def on_quote(tag: Tag) -> bool:
            if depth >= MAX_QUOTE_DEPTH:
                return False  # render it inline: keeps the text, bounds the recursion
            quotes.append(self.quote(tag, depth + 1))
            return True

        return _render(root, on_quote), tuple(quotes)

    def quote(self, block: Tag, depth: int) -> Quote:
        author = _attribute(block, "data-quote") or None
        post_id = None
        source = _attribute(block, "data-source")
        if match := _QUOTE_SOURCE.search(source):
            post_id = match.group(1)
        jump = _first_own(block, lambda t: "bbCodeBlock-sourceJump" in _classes(t))
        if jump is not None and post_id is None:
            for attribute in ("data-content-selector", "href"):
                if match := _GOTO_POST.search(_attribute(jump, attribute)):
                    post_id = match.group(1)
                    break
        if jump is not None and author is None:
            said = _HTML_WS.sub(" ", jump.get_text()).strip()
            if said.endswith(" said:"):
                author = said[: -len(" said:")].strip() or None
            elif post_id is not None:
                author = self._authors_by_post.get(post_id) or None
        content = _first_own(block, lambda t: "bbCodeBlock-content" in _classes(t)) or block
        text, nested = self.render(content, depth)
        return Quote(text=text, author=author, post_id=post_id, nested=nested)


def _first_own(block: Tag, wanted: Callable[[Tag], bool]) -> Tag | None:
    """The first descendant of `block` for which `wanted` holds, not looking inside nested quotes."""
    stack = [c for c in reversed(block.contents) if isinstance(c, Tag)]
    while stack:
        tag = stack.pop()
        if wanted(tag):
            return tag
        if not _is_quote(tag):
            stack.extend(c for c in reversed(tag.contents) if isinstance(c, Tag))
    return None
