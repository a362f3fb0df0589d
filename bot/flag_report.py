"""Console views of the moderation queue for `modassist flags`: one flag in full (`show`, and after
`confirm` / `dismiss`) and an author's case history (`--author`, what `/modq author` shows in Discord).

Written for an 80-column terminal: plain lines, no table or panel borders, and each post link printed whole on
a line of its own (never wrapped or cut), so that the terminal makes it clickable. Names, titles and post text
are shown as text, never read as rich markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.text import Text

from bot.records import CATEGORY_LABELS, AuthorHistory, Decision, FlagDetail
from bot.report import CATEGORY_STYLES
from bot.sinks import context_excerpt, severity_colour
from bot.textsafety import clean_line
from classifiers.thread import post_name

EXCERPT_CHARS = 160
EXCERPTS_SHOWN = 2
VERDICT_DONE = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}


def when(at: datetime) -> str:
    """'2026-12-07 00:20 UTC'."""
    return f"{at:%Y-%m-%d %H:%M} UTC"


def post_label(detail: FlagDetail) -> str:
    """'#2 by sam in "Thread title"', as people see the post."""
    post, thread = detail.post, detail.thread
    where = post_name(post.position, post.external_id)
    title = clean_line(thread.title or thread.external_id)
    return f'{where} by {clean_line(post.author or "an unknown author")} in "{title}"'


def post_link(detail: FlagDetail) -> str | None:
    """The post's own link, else its thread's; None when neither is known."""
    return detail.post.url or detail.thread.url


def print_link(console: Console, url: str | None, indent: str = "") -> None:
    """The link whole on its own line: never wrapped, cut or styled (terminals make it clickable)."""
    if url:
        console.print(Text(indent + clean_line(url)), soft_wrap=True, highlight=False)


def flag_heading(detail: FlagDetail) -> Text:
    """'flag 3 · inflammatory 0.90 (threshold 0.60) · open'."""
    flag = detail.flag
    line = Text()
    line.append(f"flag {flag.id}", style="bold")
    line.append(" · ")
    label = CATEGORY_LABELS.get(flag.category, clean_line(flag.category))
    line.append(label, style=f"bold {CATEGORY_STYLES.get(flag.category, '')}".strip())
    line.append(f" {flag.score:.2f}", style=severity_colour(flag.score))
    line.append(f" (threshold {flag.threshold:.2f})", style="dim")
    line.append(f" · {flag.status}")
    if flag.severity == "minor":
        line.append(" · minor: listed, not alerted", style="dim italic")
    return line


def decision_text(decision: Decision) -> Text:
    """'confirmed by alice, 2026-12-07 00:20 UTC: the note'."""
    line = Text()
    line.append(VERDICT_DONE.get(decision.verdict, decision.verdict), style="bold")
    line.append(f" by {clean_line(decision.moderator_name or 'an unknown moderator')}")
    line.append(f", {when(decision.decided_at)}", style="dim")
    if decision.note:
        line.append(f": {clean_line(' '.join(decision.note.split()))}")
    return line


def _evidence_lines(detail: FlagDetail) -> list[Text]:
    lines: list[Text] = []
    text = detail.post.text
    for item in detail.flag.evidence:
        if len(lines) >= EXCERPTS_SHOWN or item.quote_index is not None or item.end <= item.start:
            continue
        quoted = " ".join(context_excerpt(text, item.start, item.end, EXCERPT_CHARS, context=40).split())
        if quoted:
            lines.append(Text(f'    "{clean_line(quoted)}"', style="italic dim"))
    return lines


def print_flag(console: Console, detail: FlagDetail, decisions: Sequence[Decision]) -> None:
    """One flag in full: what was flagged and where (with its link), why, and every decision on it."""
    console.print(flag_heading(detail))
    console.print(Text(post_label(detail)))
    print_link(console, post_link(detail))
    console.print(Text(f"flagged {when(detail.flag.created_at)}", style="dim"))
    for reason in detail.flag.reasons:
        console.print(Text(f"  • {clean_line(reason)}"))
    for line in _evidence_lines(detail):
        console.print(line)
    if not decisions:
        console.print(Text("No decision yet.", style="dim"))
        return
    console.print(Text("Decisions:"))
    for decision in decisions:
        console.print(Text("  ") + decision_text(decision))


def _summary(history: AuthorHistory) -> Text:
    statuses = Counter(d.flag.status for d in history.flags)
    # The name as the forum spells it (the one typed may differ in case).
    name = next((d.post.author for d in history.flags if d.post.author), None) or history.author
    line = Text()
    line.append(f"Case history: {clean_line(name)}", style="bold")
    line.append(
        f"  {_count(history.posts, 'post')} stored, {_count(len(history.flags), 'flag')}", style="dim"
    )
    if statuses:
        line.append(" (" + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ")", style="dim")
    return line


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_author_history(console: Console, history: AuthorHistory, *, limit: int) -> None:
    """An author's cases, newest first: each flag (what, where, link, why) and the decisions on it."""
    console.print(_summary(history))
    if not history.flags:
        console.print("No flags for this author.")
        return
    by_flag: dict[int, list[Decision]] = {}
    for decision in history.decisions:
        by_flag.setdefault(decision.flag_id, []).append(decision)
    for detail in history.flags:
        console.print()
        console.print(flag_heading(detail))
        where = f"#{detail.post.position}" if detail.post.position is not None else detail.post.external_id
        title = clean_line(detail.thread.title or detail.thread.external_id)
        console.print(Text(f'  {clean_line(where)} in "{title}", flagged {when(detail.flag.created_at)}'))
        print_link(console, post_link(detail), indent="  ")
        if detail.flag.reasons:
            console.print(Text(f"  • {clean_line(detail.flag.reasons[0])}"))
        for decision in by_flag.get(detail.flag.id, []):
            console.print(Text("  ") + decision_text(decision))
    if len(history.flags) >= limit:
        console.print()
        console.print(Text(f"Showing the newest {limit}; use --limit for more.", style="dim"))


def print_open_flags(console: Console, flags: Sequence[FlagDetail]) -> None:
    """The open flags as lines, for a terminal too narrow for the table: what, where, link, first reason."""
    console.print(Text(f"Open flags ({len(flags)})", style="bold"))
    for detail in flags:
        console.print()
        console.print(flag_heading(detail))
        console.print(Text(f"  {post_label(detail)}, flagged {when(detail.flag.created_at)}"))
        print_link(console, post_link(detail), indent="  ")
        if detail.flag.reasons:
            console.print(Text(f"  • {clean_line(detail.flag.reasons[0])}"))
