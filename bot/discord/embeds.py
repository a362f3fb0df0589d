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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import discord

from bot.sinks import evidence_excerpt
from bot.store import (
    AlertItem,
    AlertView,
    AuthorHistory,
    CategoryStats,
    Decision,
    FlagDetail,
    FlagRecord,
    PostRecord,
)
from bot.textsafety import clean_line, clean_text

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
TOTAL_LIMIT = 6000
URL_LIMIT = 2048
BUTTON_URL_LIMIT = 512

CATEGORY_LABELS = {
    "off_topic": "Off-topic",
    "inflammatory": "Inflammatory",
    "duplicated_quote": "Duplicated quote",
}
VERDICT_LABELS = {"confirm": "Confirmed", "dismiss": "Dismissed", "escalate": "Escalated"}
VERDICT_MARKS = {"confirm": "✅", "dismiss": "✖️", "escalate": "⏫"}

COLOUR_HIGH = discord.Colour(0xE74C3C)
COLOUR_MEDIUM = discord.Colour(0xE67E22)
COLOUR_LOW = discord.Colour(0xF1C40F)
COLOUR_CONFIRMED = discord.Colour(0x992D22)
COLOUR_DISMISSED = discord.Colour(0x95A5A6)
COLOUR_INFO = discord.Colour(0x5865F2)

# Characters that start markdown anywhere in a line; `\` first, so escapes are never doubled up.
_INLINE = re.compile(r"([\\*_~`|<>\[\]])")
# Markdown that only counts at the start of a line: headings, subtext, list bullets, block quotes.
_LINE_START = re.compile(r"^(\s*)([#\-+>]|\d+[.)])", re.MULTILINE)
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_BARE_MENTION = re.compile(r"@([!&]?[0-9])")


def escape(text: str) -> str:
    """Post text made literal for Discord: no formatting, masked link, mention or heading survives."""
    text = clean_text(text)
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _MASS_MENTION.sub("@\N{ZERO WIDTH SPACE}\\1", text)
    return _BARE_MENTION.sub("@\N{ZERO WIDTH SPACE}\\1", text)


def plain(text: str) -> str:
    """Text for places Discord shows without markdown (author name, footer): one line, no control chars."""
    return " ".join(clean_text(text).split())


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary with an ellipsis; an escape is never
    left dangling at the cut (a lone trailing backslash would escape the ellipsis)."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    piece = text[: limit - 1]
    space = piece.rfind(" ")
    if space > limit * 0.6:
        piece = piece[:space]
    piece = piece.rstrip()
    trailing = len(piece) - len(piece.rstrip("\\"))
    if trailing % 2:
        piece = piece[:-1]
    return piece + "…"


def safe_url(url: str | None, limit: int = URL_LIMIT) -> str | None:
    """`url` if Discord accepts it as an embed or button URL (http(s), a host, no spaces), else None."""
    # A control or bidi character (which cleaning would change) has no place in a link anyone should follow.
    if not url or len(url) > limit or any(c.isspace() for c in url) or clean_line(url) != url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def severity_colour(score: float) -> discord.Colour:
    """Red from 0.9, orange from 0.75, else yellow."""
    if score >= 0.9:
        return COLOUR_HIGH
    if score >= 0.75:
        return COLOUR_MEDIUM
    return COLOUR_LOW


def category_label(category: str) -> str:
    """'Duplicated quote' for 'duplicated_quote'; unknown categories as they are."""
    return CATEGORY_LABELS.get(category, category)


MINOR_NOTE = "minor: listed, not alerted"


def flag_title(flag: FlagRecord) -> str:
    """'Duplicated quote 0.65 (threshold 0.60)', with the minor note for a flag that is only listed."""
    title = f"{category_label(flag.category)} {flag.score:.2f} (threshold {flag.threshold:.2f})"
    return f"{title} · {MINOR_NOTE}" if flag.severity == "minor" else title


def timestamp_markup(when: datetime, style: str = "f") -> str:
    """Discord's `<t:unix:style>`, shown in each reader's time zone."""
    return f"<t:{int(when.timestamp())}:{style}>"


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from a source (e.g. '2025-03-01T10:00:00Z'), or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def position_label(post: PostRecord) -> str:
    """'#3', or the post's own id where its position is unknown."""
    return f"#{post.position}" if post.position is not None else f"post {post.external_id}"


