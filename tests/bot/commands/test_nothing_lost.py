"""Quote-only posts and detector failures never stop a scan or a classify stream (issue 13, item 2).

`classify` writes a line for every post (an "error" field and a null score for a detector that failed on
it, exit status 1) and goes on; `scan` reports the post as not fully reviewed and goes on.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from bot.output import classify_stream
from classifiers.suite import DetectorSuite
from tests.bot.cli_runner import run_cli
from tests.e2e.doubles import ExplodingDetector, PhraseDetector
from tests.fakes.forum_server import ForumServer

OPENING = (
    "The harbour ferry will run every hour from Monday, the council said, after the new pier opened at last "
    "with room for two boats and a covered waiting room."
)


def _jsonl(*posts: dict[str, object]) -> str:
    return "".join(json.dumps({"thread_id": "ferry", **p}) + "\n" for p in posts)


def test_classify_answers_every_quote_only_post(tmp_path: Path) -> None:
    quote = [{"text": OPENING, "author": "ana", "post_id": "1"}]
    source = tmp_path / "posts.jsonl"
    source.write_text(
        _jsonl(
            {"id": "1", "author": "ana", "text": OPENING, "thread_title": "Harbour ferry"},
            *({"id": str(i), "author": f"u{i}", "text": "", "quotes": quote} for i in range(2, 7)),
            {"id": "7", "author": "ben", "text": "Good, about time."},
        ),
        encoding="utf-8",
    )
    result = run_cli("classify", "--input", str(source))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [str(i) for i in range(1, 8)]
    for line in lines[1:6]:
        assert line["scores"]["inflammatory"] == 0.0 and "error" not in line
        assert [f["category"] for f in line["flags"]] == ["duplicated_quote"]


def test_scan_reads_a_xenforo_page_whose_replies_only_quote_the_first_post(tmp_path: Path) -> None:
    forum = ForumServer()  # only to render a page in XenForo 2's markup; not started
    thread = forum.add_thread("Harbour ferry", ("ana", OPENING))
    for author in ("ben", "cy", "dee", "eli"):
        thread.add_post(author, "", quote=thread.posts[0].id)
    page = tmp_path / "thread.html"
    page.write_text(thread.render(1)[0], encoding="utf-8")

    result = run_cli("scan", "--json", str(page))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["author"] for r in records] == ["ana", "ben", "cy", "dee", "eli"]
    assert all(r["scores"]["inflammatory"] == 0.0 for r in records[1:])

    report = run_cli("scan", str(page), columns=200)
    assert report.returncode == 0, report.stderr
    assert "5 posts, 4 flagged" in report.stdout and "Traceback" not in report.stderr


def _failing_suite() -> DetectorSuite:
    return DetectorSuite(
        [
            PhraseDetector("inflammatory", r"\bidiot\b", 0.9, "insulting language"),
            ExplodingDetector("duplicated_quote", batch=False),
        ]
    )


def test_classify_writes_an_error_line_for_the_post_a_detector_failed_on_and_goes_on() -> None:
    source = io.StringIO(
        _jsonl(
            {"id": "a", "text": "The ferry runs hourly."},
            {"id": "b", "text": "kaboom, you idiot"},
            {"id": "c", "text": "Good news."},
        )
    )
    out, errors = io.StringIO(), io.StringIO()
    bad = classify_stream(_failing_suite(), source, out, errors, batch_size=2)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert bad == 1
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    failed = lines[1]
    assert failed["scores"] == {"inflammatory": 0.9, "duplicated_quote": None}
    assert failed["error"] == {"detector": "duplicated_quote", "message": "ValueError: cannot read this post"}
    assert [f["category"] for f in failed["flags"]] == ["inflammatory"]
    assert "error" not in lines[0] and "error" not in lines[2]
    assert "post b: duplicated_quote (ValueError: cannot read this post) failed" in errors.getvalue()
