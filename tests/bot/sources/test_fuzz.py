"""Random and mutated input only ever gives threads or a ParseError (never another exception)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import ParseError
from bot.sources import load_thread, parse_text
from bot.sources.jsonl import parse_jsonl_line
from classifiers.thread import Post, Thread
from tests import paths

FIXTURES = paths.FIXTURES / "sources"
SAMPLES = [
    (FIXTURES / name).read_text(encoding="utf-8")
    for name in ("pasted_thread.txt", "threads.jsonl", "xenforo_thread.html")
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_refuses(text: str) -> None:
    try:
        threads = parse_text(text, "fuzz")
    except ParseError as exc:
        assert str(exc).startswith("fuzz")
        return
    assert threads
    for thread in threads:
        assert isinstance(thread, Thread)
        assert thread.source_format in {"pasted", "jsonl", "xenforo"}
        assert thread.posts and all(isinstance(p, Post) and isinstance(p.text, str) for p in thread.posts)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A fixture truncated, spliced, or with characters flipped, possibly several times."""
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["truncate", "cut", "insert", "flip", "duplicate", "splice"]))
        if kind == "truncate":
            text = text[:at]
        elif kind == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 400)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.text(max_size=40)) + text[at:]
        elif kind == "flip" and text:
            at = min(at, len(text) - 1)
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
        elif kind == "duplicate":
            text = text[:at] + text[at : at + draw(st.integers(1, 400))] + text[at:]
        else:
            other = draw(st.sampled_from(SAMPLES))
            text = text[:at] + other[draw(st.integers(0, len(other))) :]
    return text


@FUZZ
@given(st.text())
def test_random_text(text):
    parses_or_refuses(text)


@FUZZ
@given(
    st.lists(
        st.sampled_from(["", "\u00a0", "Top", "{", "<", "<article>", "name", "Registered Member"])
        | st.text(max_size=30),
        max_size=40,
    )
)
def test_random_line_soup(lines):
    parses_or_refuses("\n".join(lines))


@FUZZ
@given(mutated())
def test_mutated_fixtures(text):
    parses_or_refuses(text)


@FUZZ
@given(st.binary(max_size=600) | mutated().map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_from_a_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "input"
    path.write_bytes(data)
    try:
        thread = load_thread(str(path))
    except ParseError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert isinstance(thread, Thread) and thread.posts


JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# A quote's fields: any leaf, or a list or object of leaves. The parser takes a quote's field as a string or
# refuses it by its type alone, never looking inside a list or object, so nesting deeper takes no other path;
# drawing the full JSON_VALUES there (up to four quotes of three fields of twelve leaves each) doubled this
# test's time (median CPU 2.3 s against 1.1 s, 150 examples each).
QUOTE_FIELDS = (
    JSON_LEAVES
    | st.lists(JSON_LEAVES, max_size=3)
    | st.dictionaries(st.text(max_size=8), JSON_LEAVES, max_size=3)
)
KEYS = st.sampled_from(["id", "text", "thread_id", "thread_title", "author", "url", "created_at", "quotes"])


@FUZZ
@given(
    st.dictionaries(
        KEYS,
        # A quote list of up to four: longer lists repeat what the parser does per quote, and Hypothesis spent
        # most of this test generating long nested lists (up to 0.2 s an example).
        JSON_VALUES
        | st.lists(st.dictionaries(st.sampled_from(["text", "author", "post_id"]), QUOTE_FIELDS), max_size=4),
    )
)
def test_random_json_objects(record):
    line = json.dumps(record)
    try:
        thread_id, title, post = parse_jsonl_line(line, 1)
    except ParseError as exc:
        assert str(exc).startswith("line 1: ")
    else:
        assert isinstance(post, Post) and post.id and isinstance(title, str)
        assert thread_id is None or isinstance(thread_id, str)
