"""Real forum threads saved by forumscraper as JSON (`forum_markup/forumscraper_json/*.json`): each post's own
HTML, read here into a `Thread` whose posts carry their marked quotes (nested ones kept), as the detectors
see a live forum.

Quote markup by forum software (the file name says which):
- phpBB: `<blockquote cite="...?p=N">` whose `<cite>` names the author (`<a>`) and links the post
  (`data-post-id`); nested blockquotes are quote pyramids.
- Invision: `<blockquote class="ipsQuote" data-ipsquote-username=... data-ipsquote-contentcommentid=N>` with
  the words in `div.ipsQuote_contents` (a plain `<blockquote>` is only styling, read as text).
- XenForo 1: `div.bbCodeQuote[data-author]`, the words in `div.quote`, the post in `a.AttributionLink`
  (`goto/post?id=N`); the post body itself sits in a `blockquote.messageText`, which is no quote.
- XenForo 2: `blockquote.bbCodeBlock--quote` (or `div`) with `data-quote` (author) and
  `data-source="post: N"`, else `a.bbCodeBlock-sourceJump` ("alice said:", `goto/post?id=N`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag

from classifiers.stopwords import ENGLISH_STOP_WORDS
from classifiers.text import words
from classifiers.thread import Post, Quote, Thread
from lab.datasets import corpus_dir
from lab.datasets.iac import IacThread

FOLDER = "forum_markup/forumscraper_json"
# The threads issue 15 counts (348 posts): phpBB, Invision and the three XenForo 2 boards.
ISSUE_15_THREADS = ("phpbb_", "invision_", "xenforo_2_")

_POST_ID = re.compile(r"(?:\bp=|post[:=?]\s*|id=|#post-)(\d+)")
_SAID = re.compile(r"\s*(?:said|wrote|napisał\(a\))\s*:?\s*$", re.IGNORECASE)
# Parts of a quote block that are chrome, not quoted words.
_CHROME_CLASSES_ALL = frozenset(
    {
        "bbCodeBlock-title",
        "bbCodeBlock-expandLink",
        "quoteExpand",
        "attribution",
        "ipsQuote_citation",
        "messageTextEndMarker",
    }
)


@dataclass(frozen=True, slots=True)
class ForumThread:
    """One saved thread: its forum software (from the file name) and the thread."""

    software: str
    thread: Thread
    path: Path


def load_forumscraper(data_dir: Path) -> list[ForumThread]:
    """Every forumscraper thread under the shared data folder, in file name order."""
    folder = corpus_dir(data_dir, FOLDER)
    return [read_forumscraper(path) for path in sorted(folder.glob("*.json"))]


def read_forumscraper(path: Path) -> ForumThread:
    """One forumscraper JSON file as a thread whose posts carry their marked quotes."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    software = _software(path.name)
    posts = [_post(software, item, position) for position, item in enumerate(raw.get("posts", []), 1)]
    thread = Thread(
        id=str(raw.get("id") or path.stem),
        title=str(raw.get("title") or ""),
        posts=tuple(posts),
        url=raw.get("url"),
        source_format=f"forumscraper-{software}",
    )
    return ForumThread(software, thread, path)


def _software(name: str) -> str:
    for software in ("phpbb", "invision", "xenforo_1", "xenforo_2"):
        if name.startswith(software):
            return software
    raise ValueError(f"{name}: not a forumscraper file name (phpbb_*, invision_*, xenforo_1_*, xenforo_2_*)")


def _post(software: str, item: dict[str, Any], position: int) -> Post:
    html = item.get("content") if "content" in item else item.get("text")
    soup = BeautifulSoup(str(html or ""), "lxml")
    text, quotes = _read(software, soup)
    post_id = item.get("postid") if software == "phpbb" else item.get("id")
    return Post(
        id=str(post_id if post_id is not None else position),
        text=text,
        author=item.get("user") or None,
        position=position,
        created_at=item.get("date") or None,
        quotes=quotes,
    )


def _read(software: str, root: Tag) -> tuple[str, tuple[Quote, ...]]:
    """The words of `root` outside its quote blocks, and those blocks as quotes (nested ones kept)."""
    blocks = [
        tag for tag in root.find_all(True) if _is_quote(software, tag) and _outermost(software, tag, root)
    ]
    quotes = []
    for block in blocks:
        quotes.append(_quote(software, block))
        block.extract()
    for tag in [t for t in root.find_all(True) if _CHROME_CLASSES_ALL.intersection(_classes(t))]:
        if not tag.decomposed:  # (not inside chrome removed already)
            tag.decompose()
    for br in root.find_all("br"):
        br.replace_with("\n")
    return _clean(root.get_text(" ")), tuple(quotes)


