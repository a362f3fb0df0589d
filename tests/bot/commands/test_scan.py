"""`modassist scan`, run in this process through `bot.cli.main`: the report, and bad input ending in one
clear line (the console script itself: tests/bot/test_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.cli_runner import run_cli
from tests.paths import EXAMPLE


def test_scan_report_is_readable() -> None:
    result = run_cli("scan", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Regional Security News" in out
    assert "tidewalker" in out
    assert "quotes post #1 by harbourwatch" in out
    assert "Flags by category" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01\x02\x03\x04\x05\x06\x07" * 64, "expected"),
        (b"", "empty"),
        (b"<html><body><p>just a page</p></body></html>", "XenForo"),
        (b"\xff\xfe\xfa not utf-8 at all \xc3\x28", "UTF-8"),
    ],
)
def test_scan_of_bad_input_is_one_clear_line_and_status_2(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    result = run_cli("scan", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert expected.lower() in lines[0].lower()


def test_scan_of_a_missing_file() -> None:
    result = run_cli("scan", "no/such/thread.txt")
    assert result.returncode == 2
    assert "no/such/thread.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_report_never_passes_terminal_escapes_or_markup(tmp_path: Path) -> None:
    text = "The ferry terminal was approved on Monday after a long debate about the cost of dredging."
    hostile = text + " \u001b[31m[red]@everyone[/red]"
    lines = [
        {"id": "a", "thread_id": "t", "thread_title": "Ferry \u001b]0;pwned\u0007", "text": text},
        {"id": "b", "thread_id": "t", "author": "[bold]x\u001b[31m", "text": hostile},
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = run_cli("scan", str(path))
    assert result.returncode == 0, result.stderr
    assert "\u001b" not in result.stdout
    assert "\u0007" not in result.stdout
    assert "[bold]x" in result.stdout  # shown as typed, not read as markup
    assert "[red]@everyone[/red]" in result.stdout


def test_scan_db_of_a_thread_stored_before_reports_its_real_counts(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    first = run_cli("scan", "--db", str(db), str(EXAMPLE), columns=200)
    again = run_cli("scan", "--db", str(db), str(EXAMPLE), columns=200)
    assert first.returncode == again.returncode == 0, again.stderr
    header = next(line for line in first.stdout.splitlines() if "Regional Security News" in line)
    assert "0 posts" not in header
    assert header in again.stdout  # the same posts and flags, though none is stored again
    assert "0 new, 0 edited" in again.stderr and "0 flags, 0 alerts" in again.stderr
    assert "quotes post #1 by harbourwatch" in again.stdout


def test_a_scan_of_several_threads_ends_with_one_table_of_them_all(tmp_path: Path) -> None:
    opening = (
        "The harbour ferry will run every hour from Monday, the council said, after the new pier opened at "
        "last with room for two boats and a covered waiting room."
    )
    rows = [
        ("ferry", "Harbour ferry", "1", opening),
        ("ferry", "Harbour ferry", "2", "Good news for everyone who works in town."),
        ("ferry", "Harbour ferry", "3", f"{opening} This."),
        ("garden", "Yellow leaves", "4", "My tomato plants have yellow leaves at the bottom, any idea why?"),
        (
            "garden",
            "Yellow leaves",
            "5",
            "Too much water, most likely. Let the soil dry out between waterings.",
        ),
    ]
    source = tmp_path / "threads.jsonl"
    source.write_text(
        "".join(
            json.dumps({"thread_id": t, "thread_title": title, "id": i, "author": f"u{i}", "text": text})
            + "\n"
            for t, title, i, text in rows
        ),
        encoding="utf-8",
    )
    result = run_cli("scan", str(source), columns=200)
    assert result.returncode == 0, result.stderr
    overview = result.stdout[result.stdout.index("All 2 threads") :].splitlines()
    cells = {
        line.split("│")[0].strip(): [c.strip() for c in line.split("│")[1:]]
        for line in overview
        if "│" in line
    }
    assert cells["Harbour ferry"][:2] == ["3", "1"] and cells["Yellow leaves"][:2] == ["2", "0"]
    assert cells["total"] == ["5", "1", "0", "0", "1"]  # posts, flagged, off-topic, inflammatory, quote
    single = run_cli("scan", str(EXAMPLE), columns=200)
    assert "threads" not in single.stdout.split("Flags by category")[-1]


def test_post_links_are_printed_whole_outside_the_panels(tmp_path: Path) -> None:
    link = (
        "https://forum.example.test/threads/harbour-ferry-timetable-and-the-new-pier.4412/post-99812"
        + "x" * 40
    )
    opening = "The harbour ferry will run every hour from Monday after the new pier opened with two berths."
    source = tmp_path / "thread.jsonl"
    source.write_text(
        json.dumps({"thread_id": "f", "thread_title": "Ferry", "id": "1", "author": "ana", "text": opening})
        + "\n"
        + json.dumps(
            {"thread_id": "f", "id": "2", "author": "ben", "text": "You idiot, you moron.", "url": link}
        )
        + "\n",
        encoding="utf-8",
    )
    result = run_cli("scan", str(source), columns=80)
    assert result.returncode == 0, result.stderr
    assert f"  {link}" in result.stdout.splitlines()  # one line, whole, no border around it
