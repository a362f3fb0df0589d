"""Discord embeds for alerts, digests and the moderator commands.

Three rules hold for every embed built here:

- Post text never acts as markup. `escape` turns markdown, masked links (`[label](url)`), mentions
  (`@everyone`, `<@id>`, `<#id>`, `</cmd:id>`) and line-start headings into literal text; messages are sent
  with `AllowedMentions.none()` besides.
- No control character or bidi override reaches Discord: `EmbedDraft.build` cleans every part
  (`bot.textsafety`), so a name like `@everyone\\u202enimda` cannot render reordered, whoever built the text.
- Discord's limits are kept (title 256, description 4096, field name 256, field value 1024, footer 2048,
  author 256, 25 fields, 6000 characters in all): `EmbedDraft.build` cuts every part and then trims the
  whole, so hostile or merely long input cannot make Discord refuse the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.discord.draft import (
    EmbedDraft,
    capped_lines,
    decided_colour,
    decision_line,
    decision_summary,
    quote_block,
)
from bot.discord.markup import (
    BUTTON_URL_LIMIT,
    COLOUR_CONFIRMED,
    COLOUR_DISMISSED,
    COLOUR_HIGH,
    COLOUR_INFO,
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    MINOR_NOTE,
    category_label,
    cut,
    escape,
    evidence_words,
    flag_title,
    parse_time,
    plain,
    position_label,
    safe_url,
    severity_colour,
)
from bot.records import (
    DISCORD_SOURCE,
    AlertItem,
    AlertView,
    AuthorHistory,
    CategoryStats,
    Decision,
    FlagDetail,
)
from bot.sinks import evidence_excerpt
from classifiers.thread import machine_id

# Re-exported: the markup helpers callers have always taken from here.
__all__ = [
    "BUTTON_URL_LIMIT",
    "COLOUR_CONFIRMED",
    "COLOUR_DISMISSED",
    "COLOUR_HIGH",
    "EmbedDraft",
    "ScanThread",
    "ScannedPost",
    "alert_details_embed",
    "alert_embed",
    "author_embed",
    "cut",
    "digest_embed",
    "escape",
    "flag_embed",
    "flag_list_embed",
    "plain",
    "safe_url",
    "scan_report_embed",
    "stats_embed",
    "thresholds_embed",
]

# ----------------------------------------------------------------------------------------------------------
# Alerts


def alert_embed(
    alert: AlertView, decisions: Mapping[int, Decision] | None = None, *, excerpt_chars: int = 600
) -> discord.Embed:
    """The embed of a post alert or a digest; `decisions` maps flag ids to the decision in force."""
    if alert.kind == "digest":
        return digest_embed(alert, decisions)
    decisions = decisions or {}
    item = alert.items[0]
    post = item.post
    flags = [f for f in item.flags if f.status != "superseded"] or list(item.flags)
    top = max((f.score for f in flags), default=0.0)
    headline = " · ".join(f"{category_label(f.category)} {f.score:.2f}" for f in flags)
    flag_ids = ", ".join(str(f.id) for f in flags)
    if post.review_error:
        headline = f"{headline} · could not fully review" if headline else "Could not review this post"
    draft = EmbedDraft(
        title="⚑ " + headline,
        url=safe_url(post.url) or safe_url(alert.thread.url),
        colour=decided_colour(flags, top),
        author=post.author or "unknown author",
        footer=f"alert {alert.id} · flag {flag_ids or 'none'} · {alert.source.kind}",
        timestamp=parse_time(post.created_at) or alert.alert.created_at,
    )
    excerpt = evidence_excerpt(post.text, tuple(flags), excerpt_chars)
    draft.description = quote_block(excerpt, min(DESCRIPTION_LIMIT, excerpt_chars + 200))
    draft.add("Thread", escape(alert.thread.title or alert.thread.external_id), inline=True)
    if alert.source.kind == DISCORD_SOURCE and alert.thread.external_id.isdigit():
        draft.add("Channel", f"<#{alert.thread.external_id}>", inline=True)  # Discord shows its name
    if post.position is not None or not machine_id(post.external_id):
        draft.add("Position", position_label(post), inline=True)  # a Discord message has none: its link
    if post.review_error:
        draft.add("Could not review", cut(escape(post.review_error), FIELD_VALUE_LIMIT))
    for flag in flags:
        reasons = [f"• {escape(r)}" for r in flag.reasons] or ["• (no reason given)"]
        draft.add(flag_title(flag), capped_lines(reasons, FIELD_VALUE_LIMIT))
    summary = decision_summary(flags, decisions)
    if summary:
        draft.add("Decision", summary)
    return draft.build()


def _digest_line(item: AlertItem) -> str:
    post = item.post
    cats = (
        ", ".join(
            f"{category_label(f.category)} {f.score:.2f}" + (" (minor)" if f.severity == "minor" else "")
            for f in item.flags
        )
        or "could not review"
    )
    ids = ", ".join(str(f.id) for f in item.flags) or "none"
    link = safe_url(post.url)
    where = f"[{position_label(post)}]({link})" if link else position_label(post)
    head = f"**{where}** by {escape(post.author or 'unknown author')}: {cats} (flag {ids})"
    reason = next((r for f in item.flags for r in f.reasons), post.review_error or "")
    return f"{head}\n  {cut(escape(reason), 160)}" if reason else head


def _listed_line(detail: FlagDetail) -> str:
    flag = detail.flag
    reason = cut(escape(flag.reasons[0]), 140) if flag.reasons else ""
    return (
        f"flag {flag.id} · {position_label(detail.post)} by {escape(detail.post.author or 'unknown author')}:"
        f" {category_label(flag.category)} {flag.score:.2f}" + (f"\n  {reason}" if reason else "")
    )


def digest_embed(alert: AlertView, decisions: Mapping[int, Decision] | None = None) -> discord.Embed:
    """One embed for a burst of flagged posts in one thread."""
    decisions = decisions or {}
    flags = [f for item in alert.items for f in item.flags]
    top = max((f.score for f in flags), default=0.0)
    authors = {item.post.author for item in alert.items}
    head = f"**{escape(alert.thread.title or alert.thread.external_id)}**\n"
    draft = EmbedDraft(
        title=f"⚑ Burst: {len(alert.items)} flagged posts in one thread",
        url=safe_url(alert.thread.url),
        colour=decided_colour(flags, top),
        footer=f"digest {alert.id} · {len(authors)} authors · {alert.source.kind}",
        timestamp=alert.alert.created_at,
    )
    draft.description = head + capped_lines(
        (_digest_line(i) for i in alert.items), DESCRIPTION_LIMIT - len(head) - 200
    )
    if alert.listed:
        draft.add(
            "Also listed (minor, not alerted)",
            capped_lines(map(_listed_line, alert.listed), FIELD_VALUE_LIMIT),
        )
    summary = decision_summary(flags, decisions)
    if summary:
        draft.add("Decision", summary)
    return draft.build()


# ----------------------------------------------------------------------------------------------------------
# Command replies


def flag_embed(
    detail: FlagDetail, decisions: Sequence[Decision], *, excerpt_chars: int = 1500
) -> discord.Embed:
    """A flag in full (`/modq show`, the Details button): reasons, scores, evidence, decision history."""
    flag, post, thread = detail.flag, detail.post, detail.thread
    draft = EmbedDraft(
        title=f"Flag {flag.id}: {category_label(flag.category)} {flag.score:.2f} ({flag.status})"
        + (f" · {MINOR_NOTE}" if flag.severity == "minor" else ""),
        url=safe_url(post.url) or safe_url(thread.url),
        colour=decided_colour([flag], flag.score),
        author=post.author or "unknown author",
        footer=f"flag {flag.id} · alert {flag.alert_id} · model {flag.model_version or '?'}",
        timestamp=parse_time(post.created_at) or flag.created_at,
    )
    draft.description = quote_block(evidence_excerpt(post.text, (flag,), excerpt_chars), excerpt_chars + 200)
    draft.add("Thread", escape(thread.title or thread.external_id), inline=True)
    if post.position is not None or not machine_id(post.external_id):
        draft.add("Position", position_label(post), inline=True)  # a Discord message has none: its link
    draft.add("Threshold", f"{flag.threshold:.2f}", inline=True)
    draft.add("Reasons", capped_lines((f"• {escape(r)}" for r in flag.reasons), FIELD_VALUE_LIMIT))
    if post.scores:
        draft.add(
            "All scores",
            " · ".join(f"{category_label(c)} {s:.2f}" for c, s in sorted(post.scores.items())),
        )
    notes = [f"• {evidence_words(post.text, e)}: {escape(e.note)}" for e in flag.evidence if e.note]
    if notes:
        draft.add("Evidence", capped_lines(notes, FIELD_VALUE_LIMIT))
    if decisions:
        draft.add(
            "Decisions", capped_lines((decision_line(d) for d in reversed(decisions)), FIELD_VALUE_LIMIT)
        )
    return draft.build()


def alert_details_embed(
    alert: AlertView, decisions: Mapping[int, Sequence[Decision]], *, excerpt_chars: int = 1500
) -> discord.Embed:
    """Every flag of an alert in detail (the Details button)."""
    if alert.kind == "post" and len(alert.items) == 1 and len(alert.items[0].flags) == 1:
        item = alert.items[0]
        flag = item.flags[0]
        return flag_embed(
            FlagDetail(flag, item.post, alert.thread), decisions.get(flag.id, ()), excerpt_chars=excerpt_chars
        )
    draft = EmbedDraft(
        title=f"Alert {alert.id}: {sum(len(i.flags) for i in alert.items)} flags",
        url=safe_url(alert.thread.url),
        footer=f"alert {alert.id} · use /modq show <flag> for one flag in full",
    )
    if alert.kind == "post":
        post = alert.items[0].post
        draft.description = quote_block(
            evidence_excerpt(post.text, alert.items[0].flags, excerpt_chars), excerpt_chars + 200
        )
    for item in alert.items:
        for flag in item.flags:
            lines = [f"• {escape(r)}" for r in flag.reasons]
            latest = decisions.get(flag.id)
            if latest:
                lines.append(decision_line(latest[-1]))
            draft.add(
                f"flag {flag.id} · {position_label(item.post)} · {category_label(flag.category)}"
                f" {flag.score:.2f}",
                capped_lines(lines, FIELD_VALUE_LIMIT),
            )
    return draft.build()


def flag_list_embed(
    details: Sequence[FlagDetail],
    *,
    page: int,
    page_size: int,
    has_more: bool,
    filters: Mapping[str, str | None],
) -> discord.Embed:
    """A page of open flags (`/modq list`)."""
    active = ", ".join(f"{k}: {v}" for k, v in filters.items() if v)
    draft = EmbedDraft(
        title=f"Open flags · page {page}",
        footer=(f"filters: {active} · " if active else "")
        + ("more on the next page" if has_more else "end of the list"),
    )
    if not details:
        draft.description = "No open flags." if page == 1 else "No more open flags."
        return draft.build()
    lines = []
    for d in details:
        link = safe_url(d.post.url)
        where = f"[{position_label(d.post)}]({link})" if link else position_label(d.post)
        reason = cut(escape(d.flag.reasons[0]), 140) if d.flag.reasons else ""
        lines.append(
            f"**{d.flag.id}** · {category_label(d.flag.category)} {d.flag.score:.2f}"
            + (" (minor)" if d.flag.severity == "minor" else "")
            + f" · {where} by"
            f" {escape(d.post.author or 'unknown author')} in {cut(escape(d.thread.title), 60)}"
            + (f"\n  {reason}" if reason else "")
        )
    draft.description = capped_lines(lines, DESCRIPTION_LIMIT - 100)
    return draft.build()


def author_embed(history: AuthorHistory, *, shown: int = 10) -> discord.Embed:
    """An author's flags and the decisions on them (`/modq author`, the Author history button)."""
    statuses: dict[str, int] = {}
    for d in history.flags:
        statuses[d.flag.status] = statuses.get(d.flag.status, 0) + 1
    draft = EmbedDraft(
        title=f"Author history: {cut(plain(history.author), 200)}",
        footer=f"{history.posts} posts stored · {len(history.flags)} flags",
    )
    if not history.flags:
        draft.description = "No flags for this author."
        return draft.build()
    draft.description = " · ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    last: dict[int, Decision] = {d.flag_id: d for d in history.decisions}
    for d in history.flags[:shown]:
        value = [f"{escape(d.thread.title)} · {position_label(d.post)}"]
        if d.flag.reasons:
            value.append(f"• {escape(d.flag.reasons[0])}")
        if d.flag.id in last:
            value.append(decision_line(last[d.flag.id]))
        draft.add(
            f"flag {d.flag.id} · {category_label(d.flag.category)} {d.flag.score:.2f} · {d.flag.status}",
            capped_lines(value, FIELD_VALUE_LIMIT),
        )
    if len(history.flags) > shown:
        draft.add("…", f"{len(history.flags) - shown} older flags not shown")
    return draft.build()


