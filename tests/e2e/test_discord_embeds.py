"""Embeds and buttons under long and hostile input (hypothesis): Discord's limits always hold, and post text
never turns into markup, a mention or a disguised link."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord.embeds import (
    alert_details_embed,
    alert_embed,
    author_embed,
    cut,
    escape,
    flag_embed,
    flag_list_embed,
    safe_url,
)
from bot.discord.views import alert_buttons
from bot.store import (
    AlertItem,
    AlertRecord,
    AlertView,
    AuthorHistory,
    Decision,
    FlagDetail,
    FlagRecord,
    PostRecord,
    SourceRecord,
    ThreadRecord,
)
from classifiers.result import Evidence

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
MARKUP = "\\*_~`|<>[]()#-+@:/. \n"
hostile_text = st.text(alphabet=st.one_of(st.sampled_from(list(MARKUP)), st.characters()), max_size=300)
hostile_chunks = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "@everyone",
                "@here",
                "[click](http://evil.example)",
                "<@&123456789012345678>",
                "\\",
                "**",
                "# ",
                "\n- ",
                "everyone",
                "here",
                "1. ",
            ]
        ),
        st.text(alphabet=st.characters(), max_size=30),
        st.text(alphabet=st.sampled_from(list(MARKUP)), max_size=20),
    ),
    max_size=40,
).map("".join)
text = st.one_of(hostile_text, hostile_chunks)
# Long texts: a text repeated past every Discord limit (6,000 characters in a whole embed), cut at 7,000 (over
# it still after control characters are cleaned out). Uncut, a reason or a body reached 120,000 characters and
# 30 posts of 30 reasons each made an example take seconds (every text is escaped whole before it is cut),
# for nothing a text over the largest limit does not already show.
LONG = 7_000
long_text = st.one_of(text, text.map(lambda s: ((s + "x ") * 400)[:LONG]))

_SPECIAL = set("\\*_~`|<>[]")


def unescaped(rendered: str) -> list[tuple[int, str]]:
    """Markdown characters not preceded by an odd number of backslashes (cut's ellipsis aside)."""
    found = []
    run = 0
    for index, ch in enumerate(rendered):
        if ch == "\\":
            run += 1
            continue
        if ch in _SPECIAL and run % 2 == 0:
            found.append((index, ch))
        run = 0
    return found


@given(text)
@settings(max_examples=300)
def test_escaped_text_has_no_live_markup_mentions_or_masked_links(value: str) -> None:
    rendered = escape(value)
    assert unescaped(rendered) == []
    assert not re.search(r"@(everyone|here)", rendered, re.IGNORECASE)
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", rendered)  # [label](url)
    assert not re.search(r"@[!&]?\d", rendered)
    for line in rendered.splitlines():
        assert not re.match(r"\s*([#\-+>]|\d+[.)])", line), line


@given(text, st.integers(min_value=1, max_value=400))
def test_cut_keeps_the_limit_and_never_leaves_an_escape_dangling(value: str, limit: int) -> None:
    rendered = cut(escape(value), limit)
    assert len(rendered) <= limit
    if rendered.endswith("…") and rendered != escape(value):
        body = rendered[:-1]
        assert (len(body) - len(body.rstrip("\\"))) % 2 == 0
        assert unescaped(rendered) == []


# -- whole embeds ------------------------------------------------------------------------------------------


def check_limits(embed: Any) -> None:
    """Discord's embed limits, on what discord.py sends."""
    data = embed.to_dict()
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "")) <= 4096
    fields = data.get("fields", [])
    assert len(fields) <= 25
    for f in fields:
        assert 0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024
    assert len(data.get("footer", {}).get("text", "")) <= 2048
    assert len(data.get("author", {}).get("name", "")) <= 256
    total = (
        len(data.get("title", ""))
        + len(data.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(data.get("footer", {}).get("text", ""))
        + len(data.get("author", {}).get("name", ""))
    )
    assert total <= 6000
    assert len(embed) == total
    if "url" in data:
        assert safe_url(data["url"]) == data["url"]


def _post(i: int, body: str, author: str, url: str | None) -> PostRecord:
    return PostRecord(
        id=i,
        thread_id=1,
        source_id=1,
        external_id=f"p{i}",
        author=author,
        author_id=None,
        position=i,
        url=url,
        created_at="2025-03-01T10:00:00Z",
        user_title=None,
        text=body,
        quotes=(),
        content_hash="h",
        revision=1,
        scores={"inflammatory": 0.9, "off_topic": 0.1},
        first_seen_at=NOW,
        reviewed_at=NOW,
    )


def _flag(i: int, category: str, reasons: list[str], body: str, status: str = "open") -> FlagRecord:
    return FlagRecord(
        id=i,
        post_id=i,
        revision=1,
        alert_id=1,
        category=category,
        score=0.5 + (i % 50) / 100,
        threshold=0.6,
        reasons=tuple(reasons),
        evidence=(Evidence(0, len(body) // 2, note=reasons[0] if reasons else ""),),
        model_version="m",
        status=status,  # type: ignore[arg-type]
        created_at=NOW,
    )


posts = st.tuples(
    long_text,  # body
    text,  # author
    st.lists(long_text, min_size=0, max_size=30),  # reasons
    st.lists(
        st.sampled_from(["inflammatory", "off_topic", "duplicated_quote", "x" * 300]), min_size=1, max_size=6
    ),
)
urls = st.one_of(
    st.none(),
    st.just("https://forum.test/threads/1/post-1"),
    st.text(max_size=40),
    st.just("https://forum.test/" + "a" * 3000),
    st.just("javascript:alert(1)"),
)


@given(
    st.lists(posts, min_size=1, max_size=30),
    text,
    urls,
    st.booleans(),
    st.integers(min_value=80, max_value=3000),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
def test_alerts_and_digests_keep_every_discord_limit(
    items: list[tuple[str, str, list[str], list[str]]],
    title: str,
    url: str | None,
    decided: bool,
    excerpt: int,
) -> None:
    alert_items = []
    next_flag = 1
    for i, (body, author, reasons, categories) in enumerate(items, start=1):
        flags = []
        for category in categories:
            flags.append(_flag(next_flag, category, reasons, body, "confirmed" if decided else "open"))
            next_flag += 1
        alert_items.append(AlertItem(i, _post(i, body, author, url), tuple(flags)))
    kind = "digest" if len(alert_items) > 1 else "post"
    alert = AlertView(
        AlertRecord(1, kind, 1, None, None, None, "sending", 1, NOW, None, NOW, None, None, None),  # type: ignore[arg-type]
        SourceRecord(1, "web", "https://forum.test", None),
        ThreadRecord(1, 1, "t1", title, url, 1),
        tuple(alert_items),
    )
    decisions = {
        f.id: Decision(f.id, f.id, 42, title[:50] or "mod", "confirm", title, NOW)
        for item in alert_items
        for f in item.flags
        if decided
    }
    check_limits(alert_embed(alert, decisions, excerpt_chars=excerpt))
    check_limits(alert_details_embed(alert, {k: [v] for k, v in decisions.items()}, excerpt_chars=excerpt))
    view = alert_buttons(alert)
    rows = view.to_components()
    assert len(rows) == 1 and len(rows[0]["components"]) <= 5
    for button in rows[0]["components"]:
        assert len(button.get("custom_id", "")) <= 100 and len(button.get("label", "")) <= 80
        assert len(button.get("url", "")) <= 512

    detail = FlagDetail(alert_items[0].flags[0], alert_items[0].post, alert.thread)
    check_limits(flag_embed(detail, list(decisions.values())[:40], excerpt_chars=excerpt))
    details = [FlagDetail(f, item.post, alert.thread) for item in alert_items for f in item.flags]
    check_limits(flag_list_embed(details, page=1, page_size=25, has_more=True, filters={"author": title}))
    check_limits(author_embed(AuthorHistory(title, 3, tuple(details), tuple(decisions.values()))))


def test_a_link_button_only_for_a_url_discord_accepts() -> None:
    body = "idiot"
    post = _post(1, body, "a", "javascript:alert(1)")
    alert = AlertView(
        AlertRecord(1, "post", 1, 1, 1, None, "sending", 1, NOW, None, NOW, None, None, None),
        SourceRecord(1, "web", "https://forum.test", None),
        ThreadRecord(1, 1, "t1", "T", None, 1),
        (AlertItem(1, post, (_flag(1, "inflammatory", ["r"], body),)),),
    )
    labels = [c["label"] for c in alert_buttons(alert).to_components()[0]["components"]]
    assert labels == ["Confirm", "Dismiss", "Details", "Author history"]
    assert "url" not in alert_embed(alert).to_dict()


def test_the_evidence_field_quotes_the_words_in_plain_terms() -> None:
    body = "You are so dumb, @everyone knows it."
    start, at = body.index("so dumb"), body.index("@")
    flag = FlagRecord(
        id=1, post_id=1, revision=1, alert_id=1, category="inflammatory", score=0.8, threshold=0.6,
        reasons=("insulting language: 'so dumb' (score 0.80).",),
        evidence=(
            Evidence(start, start + 7, note="raises the inflammatory score (weight 0.76)"),
            Evidence(at, at + 9, note="raises the inflammatory score (weight 0.10)"),
            Evidence(0, 3, note="in a quote", quote_index=0),
        ),
        model_version="m", status="open", created_at=NOW,
    )  # fmt: skip
    thread = ThreadRecord(1, 1, "t1", "Harbour news", None, 1)
    embed = flag_embed(FlagDetail(flag, _post(1, body, "sam", None), thread), [])
    evidence = next(f["value"] for f in embed.to_dict()["fields"] if f["name"] == "Evidence")
    assert "“so dumb”: raises the inflammatory score (weight 0.76)" in evidence
    assert "log-odds" not in evidence and "chars 10" not in evidence
    assert unescaped(evidence) == []  # the quoted "@everyone" is shown, neutralised
    assert "quote 1: in a quote" in evidence  # a marked quote is named by its number
