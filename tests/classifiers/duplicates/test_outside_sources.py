"""Quotes of sources outside the thread (a pasted article, a quote without author or post) are named for
what they are, summed in one reason, instead of one "unattributed source" per quote (issue 18)."""

from __future__ import annotations

from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.thread import Post, Quote

OPENING = "The ferry company will cut the winter timetable to two crossings a day from the first of November."
ARTICLE = (
    "The company said fuel costs had doubled since the spring and that passenger numbers fell sharply.",
    "Islanders who commute to the mainland for work say the early crossing is the only one they can use.",
    "The council has asked for a meeting with the operator before the new timetable is published.",
)


def review(posts: list[Post]) -> list:
    state = QuoteDuplicateDetector().begin_thread("t9", "Ferry cuts")
    return [state.review(p) for p in posts]


def test_an_over_quote_with_outside_passages_sums_them_in_one_reason():
    quotes = (Quote(OPENING, "ana", "1"), *(Quote(text) for text in ARTICLE))
    reply = Post("2", "Not good.", "ben", 2, quotes=quotes)  # marked quotes are not in the text
    detection = review([Post("1", OPENING, "ana", 1), reply])[1]
    assert detection.score >= 0.6
    assert detection.reasons[0] == "quotes all of post #1 by ana and adds 2 words."
    article_words = sum(len(text.split()) for text in ARTICLE)
    assert detection.reasons[1] == f"also quotes 3 passages from an outside source ({article_words} words)."
    assert not any("unattributed" in reason for reason in detection.reasons)


def test_a_re_quoted_outside_passage_is_named_an_outside_source():
    quotes = tuple(Quote(text) for text in ARTICLE[:1])
    first = Post("2", "That explains it.", "ben", 2, quotes=quotes)
    again = Post("3", "Fuel is no excuse, they had a subsidy all year.", "cat", 3, quotes=quotes)
    detection = review([Post("1", OPENING, "ana", 1), first, again])[2]
    assert detection.score >= 0.6
    assert detection.reasons[0].startswith("re-quotes a passage post #2 by ben already quoted: ")
    assert "of an outside source (" in detection.reasons[0]
    assert detection.reasons[1] == "also quotes a passage from an outside source (16 words)."
