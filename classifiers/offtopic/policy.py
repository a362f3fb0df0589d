"""What a thread's state reads of its detector: the model and the policy (`Policy`).

`detector.OffTopicDetector` implements it and makes the thread states (`state.OffTopicThreadState`); the
states read their detector through this protocol, so `state` never imports `detector` in return. The
states only read these members: a policy changed at run time (`use_threshold`) is followed at once.
"""

from __future__ import annotations

from typing import Protocol

from classifiers.offtopic.model import Float64Array, OffTopicModel
from classifiers.offtopic.semantic import SemanticSpace


class Policy(Protocol):
    """The off-topic detector as its thread states see it (see `OffTopicDetector` for each setting)."""

    model: OffTopicModel
    style: str  # "discussion", "everyday", "question" or "auto" (picked per thread at its opening post)
    catch_all_mode: str
    window: int  # recent posts remembered
    decay: float  # of the recent discussion (and of a catch-all thread judged on it)
    thread_decay: float  # of the whole thread
    profile_terms: int
    min_terms: int  # fewer own words: a short post
    short_cap: float
    explain_from: float  # scores from which reasons and evidence are built
    subject_names: float
    max_text_chars: int
    semantic_space: SemanticSpace | None  # word vectors and the sentence encoder, where they are weighed

    def is_catch_all(self, thread_id: str, title: str) -> bool:
        """Whether the thread is a catch-all one."""
        ...

    def combine(self, features: Float64Array, style: str | None = None) -> float:
        """The combiner of `style`: the measurements' weighted sum through a logistic."""
        ...

    def rescale_for_catch_all(self, score: float) -> float:
        """A score mapped so that the catch-all threshold meets the flag threshold."""
        ...
