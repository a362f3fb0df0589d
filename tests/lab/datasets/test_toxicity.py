"""The toxicity corpus readers behind `modassist-lab eval inflammatory` and `train inflammatory --corpora`.

Every corpus here is a tiny one written into tmp_path in the real file's format (same folder and file
names, same columns); every text is invented for these tests, none comes from the corpora themselves.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.errors import ConfigError
from lab.datasets.toxicity import (
    CORPORA,
    CORPUS_NAMES,
    read_c3,
    read_corpora,
    read_corpus,
    read_davidson,
    read_hatexplain,
    read_olid,
)
from tests.lab.corpus_formats import (
    C3_COLUMNS,
    DAVIDSON_COLUMNS,
    HATEXPLAIN_COLUMNS,
    OLID_COLUMNS,
)


def corpus_path(data_dir: Path, name: str) -> Path:
    """Where the reader of corpus `name` expects its file under `data_dir` (folder created)."""
    folder, filename = CORPORA[name]
    (data_dir / folder).mkdir(parents=True, exist_ok=True)
    return data_dir / folder / filename


def c3_row(article: int, text: str, judges: str, attack: int, inflammatory: int, abusive: int) -> dict:
    """One C3 comment; the columns the reader ignores get plausible filler."""
    row = dict.fromkeys(C3_COLUMNS, "0")
    row.update(
        article_id=str(article),
        comment_counter=f"source{article}_{len(text)}",
        comment_author="invented_reader",
        comment_text=text,
        crowd_toxicity_level="1.0",
        n_tox_judgements=judges,
        tox_personal_attack=str(attack),
        tox_inflammatory=str(inflammatory),
        tox_abusive=str(abusive),
        constructive="0.5",
    )
    return row


def write_c3(data_dir: Path, rows: list[dict]) -> Path:
    path = corpus_path(data_dir, "c3")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=C3_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_olid(data_dir: Path, rows: list[tuple[str, str, str]]) -> Path:
    """(tweet, subtask_a, subtask_b) rows as the tab-separated, unquoted OLID file."""
    path = corpus_path(data_dir, "olid")
    lines = ["\t".join(OLID_COLUMNS)]
    for i, (tweet, a, b) in enumerate(rows):
        c = "IND" if b == "TIN" else "NULL"
        lines.append("\t".join([str(80000 + i), tweet, a, b, c]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_hatexplain(data_dir: Path, rows: list[tuple[str, str, str]]) -> Path:
    """(text, annotator_labels, majority_label) rows."""
    path = corpus_path(data_dir, "hatexplain")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HATEXPLAIN_COLUMNS)
        for i, (text, votes, majority) in enumerate(rows):
            writer.writerow(["val", f"{i}_gab", "gab", text, votes, majority, "None", "0"])
    return path


def write_davidson(data_dir: Path, rows: list[tuple[str, int, int, int, int]]) -> Path:
    """(tweet, count, hate_speech, offensive_language, class) rows; `neither` is the rest of the votes."""
    path = corpus_path(data_dir, "davidson")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DAVIDSON_COLUMNS)
        for i, (tweet, count, hate, offensive, klass) in enumerate(rows):
            writer.writerow([i, count, hate, offensive, count - hate - offensive, klass, tweet])
    return path


# --- C3 ---------------------------------------------------------------------------------------------


def test_c3_soft_is_the_largest_tick_share_and_train_soft_the_capped_sum(tmp_path: Path) -> None:
    path = write_c3(
        tmp_path,
        [
            c3_row(7, "You clearly never read past the headline, genius.", "3.0", 2, 1, 0),
            c3_row(7, "The pension reform deserves a calmer debate than this.", "4.0", 1, 1, 1),
            c3_row(9, "Nobody asked the harbour commission for its opinion.", "2.0", 1, 0, 0),
            c3_row(9, "Anyone who votes for this lot is a gullible fool.", "2.0", 2, 2, 1),
        ],
    )
    rows = list(read_c3(path))
    assert [(r.label, r.soft, r.train_soft) for r in rows] == [
        (1, pytest.approx(2 / 3), pytest.approx(1.0)),  # max(2,1,0)/3; (2+1+0)/3
        (0, pytest.approx(0.25), pytest.approx(0.75)),  # one tick each: lower bound 1/4, upper 3/4
        (1, pytest.approx(0.5), pytest.approx(0.5)),  # exactly one half is positive
        (1, pytest.approx(1.0), pytest.approx(1.0)),  # 2/2, and (2+2+1)/2 capped at 1
    ]
    assert rows[1].target == pytest.approx(0.75)  # the model is trained towards the upper bound
    assert [r.group for r in rows] == ["article:7", "article:7", "article:9", "article:9"]
    assert {r.corpus for r in rows} == {"c3"}
    assert rows[0].text == "You clearly never read past the headline, genius."


def test_c3_rows_without_judgements_are_skipped(tmp_path: Path) -> None:
    path = write_c3(
        tmp_path,
        [
            c3_row(3, "This comment was never shown to any annotator.", "0.0", 0, 0, 0),
            c3_row(3, "Neither was this one, its count is blank.", "", 0, 0, 0),
            c3_row(3, "The ferry schedule change was badly explained.", "5.0", 0, 0, 0),
        ],
    )
    rows = list(read_c3(path))
    assert [r.text for r in rows] == ["The ferry schedule change was badly explained."]
    assert (rows[0].label, rows[0].soft, rows[0].train_soft) == (0, 0.0, 0.0)


# --- OLID -------------------------------------------------------------------------------------------


def test_olid_positive_only_for_targeted_offence_and_placeholders_replaced(tmp_path: Path) -> None:
    path = write_olid(
        tmp_path,
        [
            ("@USER you are a spineless liar and you know it URL", "OFF", "TIN"),
            ("what a damn mess this parade turned out to be", "OFF", "UNT"),
            ("@USER @USER lovely weather for the regatta today", "NOT", "NULL"),
            ('she said "no comment" and walked off', "NOT", "NULL"),
        ],
    )
    rows = list(read_olid(path))
    assert [(r.label, r.soft) for r in rows] == [(1, 1.0), (0, 0.0), (0, 0.0), (0, 0.0)]
    assert rows[0].text == "@user you are a spineless liar and you know it http://example.com"
    assert rows[2].text == "@user @user lovely weather for the regatta today"
    assert rows[3].text == 'she said "no comment" and walked off'  # the file is unquoted: quotes are text
    assert all("@USER" not in r.text and "URL" not in r.text for r in rows)
    assert {r.corpus for r in rows} == {"olid"}


def test_tweet_split_keys_follow_the_text_so_duplicates_stay_together(tmp_path: Path) -> None:
    path = write_olid(
        tmp_path,
        [
            ("the tram strike ends on friday", "NOT", "NULL"),
            ("The tram strike ends on Friday", "NOT", "NULL"),
            ("the bus strike starts on monday", "NOT", "NULL"),
        ],
    )
    first, again, other = read_olid(path)
    assert first.group == again.group
    assert first.group != other.group


# --- HateXplain -------------------------------------------------------------------------------------


def test_hatexplain_soft_is_the_offensive_vote_share_and_label_the_majority(tmp_path: Path) -> None:
    path = write_hatexplain(
        tmp_path,
        [
            ("<user> go back under your bridge, troll <url>", "offensive|hatespeech|normal", "offensive"),
            ("<user> thanks, the recipe worked fine", "normal|normal|offensive", "normal"),
            (
                "those people are vermin and should be driven out",
                "hatespeech|hatespeech|hatespeech",
                "hatespeech",
            ),
            ("the annotators could not agree on this one", "normal|offensive|hatespeech", "undecided"),
            ("this one has no votes recorded at all", "", "normal"),
            ("we waited <number> hours and <censored> nothing happened", "normal|normal|normal", "normal"),
        ],
    )
    rows = list(read_hatexplain(path))
    assert [(r.label, r.soft) for r in rows] == [
        (1, pytest.approx(2 / 3)),
        (0, pytest.approx(1 / 3)),
        (1, pytest.approx(1.0)),
        (0, pytest.approx(0.0)),
    ]
    assert rows[0].text == "@user go back under your bridge, troll http://example.com"
    assert rows[1].text == "@user thanks, the recipe worked fine"
    assert rows[3].text == "we waited 7 hours and  nothing happened"
    assert {r.corpus for r in rows} == {"hatexplain"}


# --- Davidson ---------------------------------------------------------------------------------------


def test_davidson_soft_is_hate_plus_offensive_share_and_entities_unescaped(tmp_path: Path) -> None:
    path = write_davidson(
        tmp_path,
        [
            ("ugh my landlord is a total dirtbag &amp; a cheapskate", 3, 0, 2, 1),
            ("that crowd of scum should be thrown out &#8220;now&#8221;", 6, 4, 1, 0),
            ("loving this sunny morning &lt;3 coffee &gt; tea", 3, 0, 1, 2),
            ("a tweet nobody voted on", 0, 0, 0, 2),
        ],
    )
    rows = list(read_davidson(path))
    assert [(r.label, r.soft) for r in rows] == [
        (1, pytest.approx(2 / 3)),
        (1, pytest.approx(5 / 6)),
        (0, pytest.approx(1 / 3)),  # the label follows `class`, not the vote share
    ]
    assert rows[0].text == "ugh my landlord is a total dirtbag & a cheapskate"
    assert rows[1].text == "that crowd of scum should be thrown out \u201cnow\u201d"
    assert rows[2].text == "loving this sunny morning <3 coffee > tea"
    assert {r.corpus for r in rows} == {"davidson"}


# --- read_corpus, errors ----------------------------------------------------------------------------


def test_a_missing_corpus_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    corpus_path(tmp_path, "olid")  # the folder exists, the file does not
    with pytest.raises(ConfigError, match=r"corpus file .*olid-training-v1\.0\.tsv not found"):
        read_corpus(tmp_path, "olid")


def test_a_missing_corpus_folder_is_a_config_error_that_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"corpus folder .*hatexplain not found: pass --data-dir"):
        read_corpus(tmp_path, "hatexplain")


def test_an_unknown_corpus_name_is_a_config_error_listing_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown corpus 'reddit'; expected one of c3, olid"):
        read_corpus(tmp_path, "reddit")


def write_all_four(data_dir: Path) -> None:
    write_c3(
        data_dir,
        [
            c3_row(article, f"Comment {k} under article {article} about the transit levy.", "5.0", k, 0, 0)
            for article in (1, 2, 3, 4)
            for k in (0, 3)
        ],
    )
    write_olid(data_dir, [(f"invented tweet number {k} about the weather", "NOT", "NULL") for k in range(6)])
    write_hatexplain(
        data_dir,
        [(f"invented gab post {k} about gardening", "normal|normal|normal", "normal") for k in range(6)],
    )
    write_davidson(data_dir, [(f"invented tweet {k} about a football match", 3, 0, 0, 2) for k in range(6)])


def test_read_corpora_reads_corpus_by_corpus(tmp_path: Path) -> None:
    write_all_four(tmp_path)
    rows = read_corpora(tmp_path)
    assert [r.corpus for r in rows] == ["c3"] * 8 + ["olid"] * 6 + ["hatexplain"] * 6 + ["davidson"] * 6
    assert [r.corpus for r in read_corpora(tmp_path, ["davidson", "c3"])] == ["davidson"] * 6 + ["c3"] * 8


def test_corpus_rows_keep_only_the_training_part_with_their_corpus_weights(tmp_path: Path) -> None:
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from classifiers.training.inflammatory import dev_test_part
    from lab.commands.train_inflammatory import CORPUS_WEIGHTS, STAGE_WEIGHTS, corpus_rows

    write_all_four(tmp_path)
    training = corpus_rows(tmp_path)
    expected = [r for r in read_corpora(tmp_path) if not dev_test_part(r.corpus, r.group)]
    assert [t.text for t in training] == [r.text for r in expected]
    # the dev-test part never leaks into training: the two parts are disjoint and cover every row
    dev_test = [r for r in read_corpora(tmp_path) if dev_test_part(r.corpus, r.group)]
    assert len(training) + len(dev_test) == len(read_corpora(tmp_path))
    assert not {t.text for t in training} & {r.text for r in dev_test}
    for t, r in zip(training, expected, strict=True):
        assert t.source == r.corpus
        assert t.group == f"{r.corpus}:{r.group}"
        assert t.soft == r.target  # C3 trains towards the upper bound ...
        assert t.calibration_soft == r.soft  # ... and calibrates against the lower one
    for name in CORPUS_NAMES:
        part = [t for t in training if t.source == name]
        assert part, f"the tiny {name} corpus should have a training part"
        per_text = 1000.0 / len(part)
        for t in part:
            assert t.weight == CORPUS_WEIGHTS[name]
            assert t.stage_weight == pytest.approx(per_text * STAGE_WEIGHTS[name])
            # Davidson teaches profanity: it never shapes the calibration
            assert t.calibration_weight == (0.0 if name == "davidson" else pytest.approx(per_text))


def test_corpus_names_are_the_four_the_evaluation_reports() -> None:
    assert CORPUS_NAMES == ("c3", "olid", "hatexplain", "davidson")
