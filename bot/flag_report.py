"""Console views of the moderation queue for `modassist flags`: one flag in full (`show`, and after
`confirm` / `dismiss`) and an author's case history (`--author`, what `/modq author` shows in Discord).

Written for an 80-column terminal: plain lines, no table or panel borders, and each post link printed whole on
a line of its own (never wrapped or cut), so that the terminal makes it clickable. Names, titles and post text
are shown as text, never read as rich markup.
"""

from __future__ import annotations

import textwrap
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


def flag_heading(detail: FlagDetail, *, minor_note: bool = True) -> Text:
    """'flag 3 · inflammatory 0.90 (threshold 0.60) · open' (a minor flag's note after it, with
    `minor_note`)."""
    flag = detail.flag
    line = Text()
    line.append(f"flag {flag.id}", style="bold")
    line.append(" · ")
    label = CATEGORY_LABELS.get(flag.category, clean_line(flag.category))
    line.append(label, style=f"bold {CATEGORY_STYLES.get(flag.category, '')}".strip())
    line.append(f" {flag.score:.2f}", style=severity_colour(flag.score))
    line.append(f" (threshold {flag.threshold:.2f})", style="dim")
    line.append(f" · {flag.status}")
    if flag.severity == "minor" and minor_note:
        line.append(f" · {MINOR}", style="dim italic")
    return line


MINOR = "minor: listed, not alerted"


def _print_heading(console: Console, detail: FlagDetail) -> None:
    """The flag's heading on one line when it fits the terminal, else the minor note on a line of its own."""
    heading = flag_heading(detail)
    if len(heading) <= console.width:
        console.print(heading)
        return
    console.print(flag_heading(detail, minor_note=False))
    console.print(Text(f"  {MINOR}", style="dim italic"))


def decision_text(decision: Decision) -> Text:
    """'confirmed by alice, 2026-12-07 00:20 UTC: the note'."""
    line = Text()
    line.append(VERDICT_DONE.get(decision.verdict, decision.verdict), style="bold")
    line.append(f" by {clean_line(decision.moderator_name or 'an unknown moderator')}")
    line.append(f", {when(decision.decided_at)}", style="dim")
    if decision.note:
        line.append(f": {clean_line(' '.join(decision.note.split()))}")
    return line


def _evidence_lines(detail: FlagDetail, width: int) -> list[Text]:
    """The flagged passages, quoted, wrapped at `width` under their opening quote mark."""
    lines: list[Text] = []
    text = detail.post.text
    for item in detail.flag.evidence:
        if len(lines) >= EXCERPTS_SHOWN or item.quote_index is not None or item.end <= item.start:
            continue
        quoted = " ".join(context_excerpt(text, item.start, item.end, EXCERPT_CHARS, context=40).split())
        if not quoted:
            continue
        wrapped = textwrap.wrap(
            f'    "{clean_line(quoted)}"', max(width, 40), subsequent_indent="     ", break_long_words=False
        )
        lines.extend(Text(part, style="italic dim") for part in wrapped)
    return lines


def print_flag(console: Console, detail: FlagDetail, decisions: Sequence[Decision]) -> None:
    """One flag in full: what was flagged and where (with its link), why, and every decision on it."""
    _print_heading(console, detail)
    console.print(Text(post_label(detail)))
    print_link(console, post_link(detail))
    console.print(Text(f"flagged {when(detail.flag.created_at)}", style="dim"))
    for reason in detail.flag.reasons:
        _print_reason(console, reason)
    for line in _evidence_lines(detail, console.width):
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
        _print_heading(console, detail)
        where = f"#{detail.post.position}" if detail.post.position is not None else detail.post.external_id
        title = clean_line(detail.thread.title or detail.thread.external_id)
        _print_where(console, f'{clean_line(where)} in "{title}"', when(detail.flag.created_at))
        print_link(console, post_link(detail), indent="  ")
        if detail.flag.reasons:
            _print_reason(console, detail.flag.reasons[0])
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
        _print_heading(console, detail)
        _print_where(console, post_label(detail), when(detail.flag.created_at))
        print_link(console, post_link(detail), indent="  ")
        if detail.flag.reasons:
            _print_reason(console, detail.flag.reasons[0])


def _print_where(console: Console, where: str, flagged: str) -> None:
    """'  #6 by sam in "Title", flagged DATE' on one line when it fits the terminal, else the date on a line
    of its own (rather than cut inside it, or a lone 'UTC')."""
    line = f"  {where}, flagged {flagged}"
    if len(line) <= console.width:
        console.print(Text(line))
        return
    console.print(Text(f"  {where},"))
    console.print(Text(f"  flagged {flagged}"))


def _print_reason(console: Console, reason: str) -> None:
    """'  • REASON', its continuation lines indented under the reason's first word (a long word, e.g. a
    link, is never cut)."""
    lines = textwrap.wrap(
        clean_line(reason),
        max(console.width, 40),
        initial_indent="  • ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    for line in lines:
        console.print(Text(line), soft_wrap=True)
