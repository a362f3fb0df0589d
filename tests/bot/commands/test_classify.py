"""`modassist classify`, run in this process through `bot.cli.main`: malformed lines are reported and skipped,
hostile text is answered (the console script itself: tests/bot/test_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot.cli_runner import run_cli


def test_classify_reports_a_malformed_line_and_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "1", "text": "First post about the harbour."}\n'
        "this is not json\n"
        '{"id": "3"}\n'
        '{"id": "4", "text": "Fourth post about the harbour."}\n',
        encoding="utf-8",
    )
    target = tmp_path / "out.jsonl"
    result = run_cli("classify", "--input", str(source), "--output", str(target))
    assert result.returncode == 1
    assert "line 2" in result.stderr
    assert "line 3" in result.stderr
    assert "Traceback" not in result.stderr
    ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert ids == ["1", "4"]


def test_classify_of_hostile_text_keeps_going() -> None:
    hostile = [
        {"id": "h1", "text": "@everyone [click here](http://evil.example) **now** <script>alert(1)</script>"},
        {"id": "h2", "text": "\u202eevil\u202c zero\u200bwidth e\u0301\u0301\u0301 \U0001f600 nul\u0000byte"},
        {"id": "h3", "text": "word " * 200_000},
    ]
    result = run_cli("classify", stdin="".join(json.dumps(h) + "\n" for h in hostile))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["h1", "h2", "h3"]