def stats_embed(stats: Sequence[CategoryStats]) -> discord.Embed:
    """Per category: flags, open, confirmed, dismissed and precision = confirmed / decided."""
    draft = EmbedDraft(
        title="Flags and decisions by category", footer="precision = confirmed / (confirmed + dismissed)"
    )
    for s in stats:
        decided = s.confirmed + s.dismissed
        precision = (
            f"{s.precision:.0%} ({s.confirmed}/{decided})"
            if s.precision is not None
            else "n/a (none decided)"
        )
        draft.add(
            category_label(s.category),
            f"flags **{s.flags}** · open {s.open} · confirmed {s.confirmed} · dismissed {s.dismissed}"
            + (f" · escalated {s.escalated}" if s.escalated else "")
            + f"\nprecision **{precision}**",
        )
    return draft.build()


def thresholds_embed(thresholds: Mapping[str, float], overrides: Mapping[str, object]) -> discord.Embed:
    """The thresholds in force, marking those changed at run time."""
    draft = EmbedDraft(title="Flag thresholds", footer="a score at or above its threshold raises a flag")
    for category, value in thresholds.items():
        changed = f"thresholds.{category}" in overrides
        draft.add(
            category_label(category),
            f"{value:.2f}" + (" (changed at run time)" if changed else ""),
            inline=True,
        )
    return draft.build()


