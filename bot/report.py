"""Readable reports on the console: the `scan` report (the flagged posts with their reasons and the words
behind them) and the `flags` table."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.records import CATEGORY_LABELS, FlagDetail
from bot.sinks import context_excerpt, severity_colour, truncate
from bot.textsafety import clean_line
from classifiers.result import CATEGORIES, Evidence
from classifiers.suite import PostReview
from classifiers.thread import Post, Thread, post_name

CATEGORY_STYLES = {"off_topic": "yellow", "inflammatory": "red", "duplicated_quote": "cyan"}
EXCERPT_CHARS = 160


def excerpt(post: Post, evidence: Evidence, limit: int = EXCERPT_CHARS) -> str:
    """The evidence span of the post with a little context, on one line, cut cleanly at word boundaries."""
    if evidence.quote_index is not None or evidence.end <= evidence.start:
        return ""
    return " ".join(context_excerpt(post.text, evidence.start, evidence.end, limit, context=40).split())


def where(post: Post) -> str:
    """'#3' (or 'post ID' when the position is unknown)."""
    return post_name(post.position, post.id)


def render_report(console: Console, thread: Thread, reviews: list[PostReview]) -> None:
    """Print the flagged posts of `thread` and a summary table."""
    flagged = [r for r in reviews if r.flags]
    failed = [r for r in reviews if r.failures]
    header = Text()
    header.append(clean_line(thread.title) or "(untitled thread)", style="bold")
    header.append(f"  {len(reviews)} posts, {len(flagged)} flagged", style="dim")
    if failed:
        header.append(f", {len(failed)} not fully reviewed", style="bold red")
    if thread.source_format:
        header.append(f"  ({clean_line(thread.source_format)})", style="dim")
    console.print(header)
    console.print()
    if not flagged:
        console.print("No post reaches a flag threshold.", style="green")
    for review in reviews:
        if review.flags or review.failures:
            console.print(_post_panel(review))
            if review.post.url:  # whole, outside the border, where a terminal keeps it clickable
                link = f"  {clean_line(review.post.url)}"
                console.print(link, markup=False, highlight=False, soft_wrap=True)
    console.print(_summary(reviews))


def _post_panel(review: PostReview) -> Panel:
    post = review.post
    parts: list[Text] = []
    for failure in review.failures:
        line = Text()
        line.append(f"could not review ({CATEGORY_LABELS[failure.category]}): ", style="bold red")
        line.append(clean_line(failure.message))
        parts.append(line)
    for flag in review.flags:
        line = Text()
        line.append(f"{CATEGORY_LABELS[flag.category]} ", style=f"bold {CATEGORY_STYLES[flag.category]}")
        line.append(f"{flag.score:.2f}", style="bold")
        line.append(f" (threshold {flag.threshold:.2f})", style="dim")
        if not flag.alerts:
            line.append("  minor: listed, not alerted", style="dim italic")
        parts.append(line)
        for reason in flag.reasons:
            parts.append(Text(f"  • {clean_line(reason)}"))
        shown = 0
        for item in flag.evidence:
            quoted = excerpt(post, item)
            if not quoted or shown >= 2:
                continue
            shown += 1
            parts.append(Text(f'    "{clean_line(quoted)}"', style="italic dim"))
    title = Text()
    title.append(clean_line(post.author or "(unknown author)"), style="bold")
    title.append(f"  {clean_line(where(post))}", style="dim")
    return Panel(Group(*parts), title=title, title_align="left", expand=True)


def _summary(reviews: list[PostReview]) -> Table:
    table = Table(title="Flags by category", title_justify="left", show_edge=False)
    table.add_column("category")
    table.add_column("flagged", justify="right")
    table.add_column("highest score", justify="right")
    counts: Counter[str] = Counter(f.category for r in reviews for f in r.flags)
    for category in CATEGORIES:
        best = max((r.scores.get(category, 0.0) for r in reviews), default=0.0)
        table.add_row(CATEGORY_LABELS[category], str(counts[category]), f"{best:.2f}")
    return table


def _age(when: datetime, now: datetime) -> str:
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def flags_table(flags: list[FlagDetail], *, now: datetime | None = None) -> Table:
    """The flags as a rich table; post text and names are shown as text, never read as markup."""
    now = now or datetime.now(UTC)
    table = Table(title=f"Open flags ({len(flags)})", show_lines=False, expand=False)
    table.add_column("flag", justify="right", style="bold")
    table.add_column("category")
    table.add_column("score", justify="right")
    table.add_column("author")
    table.add_column("thread", max_width=28)
    table.add_column("post", justify="right")
    table.add_column("reason", max_width=60)
    table.add_column("flagged", justify="right", style="dim")
    for detail in flags:
        flag, post, thread = detail.flag, detail.post, detail.thread
        colour = severity_colour(flag.score)
        position = f"#{post.position}" if post.position is not None else clean_line(post.external_id)
        status = "" if flag.status == "open" else f" ({flag.status})"
        status += " (minor)" if flag.severity == "minor" else ""
        table.add_row(
            str(flag.id),
            Text(clean_line(flag.category + status), style=colour),
            Text(f"{flag.score:.2f} / {flag.threshold:.2f}", style=colour),
            Text(clean_line(post.author or "?")),
            Text(truncate(clean_line(thread.title or thread.external_id), 60)),
            Text(position),
            Text(truncate(clean_line(flag.reasons[0]), 200) if flag.reasons else ""),
            _age(flag.created_at, now),
        )
    return table


def threads_overview(results: list[tuple[Thread, list[PostReview]]]) -> Table:
    """One table for a scan of several threads: per thread its posts and flags by category, then the total."""
    table = Table(title=f"All {len(results)} threads", title_justify="left", show_edge=False)
    table.add_column("thread", overflow="fold", ratio=1)
    for column in ("posts", "flagged", *(CATEGORY_LABELS[c] for c in CATEGORIES)):
        table.add_column(column.replace(" ", "\n"), justify="right", no_wrap=True)
    totals: Counter[str] = Counter()
    for thread, reviews in results:
        counts: Counter[str] = Counter(f.category for r in reviews for f in r.flags)
        row = Counter(posts=len(reviews), flagged=sum(1 for r in reviews if r.flags)) + counts
        totals += row
        table.add_row(Text(clean_line(thread.title) or "(untitled thread)"), *_overview_cells(row))
    table.add_row(Text("total", style="bold"), *_overview_cells(totals), end_section=True)
    return table


def _overview_cells(row: Counter[str]) -> list[str]:
    return [str(row["posts"]), str(row["flagged"]), *(str(row[c]) for c in CATEGORIES)]
