"""`modassist-lab eval offtopic` end to end: the command's entry point `lab.cli.main`, run in this process
(the tests read its output and exit status only), on a synthetic 4forums and Qatar Living data folder
written into tmp_path in the real files' formats.

The command cross-fits in two folds by thread and fits a 128-component LSA per fold, so the corpus is
generated rather than hand-written: topic vocabularies (invented for this test), sentences drawn from one
topic with a seeded random generator, threads that stay on their topic, and Qatar Living questions whose
Good and Potential replies use the question's topic while Bad ones use another topic.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from classifiers.offtopic.semantic import default_sentence_encoder
from classifiers.text import words
from lab.commands.train_offtopic import FOLDS, JUDGED_MIN_WORDS, Corpora
from lab.datasets.iac import load_iac
from lab.datasets.short_threads import load_short_threads
from lab.datasets.splice import fold_of, splice
from tests.lab.cli_runner import modassist_lab_in_process, run_in_process
from tests.lab.commands.test_eval_commands import HAS_MATPLOTLIB, PNG_MAGIC, table_rows
from tests.lab.offtopic_synth import (
    NONPOLITICAL_PER_FOLD,
    POLITICAL_PER_FOLD,
    POLITICAL_TOPICS,
    POSTS_PER_THREAD,
    Synthetic,
    write_synthetic_corpora,
)
from tests.lab.short_threads_synth import DEV_PER_FOLD, TEST_THREADS, write_short_threads


@dataclass(frozen=True)
class Expected:
    """Positives and negatives per table row, worked out from the written files as the command splits them."""

    spliced_long: tuple[int, int]
    spliced_all: tuple[int, int]
    young: tuple[int, int]


def expected_counts(data_dir: Path) -> Expected:
    """Split and splice the written threads the way `eval offtopic` does and count its rows."""
    political = load_iac(data_dir)
    nonpolitical = load_iac(data_dir, political=False)
    long_ = all_ = young = (0, 0)

    def add(counts: tuple[int, int], positive: bool) -> tuple[int, int]:
        return (counts[0] + 1, counts[1]) if positive else (counts[0], counts[1] + 1)

    for fold in range(FOLDS):
        hosts = [t for t in political if fold_of(t.thread.id, FOLDS) == fold]
        pool = [t for t in nonpolitical if fold_of(t.thread.id, FOLDS) == fold]
        for s in splice(hosts, hosts, pool, min_words=JUDGED_MIN_WORDS):
            for post in s.thread.posts[1:]:
                all_ = add(all_, post.id in s.spliced)
                if len(words(post.text)) >= JUDGED_MIN_WORDS:
                    long_ = add(long_, post.id in s.spliced)
        cut = [replace(t, thread=replace(t.thread, posts=t.thread.posts[:9])) for t in hosts]
        for s in splice(cut, hosts, pool, rate=0.2, min_words=JUDGED_MIN_WORDS, seed="modassist-young-v1"):
            for post in s.thread.posts[1:]:
                if len(words(post.text)) >= JUDGED_MIN_WORDS:
                    young = add(young, post.id in s.spliced)
    return Expected(long_, all_, young)


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    plot: Path
    data_dir: Path
    synthetic: Synthetic
    seconds: float


def encode_together(data_dir: Path, short_threads: Path) -> None:
    """Encode, in one `encode_many` call, the texts the command gives the shipped sentence encoder (the
    process's one, `default_sentence_encoder`): the Qatar Living and short threads' titles with their
    opening posts, and every post (the 4forums threads are discussions, scored without the encoder). The
    command then finds their vectors in the encoder's cache of recent texts. Encoded one at a time, as the
    command reads them, these 300 short texts took about 9 of its 11 s of CPU time; together, under 6 s:
    each call of the encoder widens its int8 weights to float32 again (about 13 ms), which a batch pays
    once per 512 tokens. The vectors are the encoder's own (a batch matches text by text within 3e-7; the
    tables print four decimals), and a text missed here is encoded by the command as before."""
    corpora = Corpora.load(data_dir, short_threads)
    threads = [q.thread for q in corpora.qatarliving] + [s.thread for s in load_short_threads(short_threads)]
    texts = [text for t in threads for text in (f"{t.title}\n{t.posts[0].text}", *(p.text for p in t.posts))]
    default_sentence_encoder().encode_many(list(dict.fromkeys(texts)))


@pytest.fixture(scope="module")
def offtopic_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One `modassist-lab eval offtopic` run on the synthetic data folder."""
    data_dir = tmp_path_factory.mktemp("offtopic-data")
    synthetic = write_synthetic_corpora(data_dir)
    plot = data_dir / "off.png"
    short = write_short_threads(data_dir / "short_threads.jsonl")
    encode_together(data_dir, short)
    started = time.perf_counter()
    result = modassist_lab_in_process(
        "eval", "offtopic", "--data-dir", str(data_dir), "--plot", str(plot), "--short-threads", str(short)
    )
    return Run(result, plot, data_dir, synthetic, time.perf_counter() - started)


def test_the_synthetic_corpus_fills_both_folds(offtopic_run: Run) -> None:
    # The command cross-fits by fold_of(thread id): each fold needs hosts, donors and questions of its own.
    political = load_iac(offtopic_run.data_dir)
    nonpolitical = load_iac(offtopic_run.data_dir, political=False)
    for fold in range(FOLDS):
        hosts = [t for t in political if fold_of(t.thread.id, FOLDS) == fold]
        assert len(hosts) == POLITICAL_PER_FOLD
        assert len({t.subforum for t in hosts}) == len(POLITICAL_TOPICS)
        assert sum(fold_of(t.thread.id, FOLDS) == fold for t in nonpolitical) == NONPOLITICAL_PER_FOLD


