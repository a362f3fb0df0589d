"""`modassist-lab eval offtopic`: the off-topic score on (a) spliced 4forums threads, (b) Qatar Living and
(c) our short everyday threads.

(a) The 4forums political dev threads, each with about 10% posts spliced in from threads of other
    subforums and from the non-political pool (`lab.datasets.splice`, deterministic, exact labels); and
    the same threads with their spliced posts taken from other forums instead (the English forumscraper
    threads of `forum_markup`: sim racing, audio, forum software), whose words the background (4forums
    and Qatar Living) mostly never saw, as in a forum whose off-topic posts bring their own vocabulary.
(b) Qatar Living dev: replies judged Bad (not relevant to the question) against Good and Potential;
    Dialogue (chit-chat) is left out of the ranking and reported on its own line.

(c) `lab/short_threads`, everyday style: the dev split cross-fitted like (a) and (b), and the test split
    scored once by the shipped model (whose everyday combiner saw the dev split only).

(a) and (b) are cross-fitted in two folds by thread: every post is scored by a model (background LSA, style
prior, combiners) fitted without its fold, so no evaluated text or label was seen in training. Each
is compared with a plain TF-IDF cosine (to the title and opening post, and to the thread so far),
measured on the same posts with the same fold split.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.offtopic import OffTopicDetector
from classifiers.text import words
from classifiers.thread import Thread
from config.settings import get_settings
from lab.commands import add_command, add_data_dir, add_plot, add_short_threads, add_threshold
from lab.commands.train_offtopic import FOLDS, JUDGED_MIN_WORDS, Corpora, cross_fit
from lab.datasets.short_threads import ShortThread, load_short_threads
from lab.datasets.splice import SplicedThread, fold_of, splice
from lab.evaluation import BinaryMetrics, binary_metrics, metrics_table, plot_note, plot_pr_curves


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `eval offtopic`."""
    parser = add_command(
        sub, "offtopic", "off-topic score on spliced 4forums threads and on Qatar Living", __doc__
    )
    add_data_dir(parser)
    add_threshold(parser)
    add_short_threads(parser)
    add_plot(parser, "offtopic")
    parser.set_defaults(func=run)


def _plain_vectorizer(corpora: Corpora, fold: int) -> TfidfVectorizer:
    """The peer's TF-IDF, fitted on the same background texts as the fold's model."""
    return TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit(
        corpora.background_texts(exclude_fold=fold)
    )


def _plain_cosine(vectorizer: TfidfVectorizer, thread: Thread) -> list[float]:
    """The peer: 1 - mean of TF-IDF cosines to the title + opening post and to all earlier posts."""
    texts = [thread.title + "\n" + thread.posts[0].text] + [p.text for p in thread.posts[1:]]
    matrix = vectorizer.transform(texts).toarray()
    scores: list[float] = []
    running = matrix[0].copy()
    for i in range(1, len(texts)):
        v = matrix[i]
        to_anchor = float(v @ matrix[0])
        norm = float(np.linalg.norm(running))
        to_thread = float(v @ running) / norm if norm else 0.0
        scores.append(1.0 - (to_anchor + to_thread) / 2.0)
        running += v
    return scores


YOUNG_POSTS = 9


def _young_threads(corpora: Corpora, fold: int) -> list[SplicedThread]:
    """The fold's political threads cut to their first posts, about a fifth of them spliced in."""
    political = [t for t in corpora.political if fold_of(t.thread.id, FOLDS) == fold]
    nonpolitical = [t for t in corpora.nonpolitical if fold_of(t.thread.id, FOLDS) == fold]
    hosts = [replace(t, thread=replace(t.thread, posts=t.thread.posts[:YOUNG_POSTS])) for t in political]
    return splice(
        hosts, political, nonpolitical, rate=0.2, min_words=JUDGED_MIN_WORDS, seed="modassist-young-v1"
    )


