"""Where alerts go: the sink protocol, the console sink, and the dispatcher that empties the outbox.

Delivery guarantees
-------------------
The service writes flags and their outbox rows in one transaction, so an alert exists exactly when its flag
does. The dispatcher then, for each due delivery unit (one alert, or one digest of a thread's burst):

1. claims it in a transaction: status 'sending', a claim token, a lease, one more attempt; the unit (which
   alerts a digest folds) is fixed at its first claim and never regrouped;
2. hands it to the sink with a stable idempotency key (`AlertView.idempotency_key`);
3. marks it 'sent' (with the sink's message id) only after the sink returned; on an error it goes back to
   'pending' with an exponential backoff, or to 'failed' after `max_attempts` or a permanent error.

A crash between 2 and 3 (the at-least-once window) leaves the row 'sending'. After a restart (at once, with
`release_claims`, or when the lease runs out) the same unit is claimed again, with the same key. A unit
claimed before (a crash, a lost reply or an earlier failure) is not simply sent again: a sink that can look
(`bot.redelivery.DeliveryLookup`) is first asked which of them it already delivered; those are marked sent
with the receipt it found. If that look-up fails, they are retried like a failed send, never sent blind.
This makes delivery exactly-once end to end:

- A sink that remembers keys turns a repeat into a no-op (the crash test proves it with such a sink).
- The Discord sink finds its earlier message in the channel's history (`bot.discord.sink`), whatever the
  time since; the message nonce only covers Discord's nonce window of a few minutes.
- `ConsoleSink` cannot look back: it is at-least-once, with the window limited to one unit per crash (a
  repeat prints the alert again, with the same "alert N" / "digest N" in its panel's subtitle).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.errors import DeliveryError as DeliveryError  # defined with the others
from bot.records import AlertItem, AlertView, FlagRecord, category_words
from bot.records import SentReceipt as SentReceipt  # where sinks take it from
from bot.redelivery import claimed_before, find_delivered
from bot.store import Store
from bot.textsafety import clean_line, clean_text
from classifiers.thread import post_name
from config.settings import AlertSettings

log = logging.getLogger(__name__)


class AlertSink(Protocol):
    """Delivers one alert (or digest) to moderators; raises on failure, returns a receipt on success."""

    async def send(self, alert: AlertView) -> SentReceipt: ...


Outcome = Literal["sent", "duplicate", "retrying", "failed"]


# ----------------------------------------------------------------------------------------------------------
# Rendering helpers shared by sinks


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary where possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def evidence_excerpt(text: str, flags: tuple[FlagRecord, ...], limit: int = 300) -> str:
    """The offending part of a post with a little context: the first evidence span in the post's own text
    of the highest-scoring flag, else the post's start; cut at word boundaries to at most `limit` chars."""
    for flag in sorted(flags, key=lambda f: -f.score):
        for ev in flag.evidence:
            if ev.quote_index is None and max(0, ev.start) < min(len(text), ev.end):
                return context_excerpt(text, ev.start, ev.end, limit)
    return truncate(text.strip(), limit)


def context_excerpt(text: str, start: int, end: int, limit: int = 300, context: int = 80) -> str:
    """`text[start:end]` with up to `context` characters around it, cut at word boundaries, <= `limit`."""
    start, end = max(0, start), min(len(text), end)
    room = max(0, limit - (end - start)) // 2
    # Context stays on the evidence's own lines: the line before may be another speaker or forum chrome.
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lo = max(line_start, start - min(room, context))
    if lo > line_start:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else start
    hi = min(line_end, end + min(room, context))
    if hi < line_end:
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else end
    lo, hi = _outside_masked_links(text, lo, hi, start, end)
    excerpt = ("…" if lo > line_start else "") + text[lo:hi].strip() + ("…" if hi < line_end else "")
    return truncate(excerpt, limit)


_MASKED_LINK = re.compile(r"\[[^\]\n]*\]\([^)\s]*\)")


