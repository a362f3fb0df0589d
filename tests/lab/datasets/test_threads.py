"""The forum thread readers behind the off-topic evaluation: IAC 4forums (quoted spans, the non-political
pool) and Qatar Living. Every thread is written into tmp_path in the real file's format; every text is
invented for these tests."""

import json
from pathlib import Path

import pytest

from bot.errors import ConfigError
from lab.datasets.iac import load_iac
from lab.datasets.qatarliving import load_qatarliving, plain_text, read_qatarliving
from tests.lab.corpus_formats import (
    iac_post,
)

# --- IAC 4forums ------------------------------------------------------------------------------------

OPENING = (
    "The city should build the second bridge before the old one needs major repairs, because closing "
    "the only crossing for a year would cut the east side off from the hospital."
)
REPLY = "Bridges cost a fortune. I would rather see the ferry run every ten minutes than borrow for concrete."
OWN = "I agree with neither of you."
PARAPHRASE = "Bob thinks the ferry is cheaper than any bridge"


def write_iac(
    data_dir: Path, threads: list[dict], filename: str = "threads_political_sample_dev.jsonl"
) -> None:
    folder = data_dir / "iac_4forums"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text("".join(json.dumps(t) + "\n" for t in threads), encoding="utf-8")


def non_space(text: str) -> int:
    return sum(not c.isspace() for c in text)


def test_in_thread_quoted_share_under_the_three_readings(tmp_path: Path) -> None:
    # The unattributed span re-wraps the reply's lines: still verbatim "whitespace aside".
    rewrapped = REPLY.replace(". ", ".\n   ")
    quoting = iac_post(
        104,
        "carol",
        [
            (OPENING, {"quote_post_id": 101, "quote_author": "alice"}),  # earlier post id
            (PARAPHRASE, {"quote_post_id": None, "quote_author": "bob"}),  # only an earlier author
            (rewrapped, {"quote_post_id": None, "quote_author": None}),  # unattributed, verbatim earlier
            ("Nobody said that at all.", {"quote_post_id": None, "quote_author": "zed"}),  # no such author
            (
                "A later post I cannot have read.",
                {"quote_post_id": 999, "quote_author": "alice"},
            ),  # not earlier
            (OWN, None),
        ],
    )
    thread = {
        "discussion_id": 42,
        "subforum": "local politics",
        "title": "Second bridge or more ferries?",
        "url": "http://4forums.example/thread/42",
        "posts": [
            iac_post(101, "alice", [(OPENING, None)]),
            iac_post(102, "bob", [(REPLY, None)], parent=101),
            iac_post(103, "alice", [("Ferries stop in a storm; bridges do not.", None)], parent=102),
            quoting,
        ],
    }
    write_iac(tmp_path, [thread])
    [item] = load_iac(tmp_path)
    assert item.subforum == "local politics"
    assert item.thread.title == "Second bridge or more ferries?"
    assert [p.id for p in item.thread.posts] == ["101", "102", "103", "104"]
    assert item.parents == {"101": None, "102": "101", "103": "102", "104": None}
    post = item.thread.posts[3]
    total = non_space(post.text)
    expected = {
        "id": non_space(OPENING) / total,
        "author": (non_space(OPENING) + non_space(PARAPHRASE)) / total,
        "text": (non_space(OPENING) + non_space(REPLY)) / total,
    }
    for resolve, share in expected.items():
        assert item.in_thread_quoted_share(post, resolve=resolve) == pytest.approx(share), resolve
    # the opening post has nothing earlier to quote
    assert item.in_thread_quoted_share(item.thread.posts[0], resolve="text") == 0.0


def test_a_span_quoting_the_post_itself_or_nothing_earlier_does_not_count(tmp_path: Path) -> None:
    thread = {
        "discussion_id": 7,
        "title": "Parking fees",
        "posts": [
            # an unattributed span in the opening post, and a span naming the post itself
            iac_post(
                1,
                "dora",
                [("Parking fees doubled overnight.", {"quote_post_id": None, "quote_author": None})],
            ),
            iac_post(2, "eli", [("I pay nothing, I cycle.", {"quote_post_id": 2, "quote_author": "eli"})]),
        ],
    }
    write_iac(tmp_path, [thread])
    [item] = load_iac(tmp_path)
    for resolve in ("id", "author", "text"):
        assert [item.in_thread_quoted_share(p, resolve=resolve) for p in item.thread.posts] == [0.0, 0.0]


def test_load_iac_reads_the_non_political_pool_on_request(tmp_path: Path) -> None:
    write_iac(
        tmp_path, [{"discussion_id": 1, "title": "Political", "posts": [iac_post(1, "a", [("x", None)])]}]
    )
    write_iac(
        tmp_path,
        [{"discussion_id": 2, "title": "Knitting", "posts": [iac_post(5, "b", [("y", None)])]}],
        filename="threads_nonpolitical_pool_dev.jsonl",
    )
    assert [t.thread.title for t in load_iac(tmp_path)] == ["Political"]
    assert [t.thread.title for t in load_iac(tmp_path, political=False)] == ["Knitting"]


def test_a_missing_iac_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"corpus folder .*iac_4forums not found"):
        load_iac(tmp_path)


def test_a_missing_qatarliving_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "semeval2015_qatarliving").mkdir()
    with pytest.raises(ConfigError, match=r"qatarliving_threads_dev\.jsonl not found"):
        load_qatarliving(tmp_path)


def test_a_missing_iac_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "iac_4forums").mkdir()
    with pytest.raises(ConfigError, match=r"threads_political_sample_dev\.jsonl"):
        load_iac(tmp_path)


def test_qatar_living_replies_are_read_as_a_thread_with_labels(tmp_path: Path) -> None:
    assert plain_text('Try the <a href="x">souq</a> &amp; the mall') == "Try the  souq  & the mall"
    row = {
        "qid": "Q1",
        "subject": "Where to buy a bike?",
        "body": "Looking for a second hand bike in town.",
        "quser": "U1",
        "category": "Shopping",
        "comments": [
            {"cid": "Q1_C1", "cuser": "U2", "label": "Good", "cbody": "The Friday market has used bikes."},
            {
                "cid": "Q1_C2",
                "cuser": "U1",
                "label": "Dialogue",
                "cbody": "thanks!",
                "same_user_as_question": True,
            },
        ],
    }
    path = tmp_path / "ql.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (thread,) = read_qatarliving(path)
    assert [p.id for p in thread.thread.posts] == ["Q1", "Q1_C1", "Q1_C2"]
    assert thread.labels == {"Q1_C1": "Good", "Q1_C2": "Dialogue"}
    assert thread.same_user_as_question == frozenset({"Q1_C2"})
