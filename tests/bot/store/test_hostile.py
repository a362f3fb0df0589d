"""Hostile text goes into the store and comes back byte for byte: SQL metacharacters, NUL, emoji, combining
marks, bidi controls, a 1 MB post; in post text, quotes, names, titles, reasons and filters."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import ReviewedPost, SourceRef, Store, post_content_hash
from classifiers.result import Evidence, Flag
from classifiers.thread import Post, Quote
from tests.bot.db_files import copy_of

SOURCE = SourceRef("web", "https://forum.test")

HOSTILE = [
    "Robert'); DROP TABLE posts;--",
    "' OR '1'='1' -- ; /* */ %_ \\ \"quoted\" `tick` [bracket]",
    "NUL in the middle \x00 and at the end \x00",
    "\x00",
    "emoji 🙂👍🏽 family 👨‍👩‍👧‍👦 flags 🇺🇦🇲🇽",
    "combining: e\u0301 a\u0308 Z\u0335\u0358\u0321a\u0336\u035al\u0337\u0359g\u0334\u0353o\u0335\u0316",
    "bidi \u202eevil\u202c zero\u200bwidth \ufeffBOM",
    "line\r\nbreaks\rand\ttabs\n\n",
    "ansi \x1b[31mred\x1b[0m bell \x07",
    "@everyone [masked](https://evil.test) <script>alert(1)</script>",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 beyond the BMP 𐍈",
    "",
    " ",
]


async def _round_trip(store: Store, post: Post, title: str, reason: str) -> None:
    flag = Flag("inflammatory", 0.9, 0.6, (reason,), (Evidence(0, len(post.text), reason),), reason)
    result = await store.record_reviews(
        SOURCE,
        f"thread {title}",
        title,
        [ReviewedPost(post, post_content_hash(post), {"inflammatory": 0.9}, (flag,))],
    )
    stored = await store.get_post(SOURCE, post.id)
    assert stored is not None
    assert stored.to_post() == post
    assert stored.text.encode("utf-8") == post.text.encode("utf-8")
    detail = await store.get_flag(result.posts[0].flag_ids[0])
    assert detail.thread.title == title
    assert detail.flag.reasons == (reason,) and detail.flag.evidence[0].note == reason
    assert detail.flag.model_version == reason
    alert = await store.get_alert(result.posts[0].alert_id or 0)
    assert alert.items[0].post.text == post.text


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_round_trips_byte_exact(store: Store, text: str) -> None:
    post = Post(
        id=text or "empty",
        text=text,
        author=text,
        url=text,
        user_title=text,
        quotes=(Quote(text, author=text, post_id=text, nested=(Quote(text),)),),
    )
    await _round_trip(store, post, title=text, reason=text)
    # Filters with the same text find it, and treat it as text (not SQL, not LIKE patterns).
    if text:
        assert [d.post.external_id for d in await store.open_flags(author=text)] == [post.id]
        assert [d.post.external_id for d in await store.open_flags(thread=text)] == [post.id]
    counts = await store.row_counts()
    assert counts["posts"] == 1


async def test_a_one_megabyte_post_round_trips(store: Store) -> None:
    block = "Ünïcødé 🙂 '; DROP TABLE posts; -- \x00 e\u0301 "
    text = (block * (1_048_576 // len(block) + 1))[:1_048_576]
    await _round_trip(store, Post("big", text, author="big"), title="big", reason="big")
    stored = await store.get_post(SOURCE, "big")
    assert stored is not None and len(stored.text) == 1_048_576


async def test_the_same_hostile_post_again_is_unchanged_and_an_edit_is_seen(store: Store) -> None:
    post = Post("p", "a\x00b 🙂")
    first = await store.record_reviews(
        SOURCE, "t", "t", [ReviewedPost(post, post_content_hash(post), {}, ())]
    )
    again = await store.record_reviews(
        SOURCE, "t", "t", [ReviewedPost(post, post_content_hash(post), {}, ())]
    )
    edited = Post("p", "a\x00c 🙂")
    third = await store.record_reviews(
        SOURCE, "t", "t", [ReviewedPost(edited, post_content_hash(edited), {}, ())]
    )
    assert [first.posts[0].outcome, again.posts[0].outcome, third.posts[0].outcome] == [
        "new",
        "unchanged",
        "edited",
    ]


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)  # Cs: lone surrogates


@settings(max_examples=40, deadline=None)
@given(text=_text, author=_text, title=_text, quote=_text)
async def test_any_text_round_trips(
    migrated_database: Path, text: str, author: str, title: str, quote: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(copy_of(migrated_database, Path(folder) / "fuzz.db"))
        try:
            post = Post(id=f"id:{text[:20]}", text=text, author=author, quotes=(Quote(quote, author=author),))
            await _round_trip(store, post, title=title, reason=text)
        finally:
            await store.close()
