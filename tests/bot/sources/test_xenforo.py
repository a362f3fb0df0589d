"""Saved XenForo 2 thread pages (our own fixture, shaped like the real markup)."""

from __future__ import annotations

import pytest

from bot.errors import ParseError
from bot.sources import load_thread, parse_text
from bot.sources.xenforo import MAX_QUOTE_DEPTH, parse_xenforo
from tests import paths

FIXTURES = paths.FIXTURES / "sources"
PAGE = "https://forum.example/threads/harbour-ferry-timetable.4412/"


@pytest.fixture(scope="module")
def thread():
    return load_thread(str(FIXTURES / "xenforo_thread.html"))


def test_thread_fields(thread):
    assert thread.source_format == "xenforo"
    assert thread.id == "4412"
    assert thread.title == "Harbour ferry timetable changes"  # the "Question" prefix label is dropped
    assert thread.url == PAGE


def test_post_fields(thread):
    assert [p.id for p in thread.posts] == ["9001", "9002", "9003", "9004", "9005"]
    assert [p.author for p in thread.posts] == [
        "Quillfeather",
        "marrow_bay",
        "Tollan Reed",
        "OldPilot",
        "kestrel9",
    ]
    assert [p.user_title for p in thread.posts] == [
        "Major",
        "Junior Member",
        "Captain",
        "Harbour Watch",
        "Lieutenant General",
    ]
    assert [p.position for p in thread.posts] == [1, 2, 3, 4, 5]
    assert thread.posts[0].created_at == "2025-03-01T10:00:00+0000"
    # Relative permalinks are resolved against the canonical URL.
    assert thread.posts[2].url == "https://forum.example/threads/harbour-ferry-timetable.4412/post-9003"


def test_body_text_reads_naturally(thread):
    first = thread.posts[0]
    assert first.text == (
        "The night ferry to Gullstone Island stops after October.\n\n"
        "The board says the engine is worn out. :(\n\n"
        "What do you all think?"
    )
    assert "lighthouse" not in first.text  # the signature is not the post
    assert "Like" not in first.text and "Reply" not in first.text


def test_a_simple_quote_is_lifted_out_of_the_text(thread):
    reply = thread.posts[1]
    assert reply.text == "Worn out engines can be rebuilt for far less than a new boat."
    (quote,) = reply.quotes
    assert (quote.author, quote.post_id, quote.text, quote.nested) == (
        "Quillfeather",
        "9001",
        "The board says the engine is worn out.",
        (),
    )


def test_quote_pyramids_stay_nested(thread):
    two_deep = thread.posts[2].quotes[0]
    assert (two_deep.author, two_deep.post_id, two_deep.text) == (
        "marrow_bay",
        "9002",
        "Worn out engines can be rebuilt.",
    )
    assert two_deep.depth() == 2
    assert two_deep.nested[0].author == "Quillfeather"
    assert thread.posts[2].text == "Rebuilt by whom? The yard closed years ago."

    three_deep = thread.posts[3].quotes[0]
    assert three_deep.depth() == 3
    assert [q.author for q in three_deep.walk()] == ["Tollan Reed", "marrow_bay", "Quillfeather"]
    assert [q.post_id for q in three_deep.walk()] == ["9003", "9002", "9001"]
    for quote in three_deep.walk():
        assert "said:" not in quote.text and "Click to expand" not in quote.text


def test_quoted_words_never_stand_in_the_post_text(thread):
    for post in thread.posts:
        for quote in post.all_quotes():
            assert quote.text not in post.text


def test_lists_and_code_blocks(thread):
    lines = thread.posts[3].text.splitlines()
    assert lines[:3] == ["The yard on the east pier still does marine diesel work.", "Refits", "Inspections"]
    assert lines[3:] == [
        "engine:  2x 450 kW",
        "built:   1987",
    ]  # code keeps its spacing; "Code:" title dropped


def test_unattributed_quotes_and_link_previews(thread):
    post = thread.posts[4]
    pasted_article, plain = post.quotes
    assert (pasted_article.author, pasted_article.post_id) == (None, None)
    assert pasted_article.text.startswith("The island council will meet")
    assert pasted_article.text.endswith("before the winter timetable is printed.")
    assert (plain.author, plain.post_id, plain.text) == (None, None, "A plain quote with no markup at all.")
    assert post.text == (
        "Found this in the island paper:\nSo nothing is settled yet. Island paper\nhttps://paper.example/ferry"
    )


