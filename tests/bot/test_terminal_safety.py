"""What reaches a moderator's terminal carries no escape sequence and no bidi override, whoever wrote it.

Author names, thread titles, ids and URLs come from posters and forums; HTTP reason phrases from servers.
Each is fed, hostile, through the real commands (`modassist run` as a process with console alerts and its
log; `modassist scan`, `modassist flags` and the error line through `bot.cli.main` in this process) and the
output is checked character by character.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.service import ModerationService
from bot.store import Store
from bot.textsafety import BIDI_CONTROLS, clean_line, clean_text
from classifiers.thread import Post, Thread
from tests.bot.cli_runner import run_cli
from tests.e2e.doubles import make_suite
from tests.e2e.processes import fork_command, run_env

# A screen clear, a window title (OSC 0, ended by BEL), an OSC 8 hyperlink, a C1 CSI and bidi overrides.
EVIL_AUTHOR = "evil\x1b[2J\x1b]0;pwned\x07\u202enimda"
EVIL_TITLE = "Harbour\x1b]8;;http://evil.example\x1b\\ news\x1b]8;;\x1b\\\u2066"
EVIL_REPLY_AUTHOR = "\u2067tidewalker\x9b31m\u2069"
BODY = (
    "The yard should never have been allowed to depend on one foreign supplier for its steel plate. Every"
    " serious shipbuilding nation keeps its own mills running, whatever the cost, because a war does not"
    " wait for a cargo ship."
)


def assert_terminal_safe(output: str) -> None:
    """No control character but newline, and no bidi control, anywhere in `output`."""
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in output
            if (c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)) or c in BIDI_CONTROLS
        }
    )
    assert not bad, f"terminal control or bidi characters reached the output: {bad}"


def hostile_jsonl(path: Path) -> Path:
    """Two posts of one thread, the second repeating the first (a duplicated-quote flag whose reason names
    the first author); names, title, ids and URLs hostile."""
    rows = [
        {
            "id": "p1\x1b[5m",
            "thread_id": "t1",
            "thread_title": EVIL_TITLE,
            "author": EVIL_AUTHOR,
            "text": BODY,
            "url": "https://forum.test/t/1/post-1\x1b[8m",
        },
        {
            "id": "p2\u202e",
            "thread_id": "t1",
            "author": EVIL_REPLY_AUTHOR,
            "text": BODY + " Exactly.",
            "url": "https://forum.test/t/1/post-2\u202e",
        },
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_scan_report_shows_hostile_names_and_titles_cleaned(tmp_path: Path) -> None:
    result = run_cli("scan", str(hostile_jsonl(tmp_path / "thread.jsonl")), columns=250)
    assert result.returncode == 0, result.stderr
    assert "duplicated quote" in result.stdout
    assert_terminal_safe(result.stdout)
    # The fields are shown, cleaned, not dropped: the reader sees that something was there.
    assert clean_line(EVIL_REPLY_AUTHOR) in result.stdout
    assert f"quotes all of post #1 by {clean_line(EVIL_AUTHOR)}" in result.stdout
    assert clean_line(EVIL_TITLE) in result.stdout


def test_the_flags_listing_shows_hostile_names_and_titles_cleaned(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    stored = run_cli("scan", str(hostile_jsonl(tmp_path / "thread.jsonl")), "--db", str(db))
    assert stored.returncode == 0, stored.stderr
    result = run_cli("flags", "--db", str(db), columns=250)
    assert result.returncode == 0, result.stderr
    assert "duplicated_quote" in result.stdout
    assert_terminal_safe(result.stdout)
    assert clean_line(EVIL_REPLY_AUTHOR) in result.stdout


def test_the_queue_views_show_hostile_names_titles_links_and_notes_cleaned(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    stored = run_cli("scan", str(hostile_jsonl(tmp_path / "thread.jsonl")), "--db", str(db))
    assert stored.returncode == 0, stored.stderr
    note = "fine\x1b]8;;https://evil.test\x07 really\u202e"
    decided = run_cli("flags", "dismiss", "1", "--note", note, "--db", str(db), columns=80)
    assert decided.returncode == 0, decided.stderr
    for args in (("show", "1"), ("--author", EVIL_REPLY_AUTHOR), ()):
        result = run_cli("flags", *args, "--db", str(db), columns=80)
        assert result.returncode == 0, result.stderr
        assert_terminal_safe(result.stdout)
        assert clean_line(EVIL_REPLY_AUTHOR) in result.stdout or args == ()
    shown = run_cli("flags", "show", "1", "--db", str(db), columns=80).stdout
    assert clean_line(EVIL_TITLE) in shown and clean_line(note) in shown


class _HostileReason(BaseHTTPRequestHandler):
    """Answers 404 with a reason phrase that clears the screen (latin-1, as HTTP allows)."""

    def do_GET(self) -> None:
        self.send_response(404, "Not\x1b[2J\x9b31mFound")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """A local HTTP server whose every answer carries a hostile reason phrase."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileReason)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)  # quick shutdown
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_servers_reason_phrase_reaches_the_error_line_cleaned(hostile_server: str) -> None:
    result = run_cli("scan", f"{hostile_server}/threads/t.1/")
    assert result.returncode == 2
    assert "modassist: error:" in result.stderr and "HTTP 404 Not" in result.stderr
    assert_terminal_safe(result.stderr)