def _quote(software: str, block: Tag) -> Quote:
    author, post_id = _attribution(software, block)
    content = _content(software, block)
    text, nested = _read(software, content)
    return Quote(text=text, author=author, post_id=post_id, nested=nested)


def _attribution(software: str, block: Tag) -> tuple[str | None, str | None]:
    """(author, post id) a quote block names."""
    author: str | None = None
    post_id: str | None = None
    if software == "phpbb":
        cite = block.find("cite")
        if isinstance(cite, Tag):
            name = cite.find("a")
            author = name.get_text(" ", strip=True) if isinstance(name, Tag) else _said(cite)
            link = cite.find(None, {"data-post-id": True})
            post_id = str(link["data-post-id"]) if isinstance(link, Tag) else None
        post_id = post_id or _id_in(str(block.get("cite") or ""))
    elif software == "invision":
        author = str(block.get("data-ipsquote-username") or "") or None
        post_id = str(block.get("data-ipsquote-contentcommentid") or "") or None
    elif software == "xenforo_1":
        author = str(block.get("data-author") or "") or None
        link = block.find("a", class_="AttributionLink")
        post_id = _id_in(str(link.get("href") or "")) if isinstance(link, Tag) else None
    else:
        author = str(block.get("data-quote") or "") or None
        post_id = _id_in(str(block.get("data-source") or ""))
        jump = block.find("a", class_="bbCodeBlock-sourceJump")
        if isinstance(jump, Tag):
            post_id = post_id or _id_in(str(jump.get("href") or ""))
            author = author or _said(jump)
    return author, post_id


def _content(software: str, block: Tag) -> Tag:
    """The element holding a quote block's words."""
    wanted = {
        "phpbb": None,
        "invision": "ipsQuote_contents",
        "xenforo_1": "quote",
        "xenforo_2": "bbCodeBlock-content",
    }[software]
    if wanted is not None:
        found = block.find(class_=wanted)
        if isinstance(found, Tag):
            return found
    if software == "phpbb":
        cite = block.find("cite")
        if isinstance(cite, Tag):
            cite.decompose()
    return block


def _is_quote(software: str, tag: Tag) -> bool:
    classes = _classes(tag)
    if software == "phpbb":
        return tag.name == "blockquote"
    if software == "invision":
        return tag.name == "blockquote" and "ipsQuote" in classes
    if software == "xenforo_1":
        return "bbCodeQuote" in classes
    return "bbCodeBlock--quote" in classes


def _outermost(software: str, tag: Tag, root: Tag) -> bool:
    """Whether no other quote block of `root` holds `tag`."""
    parent = tag.parent
    while parent is not None and parent is not root:
        if isinstance(parent, Tag) and _is_quote(software, parent):
            return False
        parent = parent.parent
    return True


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    if isinstance(value, str):
        return value.split()
    return list(value) if value else []


def _said(tag: Tag) -> str | None:
    """'alice' from 'alice said:' (or 'wrote:', 'napisał(a):')."""
    return _SAID.sub("", tag.get_text(" ", strip=True)).strip() or None


def _id_in(text: str) -> str | None:
    match = _POST_ID.search(text)
    return match.group(1) if match else None


def _clean(text: str) -> str:
    """Text with runs of spaces made one and at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# A thread counts as English when this share of its words are English stop words (the English threads of
# the shared folder: 0.45-0.51; the Polish one: 0.06).
ENGLISH_MIN_STOP_SHARE = 0.25


def english_donors(data_dir: Path) -> list[IacThread]:
    """The English forumscraper threads as splice donors from other forums (none without the folder)."""
    if not (data_dir / FOLDER).is_dir():
        return []
    donors = []
    for forum in load_forumscraper(data_dir):
        found = [w for p in forum.thread.posts for w in words(p.text)]
        if found and sum(w in ENGLISH_STOP_WORDS for w in found) >= ENGLISH_MIN_STOP_SHARE * len(found):
            donors.append(IacThread(forum.thread, f"forumscraper {forum.software}", {}, {}))
    return donors
