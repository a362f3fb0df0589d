"""`modassist flags` at 80 columns (issue 18: readable at 80 columns): a 'where' line too long for the
terminal puts its date on a line of its own instead of leaving a lone 'UTC', and a long reason's
continuation lines stay indented under it instead of starting at the margin."""

from __future__ import annotations

from pathlib import Path

from tests.bot.cli_runner import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "regional-security-news.txt"


def test_open_flags_and_case_history_read_well_at_80_columns(tmp_path: Path) -> None:
    stored = run_cli("scan", "--db", str(tmp_path / "modassist.db"), str(EXAMPLE), cwd=tmp_path, columns=80)
    assert stored.returncode == 0, stored.stderr
    for args in (("flags",), ("flags", "--author", "portsider"), ("flags", "--author", "grumpybosun")):
        result = run_cli(*args, cwd=tmp_path, columns=80)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines), lines
        assert "UTC" not in [line.strip() for line in lines], lines
        # Every line of a flag's block is indented (the reasons' continuation lines too).
        blocks = [
            line for line in lines if line and not line.startswith(("flag ", "Open flags", "Case history"))
        ]
        assert all(line.startswith("  ") for line in blocks), lines
    # The long re-quote reason of #5 wraps under itself.
    out = run_cli("flags", "--author", "portsider", cwd=tmp_path, columns=80).stdout
    assert "\n    #1 by harbourwatch (" in out, out


def test_a_long_thread_title_puts_the_date_on_a_line_of_its_own(tmp_path: Path) -> None:
    title = "Harbour ferry timetable changes for the coming winter season"
    text = "The ferry terminal was approved on Monday after a long debate about dredging the harbour."
    posts = [
        f'{{"id": "p1", "thread_id": "t1", "thread_title": "{title}", "author": "ana", "text": "{text}"}}',
        f'{{"id": "p2", "thread_id": "t1", "author": "ben", "text": "{text} Good."}}',
    ]
    thread = tmp_path / "thread.jsonl"
    thread.write_text("\n".join(posts) + "\n", encoding="utf-8")
    stored = run_cli("scan", "--db", str(tmp_path / "modassist.db"), str(thread), cwd=tmp_path, columns=80)
    assert stored.returncode == 0, stored.stderr
    lines = run_cli("flags", cwd=tmp_path, columns=80).stdout.splitlines()
    at = lines.index(f'  #2 by ben in "{title}",')
    assert lines[at + 1].startswith("  flagged ") and lines[at + 1].endswith(" UTC"), lines
    assert all(len(line) <= 80 for line in lines), lines


def test_flags_show_fits_80_columns_with_its_excerpt_indented(tmp_path: Path) -> None:
    stored = run_cli("scan", "--db", str(tmp_path / "modassist.db"), str(EXAMPLE), cwd=tmp_path, columns=80)
    assert stored.returncode == 0, stored.stderr
    result = run_cli("flags", "show", "1", cwd=tmp_path, columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[1] == "  minor: listed, not alerted", lines  # the heading's note on a line of its own
    quoted = [i for i, line in enumerate(lines) if line.startswith('    "')]
    assert quoted, lines
    # The excerpt's continuation lines stay under its opening quote mark, not at the margin.
    after = lines[quoted[0] + 1 : lines.index("No decision yet.")]
    assert after and all(line.startswith("     ") for line in after), lines