def test_eval_offtopic_runs_and_reports_both_evaluations_with_their_counts(offtopic_run: Run) -> None:
    result = offtopic_run.result
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert f"(a) off_topic, 4forums dev: {offtopic_run.synthetic.political_threads} political threads" in out
    assert "(b) off_topic, Qatar Living dev: Bad vs Good + Potential" in out
    rows = table_rows(out, 9)  # data, pos, neg, ROC-AUC, AP, thr, prec, recall, F1

    expected = expected_counts(offtopic_run.data_dir)
    long_name = f"modassist, replies >= {JUDGED_MIN_WORDS} words"
    for name, counts in [
        (long_name, expected.spliced_long),
        ("plain TF-IDF cosine, same posts", expected.spliced_long),
        ("modassist, all replies", expected.spliced_all),
        ("plain TF-IDF cosine, all replies", expected.spliced_all),
        ("modassist, young threads (first 9 posts)", expected.young),
        ("same, donors from other forums", expected.spliced_long),  # two spliced into every host, too
    ]:
        assert rows[name][1:3] == [str(c) for c in counts], rows[name]
    # The generator's own arithmetic agrees: two posts spliced into every thread of twelve posts, and a
    # short reply (not ranked in the ">= 25 words" rows) at every fourth place.
    threads = offtopic_run.synthetic.political_threads
    assert expected.spliced_all == (2 * threads, (POSTS_PER_THREAD - 1) * threads)
    assert expected.spliced_long == (2 * threads, (POSTS_PER_THREAD - 1 - 3) * threads)

    labels = offtopic_run.synthetic.qatar_labels
    bad, answers = labels.count("Bad"), labels.count("Good") + labels.count("Potential")
    for name in ("modassist, question style", "modassist, auto style (the default)", "plain TF-IDF cosine"):
        assert rows[name][1:3] == [str(bad), str(answers)], rows[name]
    # (c): half the short threads have one off-topic reply among their five.
    dev = FOLDS * DEV_PER_FOLD
    for name in ("modassist everyday, dev (cross-fitted)", "modassist auto (default), dev (cross-fitted)"):
        assert rows[name][1:3] == [str(dev // 2), str(dev * 5 - dev // 2)], rows[name]
    for name in ("modassist everyday, test (shipped model)", "modassist auto (default), test (shipped)"):
        assert rows[name][1:3] == [str(TEST_THREADS // 2), str(TEST_THREADS * 5 - TEST_THREADS // 2)]
    dialogue = rows["Dialogue vs Good/Potential (question style)"]
    assert dialogue[1:3] == [str(labels.count("Dialogue")), str(answers)]
    for cells in rows.values():
        if cells[0] != "data":
            assert cells[5] == "0.70"  # the default off_topic threshold
            assert 0.0 <= float(cells[3]) <= 1.0


def test_eval_offtopic_separates_the_invented_topics(offtopic_run: Run) -> None:
    # Topics share no words, so a post spliced in from another topic and a Bad reply taken from another
    # topic are easy to rank; observed: 0.997 (spliced 4forums, >= 25 words), 0.90 (Qatar Living).
    rows = table_rows(offtopic_run.result.stdout, 9)
    assert float(rows[f"modassist, replies >= {JUDGED_MIN_WORDS} words"][3]) > 0.9, rows
    assert float(rows["modassist, all replies"][3]) > 0.9, rows
    assert float(rows["modassist, young threads (first 9 posts)"][3]) > 0.9, rows
    # Posts from other forums rank lower (observed 0.90): none of their words is in the background, and
    # the discussion combiner reads unknown words as a sign of an on-topic post (the weakness this row shows).
    assert float(rows["same, donors from other forums"][3]) > 0.8, rows
    # Only the English forumscraper threads are donors.
    assert f"posts of {offtopic_run.synthetic.foreign_threads} English forumscraper threads" in " ".join(
        offtopic_run.result.stdout.split()
    )
    assert float(rows["modassist, question style"][3]) > 0.8, rows


def test_eval_offtopic_writes_the_pr_curves(offtopic_run: Run) -> None:
    out = offtopic_run.result.stdout
    if HAS_MATPLOTLIB:
        assert f"precision-recall curves: {offtopic_run.plot}" in out.replace("\n", "")
        assert offtopic_run.plot.read_bytes().startswith(PNG_MAGIC)
    else:
        assert not offtopic_run.plot.exists()


def test_too_few_judged_replies_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_synthetic_corpora(tmp_path)
    questions = tmp_path / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl"
    questions.write_text("\n".join(questions.read_text().splitlines()[:4]) + "\n")  # 4 questions left
    short = write_short_threads(tmp_path / "short_threads.jsonl")
    # One short dev thread per fold (and the test threads): the error comes before they are used, and
    # encoding all of them with the sentence model was a third of this test's time.
    lines = short.read_text().splitlines()
    short.write_text(
        "\n".join([*lines[: FOLDS * DEV_PER_FOLD : DEV_PER_FOLD], *lines[FOLDS * DEV_PER_FOLD :]]) + "\n"
    )
    plot = str(tmp_path / "x.png")
    argv = ["eval", "offtopic", "--data-dir", str(tmp_path), "--plot", plot, "--short-threads", str(short)]
    result = run_in_process(capsys, *argv)
    assert result.status == 2
    assert len(result.err.splitlines()) == 1
    assert "the question combiner needs at least 20 judged replies of both kinds" in result.err
