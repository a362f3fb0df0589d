"""The detector and its thread state: scores, reasons and evidence (the model's own attributions, step 5)
for a post's own words."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.inflammatory.attribution import INSULT, VIOLENCE
from classifiers.inflammatory.explain import Phrase, phrases
from classifiers.inflammatory.model import DEFAULT_MODEL_PATH, InflammatoryModel
from classifiers.inflammatory.normalise import _tables
from classifiers.result import Category, Detection, DetectorFailure, Evidence
from classifiers.shingles import lookup_runs, shingles_and_boilerplate
from classifiers.suite import DEFAULT_THRESHOLDS
from classifiers.text import forget_oldest, word_key_spans
from classifiers.thread import Post

DEFAULT_THRESHOLD = DEFAULT_THRESHOLDS["inflammatory"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# The detector
# ------------------------------------------------------------------------------------------------------------

_QUOTE_SHINGLE = 6  # words in a row that count as repeating an earlier post
_SHOWN = 3  # words and phrases a reason names


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the given spans replaced by spaces (line breaks kept), so positions stay put."""
    if not spans:
        return text
    parts = []
    pos = 0
    for start, end in _merge(spans):
        if start < pos:
            start = pos
        if start >= end:
            continue
        parts.append(text[pos:start])
        parts.append("\n".join(" " * len(line) for line in text[start:end].split("\n")))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class InflammatoryDetector:
    """Scores how inflammatory a post's own words are; implements `classifiers.suite.Detector`.

    `threshold` only decides when reasons and evidence are worth computing (at `explain_from` x threshold and
    above); whether a post is flagged is the suite's decision.
    """

    category: Category = "inflammatory"

    def __init__(
        self, model: InflammatoryModel, *, threshold: float = DEFAULT_THRESHOLD, explain_from: float = 0.5
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.model = model
        self.version = model.version
        self.threshold = threshold
        self.explain_from = explain_from
        self.load_seconds = 0.0

    @classmethod
    def load(cls, path: Path | None = None, **kwargs: Any) -> InflammatoryDetector:
        """The detector with the model at `path` (default: the shipped model). Raises ModelError."""
        started = time.perf_counter()
        model = InflammatoryModel.load(path or DEFAULT_MODEL_PATH)
        _tables()  # build the character tables now rather than on the first post
        detector = cls(model, **kwargs)
        detector.load_seconds = time.perf_counter() - started
        return detector

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold: reasons are computed from `explain_from` x threshold."""
        self.threshold = value

    def begin_thread(self, thread_id: str, title: str) -> InflammatoryThreadState:
        """A fresh state for a thread."""
        return InflammatoryThreadState(self)

    def score_texts(self, texts: Sequence[str], batch_size: int = 512) -> F64:
        """Calibrated probabilities for a batch of texts (for evaluation and benchmarks)."""
        parts = [self.model.decision(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return self.model.calibrate(np.concatenate(parts) if parts else np.zeros(0))

    def explain(self, text: str, *, limit: int = 5) -> list[Evidence]:
        """The words and phrases that raised the score most, as spans of `text`, strongest first."""
        return [_evidence(p) for p in self.explain_phrases([text], limit=limit)[0]]

    def explain_phrases(self, texts: Sequence[str], *, limit: int = 5) -> list[list[Phrase]]:
        """Per text, the words and phrases that raised its score most, strongest first, from the model's
        own attributions (one pass over the batch)."""
        return [
            phrases(text, found, limit=limit)
            for text, found in zip(texts, self.model.attributions(texts), strict=True)
        ]

    def review_text(self, text: str) -> Detection:
        """Judge one text (a post's own words) on its own."""
        score = float(self.score_texts([text])[0]) if text.strip() else 0.0
        return self._judge(text, score)

    def review_batch(
        self, items: Sequence[tuple[InflammatoryThreadState, Post]]
    ) -> list[Detection | DetectorFailure]:
        """Judge posts of one or several threads, in order, scoring their texts in one vectorised batch.

        A post that cannot be judged gets a `DetectorFailure`; the others are judged as usual (if the batch
        fails, each text is scored again on its own, which gives the same scores).
        """
        owns: list[tuple[str, int] | DetectorFailure] = []
        for state, post in items:
            try:
                owns.append(state.own_text(post))
            except Exception as exc:
                owns.append(DetectorFailure.of("inflammatory", exc))
        texts = [own[0] for own in owns if not isinstance(own, DetectorFailure)]
        judged = iter(self._explain_isolated(texts, self._scores_isolated(texts)))
        found: list[Detection | DetectorFailure] = []
        for own in owns:
            if isinstance(own, DetectorFailure):
                found.append(own)
                continue
            text, ignored = own
            scored = next(judged)
            if isinstance(scored, DetectorFailure):
                found.append(scored)
                continue
            try:
                found.append(_with_ignored(self._judge(text, *scored), ignored))
            except Exception as exc:
                found.append(DetectorFailure.of("inflammatory", exc))
        return found

    def _explain_isolated(
        self, texts: Sequence[str], scores: Sequence[float | DetectorFailure]
    ) -> list[tuple[float, list[Phrase] | None] | DetectorFailure]:
        """Per text, its score (0 for a blank text) and, if it may be flagged, its phrases, explained in one
        batch; if that fails, text by text, so only the failing ones fail."""
        found: list[tuple[float, list[Phrase] | None] | DetectorFailure] = [
            score if isinstance(score, DetectorFailure) else (score if text.strip() else 0.0, None)
            for text, score in zip(texts, scores, strict=True)
        ]
        wanted = {
            i: f[0]
            for i, f in enumerate(found)
            if not isinstance(f, DetectorFailure) and self._explains(f[0])
        }
        try:
            for (i, score), phrases_found in zip(
                wanted.items(), self.explain_phrases([texts[i] for i in wanted]), strict=True
            ):
                found[i] = (score, phrases_found)
        except Exception:
            for i, score in wanted.items():
                try:
                    found[i] = (score, self.explain_phrases([texts[i]])[0])
                except Exception as exc:
                    found[i] = DetectorFailure.of("inflammatory", exc)
        return found

    def _scores_isolated(self, texts: Sequence[str]) -> list[float | DetectorFailure]:
        """Scores of `texts` in one batch; if that fails, text by text, so only the failing ones fail."""
        if not texts:
            return []
        try:
            return [float(score) for score in self.score_texts(texts)]
        except Exception:
            pass
        scores: list[float | DetectorFailure] = []
        for text in texts:
            try:
                scores.append(float(self.score_texts([text])[0]))
            except Exception as exc:
                scores.append(DetectorFailure.of("inflammatory", exc))
        return scores

    def _explains(self, score: float) -> bool:
        """Whether a text scored `score` may be flagged, so is worth reasons and evidence."""
        return score >= self.explain_from * self.threshold

    def _judge(self, text: str, score: float, found: list[Phrase] | None = None) -> Detection:
        """The detection for `text` scored `score`: reasons and evidence when it may be flagged (from
        `found` when already explained)."""
        details: dict[str, object] = {"model_version": self.version}
        if not self._explains(score):
            return Detection("inflammatory", score, (), (), details)
        if found is None:
            found = self.explain_phrases([text])[0]
        evidence = tuple(_evidence(p) for p in found)
        return Detection("inflammatory", score, (_reason(text, found, score),), evidence, details)


def _evidence(phrase: Phrase) -> Evidence:
    return Evidence(
        phrase.start, phrase.end, note=f"raises the inflammatory score (weight {phrase.log_odds:.2f})"
    )


def _reason(text: str, found: Sequence[Phrase], score: float) -> str:
    """The reason for a detection. When the evidence holds words the model counts as insults: those, then
    its words of violence, each by weight; otherwise the strongest words. Each is named once (a longer
    phrase in place of a shorter one it holds), up to three."""
    if not found:
        return f"inflammatory tone (score {score:.2f})."
    insults = [p for p in found if p.lexicon == INSULT]
    named = insults + [p for p in found if p.lexicon == VIOLENCE] if insults else list(found)
    shown: list[str] = []
    for phrase in named:
        words = _SPACES_ANY.sub(" ", text[phrase.start : phrase.end])
        key = words.casefold()
        if any(key in s.casefold() for s in shown):
            continue
        held = [k for k, s in enumerate(shown) if s.casefold() in key]
        if held:
            shown[held[0]] = words
            shown = [s for k, s in enumerate(shown) if k not in held[1:]]
        elif len(shown) < _SHOWN:
            shown.append(words)
    words = ", ".join(f"'{s}'" for s in shown)
    return f"insulting language: {words} (score {score:.2f})."


def _with_ignored(detection: Detection, ignored: int) -> Detection:
    """Note in the details how many characters pasted from earlier posts were not judged."""
    if not ignored:
        return detection
    details = {**detection.details, "repeated_chars_ignored": ignored}
    return Detection(detection.category, detection.score, detection.reasons, detection.evidence, details)


_SPACES_ANY = re.compile(r"\s+")


class InflammatoryThreadState:
    """Judges each post of a thread on its own words.

    Marked quotes (`post.quotes`) are never read. Where quotes are pasted inline, passages that repeat an
    earlier
    post of the thread word for word (six words or more) are blanked first, so quoting a troll to object to it
    is not the quoter's insult. Memory is bounded by `max_shingles`.
    """

    def __init__(self, detector: InflammatoryDetector, max_shingles: int = 50_000) -> None:
        self._detector = detector
        self._seen: dict[int, int] = {}  # shingle hash -> the post (counted from 1) it first stood in
        self._posts = 0
        self._max = max_shingles

    def review(self, post: Post) -> Detection:
        """Judge `post`, then remember its words so later posts that paste them are not blamed for them."""
        own, ignored = self.own_text(post)
        return _with_ignored(self._detector.review_text(own), ignored)

    def own_text(self, post: Post) -> tuple[str, int]:
        """The post's text with boilerplate and passages repeating earlier posts blanked, and how many
        characters were blanked as repeats; the post's words are then remembered for later posts."""
        text = post.text
        found, boilerplate = shingles_and_boilerplate(text, _QUOTE_SHINGLE)
        self._posts += 1
        # One pass (in C when the extension is built) looks every shingle up and stores the new ones: a
        # shingle this post already holds earlier is not a repeat of an earlier post.
        runs = lookup_runs(self._seen, found.hashes, 0, len(found.hashes), self._posts, True)[0]
        forget_oldest(self._seen, self._max)
        repeated: list[tuple[int, int]] = []
        if runs and found.aligned:
            starts, ends = found.starts, found.ends
            repeated = _repeated_spans(lambda first, last: (int(starts[first]), int(ends[last])), runs)
        elif runs:
            spans = word_key_spans(text)
            if spans is not None and len(spans) == found.words:
                repeated = _repeated_spans(lambda first, last: (spans[first][0], spans[last][1]), runs)
        own = _blank(text, boilerplate + repeated)
        return own, sum(e - s for s, e in repeated)


def _repeated_spans(
    bounds: Callable[[int, int], tuple[int, int]], runs: list[tuple[int, int, int]]
) -> list[tuple[int, int]]:
    """The character spans of the runs of words that repeat earlier posts, merged: `runs` are the runs
    (first, last + 1, post) of repeated shingles, in order; `bounds(first, last)` is the span from the start
    of word `first` to the end of word `last`. Words never touch (a separator lies between two), so two
    shingles' spans overlap exactly when they share a word: when their first words are less than a shingle
    apart."""
    merged: list[list[int]] = []
    for first, end, _ in runs:
        if merged and first - merged[-1][1] < _QUOTE_SHINGLE:
            merged[-1][1] = end - 1
        else:
            merged.append([first, end - 1])
    return [bounds(first, last + _QUOTE_SHINGLE - 1) for first, last in merged]


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
