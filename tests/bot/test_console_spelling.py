"""Console alerts spell each category as `scan` and `flags` do ('duplicated quote', 'off-topic'), not by its
key ('duplicated_quote'): one spelling everywhere (issue 18, seen in `modassist run` without a token)."""

from __future__ import annotations

import io

from rich.console import Console

from bot.sinks import ConsoleSink
from bot.store import ReviewedPost, SourceRef, Store, post_content_hash
from classifiers.result import Flag
from classifiers.thread import Post


async def test_a_console_alert_spells_the_categories_as_the_reports_do(store: Store) -> None:
    post = Post("p2", "The yard should never have been allowed to depend on one supplier.", position=2)
    flags = (
        Flag("duplicated_quote", 0.92, 0.6, ("quotes post #1 by harbourwatch.",), (), "dup-1"),
        Flag("off_topic", 0.75, 0.7, ("leaves the thread's subject.",), (), "ot-1"),
    )
    result = await store.record_reviews(
        SourceRef("jsonl", "posts.jsonl"),
        "t",
        "Harbour",
        [ReviewedPost(post, post_content_hash(post), {}, flags)],
    )
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(ConsoleSink().render(await store.get_alert(result.alert_ids[0])))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "duplicated quote 0.92 (threshold 0.60)" in text and "off-topic 0.75" in text
    assert "duplicated_quote" not in text and "off_topic" not in text
