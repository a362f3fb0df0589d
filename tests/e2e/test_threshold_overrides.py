"""A threshold a moderator changed (`/modq thresholds`, stored as a setting override) is the one every entry
point judges by: `modassist scan --db` (the command's entry point `bot.cli.main`, in this process, with the
settings read afresh as a new process reads them) and `modassist run` without a Discord token (a real
process), on a real SQLite file. (With a token: tests/e2e/test_discord_commands.py, a changed threshold
outlives a restart.)

The example thread's post #6 (grumpybosun) scores 0.84 inflammatory and 0.61 off-topic: by the config's
thresholds (0.6, 0.7) it is flagged inflammatory only. The moderators raise inflammatory to 0.9 and lower
off-topic to 0.5, so by theirs it is flagged off-topic only.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from bot.detectors import build_suite
from bot.moderation import change_threshold
from bot.sources import load_threads
from bot.store import Store
from config.settings import Settings
from tests.bot.cli_runner import ROOT, run_cli
from tests.e2e.processes import fork_command, run_env

EXAMPLE = ROOT / "examples" / "regional-security-news.txt"
MODERATORS = {"inflammatory": 0.9, "off_topic": 0.5}
EXPECTED = {("off_topic", 0.5)}  # post #6's flags by the moderators' thresholds


async def set_moderators_thresholds(db: Path) -> None:
    """What `/modq thresholds` does when an admin changes the two thresholds."""
    suite = build_suite(Settings(_env_file=None))  # type: ignore[call-arg]
    async with await Store.open(db) as store:
        for category, value in MODERATORS.items():
            await change_threshold(store, suite, category, value, actor_id=42, actor_name="admin")  # type: ignore[arg-type]


async def stored_flags(db: Path, author: str) -> set[tuple[str, float]]:
    async with await Store.open(db) as store:
        return {(d.flag.category, d.flag.threshold) for d in await store.open_flags(author=author)}


def test_scan_db_judges_by_the_moderators_thresholds(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    asyncio.run(set_moderators_thresholds(db))

    result = run_cli("scan", "--json", "--db", str(db), str(EXAMPLE), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    post6 = next(json.loads(line) for line in result.stdout.splitlines() if json.loads(line)["position"] == 6)
    assert {(f["category"], f["threshold"]) for f in post6["flags"]} == EXPECTED
    assert asyncio.run(stored_flags(db, "grumpybosun")) == EXPECTED


def write_jsonl(path: Path) -> int:
    """The example thread as the JSON Lines a forum exporter writes; returns the number of posts."""
    (thread,) = load_threads(str(EXAMPLE))
    lines = [
        json.dumps(
            {"id": p.id, "thread_id": "rsn", "thread_title": thread.title, "author": p.author, "text": p.text}
        )
        for p in thread.posts
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


async def test_run_without_a_token_judges_by_the_moderators_thresholds(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    await set_moderators_thresholds(db)
    posts = write_jsonl(tmp_path / "posts.jsonl")
    env = run_env(
        database=str(db),
        watch__jsonl__paths=json.dumps([str(tmp_path / "posts.jsonl")]),
        watch__jsonl__poll_seconds="0.1",
        alerts__poll_interval_seconds="0.1",
    )
    process = await fork_command("run", cwd=tmp_path, env=env)
    try:
        async with asyncio.timeout(90), await Store.open(db) as store:
            while (await store.row_counts())["posts"] < posts:
                assert process.returncode is None, "modassist run ended early"
                await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()[-3000:]
    assert await stored_flags(db, "grumpybosun") == EXPECTED
