"""Cutting a post to the review limit: its text first, then its quotes in order, nested ones included."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from classifiers.limits import post_chars, within_limit
from classifiers.thread import Post, Quote

quotes = st.recursive(
    st.builds(Quote, text=st.text(max_size=30)),
    lambda inner: st.builds(Quote, text=st.text(max_size=30), nested=st.lists(inner, max_size=3).map(tuple)),
    max_leaves=8,
)
posts = st.builds(
    Post, id=st.just("p"), text=st.text(max_size=60), quotes=st.lists(quotes, max_size=3).map(tuple)
)


def _reading_order(post: Post) -> str:
    return post.text + "".join(quote.text for quote in post.all_quotes())


@given(posts, st.integers(min_value=1, max_value=200))
def test_a_cut_post_is_the_first_limit_characters_in_reading_order(post: Post, limit: int) -> None:
    cut = within_limit(post, limit)
    if post_chars(post) <= limit:
        assert cut is post
        return
    assert post_chars(cut) == limit
    assert _reading_order(post).startswith(_reading_order(cut))
    assert cut.id == post.id
    # The quotes kept are the first ones, so evidence pointing at a quote by index still points at it.
    for kept, original in zip(cut.quotes, post.quotes, strict=False):
        assert original.text.startswith(kept.text)
