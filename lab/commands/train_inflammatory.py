"""`modassist-lab train inflammatory`: fit the inflammatory model and write it as a safe model file.

Input, either or both:

- `--data FILE...`: CSV (comma-separated, with a header) or JSON Lines (`.jsonl`/`.ndjson`), one text per row:
  - `text` (required): the post's own words;
  - `label` (required): 1/0, true/false, yes/no, or the share of moderators who call the text inflammatory
    (a number in [0, 1]; a share is trained as such and calibrates the scores);
  - `weight` (optional, default 1): how much the row counts;
  - `group` (optional): rows of one group (a thread, an article) stay in one cross-validation fold.
  Column names can be changed with `--text-column` and `--label-column`.
- `--corpora DIR`: the labelled public corpora in the shared data folder (C3, OLID, HateXplain, Davidson; see
  `lab/datasets/toxicity.py`), training part of the fixed dev-test split only, weighted by `CORPUS_WEIGHTS`.
  This is how the shipped model is built:

      modassist-lab train inflammatory --corpora ../shared/data --output classifiers/models/inflammatory.npz

`--with-peer` also gives the model alt-profanity-check's profanity score as an input (copied into the model
file as arrays; needs the `train` extra). It is off by default: on our dev-test split it adds about 0.005 to
the mean ROC-AUC but lowers the score of insults without swear words (see MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sklearn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.errors import ConfigError, ParseError
from classifiers.training.inflammatory import TrainingConfig, TrainingResult, dev_test_part, fit_inflammatory
from lab.commands import add_command
from lab.datasets.toxicity import CORPUS_NAMES, read_corpus
from lab.peer import installed_peer, peer_label

# How much each corpus counts in training. C3 (political comments) is the product's domain; HateXplain is
# small
# and labels dehumanising talk; Davidson mostly labels profanity, which is not what we flag.
CORPUS_WEIGHTS = {"c3": 3.0, "olid": 1.0, "hatexplain": 3.0, "davidson": 0.3}
# Calibration: each corpus with moderator-like labels counts equally; Davidson's profanity votes are left out.
CALIBRATION_CORPORA = ("c3", "olid", "hatexplain")
# The second stage (how text score, worst sentence and style combine) also sees Davidson, at 0.3 of a corpus.
STAGE_WEIGHTS = {"c3": 1.0, "olid": 1.0, "hatexplain": 1.0, "davidson": 0.3}
_TRUE = {"1", "true", "yes", "y", "inflammatory", "toxic", "off", "tin"}
_FALSE = {"0", "false", "no", "n", "", "not", "normal", "none"}


@dataclass(frozen=True, slots=True)
class TrainingRow:
    """One training text with its soft label, weight, fold group and where it came from.

    `calibration_soft` is the share the calibration is fitted to, when it differs from the training target.
    """

    text: str
    soft: float
    weight: float
    group: str
    source: str
    calibration_weight: float = 1.0
    stage_weight: float = 1.0
    calibration_soft: float | None = None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `train inflammatory`."""
    parser = add_command(
        sub,
        "inflammatory",
        "train the inflammatory model from labelled CSV/JSON Lines files or the shared corpora",
        __doc__,
    )
    parser.add_argument(
        "--data", type=Path, nargs="+", default=[], metavar="FILE", help="CSV or JSON Lines files"
    )
    parser.add_argument("--corpora", type=Path, metavar="DIR", help="the shared data folder (training split)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="model file to write (never the shipped one unless named; use it with "
        "MODASSIST_MODELS__INFLAMMATORY=FILE)",
    )
    parser.add_argument(
        "--folds", type=int, default=5, help="cross-validation folds for stacking/calibration"
    )
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--version", help="model version (default: inflammatory-YYYY.MM.DD)")
    parser.add_argument(
        "--with-peer",
        action="store_true",
        help=(
            "also read alt-profanity-check's profanity score (needs the train extra). Off by default: it "
            "lifts the corpus figures a little but makes insults without swear words score lower"
        ),
    )
    parser.set_defaults(func=run)


def _label(value: object, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
        try:
            number = float(text)
        except ValueError:
            raise ParseError(
                where, "a label 0/1, true/false or a share in [0, 1]", f"got {value!r}"
            ) from None
    if not 0.0 <= number <= 1.0:
        raise ParseError(where, "a label 0/1, true/false or a share in [0, 1]", f"got {value!r}")
    return number


def read_labelled_file(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> Iterator[TrainingRow]:
    """Rows of one CSV or JSON Lines training file (see the module docstring)."""
    if not path.is_file():
        raise ConfigError(f"training file {path} not found")
    records: Iterator[tuple[int, dict[str, object]]]
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        records = _json_records(path)
    else:
        records = _csv_records(path)
    for line, record in records:
        where = f"{path}:{line}"
        if text_column not in record or label_column not in record:
            raise ParseError(where, f"columns {text_column!r} and {label_column!r}", f"has {sorted(record)}")
        text = record[text_column]
        if not isinstance(text, str):
            raise ParseError(where, f"a string in {text_column!r}")
        try:
            weight = float(record.get("weight") or 1.0)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ParseError(where, "a number in 'weight'") from None
        group = str(record.get("group") or f"{path.name}:{line}")
        yield TrainingRow(text, _label(record[label_column], where), weight, group, path.name)


def _json_records(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"{path}:{number}", "one JSON object per line", str(exc)) from None
            if not isinstance(record, dict):
                raise ParseError(f"{path}:{number}", "one JSON object per line")
            yield number, record


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for record in reader:
            yield reader.line_num, dict(record)


def corpus_rows(data_dir: Path) -> list[TrainingRow]:
    """The training part of the shared corpora, weighted for the shipped model."""
    rows: list[TrainingRow] = []
    for name in CORPUS_NAMES:
        part = [r for r in read_corpus(data_dir, name) if not dev_test_part(r.corpus, r.group)]
        per_text = 1000.0 / len(part) if part else 0.0
        calibration = per_text if name in CALIBRATION_CORPORA else 0.0
        stage = per_text * STAGE_WEIGHTS[name]
        rows.extend(
            TrainingRow(
                r.text, r.target, CORPUS_WEIGHTS[name], f"{name}:{r.group}", name, calibration, stage, r.soft
            )
            for r in part
        )
    return rows


def fit_rows(rows: Sequence[TrainingRow], **options: Any) -> TrainingResult:
    """`fit_inflammatory` on training rows, each with its own weights; `options` go to `fit_inflammatory`."""
    return fit_inflammatory(
        [r.text for r in rows],
        [r.soft for r in rows],
        weight=[r.weight for r in rows],
        groups=[r.group for r in rows],
        calibration_weight=[r.calibration_weight for r in rows],
        stage_weight=[r.stage_weight for r in rows],
        calibration_soft=[r.soft if r.calibration_soft is None else r.calibration_soft for r in rows],
        **options,
    )


def run(args: argparse.Namespace) -> int:
    """Read the training data, fit, write the model file."""
    console = Console(stderr=True, highlight=False)
    rows: list[TrainingRow] = []
    sources: list[str] = []
    if args.corpora is not None:
        rows.extend(corpus_rows(args.corpora))
        sources.append("shared corpora (training split): c3, olid, hatexplain, davidson")
    for path in args.data:
        rows.extend(read_labelled_file(path, args.text_column, args.label_column))
        sources.append(path.name)
    if not rows:
        raise ConfigError("nothing to train on: give --data FILE... and/or --corpora DIR")
    if args.folds < 2:
        raise ConfigError("--folds must be at least 2")
    version = args.version or f"inflammatory-{dt.date.today():%Y.%m.%d}"
    config = TrainingConfig(c=args.c, folds=args.folds)
    peer = installed_peer() if args.with_peer else None
    if args.with_peer and peer is None:
        raise ConfigError("--with-peer needs alt-profanity-check: pip install -e '.[train]'")
    console.print(f"training on {len(rows):,} texts from {', '.join(sources)}")
    with Progress(
        TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("starting", total=config.folds + 4)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        try:
            result = fit_rows(
                rows,
                config=config,
                version=version,
                info={
                    "trained_on": sources,
                    "rows": len(rows),
                    "date": dt.date.today().isoformat(),
                    "scikit_learn": sklearn.__version__,
                    "corpus_weights": CORPUS_WEIGHTS if args.corpora is not None else {},
                    "peer_input": peer_label() if peer is not None else None,
                },
                progress=report,
                peer=peer,
            )
        except ValueError as exc:
            raise ConfigError(f"cannot train: {exc}") from exc
    result.model.save(args.output)
    size = args.output.stat().st_size / 1e6
    console.print(
        f"wrote {args.output} ({size:.1f} MB, version {version}); "
        f"cross-validated ROC-AUC on the training texts {result.oof_roc_auc:.3f}"
    )
    return 0
