"""The forumscraper reader on small files written for these tests, one per forum software: quote blocks
become marked quotes with their author, post id and nesting; quote chrome is not anyone's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.thread import Quote
from lab.datasets.forumscraper import read_forumscraper

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "forumscraper"
TIMETABLE = "The ferry leaves at nine on weekdays and at ten on Sundays."


def test_phpbb_quotes_name_their_author_and_post_and_keep_their_pyramid() -> None:
    forum = read_forumscraper(FIXTURES / "phpbb_1.json")
    assert forum.software == "phpbb" and forum.thread.title == "Ferry timetable"
    first, reply, pyramid = forum.thread.posts
    assert (first.id, first.author, first.position, first.quotes) == ("11", "ana", 1, ())
    assert reply.text == "And on holidays?\nThanks!"
    assert reply.quotes == (Quote(TIMETABLE, author="ana", post_id="11"),)
    [outer] = pyramid.quotes
    assert (outer.author, outer.post_id, outer.text) == ("ben", "12", "And on holidays?")
    assert outer.nested == (Quote(TIMETABLE, author="ana", post_id="11"),)
    assert outer.depth() == 2 and pyramid.text == "Holidays follow the Sunday timetable."


def test_invision_quotes_and_a_styled_blockquote_that_is_no_quote() -> None:
    _, reply = read_forumscraper(FIXTURES / "invision_1.json").thread.posts
    assert reply.quotes == (Quote("The new editor saves drafts every minute.", author="dee", post_id="21"),)
    assert reply.text == "Can it be turned off? styled text, not a quote"


def test_xenforo_1_quotes_inside_the_message_body() -> None:
    _, reply = read_forumscraper(FIXTURES / "xenforo_1_1.json").thread.posts
    assert reply.quotes == (Quote("My amplifier hums at high volume.", author="fay", post_id="31"),)
    assert reply.text == "Check the ground loop first."


@pytest.mark.parametrize(("index", "author", "post_id"), [(1, "hal", "41"), (2, "ida", "42")])
def test_xenforo_2_quotes_by_attribute_or_by_their_source_link(index: int, author: str, post_id: str) -> None:
    post = read_forumscraper(FIXTURES / "xenforo_2_1.json").thread.posts[index]
    [quote] = post.quotes
    assert (quote.author, quote.post_id) == (author, post_id)
    assert "Click to expand" not in quote.text and "said" not in quote.text


def test_the_detector_reads_the_marked_quotes() -> None:
    thread = read_forumscraper(FIXTURES / "phpbb_1.json").thread
    state = QuoteDuplicateDetector().begin_thread(thread.id, thread.title)
    _, reply, pyramid = [state.review(post) for post in thread.posts]
    # The one-line post quoted and answered is read as a quote of it, and is an ordinary reply.
    assert reply.details["sources"] == [{"post_id": "11", "author": "ana", "words": 12}]
    assert (reply.details["own_words"], reply.reasons) == (4, ())
    assert pyramid.reasons == ("quotes all of post #1 by ana and post #2 by ben (3 words) and adds 5 words.",)