def _outside_masked_links(text: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """Move the excerpt's edges out of a masked link (`[text](url)`): an excerpt that starts or ends inside
    one shows half a link. The edge moves to the link's far side, or past it when the link holds the
    evidence's own edge."""
    for m in _MASKED_LINK.finditer(text, max(0, lo - 2048), min(len(text), hi + 2048)):
        if m.start() < lo < m.end():
            lo = m.end() if m.end() <= start else m.start()
        if m.start() < hi < m.end():
            hi = m.start() if m.start() >= end else m.end()
    return lo, hi


def severity_colour(score: float) -> str:
    """A colour by the highest score of an alert."""
    if score >= 0.9:
        return "bold red"
    if score >= 0.75:
        return "dark_orange"
    return "yellow"


def _item_score(item: AlertItem) -> float:
    return max((f.score for f in item.flags), default=0.0)


def _headline(item: AlertItem) -> str:
    """The flags of an item ("inflammatory 0.84"), or that the post could not be reviewed."""
    flags = ", ".join(f"{category_words(f.category)} {f.score:.2f}" for f in item.flags)
    if item.post.review_error:
        return f"{flags}; could not fully review" if flags else "could not review"
    return flags


def _who(item: AlertItem) -> str:
    position = post_name(item.post.position, item.post.external_id)
    # Every field from a source is cleaned: an author name can carry terminal escapes and bidi overrides.
    return clean_line(f"{position} by {item.post.author or 'unknown author'}")


class ConsoleSink:
    """Prints alerts as coloured panels, when there is no Discord token. At-least-once (see module doc)."""

    def __init__(
        self, console: Console | None = None, *, excerpt_chars: int = 300, digest_lines: int = 15
    ) -> None:
        """`console` defaults to rich's stdout console."""
        self.console = console or Console()
        self._excerpt_chars = excerpt_chars
        self._digest_lines = digest_lines

    async def send(self, alert: AlertView) -> SentReceipt:
        """Print the alert."""
        self.console.print(self.render(alert))
        return SentReceipt()

    def render(self, alert: AlertView) -> Panel:
        """The alert as a rich panel; post text is never read as markup."""
        if alert.kind == "digest":
            return self._render_digest(alert)
        item = alert.items[0]
        score = _item_score(item)
        title = Text("⚑ ", style=severity_colour(score))
        title.append(clean_line(_headline(item)), style=severity_colour(score))
        body = Text()
        body.append(clean_line(alert.thread.title or alert.thread.external_id), style="bold")
        body.append(f"  ·  {_who(item)}\n")
        link = item.post.url or alert.thread.url
        if link:
            body.append(clean_line(link), style="underline blue")
            body.append("\n")
        if item.post.review_error:
            body.append("\ncould not review this post: ", style="bold red")
            body.append(f"{clean_text(item.post.review_error)}\n")
        for flag in item.flags:
            body.append(f"\n{clean_line(category_words(flag.category))}", style="bold")
            body.append(f" {flag.score:.2f} (threshold {flag.threshold:.2f})")
            body.append("  minor: listed, not alerted\n" if flag.severity == "minor" else "\n", style="dim")
            for reason in flag.reasons:
                body.append(f"  • {clean_line(reason)}\n")
        excerpt = evidence_excerpt(item.post.text, item.flags, self._excerpt_chars)
        if excerpt:
            body.append("\n")
            for line in clean_text(excerpt).splitlines() or [""]:
                body.append(f"> {line}\n", style="italic")
        body.rstrip()
        return Panel(
            body,
            title=title,
            subtitle=f"alert {alert.id} · {alert.alert.created_at:%Y-%m-%d %H:%M:%S} UTC",
            border_style=severity_colour(score),
        )

    def _render_digest(self, alert: AlertView) -> Panel:
        score = max((_item_score(i) for i in alert.items), default=0.0)
        title = Text(f"⚑ burst: {len(alert.items)} flagged posts in one thread", style=severity_colour(score))
        lines: list[Text] = []
        head = Text(clean_line(alert.thread.title or alert.thread.external_id), style="bold")
        if alert.thread.url:
            head.append(f"\n{clean_line(alert.thread.url)}", style="underline blue")
        lines.append(head)
        for item in alert.items[: self._digest_lines]:
            line = Text(f"{_who(item)}: ")
            line.append(clean_line(_headline(item)), style="bold")
            reason = next((r for f in item.flags for r in f.reasons), item.post.review_error or "")
            if reason:
                line.append(f" — {truncate(clean_line(reason), 120)}")
            lines.append(line)
        hidden = len(alert.items) - self._digest_lines
        if hidden > 0:
            lines.append(Text(f"… and {hidden} more", style="dim"))
        for detail in alert.listed:
            position = detail.post.position
            who = post_name(position, detail.post.external_id)
            line = Text(clean_line(f"{who} by {detail.post.author or 'unknown author'}: "), style="dim")
            line.append(
                clean_line(f"{category_words(detail.flag.category)} {detail.flag.score:.2f} (minor, listed)"),
                style="dim",
            )
            if detail.flag.reasons:
                line.append(f" — {truncate(clean_line(detail.flag.reasons[0]), 120)}", style="dim")
            lines.append(line)
        return Panel(
            Group(*lines),
            title=title,
            subtitle=f"digest {alert.id} · {alert.alert.created_at:%Y-%m-%d %H:%M:%S} UTC",
            border_style=severity_colour(score),
        )


# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatch round did."""

    claimed: int = 0
    sent: int = 0
    duplicates: int = 0  # the sink had already delivered these (a repeat after a crash)
    retrying: int = 0
    failed: int = 0
    digests: int = 0


class Dispatcher:
    """Sends due outbox rows through a sink with retries, backoff and burst folding (see module doc)."""

    def __init__(
        self,
        store: Store,
        sink: AlertSink,
        settings: AlertSettings | None = None,
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """`jitter()` returns a number in [0, 1) that spreads retries (tests pass a constant)."""
        self.store = store
        self.sink = sink
        self.settings = settings or AlertSettings()
        self._jitter = jitter
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now (the service calls this after writing alerts)."""
        self._wake.set()

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: exponential, capped, half jittered."""
        s = self.settings
        delay = min(s.retry_max_seconds, s.retry_base_seconds * 2.0 ** max(0, attempts - 1))
        return delay / 2 + delay / 2 * self._jitter()

    async def dispatch_once(self) -> DispatchReport:
        """Claim the due alerts and send them, one after the other; units claimed before are looked up
        first (see the module doc)."""
        s = self.settings
        claimed = await self.store.claim_alerts(
            limit=s.batch_size,
            lease_seconds=s.lease_seconds,
            burst_max=s.burst_max_alerts,
            burst_window=s.burst_window_seconds,
        )
        delivered, lookup_error = await find_delivered(self.sink, claimed, within_seconds=s.lease_seconds / 2)
        outcomes: Counter[Outcome] = Counter()
        for alert in claimed:
            if alert.id in delivered:
                outcomes[await self._record_sent(alert, delivered[alert.id])] += 1
            elif lookup_error is not None and claimed_before(alert):
                outcomes[await self._record_failure(alert, lookup_error)] += 1
            else:
                outcomes[await self._deliver(alert)] += 1
        return DispatchReport(
            claimed=len(claimed),
            sent=outcomes["sent"] + outcomes["duplicate"],
            duplicates=outcomes["duplicate"],
            retrying=outcomes["retrying"],
            failed=outcomes["failed"],
            digests=sum(1 for a in claimed if a.kind == "digest"),
        )

    async def _deliver(self, alert: AlertView) -> Outcome:
        try:
            # Past half the lease another dispatcher could take the alert over: give up before that.
            async with asyncio.timeout(self.settings.lease_seconds / 2):
                receipt = await self.sink.send(alert)
        except Exception as exc:  # the sink's failure, whatever it is, is the alert's failure
            return await self._record_failure(alert, exc)
        return await self._record_sent(alert, receipt)

    async def _record_sent(self, alert: AlertView, receipt: SentReceipt) -> Outcome:
        await self.store.mark_alert_sent(
            alert.id, channel_id=receipt.channel_id, message_id=receipt.message_id
        )
        return "duplicate" if receipt.duplicate else "sent"

    async def _record_failure(self, alert: AlertView, exc: Exception) -> Outcome:
        assert alert.claim_token is not None
        s = self.settings
        permanent = isinstance(exc, DeliveryError) and exc.permanent
        retry_after = exc.retry_after if isinstance(exc, DeliveryError) else None
        attempts = alert.alert.attempts
        give_up = permanent or attempts >= s.max_attempts
        error = f"{type(exc).__name__}: {exc}"
        if give_up:
            log.error("alert %d failed for good after %d attempts: %s", alert.id, attempts, error)
        else:
            log.warning("alert %d: attempt %d failed: %s", alert.id, attempts, error)
        delay = retry_after if retry_after is not None else self.backoff(attempts)
        await self.store.mark_alert_failed(
            alert.id, alert.claim_token, error, retry_at=None if give_up else self.store.now() + delay
        )
        return "failed" if give_up else "retrying"

    async def run(self, stop: asyncio.Event | None = None, *, recover: bool = True) -> None:
        """Dispatch until `stop` is set: at once when woken, else when the next alert falls due or every
        `poll_interval_seconds`. `recover` first re-sends what a crashed predecessor left 'sending' (right
        when this is the only dispatcher of the database)."""
        stop = stop or asyncio.Event()
        if recover:
            released = await self.store.release_claims()
            if released:
                log.info("re-sending %d alerts whose delivery was unconfirmed", released)
        while not stop.is_set():
            self._wake.clear()
            try:
                report = await self.dispatch_once()
            except Exception:
                log.exception("dispatching alerts failed; trying again")
                report = DispatchReport()
            if report.claimed >= self.settings.batch_size:
                continue  # more are waiting
            timeout = self.settings.poll_interval_seconds
            try:
                due = await self.store.next_alert_due()
            except Exception:
                log.exception("reading the outbox failed")
                due = None
            if due is not None:
                timeout = min(timeout, max(0.01, due - self.store.now()))
            await _wait_any(self._wake, stop, timeout)

    async def drain(self, *, max_seconds: float) -> bool:
        """Dispatch until nothing is pending or sending (waiting for held and retried alerts), at most
        `max_seconds`; True when the outbox is empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds
        while True:
            await self.dispatch_once()
            counts = await self.store.outbox_counts()
            if not counts.get("pending") and not counts.get("sending"):
                return True
            due = await self.store.next_alert_due()
            wait = 0.05 if due is None else max(0.01, due - self.store.now())
            if loop.time() + wait > deadline:
                return False
            await asyncio.sleep(min(wait, self.settings.poll_interval_seconds))


async def _wait_any(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    tasks = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
