"""`modassist-lab eval inflammatory|duplicates` end to end: `eval duplicates` through the real entry point in
a subprocess (the suite's smoke run of `python -m lab`), `eval inflammatory` and the error paths in-process
(their tests read the output and exit status only), on tiny corpora written into tmp_path in the real files'
formats. Every text is invented for these tests."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

# `_text_key` is the tweet corpora's split key: the fixtures use it to place rows on either side of the split.
from lab.datasets.toxicity import CORPORA, CORPUS_NAMES, _text_key
from tests.lab.cli_runner import modassist_lab, modassist_lab_in_process, run_in_process
from tests.lab.corpus_formats import (
    C3_COLUMNS,
    DAVIDSON_COLUMNS,
    HATEXPLAIN_COLUMNS,
    OLID_COLUMNS,
    iac_post,
)

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def table_rows(output: str, columns: int) -> dict[str, list[str]]:
    """The body rows of the rich tables in `output` with `columns` cells, by their first cell."""
    rows: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == columns and cells[0]:
            rows.setdefault(cells[0], cells)
    return rows


# --- a tiny four-corpus data folder ----------------------------------------------------------------

INSULTS = [
    "You are a spineless coward and everyone on this board can see it",
    "Only a brainless clown would defend that rotten council",
    "Shut up, you pathetic liar, nobody wants your garbage opinions",
    "What a worthless idiot, crawl back to whatever hole you came from",
    "People like you are vermin and deserve to be run out of town",
]
PLAIN = [
    "The new library opens on Saturday with a reading hour for children",
    "I think the tram extension is worth the cost if it runs on time",
    "Does anyone know when the harbour market reopens after the storm",
    "Our allotment grew more tomatoes this year than we could eat",
    "The council should publish the budget figures before the vote",
]
DEV_TEST = 3  # rows per label in the dev-test part of every tweet corpus
TRAINING = 1  # rows per label in the training part


def split_texts(corpus: str, bases: list[str]) -> list[str]:
    """Variants of `bases`: DEV_TEST whose split key falls in the dev-test part, TRAINING outside it."""
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from classifiers.training.inflammatory import dev_test_part

    wanted = {True: DEV_TEST, False: TRAINING}
    chosen: list[str] = []
    for k in range(1000):
        text = f"{bases[k % len(bases)]} (take {k})"
        part = dev_test_part(corpus, _text_key(text))
        if wanted[part]:
            wanted[part] -= 1
            chosen.append(text)
        if not any(wanted.values()):
            return chosen
    raise AssertionError("no split found")  # pragma: no cover


def c3_articles() -> tuple[list[int], list[int]]:
    """Two article ids in C3's dev-test part and one in its training part."""
    from classifiers.training.inflammatory import dev_test_part  # as in split_texts

    dev = [a for a in range(1, 200) if dev_test_part("c3", f"article:{a}")][:2]
    train = [a for a in range(1, 200) if not dev_test_part("c3", f"article:{a}")][:1]
    return dev, train


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        writer = csv.writer(fh, delimiter=delimiter, quoting=quoting)
        writer.writerow(header)
        writer.writerows(rows)


def corpus_file(data_dir: Path, name: str) -> Path:
    folder, filename = CORPORA[name]
    return data_dir / folder / filename


def write_toxicity_corpora(data_dir: Path) -> dict[str, tuple[int, int]]:
    """The four corpora; returns each corpus's (positives, negatives) in its dev-test part."""
    dev, train = c3_articles()
    c3 = []
    for article in dev + train:
        for i, (text, ticks) in enumerate(
            [
                (INSULTS[article % 5], 4),
                (INSULTS[(article + 1) % 5], 3),
                (PLAIN[article % 5], 0),
                (PLAIN[(article + 2) % 5], 1),
            ]
        ):
            row = dict.fromkeys(C3_COLUMNS, "0")
            row.update(
                article_id=article,
                comment_counter=f"source{article}_{i}",
                comment_text=f"{text}, says reader {i}.",
                n_tox_judgements="5.0",
                tox_personal_attack=ticks,
                tox_inflammatory=ticks // 2,
            )
            c3.append([row[c] for c in C3_COLUMNS])
    write_csv(corpus_file(data_dir, "c3"), C3_COLUMNS, c3)

    olid = [[9000 + i, t, "OFF", "TIN", "IND"] for i, t in enumerate(split_texts("olid", INSULTS))]
    olid += [[9100 + i, t, "NOT", "NULL", "NULL"] for i, t in enumerate(split_texts("olid", PLAIN))]
    write_csv(corpus_file(data_dir, "olid"), OLID_COLUMNS, olid, "\t")

    hx = [
        ["val", f"h{i}", "gab", t, "offensive|hatespeech|normal", "offensive", "Other", "2"]
        for i, t in enumerate(split_texts("hatexplain", INSULTS))
    ]
    hx += [
        ["val", f"n{i}", "twitter", t, "normal|normal|normal", "normal", "None", "0"]
        for i, t in enumerate(split_texts("hatexplain", PLAIN))
    ]
    write_csv(corpus_file(data_dir, "hatexplain"), HATEXPLAIN_COLUMNS, hx)

    dv = [[i, 3, 1, 2, 0, 1, t] for i, t in enumerate(split_texts("davidson", INSULTS))]
    dv += [[100 + i, 3, 0, 0, 3, 2, t] for i, t in enumerate(split_texts("davidson", PLAIN))]
    write_csv(
        corpus_file(data_dir, "davidson"),
        DAVIDSON_COLUMNS,
        dv,
    )
    # C3: two of each label per dev-test article.
    return {"c3": (2 * len(dev), 2 * len(dev))} | dict.fromkeys(CORPUS_NAMES[1:], (DEV_TEST, DEV_TEST))