# ----------------------------------------------------------------------------------------------------------
# A draft that knows the limits


@dataclass(slots=True)
class EmbedDraft:
    """The parts of an embed; `build` cuts each to its limit and the whole to 6000 characters."""

    title: str = ""
    description: str = ""
    url: str | None = None
    colour: discord.Colour = COLOUR_INFO
    author: str | None = None
    footer: str | None = None
    timestamp: datetime | None = None
    fields: list[tuple[str, str, bool]] = field(default_factory=list)

    def add(self, name: str, value: str, *, inline: bool = False) -> None:
        """Add a field (empty values become a dash: Discord refuses empty fields)."""
        self.fields.append((name or "\u200b", value or "—", inline))

    def build(self) -> discord.Embed:
        """The embed within every Discord limit, every part cleaned of control and bidi characters."""
        title = cut(plain(self.title), TITLE_LIMIT)
        description = cut(clean_text(self.description), DESCRIPTION_LIMIT)
        author = cut(plain(self.author), AUTHOR_LIMIT) if self.author else None
        footer = cut(plain(self.footer), FOOTER_LIMIT) if self.footer else None
        fields = [
            (cut(plain(n), FIELD_NAME_LIMIT), cut(clean_text(v), FIELD_VALUE_LIMIT), inline)
            for n, v, inline in self.fields[:FIELD_COUNT_LIMIT]
        ]
        if len(self.fields) > FIELD_COUNT_LIMIT:
            fields[-1] = ("…", f"{len(self.fields) - FIELD_COUNT_LIMIT + 1} more not shown", False)

        def total() -> int:
            return (
                len(title)
                + len(description)
                + len(author or "")
                + len(footer or "")
                + sum(len(n) + len(v) for n, v, _ in fields)
            )

        # Over the total: shorten the description first, then drop fields from the end.
        excess = total() - TOTAL_LIMIT
        if excess > 0 and description:
            description = cut(description, max(1, len(description) - excess))
        while total() > TOTAL_LIMIT and fields:
            fields.pop()
        embed = discord.Embed(
            title=title or None,
            description=description or None,
            url=safe_url(self.url),
            colour=self.colour,
            timestamp=self.timestamp,
        )
        if author:
            embed.set_author(name=author)
        if footer:
            embed.set_footer(text=footer)
        for name, value, inline in fields:
            embed.add_field(name=name, value=value, inline=inline)
        return embed


def _lines(lines: Iterable[str], limit: int, more: str = "… and {n} more") -> str:
    """Whole lines joined up to `limit` characters, with a note of how many did not fit."""
    out: list[str] = []
    size = 0
    items = list(lines)
    for index, line in enumerate(items):
        rest = len(items) - index
        note = more.format(n=rest)
        if size + len(line) + 1 > limit - (len(note) + 1 if rest > 1 else 0):
            if not out:
                out.append(cut(line, limit - len(note) - 1))
                rest -= 1
            if rest:
                out.append(more.format(n=rest))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def quote_block(text: str, limit: int) -> str:
    """Escaped text as a block quote of at most `limit` characters."""
    lines = [f"> {line}" if line.strip() else ">" for line in escape(text).splitlines()] or [">"]
    return cut("\n".join(lines), limit)


def decision_line(decision: Decision) -> str:
    """'✅ Confirmed by modname (<@1>) <t:…:f>' and the note, escaped."""
    who = escape(decision.moderator_name or "a moderator")
    mention = f" (<@{decision.moderator_id}>)" if decision.moderator_id is not None else ""
    line = (
        f"{VERDICT_MARKS[decision.verdict]} {VERDICT_LABELS[decision.verdict]} by **{who}**{mention}"
        f" {timestamp_markup(decision.decided_at)}"
    )
    if decision.note:
        line += f"\n> {cut(escape(' '.join(decision.note.split())), 300)}"
    return line


def _decided_colour(flags: Sequence[FlagRecord], score: float) -> discord.Colour:
    statuses = {f.status for f in flags if f.status != "superseded"}
    if statuses == {"dismissed"}:
        return COLOUR_DISMISSED
    if statuses and statuses <= {"confirmed", "dismissed"}:
        return COLOUR_CONFIRMED
    return severity_colour(score)


