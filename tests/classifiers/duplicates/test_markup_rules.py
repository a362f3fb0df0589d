"""The duplicated-quote rules that depend on quote markup: chance overlap outside the markup, one-line
quotes answered, and short lines quoted inline in plain text."""

from __future__ import annotations

import pytest

from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.result import Detection
from classifiers.thread import Post, Quote

NOTICE = (
    "The harbour office will close the northern quay from Monday for two weeks while divers inspect the "
    "old mooring chains, and boats berthed there must move to the south basin before Sunday evening."
)
FLAGGED = 0.6


def review_all(posts: list[Post]) -> list[Detection]:
    """Review the posts as one thread, in order."""
    state = QuoteDuplicateDetector().begin_thread("t1", "Harbour news")
    return [state.review(p) for p in posts]


def post(position: int, author: str, text: str, quotes: tuple[Quote, ...] = ()) -> Post:
    return Post(id=str(position), text=text, author=author, position=position, quotes=quotes)


def alerted(detection: Detection) -> bool:
    return detection.score >= FLAGGED and detection.severity == "alert"


# -- overlap outside the markup, where the source marks quotes -------------------------------------------

CHANCE = "Boats berthed there must move soon, said the harbour master on the radio."  # 5 words of NOTICE
MARKED_REPLY = post(
    2, "skipper", "Two weeks is fine by me.", (Quote("the old mooring chains", "marina", "1"),)
)


def test_five_words_in_common_by_chance_are_no_quote_where_the_source_marks_quotes() -> None:
    results = review_all([post(1, "marina", NOTICE), MARKED_REPLY, post(3, "gull", CHANCE)])
    assert not alerted(results[2])
    assert results[2].reasons == ()


def test_five_words_in_common_still_count_in_plain_text() -> None:
    results = review_all(
        [post(1, "marina", NOTICE), post(2, "skipper", "Two weeks is fine."), post(3, "gull", CHANCE)]
    )
    assert alerted(results[2])
    assert results[2].reasons[0].startswith("quotes post #1 by marina (5 words)")


def test_a_long_passage_pasted_outside_the_markup_still_counts() -> None:
    pasted = f"{NOTICE}\nAbout time."
    results = review_all([post(1, "marina", NOTICE), MARKED_REPLY, post(3, "gull", pasted)])
    assert alerted(results[2])
    assert results[2].reasons == ("quotes all of post #1 by marina and adds 2 words.",)


# -- a one-line quote answered -----------------------------------------------------------------------------

QUESTION = "Is the south basin deep enough for keel boats at low tide?"  # 12 words


@pytest.mark.parametrize(
    ("quoted", "answer", "flagged"),
    [
        (QUESTION, "Yes, two metres at the lowest spring tide.", False),  # a one-line question answered
        (NOTICE, "Thanks for the warning.", True),  # a full quote of a long post with a one-liner
        (QUESTION, "", True),  # the question quoted and nothing added
    ],
)
def test_a_marked_one_line_quote_answered_is_no_over_quote(quoted: str, answer: str, flagged: bool) -> None:
    first = post(1, "marina", QUESTION if quoted == QUESTION else NOTICE)
    reply = post(2, "skipper", answer, (Quote(quoted, "marina", "1"),))
    assert alerted(review_all([first, reply])[1]) is flagged


def test_a_one_line_post_quoted_by_several_people_is_answered_not_re_quoted() -> None:
    ask = post(1, "marina", QUESTION)
    first = post(
        2, "skipper", "Yes, at any tide, I moored there all last summer.", (Quote(QUESTION, "marina", "1"),)
    )
    second = post(
        3, "gull", "Not for my boat, it touched the mud twice in August.", (Quote(QUESTION, "marina", "1"),)
    )
    results = review_all([ask, first, second])
    assert not any("re-quotes" in r for r in results[2].reasons)
    assert not alerted(results[2])


def test_a_passage_of_a_long_post_quoted_again_in_the_markup_is_still_a_re_quote() -> None:
    passage = "boats berthed there must move to the south basin before Sunday evening."
    answer = "That is far too short a notice for the boats whose owners are away this week."
    first = post(2, "skipper", answer, (Quote(passage, "marina", "1"),))
    second = post(3, "gull", f"{answer} Nobody asked them.", (Quote(passage, "marina", "1"),))
    results = review_all([post(1, "marina", NOTICE), first, second])
    assert results[2].reasons[0].startswith("re-quotes a passage post #2 by skipper already quoted")


# -- a short line quoted inline, in plain text -----------------------------------------------------------

ASKED = "The ferry is late again. Which pier today? Nobody at the office answers the phone."


@pytest.mark.parametrize(
    ("reply", "flagged"),
    [
        ("Which pier today?\n\nThe north one, as on every Monday.", True),
        ("which   PIER today?\n \nThe north one, as on every Monday.", True),  # case and spacing aside
        ("@marina,\n\nThe north one, as on every Monday.", False),  # an address, not a quote
        ("Today?\n\nThe north one, as on every Monday.", False),  # one word is no recognisable quote
        ("Which pier tomorrow?\n\nThe north one, as on every Monday.", False),  # not said before
        ("Which pier today? The north one, as on every Monday.", False),  # not a line of its own
        (  # 16 words of its own: a reply
            "Which pier today?\n\nThe north one, as on every Monday, unless the divers still block the "
            "old quay today.",
            False,
        ),
    ],
)
def test_a_short_opening_line_of_an_earlier_post_is_a_quote(reply: str, flagged: bool) -> None:
    results = review_all([post(1, "marina", ASKED), post(2, "skipper", reply)])
    assert alerted(results[1]) is flagged
    if flagged:
        assert results[1].reasons == ("quotes post #1 by marina (3 words) and adds 7 words.",)


def test_a_short_line_is_looked_up_in_the_latest_posts_only() -> None:
    chatter = [
        post(i, f"user{i}", f"Post number {i} is about mooring fees in row {i}.") for i in range(2, 33)
    ]
    late = post(33, "skipper", "Which pier today?\n\nThe north one, as on every Monday.")
    assert not alerted(review_all([post(1, "marina", ASKED), *chatter, late])[-1])


def test_short_lines_are_not_looked_up_where_the_source_marks_quotes() -> None:
    reply = post(3, "skipper", "Which pier today?\n\nThe north one, as on every Monday.")
    assert not alerted(review_all([post(1, "marina", ASKED), MARKED_REPLY, reply])[2])
