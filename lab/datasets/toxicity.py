"""The labelled toxicity corpora (C3, OLID, HateXplain, Davidson) as `LabelledText` rows for the inflammatory
model.

Each reader turns its corpus's labels into one definition, "inflammatory", with a binary label (what the
evaluation ranks against) and a soft label (the share of annotators who said so, for training and
calibration):

- **c3**: Globe and Mail comments. Soft label: the largest share of annotators who ticked one of
  `tox_personal_attack`, `tox_inflammatory`, `tox_abusive` (the corpus gives counts per tick, not per
  annotator, so this is a lower bound of "ticked any of the three"); positive when that share is at least one
  half. The model is trained towards the upper bound, `train_soft` = min(1, all three ticks / annotators):
  it tells a comment one annotator called an attack and another inflammatory from one with a single tick,
  which ranks C3 better (cross-validated ROC-AUC on the training part, against the same binary label, 0.687
  -> 0.700); calibration and evaluation keep the lower bound. Split key: the article, so comments under one
  article stay on one side of the split.
- **olid**: tweets. Positive: `subtask_b == TIN` (targeted insult or threat); `NOT` and `UNT` (untargeted
  profanity)
  are negative. No per-annotator counts, so the soft label is the binary one.
- **hatexplain**: Twitter and Gab posts. Soft label: the share of the three annotators who said `offensive` or
  `hatespeech`; positive when the majority label is one of those two.
- **davidson**: tweets, mostly profanity. Soft label: the share of votes for hate speech or offensive
  language;
  positive for `class` 0 or 1. It teaches profanity rather than inflammatory talk, so training weighs it down.

Corpus placeholders are turned back into what a real post shows (`@USER` and `<user>` -> a mention, `URL` ->
a link) so the model never learns a corpus from its placeholders. Split keys for the tweet corpora are a hash
of
the normalised text, so duplicates land on the same side.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import ConfigError
from classifiers.text import normalize
from lab.datasets import corpus_file, existing_file

CORPORA: dict[str, tuple[str, str]] = {
    "c3": ("c3_constructive_comments", "c3_comments_dev.csv"),
    "olid": ("olid_offenseval2019", "olid-training-v1.0.tsv"),
    "hatexplain": ("hatexplain", "hatexplain_val.csv"),
    "davidson": ("davidson_hate_offensive", "labeled_data.csv"),
}
CORPUS_NAMES: tuple[str, ...] = tuple(CORPORA)


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One labelled text: `label` 1 = inflammatory; `soft` = share of annotators who said so; `group` = split
    key."""

    text: str
    label: int
    soft: float
    corpus: str
    group: str
    train_soft: float | None = None  # what the model is trained towards, when it differs from `soft`

    @property
    def target(self) -> float:
        """The training target: `train_soft` if given, else `soft`."""
        return self.soft if self.train_soft is None else self.train_soft


def _text_key(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()[:16]


_OLID_USER = re.compile(r"@USER\b")
_OLID_URL = re.compile(r"\bURL\b")
_HX_USER = re.compile(r"<user>")
_HX_URL = re.compile(r"<url>")
_HX_TAG = re.compile(r"<(number|percent|money|date|time|email|censored|laugh|surprise|sad|happy)>")


def _open_rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    with existing_file(path).open(encoding="utf-8", newline="") as fh:
        quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        yield from csv.DictReader(fh, delimiter=delimiter, quoting=quoting)


def read_c3(path: Path) -> Iterator[LabelledText]:
    """C3 comments with the personal-attack / inflammatory / abusive judgements."""
    for row in _open_rows(path):
        n = float(row["n_tox_judgements"] or 0)
        if n <= 0:
            continue
        ticks = (int(row["tox_personal_attack"]), int(row["tox_inflammatory"]), int(row["tox_abusive"]))
        soft = min(1.0, max(ticks) / n)
        group = f"article:{row['article_id']}"
        upper = min(1.0, sum(ticks) / n)
        yield LabelledText(row["comment_text"], int(soft >= 0.5), soft, "c3", group, train_soft=upper)


def read_olid(path: Path) -> Iterator[LabelledText]:
    """OLID tweets: targeted insults against everything else."""
    for row in _open_rows(path, delimiter="\t"):
        text = _OLID_URL.sub("http://example.com", _OLID_USER.sub("@user", row["tweet"]))
        label = int(row["subtask_a"] == "OFF" and row["subtask_b"] == "TIN")
        yield LabelledText(text, label, float(label), "olid", _text_key(text))


def read_hatexplain(path: Path) -> Iterator[LabelledText]:
    """HateXplain posts: offensive or hate speech (majority) against normal."""
    for row in _open_rows(path):
        votes = [v for v in row["annotator_labels"].split("|") if v]
        if not votes or row["majority_label"] not in {"normal", "offensive", "hatespeech"}:
            continue
        soft = sum(v in {"offensive", "hatespeech"} for v in votes) / len(votes)
        text = _HX_URL.sub("http://example.com", _HX_USER.sub("@user", row["text"]))
        text = _HX_TAG.sub(lambda m: "7" if m.group(1) in {"number", "percent", "money"} else "", text)
        label = int(row["majority_label"] != "normal")
        yield LabelledText(text, label, soft, "hatexplain", _text_key(text))


def read_davidson(path: Path) -> Iterator[LabelledText]:
    """Davidson tweets: hate speech or offensive language against neither."""
    for row in _open_rows(path):
        count = int(row["count"])
        if count <= 0:
            continue
        soft = (int(row["hate_speech"]) + int(row["offensive_language"])) / count
        text = html.unescape(row["tweet"])
        yield LabelledText(text, int(row["class"] in {"0", "1"}), min(1.0, soft), "davidson", _text_key(text))


_READERS = {"c3": read_c3, "olid": read_olid, "hatexplain": read_hatexplain, "davidson": read_davidson}


def read_corpus(data_dir: Path, name: str) -> list[LabelledText]:
    """Every row of corpus `name` (one of `CORPUS_NAMES`) from the shared data folder."""
    if name not in CORPORA:
        raise ConfigError(f"unknown corpus {name!r}; expected one of {', '.join(CORPUS_NAMES)}")
    folder, filename = CORPORA[name]
    return list(_READERS[name](corpus_file(data_dir, folder, filename)))


def read_corpora(data_dir: Path, names: Iterable[str] = CORPUS_NAMES) -> list[LabelledText]:
    """The rows of several corpora, corpus by corpus."""
    return [row for name in names for row in read_corpus(data_dir, name)]