def article(post_id: str, author: str, body: str, extra: str = "") -> str:
    return (
        f'<article class="message message--post" data-author="{author}" data-content="post-{post_id}">{extra}'
        f'<div class="message-body"><div class="bbWrapper">{body}</div></div></article>'
    )


def test_div_quotes_with_a_source_link_find_their_author_on_the_page():
    quote = (
        '<div class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote"><div class="bbCodeBlock-title">'
        '<a href="/goto/post?id=11" class="bbCodeBlock-sourceJump" data-content-selector="#post-11">'
        "rower napisał:</a></div>"
        '<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent">Ile kosztuje bilet?</div>'
        '<div class="bbCodeBlock-expandLink"><a>Kliknij by rozszerzyć..</a></div></div></div>Dwadzieścia.'
    )
    html = (
        "<html><body>"
        + article("11", "rower", "Ile kosztuje bilet?")
        + article("12", "prom", quote)
        + "</body></html>"
    )
    (thread,) = parse_text(html, "pl.html")
    reply = thread.posts[1]
    assert reply.text == "Dwadzieścia."
    assert (reply.quotes[0].author, reply.quotes[0].post_id, reply.quotes[0].text) == (
        "rower",
        "11",
        "Ile kosztuje bilet?",
    )


def test_without_a_canonical_url_the_fetch_url_resolves_permalinks():
    extra = (
        '<header class="message-attribution">'
        '<a href="/threads/t.9/post-3" class="message-attribution-gadget">s</a></header>'
    )
    html = "<html><body>" + article("3", "a", "hi", extra) + "</body></html>"
    thread = parse_xenforo(html, "x", base_url="https://f.example/threads/t.9/page-2")
    assert thread.posts[0].url == "https://f.example/threads/t.9/post-3"
    assert thread.id == "9"
    assert parse_xenforo(html, "x").posts[0].url == "/threads/t.9/post-3"


def test_forum_post_numbers_are_positions_on_later_pages():
    def numbered(n: int) -> str:
        extra = (
            '<header class="message-attribution"><ul class="message-attribution-opposite">'
            f'<li><a href="#">#{n}</a></li></ul></header>'
        )
        return article(str(100 + n), f"u{n}", f"post {n}", extra)

    html = "<html><body>" + numbered(21) + numbered(22) + "</body></html>"
    assert [p.position for p in parse_text(html, "p2.html")[0].posts] == [21, 22]


def test_very_deep_quote_pyramids_are_flattened_not_fatal():
    depth = MAX_QUOTE_DEPTH + 40
    body = '<blockquote class="bbCodeBlock--quote">level ' * depth + "</blockquote>" * depth + "mine"
    (thread,) = parse_text("<html><body>" + article("1", "a", body) + "</body></html>", "deep.html")
    post = thread.posts[0]
    assert post.text == "mine"
    assert post.quotes[0].depth() == MAX_QUOTE_DEPTH


@pytest.mark.parametrize(
    "text",
    [
        (FIXTURES / "not_xenforo.html").read_text(encoding="utf-8"),
        "<html><body><article class='news'>hello</article></body></html>",
        "<div>just a fragment</div>",
    ],
)
def test_html_that_is_not_a_xenforo_thread_is_a_parse_error(text):
    with pytest.raises(ParseError) as info:
        parse_text(text, "page.html")
    assert str(info.value).startswith("page.html: expected a XenForo 2 thread page")


@pytest.mark.parametrize(
    "canonical", ["https://[forum.example/threads/t.9/", "https://f.example/threads/t.9/"]
)
def test_a_canonical_link_no_url_parser_reads_is_ignored_not_fatal(canonical):
    # Found by the file fuzz: urljoin raised "Invalid IPv6 URL" (a ValueError, not a ParseError).
    extra = (
        '<header class="message-attribution">'
        '<a href="/threads/t.9/post-3" class="message-attribution-gadget">s</a>'
        '<a href="https://[broken/post-3">x</a></header>'
    )
    head = f'<html><head><link rel="canonical" href="{canonical}"></head><body>'
    thread = parse_text(head + article("3", "a", "hi", extra) + "</body></html>", "page.html")[0]
    assert thread.posts[0].text == "hi"
    if "[" in canonical:
        assert thread.url is None and thread.posts[0].url == "/threads/t.9/post-3"
    else:
        assert thread.url == canonical and thread.posts[0].url == "https://f.example/threads/t.9/post-3"
