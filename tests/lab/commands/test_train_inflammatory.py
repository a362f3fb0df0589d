"""`modassist-lab train inflammatory`, in-process, on labelled files written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.inflammatory import InflammatoryDetector
from lab.cli import main
from tests.classifiers.inflammatory.toy_corpus import toy_corpus


def test_train_reads_csv_and_jsonl_and_writes_a_model_that_ranks_insults_higher(tmp_path: Path) -> None:
    texts, labels = toy_corpus()
    half = len(texts) // 2
    csv_path = tmp_path / "rows.csv"
    lines = ["text,label,weight"] + [f'"{t}",{y},1' for t, y in zip(texts[:half], labels[:half], strict=True)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    jsonl_path = tmp_path / "rows.jsonl"
    jsonl_path.write_text(
        "".join(
            json.dumps({"text": t, "label": bool(y >= 0.5)}) + "\n"
            for t, y in zip(texts[half:], labels[half:], strict=True)
        ),
        encoding="utf-8",
    )
    output = tmp_path / "model.npz"
    argv = ["train", "inflammatory", "--data", str(csv_path), str(jsonl_path), "--output", str(output)]
    assert main([*argv, "--folds", "2"]) == 0
    detector = InflammatoryDetector.load(output)
    rude, civil = detector.score_texts(["what a pathetic clown you are", "good point"])
    assert rude > civil


def test_a_bad_label_is_a_one_line_error_naming_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,maybe\n", encoding="utf-8")
    assert main(["train", "inflammatory", "--data", str(path), "--output", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"modassist-lab: error: {path}:2: expected a label 0/1")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.npz").exists()


def test_nothing_to_train_on_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "inflammatory", "--output", str(tmp_path / "m.npz")]) == 2
    assert capsys.readouterr().err == (
        "modassist-lab: error: nothing to train on: give --data FILE... and/or --corpora DIR\n"
    )