def _row(name: str, labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> BinaryMetrics:
    return binary_metrics(
        name, np.asarray(labels, dtype=bool).tolist(), np.asarray(scores, float).tolist(), threshold
    )


def run(args: argparse.Namespace) -> int:
    """Cross-fit, score both evaluations, print the tables and write the PR curves."""
    settings = get_settings()
    data_dir = args.data_dir or settings.data_dir
    threshold = args.threshold if args.threshold is not None else settings.thresholds.off_topic
    console = Console(highlight=False, width=120)
    corpora = Corpora.load(data_dir, args.short_threads, foreign=True)
    with console.status("fitting the per-fold models (two backgrounds, two combiners each)"):
        cross = cross_fit(corpora)
    peers = [_plain_vectorizer(corpora, f) for f in range(FOLDS)]
    curves = _spliced_table(console, corpora, cross.models, threshold, peers)
    curves += _questions_table(console, corpora, cross.models, threshold, peers)
    png = plot_pr_curves(args.plot, "off_topic", curves, threshold)
    console.print(plot_note(png), markup=False)
    _short_table(console, cross.models, corpora.short_threads, threshold, args.short_threads)
    return 0


Curve = tuple[str, Any, Any]  # a PR curve's name, labels and scores


def _spliced_scores(
    by_fold: list[list[SplicedThread]], models: list[Any], threshold: float, style: str
) -> tuple[list[bool], list[float], list[bool]]:
    """Labels, scores and "at least JUDGED_MIN_WORDS words" of every reply of the spliced threads, each fold
    scored through the real detector (rules and catch-all policy included) by the model that never saw it."""
    labels: list[bool] = []
    scores: list[float] = []
    long_: list[bool] = []
    for f in range(FOLDS):
        detector = OffTopicDetector(models[f], style=style, flag_threshold=threshold)
        for s in by_fold[f]:
            state = detector.begin_thread(s.thread.id, s.thread.title)
            scores += [state.review(p).score for p in s.thread.posts][1:]
            labels += [p.id in s.spliced for p in s.thread.posts[1:]]
            long_ += [len(words(p.text)) >= JUDGED_MIN_WORDS for p in s.thread.posts[1:]]
    return labels, scores, long_


def _young_scores(corpora: Corpora, models: list[Any], threshold: float) -> tuple[list[bool], list[float]]:
    """Young threads: each thread cut to its first posts, a fifth of them spliced in (same folds)."""
    labels: list[bool] = []
    scores: list[float] = []
    for f in range(FOLDS):
        detector = OffTopicDetector(models[f], flag_threshold=threshold)
        for s in _young_threads(corpora, f):
            state = detector.begin_thread(s.thread.id, s.thread.title)
            for post in s.thread.posts:
                score = state.review(post).score
                if post.position != 1 and len(words(post.text)) >= JUDGED_MIN_WORDS:
                    labels.append(post.id in s.spliced)
                    scores.append(score)
    return labels, scores


def _spliced_table(
    console: Console,
    corpora: Corpora,
    models: list[Any],
    threshold: float,
    peers: list[TfidfVectorizer],
) -> list[Curve]:
    """(a) the spliced 4forums threads: discussion style, auto style, donors from other forums (when the
    data folder has them), the plain cosine, young threads."""
    by_fold = [corpora.spliced(f) for f in range(FOLDS)]
    a_labels, a_scores, a_long = _spliced_scores(by_fold, models, threshold, "discussion")
    a_plain: list[float] = []
    for f in range(FOLDS):
        for s in by_fold[f]:
            a_plain += _plain_cosine(peers[f], s.thread)
    long_ = np.array(a_long)
    ya, sa, pa = np.array(a_labels), np.array(a_scores), np.array(a_plain)
    # The same replies under the default style "auto" (each thread read as everyday or discussion).
    sauto = np.array(_spliced_scores(by_fold, models, threshold, "auto")[1])
    y_labels, y_scores = _young_scores(corpora, models, threshold)
    rows_a = [
        _row(f"modassist, replies >= {JUDGED_MIN_WORDS} words", ya[long_], sa[long_], threshold),
        _row("  same, style auto (the default)", ya[long_], sauto[long_], threshold),
        *_foreign_rows(corpora, models, threshold),
        _row("plain TF-IDF cosine, same posts", ya[long_], pa[long_], threshold),
        _row("modassist, all replies", ya, sa, threshold),
        _row("plain TF-IDF cosine, all replies", ya, pa, threshold),
        _row(f"modassist, young threads (first {YOUNG_POSTS} posts)", y_labels, y_scores, threshold),
    ]
    n_threads = sum(map(len, by_fold))
    console.print(
        metrics_table(f"(a) off_topic, 4forums dev: {n_threads} political threads with spliced posts", rows_a)
    )
    console.print(
        "  positives: posts spliced in from other subforums and the non-political pool; every score "
        "comes from a model fitted without the post's fold. The plain cosine has no threshold of its own. "
        f"Young threads: each thread's first {YOUNG_POSTS} posts with a fifth more spliced in. Donors from "
        f"other forums: the same hosts with posts of {len(corpora.foreign)} English forumscraper threads "
        "spliced in instead, each fold's from the threads of its own fold."
    )
    return [("(a) spliced 4forums", ya[long_], sa[long_]), ("(a) plain cosine", ya[long_], pa[long_])]


def _foreign_rows(corpora: Corpora, models: list[Any], threshold: float) -> list[BinaryMetrics]:
    """The row of the hosts with posts of other forums spliced in, style auto, replies long enough."""
    if not corpora.foreign:
        return []
    labels, scores, long_ = _spliced_scores(
        [corpora.spliced_foreign(f) for f in range(FOLDS)], models, threshold, "auto"
    )
    keep = np.array(long_)
    name = "  same, donors from other forums"
    return [_row(name, np.array(labels)[keep], np.array(scores)[keep], threshold)]


def _questions_table(
    console: Console, corpora: Corpora, models: list[Any], threshold: float, peers: list[TfidfVectorizer]
) -> list[Curve]:
    """(b) Qatar Living, question style and auto style; Dialogue reported apart."""
    b_labels: list[bool] = []
    b_scores: list[float] = []
    b_plain: list[float] = []
    dialogue: list[float] = []
    auto_style: list[float] = []
    for f in range(FOLDS):
        question = OffTopicDetector(models[f], style="question", flag_threshold=threshold)
        auto = OffTopicDetector(models[f], style="auto", flag_threshold=threshold)
        for q in corpora.questions(f):
            state = question.begin_thread(q.thread.id, q.thread.title)
            other = auto.begin_thread(q.thread.id, q.thread.title)
            scores = [state.review(p).score for p in q.thread.posts][1:]
            other_scores = [other.review(p).score for p in q.thread.posts][1:]
            plain = _plain_cosine(peers[f], q.thread)
            for post, score, score2, peer in zip(
                q.thread.posts[1:], scores, other_scores, plain, strict=True
            ):
                label = q.labels.get(post.id)
                if label in ("Good", "Potential", "Bad"):
                    b_labels.append(label == "Bad")
                    b_scores.append(score)
                    b_plain.append(peer)
                    auto_style.append(score2)
                elif label == "Dialogue":
                    dialogue.append(score)
    rows_b = [
        _row("modassist, question style", b_labels, b_scores, threshold),
        _row("modassist, auto style (the default)", b_labels, auto_style, threshold),
        _row("plain TF-IDF cosine", b_labels, b_plain, threshold),
    ]
    good = np.array(b_scores)[~np.array(b_labels)]
    if dialogue:
        rows_b.append(
            _row(
                "Dialogue vs Good/Potential (question style)",
                [True] * len(dialogue) + [False] * len(good),
                [*dialogue, *good],
                threshold,
            )
        )
    console.print(metrics_table("(b) off_topic, Qatar Living dev: Bad vs Good + Potential", rows_b))
    console.print(
        "  Dialogue replies are context only in the main rows; the last row ranks them against "
        "Good/Potential."
    )
    return [("(b) Qatar Living", b_labels, b_scores), ("(b) plain cosine", b_labels, b_plain)]


def _score_short(detector: OffTopicDetector, threads: list[ShortThread]) -> tuple[list[int], list[float]]:
    labels: list[int] = []
    scores: list[float] = []
    for t in threads:
        state = detector.begin_thread(t.thread.id, t.thread.title)
        scores += [state.review(p).score for p in t.thread.posts][1:]
        labels += t.labels
    return labels, scores


def _short_table(
    console: Console, models: list[Any], by_fold: Any, threshold: float, path: Path | None
) -> None:
    """(c) the short everyday threads: dev cross-fitted, test by the shipped model."""
    rows = []
    for style, name in (("everyday", "everyday"), ("auto", "auto (default)")):
        dev_labels: list[int] = []
        dev_scores: list[float] = []
        for f in range(FOLDS):
            detector = OffTopicDetector(models[f], style=style, flag_threshold=threshold)
            labels, scores = _score_short(detector, by_fold(f))
            dev_labels += labels
            dev_scores += scores
        rows.append(_row(f"modassist {name}, dev (cross-fitted)", dev_labels, dev_scores, threshold))
    test = load_short_threads(path, split="test")
    shipped = OffTopicDetector.load(style="everyday", flag_threshold=threshold)
    rows.append(_row("modassist everyday, test (shipped model)", *_score_short(shipped, test), threshold))
    auto = OffTopicDetector.load(style="auto", flag_threshold=threshold)
    rows.append(_row("modassist auto (default), test (shipped)", *_score_short(auto, test), threshold))
    for style in ("discussion", "question"):
        subset = [t for t in test if t.style == style]
        rows.append(_row(f"  test, {style} threads", *_score_short(shipped, subset), threshold))
    old = OffTopicDetector.load(flag_threshold=threshold)
    rows.append(_row("modassist discussion style, test (shipped)", *_score_short(old, test), threshold))
    console.print(metrics_table("(c) off_topic, short everyday threads (lab/short_threads)", rows))
    console.print(
        "  positives: the posts labelled off-topic; test is scored once, by the shipped model, whose "
        "everyday combiner was fitted on the dev split only."
    )
