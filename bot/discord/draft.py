"""An embed under construction: `EmbedDraft` keeps Discord's limits and cleans every part when built;
the line helpers the embeds share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.discord.markup import (
    AUTHOR_LIMIT,
    COLOUR_CONFIRMED,
    COLOUR_DISMISSED,
    COLOUR_INFO,
    DESCRIPTION_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    VERDICT_LABELS,
    VERDICT_MARKS,
    cut,
    escape,
    plain,
    safe_url,
    severity_colour,
    timestamp_markup,
)
from bot.records import (
    AuditEntry,
    Decision,
    FlagRecord,
)
from bot.textsafety import clean_text

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


def capped_lines(lines: Iterable[str], limit: int, more: str = "… and {n} more") -> str:
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


_ACTION_WORDS = {
    ("action.delete_message", "deleted"): "🗑 Message deleted",
    ("action.delete_message", "already_gone"): "🗑 Message found already deleted",
    ("action.timeout_member", "timed_out"): "⏳ Author timed out",
    ("action.timeout_member", "not_member"): "⏳ Author found gone from the server (no time-out)",
    ("action.soft_delete_post", "deleted"): "🗑 Post soft-deleted on the forum",
    ("action.soft_delete_post", "not_found"): "🗑 Post not found on the forum (XenForo: 404)",
    ("action.lock_thread", "locked"): "🔒 Thread locked on the forum",
    ("action.lock_thread", "not_found"): "🔒 Thread not found on the forum (XenForo: 404)",
}


def action_line(entry: AuditEntry) -> str:
    """'🗑 Message deleted by modname (<@1>) <t:…:f>' (a time-out: for how long, until when), escaped."""
    who = escape(entry.actor_name or "a moderator")
    mention = f" (<@{entry.actor_id}>)" if entry.actor_id is not None else ""
    outcome = str(entry.details.get("outcome"))
    what = _ACTION_WORDS.get((entry.action, outcome), entry.action)
    until = parse_until(entry)
    if outcome == "timed_out" and until is not None:
        what += f" for {escape(str(entry.details.get('duration')))} (until {timestamp_markup(until)})"
    return f"{what} by **{who}**{mention} {timestamp_markup(entry.at)}"


def parse_until(entry: AuditEntry) -> datetime | None:
    """When an audited time-out ends (None for other actions)."""
    until = entry.details.get("until")
    try:
        return datetime.fromisoformat(until) if isinstance(until, str) else None
    except ValueError:
        return None


def decided_colour(flags: Sequence[FlagRecord], score: float) -> discord.Colour:
    statuses = {f.status for f in flags if f.status != "superseded"}
    if statuses == {"dismissed"}:
        return COLOUR_DISMISSED
    if statuses and statuses <= {"confirmed", "dismissed"}:
        return COLOUR_CONFIRMED
    return severity_colour(score)


def decision_summary(flags: Sequence[FlagRecord], decisions: Mapping[int, Decision]) -> str | None:
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
