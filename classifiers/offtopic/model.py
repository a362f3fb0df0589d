"""The off-topic model: background vocabulary, IDF, LSA directions and one combiner per style, in one
safe file (fitted by `classifiers.training.offtopic`)."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from classifiers.offtopic.semantic import (
    SEMANTIC_FEATURE_NAMES,
)
from classifiers.persistence import ModelError, load_model, save_model

MODEL_KIND: Final = "modassist.offtopic"
FORMAT_VERSION: Final = 2
DEFAULT_MODEL_PATH: Final = Path(__file__).resolve().parent.parent / "models" / "offtopic.npz"
DEFAULT_CATCH_ALL_PATTERNS: Final = (
    r"\bmisc(ellaneous)?\b",
    r"\bgeneral\b",
    r"\boff[- ]?topic\b",
    r"\brandom\b",
)
CATCH_ALL_MODES: Final = ("exempt", "recent", "threshold")
STYLES: Final = ("discussion", "question", "everyday")  # one combiner each, in the model's rows
# "auto" picks per thread (see `OffTopicThreadState._settle_style`): everyday for a thread of short posts,
# discussion for one of long posts. A thread that starts short and turns into long posts moves to
# discussion before the post that shows it is judged; one that starts long stays discussion.
DETECTOR_STYLES: Final = (*STYLES, "auto")
AUTO_OPENING_WORDS: Final = 80  # an opening post shorter than this starts an everyday thread...
AUTO_LONG_WORDS: Final = 40  # ...which becomes a discussion when its posts' median length passes this...
AUTO_MAX_WORDS: Final = 120  # ...or one post is longer than this...
AUTO_THREAD_WORDS: Final = 200  # ...or its first posts add up to more than this (not in a thread that asks)
AUTO_EARLY_POSTS: Final = 12  # the running total is kept over this many posts (the opening post included)
# 120 and 200 (150 and 400 before issue 14's speed stop) end the everyday reading of 4forums debates sooner:
# the sentence encoder reads 164 texts of the speed benchmark instead of 204 (7,800 tokens instead of
# 10,400); on the dev splits, with the blend below, 4forums auto 0.9902 -> 0.9905, the short threads
# unchanged (no thread changes reading), Qatar Living 0.7232 -> 0.7112 (15 threads change). 100 words for
# one post changed three short threads (recall 0.796 -> 0.774).
# Under "auto", an everyday thread that asks (a "?" in its title or opening post) is judged by the everyday
# combiner blended with this share of the question combiner (chosen on the dev splits: Qatar Living 0.685
# -> 0.723, short threads 0.9857 -> 0.9854, precision 0.813 -> 0.831, recall 0.796 either way; 0.1 and
# more cost the short threads recall: 0.763 at 0.1, 0.656 at 0.3).
QUESTION_BLEND: Final = 0.05


def becomes_discussion(lengths: Sequence[int], asks: bool = False) -> bool:
    """Under "auto": whether an everyday thread whose posts so far (the opening post first, the one being
    judged now last) have `lengths` words becomes a discussion (for good) before that post is judged.
    The running total catches a debate whose first replies mix long and short posts (its median stays
    low); it is not applied to a thread that `asks` (a "?" in its title or opening post): the long answers
    of a Q&A thread are better judged as everyday (Qatar Living dev: 0.661 against 0.685 with a total of
    200 words applied to every thread); nor past the first `AUTO_EARLY_POSTS` posts (a debate shows its
    length early; the two Qatar Living dev threads that reached 400 words without a "?" did so later)."""
    return (
        statistics.median(lengths) > AUTO_LONG_WORDS
        or lengths[-1] > AUTO_MAX_WORDS
        or (not asks and len(lengths) <= AUTO_EARLY_POSTS and sum(lengths) > AUTO_THREAD_WORDS)
    )


def asks(title: str, opening: str) -> bool:
    """Whether a thread's title or opening post asks a question (for `becomes_discussion`)."""
    return "?" in title or "?" in opening


FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# The measurements the combiner weighs, in order. `anchor` = title + opening post; `context` = the
# recent discussion (fast decay); `thread` = the whole thread (slow decay); `recent` = the closest of
# the last `window` posts (LSA only: its word-level twin did not help and cost a fifth of the time);
# `answer` = the post(s) this one quotes. The `sem_*`/`soft_*` measurements come from the static word
# vectors (`classifiers.offtopic.semantic`).
FEATURE_NAMES: Final = (
    "lsa_anchor",
    "lsa_context",
    "lsa_thread",
    "lsa_recent",
    "lsa_answer",
    "tfidf_anchor",
    "tfidf_thread",
    "quoted_share",
    "log_terms",
    "log_position",
    "question_marks",
    "second_person",
    "first_person",
    "chat_cues",
    "exclamations",
    "links",
    "unknown_share",
    "mean_idf",
    "lsa_anchor_x_terms",
    "tfidf_thread_x_terms",
    *SEMANTIC_FEATURE_NAMES,
)
_N_FEATURES: Final = len(FEATURE_NAMES)
_N_BASE: Final = _N_FEATURES - len(SEMANTIC_FEATURE_NAMES)  # the measurements before the word vectors


