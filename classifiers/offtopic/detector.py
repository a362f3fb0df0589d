"""The off-topic detector: a model, a policy (style, catch-all handling, thresholds) and thread states."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.offtopic.ahead import SentencePlan
from classifiers.offtopic.model import (
    _N_BASE,
    CATCH_ALL_MODES,
    DEFAULT_CATCH_ALL_PATTERNS,
    DETECTOR_STYLES,
    FORMAT_VERSION,
    STYLES,
    Float64Array,
    OffTopicModel,
)
from classifiers.offtopic.semantic import (
    SemanticSpace,
    default_sentence_encoder,
    default_word_vectors,
)
from classifiers.offtopic.state import OffTopicThreadState
from classifiers.result import Category, Detection, DetectorFailure
from classifiers.sentence import SentenceEncoder
from classifiers.suite import DEFAULT_THRESHOLDS
from classifiers.thread import Post
from classifiers.wordvectors import WordVectors

# ---------------------------------------------------------------------------------------------------
# The detector


class OffTopicDetector:
    """Flags posts that leave their thread's subject; implements `classifiers.suite.Detector`.

    `style` picks the combiner: "discussion" (debate forums, the default), "everyday" (short everyday
    threads: local forums, Discord channels; it weighs word-vector measurements) or "question" (Q&A boards,
    where a reply should answer the opening question). Catch-all threads (title matching one of
    `catch_all_patterns`, or id in `catch_all_thread_ids`) are handled by `catch_all_mode`:
    "exempt" (always 0), "recent" (judged only against the recent discussion, not the opening post) or
    "threshold" (scores rescaled so that a raw `catch_all_threshold` lands on `flag_threshold`: a post
    must reach `catch_all_threshold` to be flagged there).
    """

    category: Category = "off_topic"

    def __init__(
        self,
        model: OffTopicModel,
        catch_all_patterns: Sequence[str] = DEFAULT_CATCH_ALL_PATTERNS,
        catch_all_mode: str = "recent",
        catch_all_threshold: float = 0.85,
        *,
        catch_all_thread_ids: Collection[str] = (),
        style: str = "discussion",
        flag_threshold: float = DEFAULT_THRESHOLDS["off_topic"],
        window: int = 8,
        decay: float = 0.8,
        thread_decay: float = 0.97,
        min_terms: int = 5,
        short_cap: float = 0.5,
        explain_from: float | None = None,
        profile_terms: int = 400,
        subject_names: float = 6.0,
        max_text_chars: int = 20000,
        word_vectors: WordVectors | None = None,
        sentence: SentenceEncoder | None = None,
        measure_word_vectors: bool | None = None,
    ) -> None:
        _check_policy(
            catch_all_mode,
            style,
            {
                "catch_all_threshold": catch_all_threshold,
                "flag_threshold": flag_threshold,
                "decay": decay,
                "thread_decay": thread_decay,
            },
            window=window,
            min_terms=min_terms,
            short_cap=short_cap,
        )
        self.model = model
        self.catch_all_patterns = tuple(catch_all_patterns)
        self._catch_all_res = [re.compile(p, re.IGNORECASE) for p in self.catch_all_patterns]
        self.catch_all_mode = catch_all_mode
        self.catch_all_threshold = catch_all_threshold
        self.catch_all_thread_ids = frozenset(catch_all_thread_ids)
        self.style = style
        self.flag_threshold = flag_threshold
        self.window = window
        self.decay = decay
        self.thread_decay = thread_decay
        self.min_terms = min_terms
        self.short_cap = short_cap
        # Reasons and evidence cost more than scoring: built only for scores that can raise a flag, down
        # to 0.5 so that a threshold lowered at run time (the suite's, by a moderator) still gets reasons.
        self.explain_from = min(flag_threshold, 0.5) if explain_from is None else explain_from
        self.profile_terms = profile_terms
        self.subject_names = subject_names
        self.max_text_chars = max_text_chars
        self._combiners = {s: (model.coef[i], float(model.intercept[i])) for i, s in enumerate(STYLES)}
        self._set_up_semantics(word_vectors, sentence, measure_word_vectors)
        self.version = f"offtopic-{FORMAT_VERSION}.{style}+{model.digest}"

    def _set_up_semantics(
        self, word_vectors: WordVectors | None, sentence: SentenceEncoder | None, measure: bool | None
    ) -> None:
        """The word-vector measurements are taken where the combiner weighs them (or when asked: training);
        only then are the word vectors needed (default: the shipped table, loaded once per process at the
        first text that needs it) and the sentence encoder (likewise)."""
        weights = self._combiners["everyday" if self.style == "auto" else self.style][0]
        self.uses_word_vectors = bool(np.any(weights[_N_BASE:] != 0.0)) if measure is None else measure
        self.semantic_space: SemanticSpace | None = None
        if self.uses_word_vectors:
            self.semantic_space = SemanticSpace(
                word_vectors if word_vectors is not None else default_word_vectors,
                sentence=sentence if sentence is not None else default_sentence_encoder,
            )

    @classmethod
    def load(
        cls, path: Path | None = None, *, word_vectors: WordVectors | None = None, **policy: Any
    ) -> OffTopicDetector:
        """The detector with the model at `path` (default: the shipped model), the word vectors (default:
        the shipped table, loaded only for a style that weighs them) and the given policy."""
        return cls(OffTopicModel.load(path), word_vectors=word_vectors, **policy)

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold (explanations and the catch-all rescaling depend on it)."""
        if 0.0 < value < 1.0:
            self.flag_threshold = value
            self.explain_from = min(self.explain_from, value)

    def begin_thread(self, thread_id: str, title: str) -> OffTopicThreadState:
        """A fresh state for a thread."""
        return OffTopicThreadState(self, thread_id, title)

    def review_batch(
        self, items: Sequence[tuple[OffTopicThreadState, Post]]
    ) -> list[Detection | DetectorFailure]:
        """Judge posts of one or several threads, each by its state's `review`, in order, once the texts the
        sentence encoder will be asked for are encoded together (faster than one by one; the vectors agree
        with one-by-one encoding within float32 rounding, 3e-7). A post that cannot be judged gets a
        `DetectorFailure`; the others are judged as usual."""
        # A failure here (a text the plan cannot read, an encoder that will not load) is met again post by
        # post below, where it is reported for the post it concerns.
        with contextlib.suppress(Exception):
            self._encode_ahead(items)
        found: list[Detection | DetectorFailure] = []
        for state, post in items:
            try:
                found.append(state.review(post))
            except Exception as exc:
                found.append(DetectorFailure.of(self.category, exc))
        return found

    def _encode_ahead(self, items: Sequence[tuple[OffTopicThreadState, Post]]) -> None:
        """Encode together the texts the states will ask the sentence encoder for (see `ahead`)."""
        if self.semantic_space is None:
            return
        plans: dict[int, tuple[SentencePlan, list[Post]]] = {}
        for state, post in items:
            if id(state) not in plans:
                plans[id(state)] = (state.sentence_plan(), [])
            plans[id(state)][1].append(post)
        texts = [text for plan, posts in plans.values() for text in plan.texts(posts)]
        if texts and (encoder := self.semantic_space.sentence) is not None:
            encoder.encode_many(texts)

    def is_catch_all(self, thread_id: str, title: str) -> bool:
        """Whether the thread is a catch-all one (by id or by title pattern)."""
        return thread_id in self.catch_all_thread_ids or any(p.search(title) for p in self._catch_all_res)

    def combine(self, features: Float64Array, style: str | None = None) -> float:
        """The combiner of `style` (default: this detector's; "auto" means discussion): the measurements'
        weighted sum through a logistic."""
        style = style or self.style
        coef, intercept = self._combiners["discussion" if style == "auto" else style]
        z = float(features @ coef) + intercept
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def rescale_for_catch_all(self, score: float) -> float:
        """Map a score so that `catch_all_threshold` in a catch-all thread meets `flag_threshold`."""
        t, f = self.catch_all_threshold, self.flag_threshold
        if score <= t:
            return score * f / t
        return f + (score - t) * (1.0 - f) / (1.0 - t)


def _check_policy(
    catch_all_mode: str,
    style: str,
    open_unit: dict[str, float],
    *,
    window: int,
    min_terms: int,
    short_cap: float,
) -> None:
    """Refuse a policy that cannot work, naming the setting (values in `open_unit` must lie in (0, 1))."""
    if catch_all_mode not in CATCH_ALL_MODES:
        raise ValueError(
            f"catch_all_mode must be one of {', '.join(CATCH_ALL_MODES)}, got {catch_all_mode!r}"
        )
    if style not in DETECTOR_STYLES:
        raise ValueError(f"style must be one of {', '.join(DETECTOR_STYLES)}, got {style!r}")
    for name, value in open_unit.items():
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be within (0, 1), got {value}")
    if window < 1 or min_terms < 0 or not 0.0 <= short_cap <= 1.0:
        raise ValueError("window must be >= 1, min_terms >= 0 and short_cap within [0, 1]")
