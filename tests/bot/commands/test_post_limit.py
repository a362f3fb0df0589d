"""Very long posts: reviewed up to `review.max_post_chars`, stored whole, in bounded memory, and saying so.

Each test runs `modassist` on JSON Lines written to tmp_path: in this process through `bot.cli.main`, or,
where memory is measured, the real console script in a subprocess, whose peak resident set size is the
measure (memory, not speed, so the bound holds on any machine).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.bot.cli_runner import run_cli
from tests.bot.measured_cli import run_measured

LIMIT = 100_000  # the default of review.max_post_chars
NOTE = "only the first 100,000 characters were reviewed"
CALM = (
    "harbour ferry dredging council budget minister contract shipyard steel plate supplier tariff election "
    "timetable coast rail evening trains grant spring debate approved terminal pier crane cargo tide"
)
HOSTILE = "you pathetic idiot liar clown nobody believes a word you say moron shut up"
OPENING = "The harbour board approved the dredging contract for the ferry terminal after a long debate."


def _words(vocabulary: str, chars: int, seed: int) -> str:
    """Exactly `chars` characters of words drawn from `vocabulary` (a 50,000-character passage repeated)."""
    rng, words = random.Random(seed), vocabulary.split()
    passage = " ".join(rng.choice(words) for _ in range(8_000))[:50_000]
    return (passage + " ") * (chars // (len(passage) + 1)) + passage[: chars % (len(passage) + 1)]


def _jsonl(path: Path, *posts: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return path


def _thread(thread_id: str, text: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{thread_id}-1", "thread_id": thread_id, "thread_title": "Harbour news", "text": OPENING},
        {"id": f"{thread_id}-2", "thread_id": thread_id, "author": "ben", "text": text},
    ]


@pytest.mark.parametrize("chars", [1_000_000, 10_000_000, 16_000_000])
def test_a_huge_post_is_reviewed_in_bounded_memory(tmp_path: Path, chars: int) -> None:
    # 16,000,000 characters is close to the longest line the JSON Lines reader accepts (16 MiB).
    posts = _jsonl(tmp_path / "huge.jsonl", *_thread("t", _words(CALM, chars, seed=chars)))
    run = run_measured("classify", tmp_path=tmp_path, stdin=posts)
    assert run.returncode == 0, run.stderr
    assert run.peak_rss_mib < 300, f"peak RSS {run.peak_rss_mib:.0f} MiB for a post of {chars:,} characters"
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["t-1", "t-2"]
    assert lines[1]["notes"] == [f"{NOTE} (the post has {chars:,})."]
    assert "notes" not in lines[0]


def test_a_post_over_the_limit_scores_as_its_first_part_and_one_under_it_is_unchanged(tmp_path: Path) -> None:
    calm = _words(CALM, LIMIT, seed=1)
    # The same calm first 100,000 characters, then abuse: read whole, the abuse would change the scores.
    longer = calm + " " + _words(HOSTILE, 40_000, seed=2)
    posts = _jsonl(tmp_path / "posts.jsonl", *_thread("at", calm), *_thread("over", longer))
    text = posts.read_text(encoding="utf-8")
    default = run_cli("classify", stdin=text)
    whole = run_cli("classify", stdin=text, env={"MODASSIST_REVIEW__MAX_POST_CHARS": "1000000"})
    assert default.returncode == whole.returncode == 0, default.stderr + whole.stderr
    at, over = (json.loads(line) for line in default.stdout.splitlines()[1::2])
    whole_at, whole_over = (json.loads(line) for line in whole.stdout.splitlines()[1::2])
    assert whole_over["scores"] != whole_at["scores"]  # the tail matters when it is read
    assert at == whole_at  # a post within the limit: the same line, whatever the limit
    assert "notes" not in at
    assert over["scores"] == at["scores"]
    assert over["notes"] == [f"{NOTE} (the post has {len(longer):,})."]


def test_scan_stores_a_long_post_whole_and_its_flags_say_what_was_read(tmp_path: Path) -> None:
    text = _words(HOSTILE, 150_000, seed=3) + " " + _words(CALM, 150_000, seed=4)
    posts = _jsonl(tmp_path / "thread.jsonl", *_thread("t", text))
    db = tmp_path / "modassist.db"
    result = run_cli("scan", str(posts), "--db", str(db), columns=200)
    assert result.returncode == 0, result.stderr
    assert NOTE in " ".join(result.stdout.split())  # the report shows the flag's reasons
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT text FROM posts WHERE external_id = 't-2'").fetchone()[0]
        reasons = [
            json.loads(row[0])
            for row in conn.execute(
                "SELECT reasons FROM flags JOIN posts ON posts.id = flags.post_id WHERE external_id = 't-2'"
            )
        ]
    assert stored == text
    assert reasons
    assert all(flag_reasons[-1] == f"{NOTE} (the post has {len(text):,})." for flag_reasons in reasons)


def test_marked_quotes_count_towards_the_limit(tmp_path: Path) -> None:
    quotes = [
        {"text": _words(CALM, 80_000, seed=5), "author": "ana", "post_id": "t-1"},
        {"text": _words(HOSTILE, 80_000, seed=6)},
    ]
    reply = {"id": "t-2", "thread_id": "t", "text": "I agree with all of this.", "quotes": quotes}
    posts = _jsonl(tmp_path / "quotes.jsonl", _thread("t", "")[0], reply)
    result = run_cli("classify", "--input", str(posts))
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout.splitlines()[1])
    assert verdict["notes"] == [f"{NOTE} (the post has {160_000 + len('I agree with all of this.'):,})."]
