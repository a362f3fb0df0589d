"""`modassist flags show|confirm|dismiss ID` and `modassist flags --author NAME` (issue 18, items 3 and 4),
run through the real command line in this process, over a real SQLite file the review service filled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.records import AuditEntry, Decision, FlagDetail
from bot.service import ModerationService
from bot.store import Store
from classifiers.thread import Post, Thread
from tests.bot.cli_runner import run_cli
from tests.bot.store_doubles import make_suite

# Longer than the 80 columns the commands are run at: it must still come out whole, on a line of its own.
LONG_URL = "https://forum.example.test/threads/border-crossings-and-the-new-tariff-rules.4412/post-99812"
# The operating-system user the commands run as (getpass reads LOGNAME first).
OS_USER = {"LOGNAME": "deskmod"}


def _populate(path: Path) -> None:
    """Flags 1 (tidewalker, #2), 2 (harbourwatch, #3) in 'Border news'; 3 (tidewalker) in 'Gadget news'."""

    async def go() -> None:
        store = await Store.open(path)
        try:
            service = ModerationService(store, make_suite())
            border = (
                Post("1", "tariffs on avocados", author="harbourwatch", position=1),
                Post("2", "you idiot", author="tidewalker", position=2, url=LONG_URL),
                Post("3", "tariffs on avocados again", author="harbourwatch", position=3),
            )
            await service.review(
                Thread("border.1", "Border news", border, url="https://forum.example.test/t/1")
            )
            gadget = (Post("9", "what an idiot", author="tidewalker", position=4),)
            await service.review(Thread("ai.2", "Gadget news", gadget, url="https://forum.example.test/t/2"))
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "queue.db"
    _populate(path)
    return str(path)


def _stored(db: str) -> tuple[list[AuditEntry], FlagDetail, list[Decision]]:
    async def go() -> tuple[list[AuditEntry], FlagDetail, list[Decision]]:
        store = await Store.open(db)
        try:
            return (
                await store.audit_log(action="decision."),
                await store.get_flag(1),
                await store.decisions_for(1),
            )
        finally:
            await store.close()

    return asyncio.run(go())


def flags(db: str, *args: str) -> tuple[int, str, str]:
    done = run_cli("flags", *args, "--db", db, columns=80, env=OS_USER)
    return done.returncode, done.stdout, done.stderr


def test_confirm_then_show_shows_the_decision_audited_with_the_os_user(db: str) -> None:
    status, out, err = flags(db, "confirm", "1", "--note", "second warning")
    assert (status, err) == (0, "")
    assert "Flag 1 confirmed by deskmod" in out
    status, out, _ = flags(db, "show", "1")
    assert status == 0
    assert "flag 1 · inflammatory 0.90 (threshold 0.60) · confirmed" in out
    assert '#2 by tidewalker in "Border news"' in out
    assert "insulting language: 'idiot'." in out
    assert "confirmed by deskmod, " in out and ": second warning" in out
    assert LONG_URL in out.splitlines()  # whole, on its own line, at 80 columns
    assert all(len(line) <= 80 for line in out.splitlines() if line != LONG_URL)
    audit, detail, decisions = _stored(db)
    assert detail.flag.status == "confirmed"
    assert [(d.verdict, d.moderator_name, d.moderator_id, d.note) for d in decisions] == [
        ("confirm", "deskmod", None, "second warning")
    ]
    assert [(a.action, a.actor_name, a.target_id) for a in audit] == [("decision.confirm", "deskmod", 1)]
    assert audit[0].details["via"] == "command line"


def test_a_flag_already_decided_is_refused_naming_who_and_when(db: str) -> None:
    assert flags(db, "confirm", "1")[0] == 0
    _, _, decisions = _stored(db)
    when = f"{decisions[0].decided_at:%Y-%m-%d %H:%M} UTC"
    for verdict in ("confirm", "dismiss"):
        status, out, err = flags(db, verdict, "1", "--note", "again")
        assert status == 1 and out == ""
        refusal = f"flag 1 was already confirmed by deskmod on {when}; nothing changed"
        assert err == f"modassist: error: {refusal}\n"
    audit, detail, decisions = _stored(db)
    assert detail.flag.status == "confirmed" and len(decisions) == 1 and len(audit) == 1


def test_dismiss(db: str) -> None:
    status, out, err = flags(db, "dismiss", "1", "--note", "a quote, not an insult")
    assert (status, err) == (0, "")
    assert "Flag 1 dismissed by deskmod" in out and "dismissed by deskmod, " in out
    audit, detail, decisions = _stored(db)
    assert detail.flag.status == "dismissed"
    assert [d.note for d in decisions] == ["a quote, not an insult"]
    assert [(a.action, a.actor_name) for a in audit] == [("decision.dismiss", "deskmod")]
    status, out, _ = flags(db)  # the open list no longer has it
    assert status == 0 and "Open flags (2)" in out


@pytest.mark.parametrize("action", ["show", "confirm", "dismiss"])
def test_an_unknown_flag_is_one_line_and_exit_1(db: str, action: str) -> None:
    status, out, err = flags(db, action, "99")
    assert (status, out, err) == (1, "", "modassist: error: no flag 99\n")
    audit, _, _ = _stored(db)
    assert audit == []


def test_author_history_shows_each_flag_with_its_decisions(db: str) -> None:
    assert flags(db, "dismiss", "1", "--note", "banter between friends")[0] == 0
    status, out, err = flags(db, "--author", "TIDEWALKER")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Case history: tidewalker  2 posts stored, 2 flags (dismissed: 1, open: 1)"
    newest, oldest = out.index("flag 3 ·"), out.index("flag 1 ·")
    assert newest < oldest  # newest first
    assert "flag 3 · inflammatory 0.90 (threshold 0.60) · open" in out
    assert '#4 in "Gadget news", flagged ' in out and "  https://forum.example.test/t/2" in lines
    assert "flag 1 · inflammatory 0.90 (threshold 0.60) · dismissed" in out
    assert '#2 in "Border news", flagged ' in out and f"  {LONG_URL}" in lines
    assert "dismissed by deskmod, " in out and ": banter between friends" in out
    assert "harbourwatch" not in out
    status, out, _ = flags(db, "--author", "tidewalker", "--thread", "gadget")
    assert status == 0 and "flag 3 ·" in out and "flag 1 ·" not in out
    status, out, _ = flags(db, "--author", "nobody")
    assert status == 0 and "No flags for this author." in out


def test_the_open_list_at_80_columns_is_lines_with_whole_links(db: str) -> None:
    status, out, err = flags(db)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Open flags (3)" and "┃" not in out
    assert "flag 1 · inflammatory 0.90 (threshold 0.60) · open" in lines
    assert f"  {LONG_URL}" in lines  # longer than the terminal, yet whole on its own line
    assert all(len(line) <= 80 for line in lines if LONG_URL not in line)
    wide = run_cli("flags", "--db", db, columns=160)
    assert "Open flags (3)" in wide.stdout and "┃" in wide.stdout  # wide terminals keep the table
