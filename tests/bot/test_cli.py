"""The `modassist` command line: scan and classify, run as the real console script in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.cli_runner import ROOT, modassist

EXAMPLE = ROOT / "examples" / "regional-security-news.txt"
CATEGORIES = {"off_topic", "inflammatory", "duplicated_quote"}


@pytest.fixture(scope="module")
def example_json() -> list[dict[str, object]]:
    result = modassist("scan", "--json", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def flags_of(records: list[dict[str, object]], position: int) -> dict[str, dict[str, object]]:
    record = next(r for r in records if r["position"] == position)
    return {f["category"]: f for f in record["flags"]}  # type: ignore[index,union-attr]


def test_scan_json_has_one_line_per_post_with_all_scores(example_json: list[dict[str, object]]) -> None:
    assert [r["position"] for r in example_json] == list(range(1, 8))
    for record in example_json:
        assert set(record) >= {"id", "author", "position", "url", "scores", "flags"}
        assert set(record["scores"]) == CATEGORIES  # type: ignore[arg-type]
        assert record["url"] is None


# The example thread is written in the founding thread's format and mirrors its duplicated-quote cases:
# tidewalker's first reply (#2) quotes most of the opening post and adds five words, portsider (#5)
# re-quotes the passage tidewalker already quoted; tidewalker's second reply (#4) is an ordinary reply, and
# the opening post's self-repeat is listed as minor.


def test_the_near_total_quote_is_flagged_and_names_its_source(example_json: list[dict[str, object]]) -> None:
    flag = flags_of(example_json, 2)["duplicated_quote"]
    assert flag["reasons"] == ["quotes post #1 by harbourwatch (41 words) and adds 5 words."]


def test_the_requote_is_flagged_and_names_who_quoted_it_first(example_json: list[dict[str, object]]) -> None:
    flag = flags_of(example_json, 5)["duplicated_quote"]
    assert flag["reasons"] == [
        "re-quotes a passage post #2 by tidewalker already quoted: 41 words of post #1 by harbourwatch"
        ' ("The yard should never have been allowed to…").'
    ]


def test_ordinary_opinion_gets_no_flag(example_json: list[dict[str, object]]) -> None:
    assert flags_of(example_json, 4) == {}


def test_the_opening_posts_self_repeat_is_listed_as_minor(example_json: list[dict[str, object]]) -> None:
    flag = flags_of(example_json, 1)["duplicated_quote"]
    assert flag["reasons"] == ["repeats 27 of its own words (passages pasted twice in this post); minor."]


def test_no_other_post_of_the_example_is_a_duplicate(example_json: list[dict[str, object]]) -> None:
    flagged = [
        r["position"] for r in example_json if "duplicated_quote" in flags_of(example_json, r["position"])
    ]  # type: ignore[arg-type]
    assert flagged == [1, 2, 5]


def test_scan_report_is_readable() -> None:
    result = modassist("scan", str(EXAMPLE))
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
    result = modassist("scan", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert expected.lower() in lines[0].lower()


def test_scan_of_a_missing_file() -> None:
    result = modassist("scan", "no/such/thread.txt")
    assert result.returncode == 2
    assert "no/such/thread.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_classify_streams_the_contract() -> None:
    lines = [
        {
            "id": "a1",
            "thread_id": "t1",
            "thread_title": "Harbour news",
            "author": "ana",
            "text": "The ferry terminal was approved on Monday after a long debate about the cost of dredging.",  # noqa: E501
        },
        {
            "id": "b1",
            "thread_id": "t2",
            "thread_title": "Rail news",
            "author": "cy",
            "text": "The new timetable adds two evening trains on the coast line from next month.",
        },
        {
            "id": "a2",
            "thread_id": "t1",
            "author": "ben",
            "text": "The ferry terminal was approved on Monday after a long debate about the cost of dredging. Yes.",  # noqa: E501
        },
        {"id": 7, "text": "A post of a thread of its own."},
    ]
    result = modassist("classify", stdin="".join(json.dumps(line) + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", "b1", "a2", "7"]
    for record in out:
        assert set(record) == {"id", "scores", "flags"}
        assert set(record["scores"]) == CATEGORIES
        assert all(0.0 <= s <= 1.0 for s in record["scores"].values())
    dup = next(f for f in out[2]["flags"] if f["category"] == "duplicated_quote")
    assert dup["threshold"] == 0.6
    assert "post a1 by ana" in dup["reasons"][0]
    assert out[1]["scores"]["duplicated_quote"] == 0.0


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
    result = modassist("classify", "--input", str(source), "--output", str(target))
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
    result = modassist("classify", stdin="".join(json.dumps(h) + "\n" for h in hostile))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["h1", "h2", "h3"]


def test_scan_report_never_passes_terminal_escapes_or_markup(tmp_path: Path) -> None:
    text = "The ferry terminal was approved on Monday after a long debate about the cost of dredging."
    hostile = text + " \u001b[31m[red]@everyone[/red]"
    lines = [
        {"id": "a", "thread_id": "t", "thread_title": "Ferry \u001b]0;pwned\u0007", "text": text},
        {"id": "b", "thread_id": "t", "author": "[bold]x\u001b[31m", "text": hostile},
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = modassist("scan", str(path))
    assert result.returncode == 0, result.stderr
    assert "\u001b" not in result.stdout
    assert "\u0007" not in result.stdout
    assert "[bold]x" in result.stdout  # shown as typed, not read as markup
    assert "[red]@everyone[/red]" in result.stdout
