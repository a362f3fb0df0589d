"""Alert latency: from a post entering the service to the alert's request reaching Discord (the fake).

`modassist run`'s Runtime (store on a temporary SQLite file, service, dispatcher, the real discord.py bot) is
started against the fake Discord server of the tests, on 127.0.0.1. Each of N posts (default 1,000; every
one flagged, each in a thread of 20) enters with `ModerationService.review`; its latency is the time from
that call to the arrival of the bot's `POST /channels/{id}/messages` at the fake. Posts go in one at a
time (closed loop), so a figure is one alert's latency, not queueing behind others. Burst folding is off
(every post gets its own alert) and the fake never rate limits, so no rate-limit wait is included.

Peer, in the same run: the same pipeline with an in-process sink that only notes the time it is called
(no rendering, no HTTP): the ratio shows what rendering the embed and the HTTP round trip through discord.py
add. The detectors are the e2e tests' phrase detectors (cheap); `--real-models` uses `build_suite` instead.

Usage: .venv/bin/python benchmarks/bench_alert_latency.py [--posts 1000] [--real-models]
Target: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.runtime import Runtime  # noqa: E402
from bot.sinks import SentReceipt  # noqa: E402
from bot.store import AlertView  # noqa: E402
from classifiers.suite import DetectorSuite  # noqa: E402
from classifiers.thread import Post, Thread  # noqa: E402
from config.settings import AlertSettings, BotSettings, Settings  # noqa: E402
from tests.e2e.doubles import make_suite  # noqa: E402
from tests.fakes.discord_server import TOKEN, FakeDiscord  # noqa: E402

WARMUP = 20
THREAD_POSTS = 20
MESSAGES = r"/channels/\d+/messages"
TEXTS = [
    "Only an idiot would believe the harbour ferry runs in winter.",
    "Look, you idiot, the timetable is on the council's site.",
    "What a stupid clown you are, the harbour ferry never ran in winter, idiot.",
]


def post_thread(index: int) -> Thread:
    """The thread holding post `index`, with only that post (as a watcher would hand it in)."""
    thread = index // THREAD_POSTS
    position = index % THREAD_POSTS + 1
    post = Post(
        id=f"b{thread}-{position}",
        text=f"{TEXTS[index % len(TEXTS)]} (post {index})",
        author=f"user{index % 37}",
        position=position,
        url=f"https://forum.test/threads/{thread}/post-{position}",
        created_at="2025-03-01T10:00:00Z",
    )
    return Thread(
        id=f"b{thread}",
        title=f"Harbour ferry {thread}",
        posts=(post,),
        url=f"https://forum.test/threads/{thread}",
    )


def settings_for(database: Path, fake: FakeDiscord | None) -> Settings:
    """Settings for the run: burst folding off, quick start."""
    values: dict[str, object] = {
        "database": database,
        "alerts": AlertSettings(burst_max_alerts=1_000_000, poll_interval_seconds=1.0),
        "bot": BotSettings(guild_ready_timeout_seconds=0.05),
        "discord_token": None,
    }
    if fake is not None:
        values.update(
            discord_token=TOKEN,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            guild_ids=[fake.GUILD_ID],
            mod_channel_id=fake.MOD_CHANNEL_ID,
        )
    return Settings(**values)  # type: ignore[arg-type]


async def discord_latencies(suite: DetectorSuite, posts: int, folder: Path) -> list[float]:
    """Per post: seconds from `review` to the alert request arriving at the fake Discord."""
    fake = await FakeDiscord().start()
    runtime = await Runtime.open(settings_for(folder / "discord.db", fake), suite)
    try:
        await runtime.start()
        await runtime.wait_ready()
        latencies = []
        for index in range(WARMUP + posts):
            started = time.perf_counter()
            review = await runtime.service.review(post_thread(index))
            assert review.alert_ids, "every benchmark post must be flagged"
            arrived = await fake.wait_for_request("POST", MESSAGES, count=index + 1, timeout=30)
            if index >= WARMUP:
                latencies.append(arrived.at - started)
        fake.assert_clean()
        return latencies
    finally:
        await runtime.close()
        await fake.close()


class _TimingSink:
    """Notes when each alert reaches it; nothing else."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.arrived = asyncio.Event()

    async def send(self, alert: AlertView) -> SentReceipt:
        self.arrivals[alert.id] = time.perf_counter()
        self.arrived.set()
        return SentReceipt()


async def in_process_latencies(suite: DetectorSuite, posts: int, folder: Path) -> list[float]:
    """The peer: the same store, service and dispatcher, with a sink that only notes the time."""
    runtime = await Runtime.open(settings_for(folder / "peer.db", None), suite)
    sink = _TimingSink()
    runtime.dispatcher.sink = sink
    try:
        await runtime.start()
        latencies = []
        for index in range(WARMUP + posts):
            started = time.perf_counter()
            review = await runtime.service.review(post_thread(index))
            [alert_id] = review.alert_ids
            while alert_id not in sink.arrivals:
                sink.arrived.clear()
                await asyncio.wait_for(sink.arrived.wait(), timeout=30)
            if index >= WARMUP:
                latencies.append(sink.arrivals[alert_id] - started)
        return latencies
    finally:
        await runtime.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def main() -> int:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument(
        "--real-models", action="store_true", help="the shipped detectors instead of phrase ones"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.real_models:
        from bot.detectors import build_suite  # loading the models is slow: only when asked

        suite = build_suite(Settings())
    else:
        suite = make_suite()
    with tempfile.TemporaryDirectory(prefix="modassist-bench-") as tmp:
        folder = Path(tmp)
        peer = await in_process_latencies(suite, args.posts, folder)
        discord = await discord_latencies(suite, args.posts, folder)

    console = Console()
    table = Table(title=f"Alert latency, {args.posts} posts (ms, from review() to the alert's arrival)")
    for column in ("path", "p50", "p90", "p99", "max", "mean"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for name, values in (("Discord (fake, HTTP)", discord), ("in-process sink (peer)", peer)):
        table.add_row(
            name,
            *(f"{percentile(values, q) * 1000:.1f}" for q in (50, 90, 99)),
            f"{max(values) * 1000:.1f}",
            f"{statistics.fmean(values) * 1000:.1f}",
        )
    console.print(table)
    p99 = percentile(discord, 99) * 1000
    ratio = percentile(discord, 50) / percentile(peer, 50)
    console.print(f"p50 Discord / p50 in-process: {ratio:.2f}x")
    console.print(f"p99 {p99:.1f} ms: {'within' if p99 <= 100 else 'OVER'} the 100 ms target")
    return 0 if p99 <= 100 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
