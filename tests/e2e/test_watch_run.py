"""`modassist run` as a real process watching a thread of the local forum, with the console sink: a new
flagged post's alert is printed by the first poll that sees the post, and a restart prints nothing twice.

Run two ways, each a process forked from the tests' fork server (tests/e2e/processes.py): the real command
(`bot.cli.main(["run"])`, the shipped detectors; the post quotes the first one whole, which the duplicate
detector flags without any model), and `tests.e2e.run_worker` (the same `serve`, with the phrase detectors of
the e2e tests).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from tests.e2e.processes import ForkedWithOutput, fork_command, fork_worker
from tests.fakes.forum_server import ForumServer, ForumThread

ROOT = Path(__file__).resolve().parents[2]
# Between two polls of the thread. The alert of a post is printed right after the poll that read it (the
# dispatcher is woken), well within the 0.45 s before the next poll: the test below counts polls, so half a
# second keeps its meaning while waiting half as long (a restart waits out the stored schedule too).
INTERVAL = 0.5
FIRST = (
    "The night ferry to Gullstone Island stops after October: the board says the engine is worn out"
    " and the harbour fees went up again this spring."
)
COMMANDS = {
    "modassist run": ["-m", "bot.cli", "run"],  # bot.cli.main(["run"]), forked
    "serve with the test detectors": ["-m", "tests.e2e.run_worker"],  # its main, forked
}


class Process:
    """A running `modassist run` whose console output is read line by line."""

    def __init__(self, process: ForkedWithOutput) -> None:
        self.process = process
        self.output = ""

    async def read_until(self, text: str, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Read stdout until `text` has been printed."""
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while text not in self.output:
                line = await self.process.stdout.readline()
                if not line:
                    stderr = await self.process.stderr.read() if self.process.stderr else b""
                    pytest.fail(f"modassist run ended early: {stderr.decode()[-3000:]}")
                self.output += line.decode()

    async def kill(self) -> None:
        """End it at once (a test failed)."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def stop(self) -> str:
        """SIGTERM; the exit status must be 0. Returns everything printed."""
        self.process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(self.process.communicate(), timeout=30)
        assert self.process.returncode == 0, stderr.decode()[-3000:]
        self.output += stdout.decode()
        return self.output


async def start(command: list[str], thread: ForumThread, cwd: Path) -> Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MODASSIST_DATABASE": str(cwd / "modassist.db"),
        "MODASSIST_ALERTS__POLL_INTERVAL_SECONDS": "0.1",
        "MODASSIST_WATCH__FORUM__THREADS": json.dumps([{"url": thread.url, "interval_seconds": INTERVAL}]),
        "MODASSIST_WATCH__FORUM__MIN_INTERVAL_SECONDS": "0.1",
        "MODASSIST_BOT__FETCH_PRIVATE_ADDRESSES": "true",  # the forum is on 127.0.0.1
        "COLUMNS": "250",  # the permalink on one line
    }
    env.pop("MODASSIST_DISCORD_TOKEN", None)
    env.pop("MODASSIST_CONFIG", None)
    # Forked (without the second of imports a new interpreter spends), from `cwd`: no .env of the repository.
    if command[:2] == ["-m", "tests.e2e.run_worker"]:  # a test worker
        return Process(await fork_worker("tests.e2e.run_worker", cwd=cwd, env=env))
    assert command[:2] == ["-m", "bot.cli"]
    return Process(await fork_command(*command[2:], cwd=cwd, env=env))


@pytest.mark.parametrize("command", list(COMMANDS), ids=["modassist-run", "test-detectors"])
async def test_modassist_run_prints_alerts_for_new_posts_of_a_watched_thread(
    forum: ForumServer, tmp_path: Path, command: str
) -> None:
    thread = forum.add_thread("Harbour ferry", ("Quillfeather", FIRST))
    process = await start(COMMANDS[command], thread, tmp_path)
    try:
        await process.read_until("no Discord token")
        await forum.wait_for_requests(1, timeout=60)  # the watcher has read the thread
        polls = len(forum.requests)
        post = thread.add_post(
            "copycat", "Exactly this, only an idiot would disagree.", quote=thread.posts[0].id
        )
        await process.read_until(thread.permalink(post))
        # Printed after the first poll that could see the post (a second may have started meanwhile).
        assert len(forum.requests) - polls <= 2
    except BaseException:
        await process.kill()
        raise
    output = await process.stop()
    assert "Harbour ferry" in output
    assert output.count(thread.permalink(post)) == 1
    assert all(r.headers["User-Agent"].startswith("modassist/") for r in forum.requests)

    # Restarted: the thread is read again (with its stored validators); nothing is alerted twice.
    later = thread.add_post("copycat", "Exactly this, what an idiot.", quote=thread.posts[0].id)
    again = await start(COMMANDS[command], thread, tmp_path)
    try:
        await again.read_until(thread.permalink(later))
    except BaseException:
        await again.kill()
        raise
    output = await again.stop()
    assert thread.permalink(post) not in output