def scan_report_embed(source: str, threads: Sequence[ScanThread]) -> discord.Embed:
    """What `/modq scan` found: per thread the post count, and each flagged post with its reasons."""
    total = sum(t.posts for t in threads)
    flagged = sum(len(t.flagged) for t in threads)
    top = max((s for t in threads for p in t.flagged for _, s, _ in p.flags), default=0.0)
    draft = EmbedDraft(
        title=f"Scan: {flagged} of {total} posts flagged",
        colour=severity_colour(top) if flagged else COLOUR_INFO,
        footer=f"source: {source} · not stored, nothing alerted",
    )
    heads = [
        f"**{escape(t.title or '(untitled thread)')}**: {t.posts} posts, {len(t.flagged)} flagged"
        for t in threads
    ]
    draft.description = capped_lines(heads, 1500)
    for thread in threads:
        for post in thread.flagged:
            reasons = [f"• {escape(r)}" for _, _, rs in post.flags for r in rs]
            draft.add(
                f"{post.label} by {plain(post.author or 'unknown author')}: "
                + ", ".join(f"{category_label(c)} {s:.2f}" for c, s, _ in post.flags),
                capped_lines(reasons, FIELD_VALUE_LIMIT),
            )
    return draft.build()


@dataclass(frozen=True, slots=True)
class ScannedPost:
    """A flagged post of a scan: where it is and each flag as (category, score, reasons)."""

    label: str
    author: str | None
    flags: tuple[tuple[str, float, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class ScanThread:
    """One scanned thread: its title, how many posts, and the flagged ones."""

    title: str
    posts: int
    flagged: tuple[ScannedPost, ...]
