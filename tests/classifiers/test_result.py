"""Categories as people spell them."""

from __future__ import annotations

from classifiers.result import category_named


def test_a_category_is_found_however_it_is_spelt() -> None:
    assert category_named("off-topic") == category_named(" Off Topic ") == "off_topic"
    assert category_named("duplicated quote") == category_named("duplicated-quote") == "duplicated_quote"
    assert category_named("inflammatory") == "inflammatory"
    assert category_named("offtopic") is None and category_named("") is None
