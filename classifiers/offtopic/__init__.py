"""The off-topic detector: each post is judged against what its thread is about.

A thread's context is its title and opening post (the *anchor*), the whole thread (a slowly decaying term
profile and LSA centroid), the recent discussion (a fast-decaying LSA centroid) and the last few posts
themselves. A reply that quotes an earlier post, marked up or inline, is also judged against what it
answers. Similarity is measured two ways:

- meaning: TF-IDF vectors projected by LSA (a truncated SVD fitted on a background corpus and shipped
  as arrays in `models/offtopic.npz`), compared by cosine;
- distinctive words: TF-IDF cosines, where a word the background corpus never saw (a new product, a new
  politician) counts as its rarest words do.

A small logistic combiner, fitted on labelled threads and shipped in the same file, turns these
measurements into a score in [0, 1]. There is one combiner per thread *style*: "discussion" (debate
forums: drifting from the thread's subject), "question" (Q&A boards: not answering the question; it
also weighs how chatty a reply reads) and "everyday" (short everyday threads, where the background's
vocabulary fails: it also weighs meaning measured with static word vectors, `offtopic.semantic`). Posts
with only a few words of their own are never flagged on their own account: a short reply that quotes an
earlier post takes that post's score, any other short post has its score capped below the flag
threshold; in the everyday style, a post or thread with too few words the vectors know to judge is marked
`confidence: low` and not flagged.

Catch-all threads ("Miscellaneous news", "General discussion") are exempt, held to a higher threshold, or
(the default) judged against the recent discussion only; there a post that brings many names the recent
discussion never used, and shares little else with it, is taken as a change of subject.

Memory per thread is bounded: the anchor, one term profile pruned to a fixed size, two LSA centroids, the
last `window` posts' vectors and shingles, and the raw text of the opening post and of the last `window`
posts (only to spell terms in reasons as the thread spells them). See `models/MODEL_CARD.md`.

Layout: `words` (how posts are read), `model` (the shipped arrays and the background fit), `memory` (what a
thread remembers), `semantic` (word vectors and the sentence encoder, everyday style), `state` (one thread:
measure, score, remember), `policy` (what a thread's state reads of its detector), `explain` (reasons and
evidence), `ahead` (the texts a batch of posts will have encoded, to encode them together), `detector` (the
policy and the entry point).
"""

from classifiers.offtopic.detector import OffTopicDetector
from classifiers.offtopic.model import (
    AUTO_LONG_WORDS,
    AUTO_MAX_WORDS,
    AUTO_OPENING_WORDS,
    AUTO_THREAD_WORDS,
    CATCH_ALL_MODES,
    DEFAULT_CATCH_ALL_PATTERNS,
    DEFAULT_MODEL_PATH,
    DETECTOR_STYLES,
    FEATURE_NAMES,
    MODEL_KIND,
    STYLES,
    OffTopicModel,
)
from classifiers.offtopic.state import OffTopicThreadState
from classifiers.offtopic.words import content_terms, post_words
from classifiers.persistence import ModelError

__all__ = [
    "AUTO_LONG_WORDS",
    "AUTO_MAX_WORDS",
    "AUTO_OPENING_WORDS",
    "AUTO_THREAD_WORDS",
    "CATCH_ALL_MODES",
    "DEFAULT_CATCH_ALL_PATTERNS",
    "DEFAULT_MODEL_PATH",
    "DETECTOR_STYLES",
    "FEATURE_NAMES",
    "MODEL_KIND",
    "STYLES",
    "ModelError",
    "OffTopicDetector",
    "OffTopicModel",
    "OffTopicThreadState",
    "content_terms",
    "post_words",
]