@pytest.fixture(scope="module")
def inflammatory_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, tuple[int, int]]]:
    """One `modassist-lab eval inflammatory --no-peer` run on the tiny corpora: (result, plot, counts)."""
    data_dir = tmp_path_factory.mktemp("toxicity-data")
    counts = write_toxicity_corpora(data_dir)
    plot = tmp_path_factory.mktemp("plots") / "pr.png"
    result = modassist_lab_in_process(
        "eval", "inflammatory", "--data-dir", str(data_dir), "--no-peer", "--plot", str(plot)
    )
    return result, plot, counts


def test_eval_inflammatory_reports_every_corpus_and_writes_the_curve(
    inflammatory_run: tuple[subprocess.CompletedProcess[str], Path, dict[str, tuple[int, int]]],
) -> None:
    result, plot, counts = inflammatory_run
    assert result.returncode == 0, result.stderr
    out = result.stdout
    metrics = table_rows(out, 9)  # data, pos, neg, ROC-AUC, AP, thr, prec, recall, F1
    for name, (pos, neg) in counts.items():
        assert name in metrics, out
        assert metrics[name][1:3] == [str(pos), str(neg)], metrics[name]
        assert metrics[name][5] == "0.60"  # the default inflammatory threshold
        assert 0.0 <= float(metrics[name][3]) <= 1.0
    summary = table_rows(out, 4)  # corpus, modassist, peer, difference
    assert set(CORPUS_NAMES) | {"mean"} <= set(summary)
    for name in CORPUS_NAMES:
        assert summary[name][1] == metrics[name][3]  # the same ROC-AUC in both tables
        assert summary[name][2] == "nan"  # --no-peer: the peer is not measured ...
    assert "alt-profanity-check" not in out  # ... and no peer table or missing-peer notice
    assert "calibration" in out
    assert f"{sum(p + n for p, n in counts.values())} texts scored" in out
    if HAS_MATPLOTLIB:
        assert "precision-recall curves:" in out
        assert plot.read_bytes().startswith(PNG_MAGIC)
    else:
        from lab.evaluation import NO_MATPLOTLIB  # imported here: see split_texts

        assert NO_MATPLOTLIB in out
        assert not plot.exists()


def test_eval_inflammatory_ranks_invented_insults_above_plain_talk(
    inflammatory_run: tuple[subprocess.CompletedProcess[str], Path, dict[str, tuple[int, int]]],
) -> None:
    # The figures themselves, as a smoke check: unmistakable invented insults against everyday talk are
    # ranked better than chance on every corpus by the shipped model.
    result, _, _ = inflammatory_run
    assert result.returncode == 0, result.stderr
    metrics = table_rows(result.stdout, 9)
    for name in CORPUS_NAMES:
        assert float(metrics[name][3]) > 0.5, metrics[name]


# --- a tiny 4forums data folder --------------------------------------------------------------------

OPENING = (
    "The county wants to close two rural post offices to save money, but for many older residents those "
    "counters are the only place to collect a pension or send a parcel without a long bus ride into town."
)
REPLY = (
    "Most of those counters are open three mornings a week. A van that visits each village on a fixed day "
    "would serve the same people for half the price."
)
PARAPHRASE = (
    "So you think a van on a timetable would do what a counter does, cheaper and just as well for everyone"
)