# ----------------------------------------------------------------------------------------------------------
# `modassist run` with console alerts


async def _seed(database: Path) -> None:
    """A hostile alert waiting in the outbox (post without a position, so its id is shown)."""
    thread = Thread(
        id="t\x1b[1m1",
        title=EVIL_TITLE,
        url="https://forum.test/threads/1\u202e",
        posts=(
            Post(
                id="p\x1b[31m1\u202e",
                text="you idiot\x1b[2J \u202etxt.exe",
                author=EVIL_AUTHOR,
                url="https://forum.test/threads/1/post-1\x1b]8;;\x07",
            ),
        ),
    )
    store = await Store.open(database)
    try:
        await ModerationService(store, make_suite()).review(thread)
    finally:
        await store.close()


@pytest.fixture
async def hostile_forum() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A 'forum' answering every poll 503 with an escape-laden reason phrase; the event is set at the
    second poll (the first one's failure has been logged by then)."""
    polls: list[int] = []
    polled_twice = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        polls.append(1)
        if len(polls) >= 2:
            polled_twice.set()
        writer.write(
            b"HTTP/1.1 503 Busy\x1b[2J\x1b]0;pwned\x07now\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/threads/busy.1/", polled_twice
    finally:
        server.close()
        await server.wait_closed()


async def test_console_alerts_and_log_lines_of_modassist_run_are_cleaned(
    tmp_path: Path, hostile_forum: tuple[str, asyncio.Event]
) -> None:
    database = tmp_path / "modassist.db"
    await _seed(database)
    forum_url, polled_twice = hostile_forum
    env = run_env(
        database=str(database),
        alerts__poll_interval_seconds="0.1",
        bot__fetch_private_addresses="true",  # the hostile forum is on 127.0.0.1
        watch__forum__threads=json.dumps([forum_url]),
        watch__forum__min_interval_seconds="0.01",
        watch__forum__backoff_min_seconds="0.05",
        watch__forum__backoff_max_seconds="0.2",
    )
    env["COLUMNS"] = "250"
    process = await fork_command("run", cwd=tmp_path, env=env)
    assert process.stdout is not None
    seen = b""
    async with asyncio.timeout(60):
        while b"insulting language" not in seen:
            line = await process.stdout.readline()
            assert line, "modassist run ended before printing the alert"
            seen += line
        await polled_twice.wait()
        process.send_signal(signal.SIGTERM)
        rest, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    stdout = (seen + rest).decode()
    assert_terminal_safe(stdout)
    assert clean_line(EVIL_AUTHOR) in stdout and clean_line(EVIL_TITLE) in stdout
    log = stderr.decode()
    assert "HTTP 503 Busy" in log
    assert_terminal_safe(log)


# ----------------------------------------------------------------------------------------------------------
# The cleaning functions themselves, on any text


@given(st.text())
def test_clean_text_leaves_only_safe_characters_and_is_stable(text: str) -> None:
    cleaned = clean_text(text)
    assert_terminal_safe(cleaned.replace("\t", " "))
    assert clean_text(cleaned) == cleaned


@given(st.text())
def test_clean_line_leaves_one_line(text: str) -> None:
    cleaned = clean_line(text)
    assert "\n" not in cleaned and "\u2028" not in cleaned and "\u2029" not in cleaned
    assert_terminal_safe(cleaned)
    assert clean_line(cleaned) == cleaned
