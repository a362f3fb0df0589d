"""Training the inflammatory model: pure functions over texts and labels (no file I/O).

The recipe (`fit_inflammatory`):

1. Hash every text into word and character features (`TextFeatures`), keep the columns seen in at least
   `min_df` texts, weight them by IDF and normalise them per block, for whole texts and for their sentences.
2. In `folds` group folds (a group never straddles two folds), fit a logistic regression on log-count-ratio
   scaled features (an NB-LR, known to suit short abusive texts) and score the held-out texts and sentences.
3. Fit the second stage on those held-out scores: the text's score, its worst sentence, the style features,
   weighted by `stage_weight` (default: like the calibration).
   When a `peer` profanity model is given, its probability is one more input of the second stage.
4. Fit the isotonic calibration of the second stage's held-out scores against the soft labels (the share of
   annotators who said "inflammatory"; `calibration_soft` instead when the training target is another
   estimate of that share), weighted by `calibration_weight`.
5. Refit the linear model on everything; its weights, the second stage and the calibration make the model.

Soft labels are trained as such: a text with a share p in (0, 1) counts as a positive of weight p and a
negative of weight 1 - p.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from classifiers.inflammatory import (
    DENSE_NAMES,
    ColumnTable,
    FeatureOccurrences,
    InflammatoryModel,
    TextFeatures,
    block_sums,
    second_stage_inputs,
    standardise,
)
from classifiers.profanity import ProfanityModel

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Progress = Callable[[str, int, int], None]


def dev_test_part(corpus: str, group: str, share: float = 0.25) -> bool:
    """True when the row with split key `group` of `corpus` belongs to the dev-test part (deterministic)."""
    digest = hashlib.sha256(f"{corpus}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < share * 10_000


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """Settings of `fit_inflammatory`."""

    features: TextFeatures = field(default_factory=TextFeatures)
    c: float = 1.0
    folds: int = 5
    min_df: int = 5
    nb_alpha: float = 1.0
    meta_c: float = 1.0
    max_iter: int = 1000

    def settings(self) -> dict[str, Any]:
        """JSON-serialisable description (goes into the model file)."""
        return {
            "features": self.features.settings(),
            "c": self.c,
            "folds": self.folds,
            "min_df": self.min_df,
            "nb_alpha": self.nb_alpha,
            "meta_c": self.meta_c,
        }


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """The fitted model and its held-out (out-of-fold) scores on the training texts."""

    model: InflammatoryModel
    oof_decision: F64
    oof_probability: F64
    oof_roc_auc: float


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _tfidf(
    occ: FeatureOccurrences, used: I64, idf: F32, n_word_columns: int, *, by_chunk: bool
) -> sp.csr_matrix:
    """Rows of texts (or sentences) over the `used` columns: IDF-weighted counts, L2-normalised per block."""
    compact = np.searchsorted(used, occ.column)
    compact = np.minimum(compact, used.shape[0] - 1)
    present = used[compact] == occ.column
    rows = occ.chunk if by_chunk else occ.doc
    n_rows = occ.n_chunks if by_chunk else occ.n_docs
    size = max(int(occ.column.max(initial=0)) + 1, int(used.max(initial=0)) + 1)
    table = ColumnTable.build(size, used, np.zeros(used.shape[0]), idf.astype(np.float64) ** 2)
    _, norm = block_sums(occ, table, by_chunk=by_chunk)
    r, c = rows[present], compact[present]
    matrix = sp.csr_matrix((np.ones(r.shape[0], dtype=np.float64), (r, c)), shape=(n_rows, used.shape[0]))
    matrix.sum_duplicates()
    row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    block = (used[matrix.indices] >= n_word_columns).astype(np.int64)
    denominator = norm[row_of, block]
    matrix.data = matrix.data * idf[matrix.indices] / np.where(denominator > 0, denominator, 1.0)
    return matrix


def _expand_soft(soft: F64, weight: F64) -> tuple[I64, F64, F64]:
    """Row indices, targets and weights that train soft labels as weighted positive + negative copies."""
    n = soft.shape[0]
    frac = np.flatnonzero((soft > 0) & (soft < 1))
    rows = np.concatenate([np.arange(n), frac])
    target = np.concatenate(
        [np.where((soft > 0) & (soft < 1), 1.0, (soft >= 0.5).astype(float)), np.zeros(len(frac))]
    )
    w = np.concatenate(
        [weight * np.where((soft > 0) & (soft < 1), soft, 1.0), weight[frac] * (1 - soft[frac])]
    )
    return rows, target, w


def _nb_ratio(x: sp.csr_matrix, soft: F64, weight: F64, alpha: float) -> F64:
    pos = np.asarray(x.T @ (soft * weight)).ravel() + alpha
    neg = np.asarray(x.T @ ((1 - soft) * weight)).ravel() + alpha
    return np.log((pos / pos.sum()) / (neg / neg.sum()))  # type: ignore[no-any-return]


def _fit_linear(x: sp.csr_matrix, soft: F64, weight: F64, config: TrainingConfig) -> tuple[F64, float]:
    """NB-LR: effective weights on the TF-IDF columns and the intercept."""
    ratio = _nb_ratio(x, soft, weight, config.nb_alpha)
    rows, target, w = _expand_soft(soft, weight)
    scaled = (x @ sp.diags(ratio)).tocsr()
    lr = LogisticRegression(C=config.c, max_iter=config.max_iter, tol=1e-4)
    lr.fit(scaled[rows], target, sample_weight=w)
    return lr.coef_.ravel() * ratio, float(lr.intercept_[0])


def _scores(xd: sp.csr_matrix, xc: sp.csr_matrix, chunk_doc: I64, coef: F64) -> tuple[F64, F64]:
    """Each text's score and its best sentence's score (sentences without features are ignored)."""
    doc = np.asarray(xd @ coef).ravel()
    sentence = np.asarray(xc @ coef).ravel()
    sentence[np.diff(xc.indptr) == 0] = -np.inf
    best = np.full(xd.shape[0], -np.inf)
    np.maximum.at(best, chunk_doc, sentence)
    return doc, np.where(np.isfinite(best), best, doc)


def fit_inflammatory(
    texts: Sequence[str],
    soft: Sequence[float],
    *,
    weight: Sequence[float] | None = None,
    groups: Sequence[str] | None = None,
    calibration_weight: Sequence[float] | None = None,
    stage_weight: Sequence[float] | None = None,
    calibration_soft: Sequence[float] | None = None,
    config: TrainingConfig | None = None,
    version: str = "inflammatory-untrained",
    info: dict[str, Any] | None = None,
    progress: Progress | None = None,
    peer: ProfanityModel | None = None,
) -> TrainingResult:
    """Fit an `InflammatoryModel` on `texts` with soft labels in [0, 1] (see the module docstring)."""
    config = config or TrainingConfig()
    report = progress or _noop
    targets = _targets(len(texts), soft, weight, groups, calibration_weight, stage_weight, calibration_soft)
    features = config.features
    total = config.folds + 4

    report("features", 0, total)
    matrices = _matrices(features, texts, config.min_df)
    report("features", 1, total)
    oof_doc, oof_best = _out_of_fold_scores(matrices, targets, config, report, total)
    peer_scores = peer.probability(texts) if peer is not None else None
    stage = _fit_second_stage(matrices.occ.dense, oof_doc, oof_best, peer_scores, targets, config)
    report("second stage", config.folds + 2, total)
    calibration_x, calibration_y = _fit_calibration(stage.oof_decision, targets)
    report("calibration", config.folds + 3, total)

    coef, bias = _fit_linear(matrices.texts, targets.soft, targets.weight, config)
    model = InflammatoryModel(
        features=features,
        columns=matrices.used,
        idf=matrices.idf,
        weights=coef.astype(np.float32),
        dense_mean=stage.dense_mean,
        dense_scale=stage.dense_scale,
        meta_coef=stage.meta.coef_.ravel().astype(np.float64),
        meta_bias=float(stage.meta.intercept_[0]),
        linear_bias=bias,
        calibration_x=calibration_x,
        calibration_y=calibration_y,
        version=version,
        info={**(info or {}), "training": config.settings(), "dense_names": list(DENSE_NAMES)},
        peer=peer,
    )
    report("done", total, total)
    oof_decision = stage.oof_decision
    probability = np.clip(np.interp(oof_decision, calibration_x, calibration_y), 0.0, 1.0)
    return TrainingResult(
        model, oof_decision, probability, float(roc_auc_score(targets.labels, oof_decision))
    )


@dataclass(frozen=True, slots=True)
class _Targets:
    """What each text is trained towards and how much it counts, as arrays of one length (the texts')."""

    soft: F64
    weight: F64
    calibration_weight: F64
    stage_weight: F64
    calibration_soft: F64
    groups: npt.NDArray[Any]
    labels: npt.NDArray[np.int_]  # soft >= 0.5


def _targets(
    n: int,
    soft: Sequence[float],
    weight: Sequence[float] | None,
    groups: Sequence[str] | None,
    calibration_weight: Sequence[float] | None,
    stage_weight: Sequence[float] | None,
    calibration_soft: Sequence[float] | None,
) -> _Targets:
    """`fit_inflammatory`'s labels, weights and groups with their defaults filled in, checked."""
    soft_a = np.clip(np.asarray(soft, dtype=np.float64), 0.0, 1.0)
    weight_a = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    cal_w = weight_a if calibration_weight is None else np.asarray(calibration_weight, dtype=np.float64)
    stage_w = cal_w if stage_weight is None else np.asarray(stage_weight, dtype=np.float64)
    cal_soft = soft_a if calibration_soft is None else np.clip(np.asarray(calibration_soft, np.float64), 0, 1)
    group_a = np.asarray(groups if groups is not None else [str(i) for i in range(n)])
    lengths = {a.shape[0] for a in (soft_a, weight_a, cal_w, stage_w, cal_soft, group_a)}
    if lengths != {n}:
        raise ValueError("texts, labels, weights and groups must have the same length")
    labels = (soft_a >= 0.5).astype(int)
    if labels.min(initial=1) == labels.max(initial=0):
        raise ValueError("training needs both inflammatory and other texts")
    return _Targets(soft_a, weight_a, cal_w, stage_w, cal_soft, group_a, labels)


@dataclass(frozen=True, slots=True)
class _Matrices:
    """Step 1: the texts' feature occurrences, the columns kept and their IDF, and the TF-IDF rows of the
    whole texts and of their sentences."""

    occ: FeatureOccurrences
    used: I64
    idf: F32
    texts: sp.csr_matrix
    sentences: sp.csr_matrix


def _matrices(features: TextFeatures, texts: Sequence[str], min_df: int) -> _Matrices:
    """Hash the texts, keep the columns seen in at least `min_df` texts, weight them by IDF."""
    occ = _occurrences_in_batches(features, texts)
    df = np.bincount(np.unique(occ.doc * features.n_columns + occ.column) % features.n_columns,
                     minlength=features.n_columns)  # fmt: skip
    used = np.flatnonzero(df >= min_df).astype(np.int64)
    idf = (np.log((1 + len(texts)) / (1 + df[used])) + 1).astype(np.float32)
    xd = _tfidf(occ, used, idf, features.n_word_columns, by_chunk=False)
    xc = _tfidf(occ, used, idf, features.n_word_columns, by_chunk=True)
    return _Matrices(occ, used, idf, xd, xc)


def _out_of_fold_scores(
    matrices: _Matrices, targets: _Targets, config: TrainingConfig, report: Progress, total: int
) -> tuple[F64, F64]:
    """Step 2: each text's linear score and its worst sentence's, from the fold that held the text out."""
    n = targets.soft.shape[0]
    xd, xc, chunk_doc = matrices.texts, matrices.sentences, matrices.occ.chunk_doc
    oof_doc = np.zeros(n)
    oof_best = np.zeros(n)
    folds = GroupKFold(n_splits=config.folds)
    for k, (train, held) in enumerate(folds.split(np.zeros(n), targets.labels, groups=targets.groups)):
        coef, bias = _fit_linear(xd[train], targets.soft[train], targets.weight[train], config)
        held_chunks = np.flatnonzero(np.isin(chunk_doc, held))
        doc, best = _scores(xd[held], xc[held_chunks], np.searchsorted(held, chunk_doc[held_chunks]), coef)
        oof_doc[held], oof_best[held] = doc + bias, best + bias
        report(f"fold {k + 1}/{config.folds}", k + 2, total)
    return oof_doc, oof_best


@dataclass(frozen=True, slots=True)
class _SecondStage:
    """Step 3: the fitted second stage, the dense features' standardisation and its held-out decisions."""

    meta: LogisticRegression
    dense_mean: F64
    dense_scale: F64
    oof_decision: F64


def _fit_second_stage(
    raw_dense: F64,
    oof_doc: F64,
    oof_best: F64,
    peer_scores: F64 | None,
    targets: _Targets,
    config: TrainingConfig,
) -> _SecondStage:
    """Fit the second stage on the held-out scores, the standardised style features and the peer's scores."""
    dense_mean = raw_dense.mean(axis=0)
    dense_scale = raw_dense.std(axis=0)
    dense_scale[dense_scale == 0] = 1.0
    dense = standardise(raw_dense, dense_mean, dense_scale)
    stacked = second_stage_inputs(oof_doc, oof_best, dense, peer_scores)
    # The second stage learns how the scores and style combine, weighted by `stage_weight` (default: like the
    # calibration, from the rows with moderator-like labels).
    rows, target, w = _expand_soft(targets.soft, targets.stage_weight)
    meta = LogisticRegression(C=config.meta_c, max_iter=config.max_iter).fit(
        stacked[rows], target, sample_weight=w
    )
    return _SecondStage(meta, dense_mean, dense_scale, meta.decision_function(stacked))


def _fit_calibration(oof_decision: F64, targets: _Targets) -> tuple[F64, F64]:
    """Step 4: the isotonic calibration's thresholds (x, y), fitted on the rows with a calibration weight."""
    cal_w = targets.calibration_weight
    keep = cal_w > 0
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(oof_decision[keep], targets.calibration_soft[keep], sample_weight=cal_w[keep])
    return np.asarray(iso.X_thresholds_, dtype=np.float64), np.asarray(iso.y_thresholds_, dtype=np.float64)


def _occurrences_in_batches(
    features: TextFeatures, texts: Sequence[str], batch: int = 4000
) -> FeatureOccurrences:
    """`features.occurrences` over a long list, in batches (word occurrences first, as in one batch)."""
    parts = [features.occurrences(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    if not parts:
        return features.occurrences([])
    doc_base = np.cumsum([0] + [p.n_docs for p in parts[:-1]])
    chunk_base = np.cumsum([0] + [p.n_chunks for p in parts[:-1]])
    words = [slice(0, p.n_word_occurrences) for p in parts]
    chars = [slice(p.n_word_occurrences, None) for p in parts]
    return FeatureOccurrences(
        n_docs=sum(p.n_docs for p in parts),
        column=np.concatenate(
            [p.column[w] for p, w in zip(parts, words, strict=True)]
            + [p.column[c] for p, c in zip(parts, chars, strict=True)]
        ),
        chunk=np.concatenate(
            [p.chunk[w] + b for p, w, b in zip(parts, words, chunk_base, strict=True)]
            + [p.chunk[c] + b for p, c, b in zip(parts, chars, chunk_base, strict=True)]
        ),
        chunk_doc=np.concatenate([p.chunk_doc + b for p, b in zip(parts, doc_base, strict=True)]),
        dense=np.concatenate([p.dense for p in parts]),
        n_word_occurrences=sum(p.n_word_occurrences for p in parts),
    )
