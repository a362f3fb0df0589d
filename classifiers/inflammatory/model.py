"""The model: hashed linear weights, the second stage, the calibration map; read and written as safe
files (arrays and JSON, never pickle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.attribution import Attribution, SecondStage, linear_attributions
from classifiers.inflammatory.features import (
    DENSE_NAMES,
    PEER_INPUTS,
    SECOND_STAGE_NAMES,
    TextFeatures,
    second_stage_inputs,
    standardise,
)
from classifiers.inflammatory.fused import fused_scores
from classifiers.inflammatory.scoring import ColumnTable, text_and_sentence_scores
from classifiers.persistence import ModelError, load_model, save_model
from classifiers.profanity import ProfanityModel

MODEL_KIND = "modassist.inflammatory.hashed-linear"
FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = Path(__file__).parent.parent / "models" / "inflammatory.npz"

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class InflammatoryModel:
    """Hashed features, a linear text model, a second stage over (text, worst sentence, style) and a
    calibration.

    `columns` are the feature columns in use (sorted); `idf` and `weights` hold their IDF and linear weights.
    The second stage is `meta_coef` . `second_stage_inputs(...)` +
    `meta_bias`; `calibration_x`/`calibration_y` map that to a probability (piecewise linear, isotonic).
    """

    features: TextFeatures
    columns: I64
    idf: F32
    weights: F32
    dense_mean: F64
    dense_scale: F64
    meta_coef: F64
    meta_bias: float
    calibration_x: F64
    calibration_y: F64
    linear_bias: float = 0.0
    version: str = "inflammatory-untrained"
    info: dict[str, Any] = field(default_factory=dict)
    peer: ProfanityModel | None = None

    @property
    def second_stage_names(self) -> tuple[str, ...]:
        """What the second stage reads, in order."""
        return (*SECOND_STAGE_NAMES, *PEER_INPUTS) if self.peer is not None else SECOND_STAGE_NAMES

    def __post_init__(self) -> None:
        n = self.features.n_columns
        if self.columns.shape[0] and (self.columns.min() < 0 or self.columns.max() >= n):
            raise ValueError("feature columns outside the feature space")
        # Per column: weight x idf and idf squared, side by side so one lookup fetches both.
        idf = self.idf.astype(np.float64)
        self._table = ColumnTable.build(n, self.columns, idf * self.weights, idf * idf)

    def decision(self, texts: Sequence[str]) -> F64:
        """Uncalibrated scores (log-odds scale) of a batch of texts."""
        if not texts:
            return np.zeros(0)
        fused = fused_scores(self.features, self._table, texts)
        if fused is None:
            occ = self.features.occurrences(texts)
            doc, best = text_and_sentence_scores(occ, self._table)
            fused = doc, best, occ.dense
        doc, best, raw_dense = fused
        dense = standardise(raw_dense, self.dense_mean, self.dense_scale)
        peer = self.peer.probability(texts) if self.peer is not None else None
        stacked = second_stage_inputs(doc + self.linear_bias, best + self.linear_bias, dense, peer)
        scores: F64 = stacked @ self.meta_coef + self.meta_bias
        return scores

    def attributions(self, texts: Sequence[str]) -> list[Attribution]:
        """Per text, what raised its `decision`: each feature occurrence's exact share through the linear
        stage, and the lexicon counts' shares (see `classifiers.inflammatory.attribution`)."""
        if not texts:
            return []
        occ = self.features.occurrences(texts, spans=True)
        stage = SecondStage(
            coef=dict(zip(self.second_stage_names, self.meta_coef.tolist(), strict=True)),
            dense_mean=self.dense_mean,
            dense_scale=self.dense_scale,
            linear_bias=self.linear_bias,
            peer=self.peer.probability(texts) if self.peer is not None else None,
        )
        return linear_attributions(occ, self._table, stage)

    def calibrate(self, decision: F64) -> F64:
        """Probabilities for uncalibrated scores.

        The isotonic map is flat between its steps; a slope of at most 0.001 keeps the model's ranking inside
        a
        step (two posts on one step are not equally inflammatory) without moving any probability noticeably.
        """
        stepped = np.interp(decision, self.calibration_x, self.calibration_y)
        ranked = stepped + 0.001 * (1.0 / (1.0 + np.exp(-np.clip(decision, -30, 30))) - 0.5)
        clipped: F64 = np.clip(ranked, 0.0, 1.0)
        return clipped

    def probability(self, texts: Sequence[str]) -> F64:
        """Calibrated probabilities that each text is inflammatory."""
        return self.calibrate(self.decision(texts))

    # -- persistence -----------------------------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        """Write the model as arrays + JSON (no pickle)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "columns": self.columns.astype(np.int32),
            "idf": self.idf.astype(np.float32),
            "weights": self.weights.astype(np.float32),
            "dense_mean": self.dense_mean.astype(np.float64),
            "dense_scale": self.dense_scale.astype(np.float64),
            "meta_coef": self.meta_coef.astype(np.float64),
            "calibration_x": self.calibration_x.astype(np.float64),
            "calibration_y": self.calibration_y.astype(np.float64),
        }
        if self.peer is not None:
            arrays.update(self.peer.arrays())
        meta = {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "features": self.features.settings(),
            "dense_names": list(DENSE_NAMES),
            "meta_bias": float(self.meta_bias),
            "linear_bias": float(self.linear_bias),
            "second_stage": list(self.second_stage_names),
            "info": self.info,
        }
        save_model(path, MODEL_KIND, arrays, meta)

    @classmethod
    def load(cls, path: Path | str) -> InflammatoryModel:
        """Read a model file; a missing, damaged, tampered or incompatible file raises ModelError."""
        arrays, meta = load_model(path, MODEL_KIND)
        try:
            if meta.get("format_version") != FORMAT_VERSION:
                raise ModelError(
                    path, f"format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}"
                )
            stage = tuple(meta.get("second_stage", []))
            if stage not in (SECOND_STAGE_NAMES, (*SECOND_STAGE_NAMES, *PEER_INPUTS)):
                raise ModelError(path, "its style features do not match this version of modassist")
            peer = ProfanityModel.from_arrays(arrays) if len(stage) > len(SECOND_STAGE_NAMES) else None
            features = TextFeatures.from_settings(meta["features"])
            n_dense = len(DENSE_NAMES)
            model = cls(
                features=features,
                columns=arrays["columns"].astype(np.int64),
                idf=arrays["idf"].astype(np.float32),
                weights=arrays["weights"].astype(np.float32),
                dense_mean=_vector(arrays["dense_mean"], n_dense),
                dense_scale=_vector(arrays["dense_scale"], n_dense),
                meta_coef=_vector(arrays["meta_coef"], len(stage)),
                linear_bias=float(meta["linear_bias"]),
                meta_bias=float(meta["meta_bias"]),
                calibration_x=arrays["calibration_x"].astype(np.float64),
                calibration_y=arrays["calibration_y"].astype(np.float64),
                version=str(meta["version"]),
                info=dict(meta.get("info", {})),
                peer=peer,
            )
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(path, f"incomplete or inconsistent inflammatory model ({exc})") from exc
        n = model.columns.shape[0]
        if model.idf.shape != (n,) or model.weights.shape != (n,):
            raise ModelError(path, "feature arrays of different lengths")
        if model.calibration_x.shape != model.calibration_y.shape or model.calibration_x.shape[0] < 2:
            raise ModelError(path, "calibration map is malformed")
        if not all(
            np.isfinite(a).all() for a in (model.idf, model.weights, model.meta_coef, model.calibration_y)
        ):
            raise ModelError(path, "non-finite weights")
        return model


def _vector(array: npt.NDArray[Any], length: int) -> F64:
    if array.shape != (length,):
        raise ValueError(f"expected a vector of {length}, got shape {array.shape}")
    return array.astype(np.float64)