def _decision_summary(flags: Sequence[FlagRecord], decisions: Mapping[int, Decision]) -> str | None:
    """One line per distinct decision in force, naming the flags where they differ."""
    decided = [(f, decisions[f.id]) for f in flags if f.id in decisions and f.status != "superseded"]
    if not decided:
        return None
    groups: dict[tuple[str, int | None, str | None, int], list[int]] = {}
    shown: dict[tuple[str, int | None, str | None, int], Decision] = {}
    for flag, d in decided:
        key = (d.verdict, d.moderator_id, d.moderator_name, int(d.decided_at.timestamp()))
        groups.setdefault(key, []).append(flag.id)
        shown[key] = d
    if len(groups) == 1 and len(decided) == len(flags):
        return decision_line(next(iter(shown.values())))
    return "\n".join(
        f"flag {', '.join(map(str, ids))}: {decision_line(shown[key])}" for key, ids in groups.items()
    )


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
        colour=_decided_colour(flags, top),
        author=post.author or "unknown author",
        footer=f"alert {alert.id} · flag {flag_ids or 'none'} · {alert.source.kind}",
        timestamp=parse_time(post.created_at) or alert.alert.created_at,
    )
    excerpt = evidence_excerpt(post.text, tuple(flags), excerpt_chars)
    draft.description = quote_block(excerpt, min(DESCRIPTION_LIMIT, excerpt_chars + 200))
    draft.add("Thread", escape(alert.thread.title or alert.thread.external_id), inline=True)
    draft.add("Position", position_label(post), inline=True)
    if post.review_error:
        draft.add("Could not review", cut(escape(post.review_error), FIELD_VALUE_LIMIT))
    for flag in flags:
        reasons = [f"• {escape(r)}" for r in flag.reasons] or ["• (no reason given)"]
        draft.add(flag_title(flag), _lines(reasons, FIELD_VALUE_LIMIT))
    summary = _decision_summary(flags, decisions)
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
        colour=_decided_colour(flags, top),
        footer=f"digest {alert.id} · {len(authors)} authors · {alert.source.kind}",
        timestamp=alert.alert.created_at,
    )
    draft.description = head + _lines(
        (_digest_line(i) for i in alert.items), DESCRIPTION_LIMIT - len(head) - 200
    )
    if alert.listed:
        draft.add(
            "Also listed (minor, not alerted)", _lines(map(_listed_line, alert.listed), FIELD_VALUE_LIMIT)
        )
    summary = _decision_summary(flags, decisions)
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
        colour=_decided_colour([flag], flag.score),
        author=post.author or "unknown author",
        footer=f"flag {flag.id} · alert {flag.alert_id} · model {flag.model_version or '?'}",
        timestamp=parse_time(post.created_at) or flag.created_at,
    )
    draft.description = quote_block(evidence_excerpt(post.text, (flag,), excerpt_chars), excerpt_chars + 200)
    draft.add("Thread", escape(thread.title or thread.external_id), inline=True)
    draft.add("Position", position_label(post), inline=True)
    draft.add("Threshold", f"{flag.threshold:.2f}", inline=True)
    draft.add("Reasons", _lines((f"• {escape(r)}" for r in flag.reasons), FIELD_VALUE_LIMIT))
    if post.scores:
        draft.add(
            "All scores",
            " · ".join(f"{category_label(c)} {s:.2f}" for c, s in sorted(post.scores.items())),
        )
    notes = [f"• chars {e.start}–{e.end}: {escape(e.note)}" for e in flag.evidence if e.note]
    if notes:
        draft.add("Evidence", _lines(notes, FIELD_VALUE_LIMIT))
    if decisions:
        draft.add("Decisions", _lines((decision_line(d) for d in reversed(decisions)), FIELD_VALUE_LIMIT))
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
                _lines(lines, FIELD_VALUE_LIMIT),
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
    draft.description = _lines(lines, DESCRIPTION_LIMIT - 100)
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
            _lines(value, FIELD_VALUE_LIMIT),
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
    draft.description = _lines(heads, 1500)
    for thread in threads:
        for post in thread.flagged:
            reasons = [f"• {escape(r)}" for _, _, rs in post.flags for r in rs]
            draft.add(
                f"{post.label} by {plain(post.author or 'unknown author')}: "
                + ", ".join(f"{category_label(c)} {s:.2f}" for c, s, _ in post.flags),
                _lines(reasons, FIELD_VALUE_LIMIT),
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
