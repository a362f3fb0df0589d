"""The measurements every `modassist-lab eval` command reports (`lab.evaluation`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.errors import DataError, ModassistError

LABELS = [True, True, False, True, False, False]
SCORES = [0.9, 0.8, 0.7, 0.4, 0.3, 0.1]


def test_binary_metrics_on_a_hand_computed_example() -> None:
    # Imported here: scikit-learn stays out of the workers that do not run this (tests/conftest.py).
    from lab.evaluation import binary_metrics

    m = binary_metrics("hand", LABELS, SCORES, threshold=0.5)
    assert (m.name, m.positives, m.negatives, m.threshold) == ("hand", 3, 3, 0.5)
    # positive-negative pairs ranked right: 0.9 and 0.8 beat all three negatives, 0.4 beats two: 8 of 9
    assert m.roc_auc == pytest.approx(8 / 9)
    # precision at each positive, in score order: 1/1, 2/2, 3/4, each a third of the recall
    assert m.average_precision == pytest.approx((1 + 1 + 3 / 4) / 3)
    # flagged: 0.9, 0.8, 0.7; two of them positive, two of three positives found
    assert (m.precision, m.recall, m.f1) == (pytest.approx(2 / 3), pytest.approx(2 / 3), pytest.approx(2 / 3))


@pytest.mark.parametrize(
    ("threshold", "precision", "recall", "f1"),
    [
        (0.8, 1.0, 2 / 3, 0.8),  # a score equal to the threshold is flagged
        (0.1, 0.5, 1.0, 2 / 3),  # everything flagged
        (0.95, 0.0, 0.0, 0.0),  # nothing flagged: zero, not a division error
    ],
)
def test_binary_metrics_threshold_is_inclusive(
    threshold: float, precision: float, recall: float, f1: float
) -> None:
    from lab.evaluation import binary_metrics

    m = binary_metrics("hand", LABELS, SCORES, threshold)
    assert (m.precision, m.recall, m.f1) == (
        pytest.approx(precision),
        pytest.approx(recall),
        pytest.approx(f1),
    )
    assert m.roc_auc == pytest.approx(8 / 9)  # the ranking measures do not depend on the threshold


@pytest.mark.parametrize("only", [True, False])
def test_binary_metrics_refuses_a_single_class(only: bool) -> None:
    from lab.evaluation import binary_metrics

    with pytest.raises(ValueError, match="olid: need both positives and negatives"):
        binary_metrics("olid", [only] * 4, [0.1, 0.2, 0.3, 0.4], 0.5)


def test_a_one_sided_measurement_is_a_one_line_error_for_the_command_line() -> None:
    from lab.evaluation import binary_metrics

    with pytest.raises(DataError) as raised:
        binary_metrics("c3", [False, False], [0.1, 0.9], 0.5)
    assert isinstance(raised.value, ModassistError) and raised.value.exit_code == 2
    assert "is --data-dir the shared data folder?" in str(raised.value)


def test_without_matplotlib_the_curves_are_skipped_and_that_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.evaluation import NO_MATPLOTLIB, plot_note, plot_pr_curves

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on a machine without the train extra
    target = tmp_path / "pr.png"
    written = plot_pr_curves(target, "t", [("a", [0, 1, 1, 0], [0.1, 0.8, 0.7, 0.3])])
    assert written is None and not target.exists()
    assert plot_note(written) == NO_MATPLOTLIB
    assert "pip install -e '.[train]'" in NO_MATPLOTLIB
    assert plot_note(target) == f"precision-recall curves: {target}"