def write_iac(data_dir: Path) -> None:
    """Two threads: one with a pasted post, an author-only quote and an unattributed one, one all original."""
    first = [
        iac_post(1, "maple", [(OPENING, None)]),
        iac_post(2, "birch", [(REPLY, None)]),
        iac_post(3, "cedar", [(OPENING, {"quote_post_id": 1, "quote_author": "maple"}), ("Well put.", None)]),
        iac_post(4, "larch", [(PARAPHRASE, {"quote_post_id": None, "quote_author": "birch"}), ("No.", None)]),
        iac_post(5, "rowan", [(REPLY.replace(". ", ".\n"), {"quote_post_id": None, "quote_author": None}),
                          ("Exactly right.", None)]),
        iac_post(6, "aspen", [("A parcel locker at the village shop would cover most of what people need, "
                           "and the shop keeps longer hours than any post office ever did.", None)]),
    ]  # fmt: skip
    second = [
        iac_post(
            11, "alder", [("Should the city ban cars from the old town on market days? Traders split.", None)]
        ),
        iac_post(12, "hazel", [("Stallholders say footfall doubled when the square was closed.", None)]),
        iac_post(13, "holly", [("Delivery vans still need a window early in the morning.", None)]),
    ]
    threads = [
        {"discussion_id": 301, "subforum": "local government", "title": "Rural post offices", "posts": first},
        {"discussion_id": 302, "subforum": "transport", "title": "Car-free market days", "posts": second},
    ]
    folder = data_dir / "iac_4forums"
    folder.mkdir(parents=True)
    lines = "".join(json.dumps(t) + "\n" for t in threads)
    (folder / "threads_political_sample_dev.jsonl").write_text(lines, encoding="utf-8")


def test_eval_duplicates_prints_the_three_labellings_and_writes_the_curve(tmp_path: Path) -> None:
    write_iac(tmp_path)
    plot = tmp_path / "dup.png"
    result = modassist_lab("eval", "duplicates", "--data-dir", str(tmp_path), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(2 threads)" in out
    rows = table_rows(out, 9)
    # post 3 pastes post 1 under its id (positive in every labelling); post 4 quotes birch by name only
    # (positive once authors count); post 5 pastes post 2 with no attribution (positive once text counts);
    # the six original posts are negatives everywhere.
    assert rows["id"][1:3] == ["1", "8"]
    assert rows["author"][1:3] == ["2", "7"]
    assert rows["text"][1:3] == ["2", "7"]
    assert rows["id"][5] == "0.60"  # the default duplicated_quote threshold
    # The detector flags both pastes and nothing else: perfect under the "text" labelling; under "id" the
    # unattributed paste counts as a false positive (the README's remark on the first labelling).
    assert rows["text"][6:8] == ["1.000", "1.000"]
    assert rows["id"][6:8] == ["0.500", "1.000"]
    for name in ("id", "author", "text"):
        assert f"{name}: " in out  # each labelling is explained under the table
    if HAS_MATPLOTLIB:
        assert "precision-recall curves:" in out
        assert plot.read_bytes().startswith(PNG_MAGIC)
    else:
        from lab.evaluation import NO_MATPLOTLIB  # imported here: see split_texts

        assert NO_MATPLOTLIB in out
        assert not plot.exists()


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["inflammatory", "--no-peer"], "c3_constructive_comments"),
        (["duplicates"], "iac_4forums"),
        (["offtopic"], "iac_4forums"),
    ],
)
def test_an_empty_data_dir_is_a_one_line_error_naming_the_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], missing: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_in_process(
        capsys, "eval", *command, "--data-dir", str(empty), "--plot", str(tmp_path / "x.png")
    )
    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith("modassist-lab: error: corpus folder ")
    assert str(empty / missing) in result.err
    assert "pass --data-dir or set MODASSIST_DATA_DIR" in result.err
    assert not (tmp_path / "x.png").exists()


def test_a_missing_toxicity_file_is_a_one_line_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c3_constructive_comments").mkdir()
    result = run_in_process(capsys, "eval", "inflammatory", "--data-dir", str(tmp_path), "--no-peer")
    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert "c3_comments_dev.csv not found" in result.err


def test_a_missing_iac_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "iac_4forums").mkdir()
    plot = str(tmp_path / "x.png")
    result = run_in_process(capsys, "eval", "duplicates", "--data-dir", str(tmp_path), "--plot", plot)
    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert "threads_political_sample_dev.jsonl" in result.err


def test_a_corpus_with_one_label_in_its_dev_test_part_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_toxicity_corpora(tmp_path)
    only_plain = [[100 + i, 3, 0, 0, 3, 2, t] for i, t in enumerate(split_texts("davidson", PLAIN))]
    write_csv(corpus_file(tmp_path, "davidson"), DAVIDSON_COLUMNS, only_plain)
    plot = str(tmp_path / "x.png")
    argv = ["eval", "inflammatory", "--data-dir", str(tmp_path), "--no-peer", "--plot", plot]
    result = run_in_process(capsys, *argv)
    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert "davidson: need both positives and negatives to measure" in result.err
