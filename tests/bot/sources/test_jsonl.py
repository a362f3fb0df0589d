"""JSON Lines in the classify input format."""

from __future__ import annotations

import json

import pytest

from bot.errors import ParseError
from bot.sources import load_thread, load_threads, parse_text
from bot.sources.jsonl import parse_jsonl_line
from tests import paths

FIXTURES = paths.FIXTURES / "sources"


def test_interleaved_threads_keep_file_order():
    threads = load_threads(str(FIXTURES / "threads.jsonl"))
    assert [t.id for t in threads] == ["harbour", "7", "lonely"]
    assert all(t.source_format == "jsonl" for t in threads)
    harbour, allotments, lonely = threads
    assert [p.id for p in harbour.posts] == ["a1", "a2", "a3"]
    assert [p.position for p in harbour.posts] == [1, 2, 3]
    assert harbour.title == "Harbour ferry"
    assert [p.id for p in allotments.posts] == ["101", "102"]  # numeric ids become strings
    assert allotments.title == "Allotment waiting list"
    assert (lonely.title, [p.id for p in lonely.posts]) == ("", ["lonely"])


def test_load_thread_returns_the_first_thread():
    assert load_thread(str(FIXTURES / "threads.jsonl")).id == "harbour"


def test_optional_fields_and_quotes():
    harbour = load_threads(str(FIXTURES / "threads.jsonl"))[0]
    first, second, third = harbour.posts
    assert first.url == "https://forum.example/threads/harbour.1/post-1"
    assert first.created_at == "2025-03-01T10:00:00Z"
    assert first.author == "Quillfeather"
    assert third.author is None and third.url is None and third.quotes == ()
    (quote,) = second.quotes
    assert (quote.author, quote.post_id, quote.text) == (
        "Quillfeather",
        "a1",
        "The night ferry stops after October.",
    )
    # The quoted words stood verbatim in the text: that occurrence is removed.
    assert second.text == "Forty a night is not nothing."


def test_a_quote_not_found_verbatim_leaves_the_text_alone():
    allotments = load_threads(str(FIXTURES / "threads.jsonl"))[1]
    reply = allotments.posts[1]
    assert reply.text == "Split the big plots in half and the list halves too."
    assert reply.quotes[0].post_id == "101" and reply.quotes[0].author is None


def test_only_the_first_occurrence_of_a_quote_is_removed():
    line = json.dumps({"id": "x", "text": "echo one echo", "quotes": [{"text": "echo"}]})
    assert parse_jsonl_line(line, 1)[2].text == "one echo"


def test_parse_jsonl_line_returns_thread_id_title_and_post():
    line = json.dumps({"id": 5, "thread_id": 12.0, "thread_title": "T", "text": "hi", "author": "a"})
    thread_id, title, post = parse_jsonl_line(line, 3)
    assert (thread_id, title, post.id, post.text, post.author) == ("12", "T", "5", "hi", "a")
    assert parse_jsonl_line('{"id": "p", "text": ""}', 1)[:2] == (None, "")


def test_unicode_line_separators_inside_strings_do_not_split_lines():
    text = json.dumps({"id": "1", "text": "one\u2028two\u0085three"}, ensure_ascii=False) + "\n"
    (thread,) = parse_text(text, "u.jsonl")
    assert thread.posts[0].text == "one\u2028two\u0085three"


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not an object"),
        ('{"text": "no id"}', "'id'"),
        ('{"id": true, "text": "x"}', "'id'"),
        ('{"id": "", "text": "x"}', "'id' is empty"),
        ('{"id": "1"}', "'text'"),
        ('{"id": "1", "text": 5}', "'text'"),
        ('{"id": "1", "text": "x", "quotes": "no"}', "'quotes'"),
        ('{"id": "1", "text": "x", "quotes": [{"author": "a"}]}', "quote 1"),
        ('{"id": "1", "text": "x", "author": 3}', "'author'"),
        ('{"id": NaN, "text": "x"}', "not valid JSON"),
        ('{"id": {"a": 1}, "text": "x"}', "'id'"),
    ],
)
def test_malformed_lines_name_the_line(line, detail):
    with pytest.raises(ParseError) as info:
        parse_jsonl_line(line, 42)
    assert str(info.value).startswith("line 42: expected ")
    assert detail in str(info.value)


def test_a_bad_line_in_a_file_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": "1", "text": "fine"}\n\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(ParseError) as info:
        load_threads(str(path))
    assert str(info.value).startswith(f"{path}, line 3: expected ")


def test_blank_lines_and_crlf_are_fine():
    text = '{"id": "1", "text": "a"}\r\n\r\n  \r\n{"id": "2", "text": "b", "thread_id": "t"}\r\n'
    assert [t.posts[0].text for t in parse_text(text, "x")] == ["a", "b"]
