"""The `modassist` console script, started as a user starts it: one smoke test per command, in a subprocess.

Every other path of the commands (bad input, errors, output details) is tested in this process through
`bot.cli.main` (tests/bot/commands/). `modassist run` is started as a process in tests/e2e/ (SIGTERM, console
alerts, the moderators' thresholds); `eval` and `train` in their own tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.cli_runner import modassist, run_cli
from tests.paths import EXAMPLE

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


def test_flags_lists_what_scan_stored(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    assert run_cli("scan", str(EXAMPLE), "--db", str(db)).returncode == 0
    result = modassist("flags", "--db", str(db), columns=200)
    assert result.returncode == 0, result.stderr
    assert "duplicated_quote" in result.stdout and "tidewalker" in result.stdout


def test_db_migrate_then_status(tmp_path: Path) -> None:
    db = tmp_path / "modassist.db"
    migrated = modassist("db", "migrate", "--db", str(db))
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001_" in migrated.stdout
    # One process for the `db` command; its `status` reads what that process wrote, in this process.
    status = run_cli("db", "status", "--db", str(db), columns=200)
    assert status.returncode == 0, status.stderr
    assert f"{db}: schema version" in status.stdout


def test_config_check(tmp_path: Path) -> None:
    result = modassist("config", "check", cwd=tmp_path, env={"MODASSIST_THRESHOLDS__OFF_TOPIC": "0.8"})
    assert result.returncode == 0, result.stderr
    assert "* thresholds.off_topic = 0.8" in result.stdout.splitlines()