# ---------------------------------------------------------------------------------------------------
# The model file


@dataclass(frozen=True, eq=False)
class OffTopicModel:
    """The background vocabulary, its IDF and LSA projection, and one combiner per thread style."""

    terms: tuple[str, ...]
    idf: FloatArray
    components: FloatArray  # (n_terms, n_components): row t is term t's LSA direction
    coef: Float64Array  # (len(STYLES), len(FEATURE_NAMES))
    intercept: Float64Array  # (len(STYLES),)
    meta: dict[str, Any] = field(default_factory=dict)
    index: dict[str, int] = field(init=False, repr=False)
    idf_oov: Float64Array = field(init=False, repr=False)  # idf, then the unknown-word idf (index -1)
    components_oov: FloatArray = field(init=False, repr=False)  # components, then a zero row (index -1)
    oov_idf: float = field(init=False)

    def __post_init__(self) -> None:
        if self.idf.shape != (len(self.terms),) or self.components.shape[0] != len(self.terms):
            raise ValueError("terms, idf and components disagree in length")
        if self.coef.shape != (len(STYLES), _N_FEATURES) or self.intercept.shape != (len(STYLES),):
            raise ValueError(
                f"the combiners need {len(STYLES)} x {_N_FEATURES} weights, got {self.coef.shape}"
            )
        object.__setattr__(self, "index", {t: i for i, t in enumerate(self.terms)})
        # A word the background never saw is as distinctive as its rarest words.
        object.__setattr__(self, "oov_idf", float(self.idf.max()) if len(self.idf) else 1.0)
        object.__setattr__(self, "idf_oov", np.append(self.idf, np.float32(self.oov_idf)).astype(np.float64))
        n_terms, n_components = self.components.shape
        with_oov = np.zeros((n_terms + 1, n_components), dtype=np.float32)
        with_oov[:-1] = self.components  # one conversion of the stored float16 rows, no copies between
        object.__setattr__(self, "components_oov", with_oov)
        if self.components.dtype in (np.float16, np.float32):  # the same values: one copy in memory (8.7 MB)
            object.__setattr__(self, "components", with_oov[:-1])

    @property
    def digest(self) -> str:
        """A short fingerprint of the weights, part of the detector's version string."""
        h = hashlib.sha256()
        for array in (self.idf, self.components, self.coef, self.intercept):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()[:10]

    def with_combiners(
        self,
        coef: npt.ArrayLike,
        intercept: npt.ArrayLike,
        **meta: Any,
    ) -> OffTopicModel:
        """The same background with other combiner weights."""
        return OffTopicModel(
            self.terms,
            self.idf,
            self.components,
            np.asarray(coef, dtype=np.float64).reshape(len(STYLES), _N_FEATURES),
            np.asarray(intercept, dtype=np.float64).reshape(len(STYLES)),
            {**self.meta, **meta},
        )

    def save(self, path: Path | str) -> None:
        """Write the model as a safe `.npz` (no pickle) with JSON metadata and digests."""

        def blob(terms: Sequence[str]) -> npt.NDArray[np.uint8]:
            return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)

        save_model(
            path,
            MODEL_KIND,
            {
                "terms": blob(self.terms),
                "idf": self.idf.astype(np.float32),
                "components": self.components.astype(np.float16),
                "coef": self.coef.astype(np.float64),
                "intercept": self.intercept.astype(np.float64),
            },
            {
                **self.meta,
                "format_version": FORMAT_VERSION,
                "features": list(FEATURE_NAMES),
                "styles": list(STYLES),
            },
        )

    @classmethod
    def load(cls, path: Path | str | None = None) -> OffTopicModel:
        """Read a model file; raises ModelError when it is missing, damaged, tampered with or foreign."""
        path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        arrays, meta = load_model(path, MODEL_KIND)
        if (
            meta.get("format_version") != FORMAT_VERSION
            or meta.get("features") != list(FEATURE_NAMES)
            or meta.get("styles") != list(STYLES)
        ):
            raise ModelError(path, f"format {meta.get('format_version')!r} does not match this modassist")

        def terms(name: str) -> tuple[str, ...]:
            text = bytes(arrays[name]).decode("utf-8")
            return tuple(text.split("\n")) if text else ()

        try:
            return cls(
                terms=terms("terms"),
                idf=arrays["idf"].astype(np.float32),
                components=arrays["components"],  # float16 as stored: widened once, on construction
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"].astype(np.float64),
                meta=meta,
            )
        except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelError(path, f"incomplete off-topic model ({exc})") from exc
