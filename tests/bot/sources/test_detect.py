"""Format detection, reading files and stdin, refusing bad input, and hostile text kept exact."""

from __future__ import annotations

import html
import io
import json
import sys

import pytest

from bot.errors import ParseError
from bot.sources import detect_format, load_thread, load_threads, parse_text
from tests import paths

FIXTURES = paths.FIXTURES / "sources"
NB = "\u00a0"

HOSTILE = [
    "@everyone @here <@&123456789> look at this",
    "**bold** __under__ ~~gone~~ `code` ||spoiler|| > quote # heading",
    "[totally safe](http://evil.example/steal) and <http://evil.example>",
    "id\u200biot with zero\u200dwidth\ufeff joiners\u2060",
    "right-to-left \u202eoverride\u202c and \u2066isolate\u2069",
    "nul\x00byte and bell\x07 and escape\x1b[31m",
    "emoji 👍🏽 👨‍👩‍👧 🇳🇴 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "combining e\u0301 a\u0308 Z\u0351\u0352\u0353\u0354 and hangul \u1100\u1161",
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("pasted_thread.txt", "pasted"), ("threads.jsonl", "jsonl"), ("xenforo_thread.html", "xenforo")],
)
def test_detects_each_fixture(path, expected):
    text = (FIXTURES / path).read_text(encoding="utf-8")
    assert detect_format(text) == expected
    assert {t.source_format for t in load_threads(str(FIXTURES / path))} == {expected}


def test_a_byte_order_mark_is_allowed(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "1", "text": "x"}\n')
    assert load_thread(str(path)).posts[0].text == "x"


def test_pasted_text_that_mentions_markup_is_still_pasted():
    text = f"Web design\n\nkestrel9\n\nHow do I centre an <article> inside <html>?\n{NB}\n"
    (thread,) = parse_text(text, "t.txt")
    assert thread.source_format == "pasted"
    assert thread.posts[0].text == "How do I centre an <article> inside <html>?"


def test_reads_stdin(monkeypatch):
    data = (FIXTURES / "threads.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert load_thread("-").id == "harbour"


def test_errors_on_stdin_name_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"))
    with pytest.raises(ParseError, match=r"^<stdin>: expected .*empty"):
        load_thread("-")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"expected a thread .*the input is empty"),
        (b"   \n\n\t\n", r"the input is empty"),
        (b"caf\xe9 au lait\n\nname\n\nbody\n", r"expected UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x00", r"expected UTF-8 text"),
        (bytes(range(1, 32)) * 40, r"expected text .*binary"),
        (b"\x00" * 500, r"expected text .*binary"),
        (b"Just one line, no posts", r"expected pasted thread text"),
        (b'{"id": "1", "text": ', r"line 1: expected a JSON object"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=message) as info:
        load_thread(str(path))
    text = str(info.value)
    assert text.startswith(str(path))
    assert "\n" not in text


def test_missing_files_and_directories(tmp_path):
    with pytest.raises(ParseError, match=r"expected a readable file \(No such file"):
        load_thread(str(tmp_path / "nope.txt"))
    with pytest.raises(ParseError, match=r"expected a readable file"):
        load_thread(str(tmp_path))
    with pytest.raises(ParseError, match=r"expected a readable file"):
        load_thread("bad\x00name.txt")


def test_inputs_over_the_cap_are_refused(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes((FIXTURES / "pasted_thread.txt").read_bytes())
    with pytest.raises(ParseError, match=r"expected an input of at most 100 bytes"):
        load_thread(str(path), max_bytes=100)
    with pytest.raises(ParseError, match=r"at most 100 characters"):
        parse_text("x" * 101, "s", max_chars=100)


# Hostile text: parsed without a crash and kept exactly as written.


def test_hostile_text_in_pasted_threads_is_kept_exact():
    big = ("a long line of words " * 50 + "\n") * 1000  # about 1 MB
    lines = ["Hostile", ""]
    for n, line in enumerate([*HOSTILE, big.rstrip("\n")]):
        lines += [f"user{n}", "", line, NB, ""]
    (thread,) = parse_text("\n".join(lines), "hostile.txt")
    assert [p.text for p in thread.posts] == [*HOSTILE, big.rstrip("\n")]


def test_hostile_text_in_json_lines_is_kept_exact():
    big = "x" * 1_000_000
    rows = [json.dumps({"id": str(n), "thread_id": "t", "text": t}) for n, t in enumerate([*HOSTILE, big])]
    rows.append(json.dumps({"id": "raw", "thread_id": "t", "text": HOSTILE[6]}, ensure_ascii=False))
    (thread,) = parse_text("\n".join(rows), "hostile.jsonl")
    assert [p.text for p in thread.posts] == [*HOSTILE, big, HOSTILE[6]]


def test_hostile_text_in_xenforo_pages_survives():
    def article(n: int, body: str) -> str:
        return (
            f'<article class="message message--post" data-author="{html.escape(body[:20])}"'
            f' data-content="post-{n}">'
            f'<div class="message-body"><div class="bbWrapper">{body}</div></div></article>'
        )

    big = "word " * 200_000
    bodies = [html.escape(t) for t in HOSTILE] + [big]
    page = (
        "<!DOCTYPE html><html><body>"
        + "".join(article(n, b) for n, b in enumerate(bodies))
        + "</body></html>"
    )
    (thread,) = parse_text(page, "hostile.html")
    expected = [t.replace("\x00", "\ufffd") for t in HOSTILE]  # HTML itself turns NUL into U+FFFD
    assert [p.text for p in thread.posts[: len(HOSTILE)]] == expected
    assert thread.posts[-1].text == big.strip()
    assert thread.posts[3].author == HOSTILE[3][:20]


def test_a_pasted_title_starting_with_a_brace_is_still_pasted():
    text = f"{{Poll}} Which ferry do you take?\n\nkestrel9\n\nThe early one.\n{NB}\n"
    (thread,) = parse_text(text, "t.txt")
    assert (thread.source_format, thread.title) == ("pasted", "{Poll} Which ferry do you take?")


def test_the_format_name_detect_uses_is_the_xenforo_readers() -> None:
    from bot.sources import detect, xenforo

    assert detect.XENFORO == xenforo.FORMAT
