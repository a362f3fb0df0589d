"""The longest post the detectors read: a longer post is judged on its first part, and says so.

The detectors' memory grows with the text they read (a 10 MB post needed about 2 GB), so the suite cuts
each post to `limit` characters before review: its own text first, then its marked quotes in order, nested
ones included, until the budget is spent. The review keeps the whole post (so it is stored in full), and
its flags carry a reason saying that only part of it was read (`limit_note`, added by the suite). Evidence
spans stay valid: they point into a prefix of the same text, and the quotes kept are the first ones, at
their original indexes.
"""

from __future__ import annotations

from dataclasses import replace

from classifiers.thread import Post, Quote


def post_chars(post: Post) -> int:
    """The characters a review reads: the post's text and every marked quote's text."""
    return len(post.text) + sum(len(quote.text) for quote in post.all_quotes())


def within_limit(post: Post, limit: int) -> Post:
    """`post` itself if it has at most `limit` characters, else its first `limit` characters."""
    if post_chars(post) <= limit:
        return post
    text = post.text[:limit]
    quotes, _ = _first_quotes(post.quotes, limit - len(text))
    return replace(post, text=text, quotes=quotes)


def limit_note(post: Post, limit: int) -> str:
    """The reason a review of a cut post carries."""
    return f"only the first {limit:,} characters were reviewed (the post has {post_chars(post):,})."


def _first_quotes(quotes: tuple[Quote, ...], budget: int) -> tuple[tuple[Quote, ...], int]:
    """The leading quotes (outer text before nested) that fit in `budget` characters, and what is left."""
    kept = []
    for quote in quotes:
        if budget <= 0:
            break
        text = quote.text[:budget]
        nested, budget = _first_quotes(quote.nested, budget - len(text))
        kept.append(replace(quote, text=text, nested=nested))
    return tuple(kept), budget
