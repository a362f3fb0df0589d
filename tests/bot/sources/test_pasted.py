"""The pasted thread format (the founding format), on our own fixture and built-up variants."""

from __future__ import annotations

import pytest

from bot.errors import ParseError
from bot.sources import load_thread, parse_text
from bot.sources.pasted import parse_pasted
from tests import paths

FIXTURES = paths.FIXTURES / "sources"
NB = "\u00a0"


def build(title: str, *posts: tuple[str, list[str], list[str]], tail: str = "Top") -> str:
    """A pasted thread: each post is (author, rank lines, body lines), ended by a no-break-space line."""
    lines = [title, ""]
    for author, ranks, body in posts:
        lines += [author, "", *ranks, *body, NB, ""]
    lines = [*lines[:-1], tail] if tail else lines
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def thread():
    return load_thread(str(FIXTURES / "pasted_thread.txt"))


def test_fixture_title_authors_and_ids(thread):
    assert thread.source_format == "pasted"
    assert thread.title == "Harbour Ferry Timetable Changes"
    assert [p.author for p in thread.posts] == [
        "Quillfeather",
        "marrow_bay",
        "Tollan Reed",
        "kestrel9",
        "OldPilot",
    ]
    assert [p.id for p in thread.posts] == ["1", "2", "3", "4", "5"]
    assert [p.position for p in thread.posts] == [1, 2, 3, 4, 5]
    assert all(p.url is None for p in thread.posts)
    assert thread.id.startswith("pasted-")


def test_fixture_ranks(thread):
    titles = [p.user_title for p in thread.posts]
    assert titles == [
        "Major / Registered Member",
        "Junior Member / Registered Member",
        None,  # a post without a rank
        "Lieutenant General",  # a single rank followed by a blank line
        "Harbour Watch / Senior Member",  # a custom title closed by a membership line
    ]


def test_fixture_bodies_kept_as_they_are(thread):
    first, second, third, fourth, fifth = thread.posts
    assert first.text.startswith("Please, Log in or Register to view URLs content!\n\nThe harbour board")
    assert "ferry-dock-01.jpg" in first.text
    assert first.text.endswith("Anyone here who uses the night crossing?")
    assert second.text.splitlines()[-1] == "Forty a night is not nothing."
    assert third.text.startswith("I take it twice a week.")
    assert fourth.text == "Who still rides a ferry at midnight anyway, take a cab and stop whining."
    assert fifth.text.splitlines() == [
        "The engine on that boat is older than I am. A refit was quoted last spring.",
        "ferry-engine-room.png",
        "IMG_2291.JPG",
    ]
    assert not any(line == "Top" for p in thread.posts for line in p.text.splitlines())
    assert not any(NB in p.text for p in thread.posts)


def test_crlf_trailing_whitespace_and_missing_final_separator():
    text = build(
        "Allotments",
        ("green_thumb", ["Colonel", "Registered Member"], ["Plots are free again.", "", "Sign up soon."]),
        ("Tollan Reed", [], ["Which plots?"]),
    )
    # CRLF endings, trailing spaces around separators and names, no final separator before Top.
    messy = (
        text.replace(f"\n{NB}\nTop\n", "\nTop\n").replace("\n", "\r\n").replace(f"{NB}\r\n", f" {NB} \r\n")
    )
    messy = messy.replace("green_thumb\r\n", "green_thumb  \r\n")
    thread = parse_pasted(messy, "messy.txt")
    assert [p.author for p in thread.posts] == ["green_thumb", "Tollan Reed"]
    assert thread.posts[0].user_title == "Colonel / Registered Member"
    assert thread.posts[0].text == "Plots are free again.\n\nSign up soon."
    assert thread.posts[1].text == "Which plots?"


def test_no_trailing_top_and_no_final_newline():
    text = build("T", ("a", [], ["one"]), ("b", ["Captain"], ["", "two"]), tail="").rstrip()
    thread = parse_pasted(text, "t.txt")
    assert [(p.author, p.user_title, p.text) for p in thread.posts] == [
        ("a", None, "one"),
        ("b", "Captain", "two"),
    ]


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [
        (["Registered Member"], "Registered Member"),
        (["Super Moderator"], "Super Moderator"),
        (["Moderator", "Staff Member"], "Moderator / Staff Member"),
        (["VIP Professional"], "VIP Professional"),
        (["Banned Idiot"], "Banned Idiot"),
        (["Senior Member"], "Senior Member"),
        (["Lieutenant General", "Registered Member"], "Lieutenant General / Registered Member"),
        (["Well-known member"], "Well-known member"),
    ],
)
def test_rank_variants(ranks, expected):
    thread = parse_pasted(build("Ranks", ("someone", ranks, ["Body line one.", "Body line two."])), "r.txt")
    assert thread.posts[0].user_title == expected
    assert thread.posts[0].text == "Body line one.\nBody line two."


@pytest.mark.parametrize(
    "first_line",
    ["Thanks for posting this.", "I Agree With You", "Great Post Really", "https://example.org/x"],
)
def test_body_first_lines_are_not_mistaken_for_ranks(first_line):
    thread = parse_pasted(build("Ranks", ("someone", [], [first_line, "More words here."])), "r.txt")
    assert thread.posts[0].user_title is None
    assert thread.posts[0].text.splitlines()[0] == first_line


def test_stray_no_break_space_inside_a_body_does_not_split_the_post():
    body = ["First paragraph.", NB, "Second paragraph, still the same post.", "And a third line."]
    thread = parse_pasted(build("T", ("a", [], body), ("b", [], ["reply"])), "t.txt")
    assert [p.author for p in thread.posts] == ["a", "b"]
    assert thread.posts[0].text.endswith("And a third line.")


def test_separators_turned_into_plain_spaces_still_split_posts():
    text = build("T", ("a", [], ["one"]), ("b", [], ["two"])).replace(NB, " ")
    assert [p.text for p in parse_pasted(text, "t.txt").posts] == ["one", "two"]


def test_the_same_thread_gets_the_same_id():
    text = build("T", ("a", [], ["one"]))
    assert parse_pasted(text, "x").id == parse_pasted(text.replace("\n", "\r\n"), "y").id


@pytest.mark.parametrize(
    "text",
    ["Only a title", "Only a title\n\n", "Title\n\nThis line is a sentence, not a name.\n\nbody", "\n\n\n"],
)
def test_a_title_without_posts_is_a_parse_error(text):
    with pytest.raises(ParseError) as info:
        parse_text(text, "bad.txt")
    assert str(info.value).startswith("bad.txt: expected ")
    assert info.value.exit_code == 2


def test_a_title_case_headline_after_the_ranks_stays_in_the_body():
    body = ["Member States Agree", "The ferry levy passed this morning."]
    thread = parse_pasted(build("News", ("someone", ["Colonel", "Registered Member"], body)), "n.txt")
    assert thread.posts[0].user_title == "Colonel / Registered Member"
    assert thread.posts[0].text.splitlines() == body
