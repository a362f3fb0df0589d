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
vocabulary fails: it also weighs meaning measured with static word vectors, `offtopic_semantic`). Posts
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
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import statistics
from collections import Counter, deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from classifiers.offtopic_semantic import (
    SEMANTIC_FEATURE_NAMES,
    SemanticPost,
    SemanticSpace,
    SemanticThread,
    default_sentence_encoder,
    default_word_vectors,
)
from classifiers.persistence import ModelError, load_model, save_model
from classifiers.result import Category, Detection, Evidence
from classifiers.sentence import SentenceEncoder
from classifiers.stopwords import ENGLISH_STOP_WORDS
from classifiers.text import WORD_RE, normalize, own_text
from classifiers.thread import Post
from classifiers.wordvectors import WordVectors

__all__ = [
    "CATCH_ALL_MODES",
    "DEFAULT_CATCH_ALL_PATTERNS",
    "DEFAULT_MODEL_PATH",
    "FEATURE_NAMES",
    "MODEL_KIND",
    "STYLES",
    "ModelError",
    "OffTopicDetector",
    "OffTopicModel",
    "OffTopicThreadState",
    "content_terms",
    "fit_background",
    "post_words",
]

MODEL_KIND: Final = "modassist.offtopic"
FORMAT_VERSION: Final = 2
DEFAULT_MODEL_PATH: Final = Path(__file__).resolve().parent / "models" / "offtopic.npz"
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
AUTO_MAX_WORDS: Final = 150  # ...or one post is longer than this

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# The measurements the combiner weighs, in order. `anchor` = title + opening post; `context` = the
# recent discussion (fast decay); `thread` = the whole thread (slow decay); `recent` = the closest of
# the last `window` posts (LSA only: its word-level twin did not help and cost a fifth of the time);
# `answer` = the post(s) this one quotes. The `sem_*`/`soft_*` measurements come from the static word
# vectors (`classifiers.offtopic_semantic`).
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
# Words

_STOP_WORDS: Final = frozenset(ENGLISH_STOP_WORDS) | {
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "couldn't", "won't",
    "wouldn't", "shouldn't", "haven't", "hasn't", "hadn't", "i'm", "i've", "i'd", "i'll", "you're",
    "you've", "you'd", "you'll", "we're", "we've", "they're", "they've", "he'd", "she'd", "let",
    "just", "like", "really", "think", "know", "say", "said", "says", "going", "got", "get", "gets",
    "make", "does", "did", "doing", "yes", "yeah", "ok", "okay", "lol", "oh", "im", "dont", "thats",
    "way", "thing", "things", "want", "good", "quot", "amp", "http", "https", "www", "com",
}  # fmt: skip
# Forum chrome (login nags, attachment names, "X said:", "Top") is removed by `own_text`, line by line.
# These patterns, each starting with literal text the regex engine can skip to, decide cheaply whether
# a post can hold any, so most posts skip that pass.
_MAYBE_BOILERPLATE: Final = tuple(
    re.compile(p, re.MULTILINE)  # matched against lower-cased text: IGNORECASE would defeat the skip
    for p in (
        r"register\s+to\s+view",
        r"view\s+attachment",
        r"click\s+to\s+expand",
        r"said:?[^\S\n]*$",
        r"top[^\S\n]*$",
        r"\.(?:jpe?g|png|gif|webp|bmp|heic|mp4|webm|pdf|zip|txt)[^\S\n]*$",
    )
)
_POSSESSIVE: Final = re.compile(r"'s\b")
_ASCII_WORD: Final = re.compile(r"[a-z0-9_]+(?:['.\-][a-z0-9_]+)*")  # WORD_RE on lower-cased ASCII text
_SECOND_PERSON: Final = frozenset({"you", "your", "yours", "u", "ur", "yourself", "you're", "you've"})
_FIRST_PERSON: Final = frozenset({"i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"})
_CHAT_WORDS: Final = frozenset(
    {"lol", "lmao", "rofl", "haha", "hahaha", "hehe", "hmm", "hmmm", "thanks", "thank", "thx", "welcome",
     "congrats", "congratulations", "bro", "dude", "mate", "cheers"}
)  # fmt: skip
# A name: a capitalised word with a lower-case letter (McAllister, Lovelace) or an acronym (NATO, BBC).
_NAME: Final = re.compile(r"\b[A-Z][A-Za-z]*[a-z][A-Za-z]*\b(?!['’]t)|\b[A-Z][A-Z0-9]+\b")
_NAME_MIN_IDF: Final = 6.0  # below this, a capitalised word is a common word starting a sentence
_CUE_WORDS: Final = _SECOND_PERSON | _FIRST_PERSON | _CHAT_WORDS
_EMOTICON: Final = re.compile(r"[:;]-?[)(pd]|!!|@\w")


def post_words(text: str) -> list[str]:
    """The normalised words of `text` (as `text.words`), boilerplate lines skipped, "'s" dropped."""
    return _prepare(text)[1]


def _prepare(text: str) -> tuple[str, list[str]]:
    """`text` without boilerplate lines, and its normalised words."""
    lowered = text.lower()
    if any(p.search(lowered) for p in _MAYBE_BOILERPLATE):
        text = own_text(text)
        lowered = text.lower()
    # NFKC and case folding change nothing else in ASCII text, so most posts skip `normalize`.
    if text.isascii():
        return text, _ASCII_WORD.findall(_POSSESSIVE.sub("", lowered))
    return text, WORD_RE.findall(_POSSESSIVE.sub("", normalize(text).replace("’", "'")))


def content_terms(words: Iterable[str]) -> list[str]:
    """The words that carry a topic: no stop words, numbers or single letters."""
    return [w for w in words if len(w) > 1 and w not in _STOP_WORDS and not w[0].isdigit()]


def _analyzer(text: str) -> list[str]:
    return content_terms(post_words(text))


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
        zero = np.zeros((1, self.components.shape[1]), dtype=np.float32)
        object.__setattr__(self, "components_oov", np.vstack([self.components.astype(np.float32), zero]))

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
                components=arrays["components"].astype(np.float32),
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"].astype(np.float64),
                meta=meta,
            )
        except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelError(path, f"incomplete off-topic model ({exc})") from exc


def fit_background(
    texts: Iterable[str],
    *,
    n_components: int = 128,
    min_df: int = 2,
    max_df: float = 0.5,
    max_terms: int = 30000,
    random_state: int = 0,
    meta: dict[str, Any] | None = None,
) -> OffTopicModel:
    """Fit the TF-IDF vocabulary and the LSA projection on background `texts`.

    The combiners start as a plain "dissimilar to the title and opening post" rule; fit them on
    labelled threads with `OffTopicModel.with_combiners`.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer=_analyzer,
                    min_df=min_df,
                    max_df=max_df,
                    max_features=max_terms,
                    sublinear_tf=True,
                ),
            ),
            ("lsa", TruncatedSVD(n_components=n_components + 1, n_iter=7, random_state=random_state)),
        ]
    ).fit(list(texts))
    vectorizer: Any = pipeline.named_steps["tfidf"]
    svd: Any = pipeline.named_steps["lsa"]
    coef = np.zeros((len(STYLES), _N_FEATURES))
    coef[:, FEATURE_NAMES.index("lsa_anchor")] = -4.0
    coef[:, FEATURE_NAMES.index("tfidf_thread")] = -4.0
    return OffTopicModel(
        terms=tuple(vectorizer.get_feature_names_out()),
        idf=vectorizer.idf_.astype(np.float32),
        # The first direction is mostly how common a text's words are, not what it is about: dropped.
        components=np.ascontiguousarray(svd.components_[1:].T, dtype=np.float32),
        coef=coef,
        intercept=np.full(len(STYLES), 2.0),
        meta=dict(meta or {}),
    )


# ---------------------------------------------------------------------------------------------------
# Thread state


@dataclass(slots=True)
class _Vector:
    """A post or passage as distinctive-term weights and an LSA direction (unit length or zero)."""

    weights: dict[str, float]
    norm: float
    lsa: FloatArray
    unknown: int = 0  # terms the background never saw

    def cosine(self, other: dict[str, float], other_norm: float) -> float:
        if not self.norm or not other_norm:
            return 0.0
        if len(other) < len(self.weights):
            mine = self.weights
            dot = sum(w * mine.get(t, 0.0) for t, w in other.items())
        else:
            dot = sum(w * other.get(t, 0.0) for t, w in self.weights.items())
        return dot / (self.norm * other_norm)


class _DecayingProfile:
    """Term weights of the posts seen so far, each post's weight decaying by `decay` per later post.

    Values are stored multiplied by `scale`, which grows by 1/decay per post, so decaying costs nothing
    per term; the profile is pruned to its `max_terms` heaviest terms when it grows past twice that.
    """

    __slots__ = ("decay", "max_terms", "scale", "sq", "weights")

    def __init__(self, decay: float, max_terms: int) -> None:
        self.decay = decay
        self.max_terms = max_terms
        self.weights: dict[str, float] = {}
        self.sq = 0.0
        self.scale = 1.0

    def advance(self) -> None:
        """Age everything by one post (before adding the next post's terms)."""
        self.scale /= self.decay
        if self.scale > 1e12:
            factor = 1.0 / self.scale
            self.weights = {t: w * factor for t, w in self.weights.items()}
            self.sq = sum(w * w for w in self.weights.values())
            self.scale = 1.0

    def prune(self) -> None:
        """Keep the heaviest `max_terms` terms once there are twice as many."""
        if len(self.weights) > 2 * self.max_terms:
            keep = sorted(self.weights.items(), key=lambda kv: kv[1], reverse=True)[: self.max_terms]
            self.weights = dict(keep)
            self.sq = sum(w * w for _, w in keep)

    @property
    def norm(self) -> float:
        return math.sqrt(max(self.sq, 0.0))


@dataclass(slots=True, eq=False)
class _Remembered:
    post_id: str
    author: str | None
    vector: _Vector
    score: float


@dataclass(slots=True)
class _Observation:
    """What the state measured about one post, before it is scored."""

    features: Float64Array
    vector: _Vector
    words: list[str]
    shingles: frozenset[int]
    n_terms: int
    answered: list[_Remembered]
    known_share: float  # share of the post's distinctive weight on terms the thread already uses
    new_names: list[str]  # names (capitalised words, acronyms) the thread has not used
    semantic: SemanticPost | None  # None when the combiner does not weigh the word-vector measurements
    anchor_sim: float  # the post's cosine to the anchor in word-vector space


def _unit(v: FloatArray) -> FloatArray:
    n = float(np.sqrt(v @ v))
    return v / n if n > 0 else v


# Inline quotes are found by shingles of topic words (stop words left out): cheaper than shingles of
# all words, and a run of five topic words shared with an earlier post is a quote, not a coincidence.
_SHINGLE: Final = 4  # topic words per shingle
_SHINGLE_ONES: Final = np.ones(_SHINGLE, dtype=np.float32)
_MIN_SHINGLES: Final = 2  # shingles (5+ topic words in a row) that make an inline quote of a post
_THREAD_TERMS: Final = 3  # key terms named in a reason
_POST_TERMS: Final = 3
_MAX_EVIDENCE: Final = 12
_SHOWN_NAMES: Final = 4
_SPELLING_CHARS: Final = 5000  # how much of the opening post is searched for a term's spelling
_NEXT_NAME: Final = re.compile(r"[ \t]+([A-Z][\w\-]*)")
# Fewest content tokens (word vectors' weight above 0.3) for a confident judgement.
_MIN_ANCHOR_CONTENT: Final = 2
_MIN_POST_CONTENT: Final = 1
_NO_SEMANTIC: Final = (0.0,) * len(SEMANTIC_FEATURE_NAMES)


def _name_phrases(text: str, names: Collection[str]) -> list[str]:
    """`names` as the text writes them, neighbours joined ("Ada Lovelace"), in order of appearance."""
    wanted = set(names)
    phrases: list[str] = []
    current: list[str] = []
    last_end = -1
    for m in _NAME.finditer(text):
        if m.group() not in wanted:
            continue
        if current and text[last_end : m.start()] == " ":
            current.append(m.group())
        else:
            if current:
                phrases.append(" ".join(current))
            current = [m.group()]
        last_end = m.end()
    if current:
        phrases.append(" ".join(current))
    seen: list[str] = []
    for phrase in phrases:  # "Ada" after "Ada Lovelace" adds nothing
        if not any(phrase in other for other in seen):
            seen.append(phrase)
    # The names the post keeps coming back to first.
    mentions = Counter(m.group() for m in _NAME.finditer(text))
    return sorted(seen, key=lambda phrase: -max(mentions[name] for name in phrase.split()))


class OffTopicThreadState:
    """One thread's memory for the off-topic detector; `review` judges a post and then remembers it."""

    def __init__(self, detector: OffTopicDetector, thread_id: str, title: str) -> None:
        self._d = detector
        self._model = detector.model
        self.thread_id = thread_id
        self.title = title
        self.catch_all = detector.is_catch_all(thread_id, title)
        mode = detector.catch_all_mode
        self._recent_only = self.catch_all and mode == "recent"
        self._exempt = self.catch_all and mode == "exempt"
        self._rescale = self.catch_all and mode == "threshold"
        k = self._model.components.shape[1]
        self._k = k
        self._position = 0
        self._anchor = _Vector({}, 0.0, np.zeros(k, dtype=np.float32))
        # The thread's terms, decaying slowly (a catch-all thread judged on recent posts: quickly).
        self._thread = _DecayingProfile(
            detector.decay if self._recent_only else detector.thread_decay, detector.profile_terms
        )
        self._centroid = np.zeros(k, dtype=np.float32)
        self._thread_centroid = np.zeros(k, dtype=np.float32)
        self._recent: deque[_Remembered] = deque(maxlen=detector.window)
        self._recent_matrix = np.zeros((detector.window, k), dtype=np.float32)
        self._recent_slot = 0
        # Word shingles of the opening post and of the last `window` posts, to find inline quotes.
        self._opening_shingles: tuple[_Remembered, frozenset[int]] | None = None
        self._shingles: deque[tuple[_Remembered, frozenset[int]]] = deque(maxlen=detector.window)
        self._by_id: dict[str, _Remembered] = {}
        self._texts: deque[str] = deque(maxlen=detector.window)
        self._opening_text = ""
        # The thread's style: the detector's, or under "auto" picked at the opening post.
        self.style = detector.style
        self._lengths: list[int] = []  # words per post while an "auto" thread may still change style
        self._opening_raw = ""
        # Word-vector measurements only where the style's combiner weighs them (they cost time); built at
        # the opening post, once the style is known.
        self._semantic: SemanticThread | None = None

    # -- public ------------------------------------------------------------------------------------

    def review(self, post: Post) -> Detection:
        """Judge `post` against the thread so far, then remember it as context for later posts."""
        self._position += 1
        if self._position == 1:
            self._remember_opening(post)
            return Detection("off_topic", 0.0, details={"role": "opening post"})
        self._settle_style(post)
        observation = self._observe(post)
        if self._exempt:
            self._remember(post, observation, 0.0)
            return Detection("off_topic", 0.0, details={"catch_all": "exempt"})
        raw = self._d.combine(observation.features, self.style)
        score, rule = self._apply_rules(raw, observation)
        details: dict[str, object] = {"raw_score": round(raw, 4), "style": self.style}
        if rule:
            details["rule"] = rule
        doubt = self._too_little_to_judge(observation)
        if doubt:
            # Genuinely too little to go on: said so, and never flagged.
            score = min(score, self._d.short_cap)
            details["confidence"] = "low"
            details["confidence_reason"] = doubt
        if self.catch_all:
            details["catch_all"] = self._d.catch_all_mode
        reasons: tuple[str, ...] = ()
        evidence: tuple[Evidence, ...] = ()
        if score >= self._d.explain_from:  # explained against the thread as it was before this post
            reasons, evidence = self._explain(post, observation, rule)
        self._remember(post, observation, score)
        return Detection("off_topic", score, reasons=reasons, evidence=evidence, details=details)

    def measure(self, post: Post) -> Float64Array | None:
        """The combiner's input for `post` (None for the opening post), remembering it; for training."""
        self._position += 1
        if self._position == 1:
            self._remember_opening(post)
            return None
        self._settle_style(post)
        observation = self._observe(post)
        self._remember(post, observation, self._d.combine(observation.features, self.style))
        return observation.features

    # -- measuring ---------------------------------------------------------------------------------

    def _vector(self, counts: dict[str, int]) -> _Vector:
        """Sublinear TF-IDF weights of the terms counted in `counts`, and their LSA direction."""
        if not counts:
            return _Vector({}, 0.0, np.zeros(self._k, dtype=np.float32))
        model = self._model
        index = model.index
        terms = list(counts)
        size = len(terms)
        # -1 (a word the background never saw) picks the unknown-word idf and an all-zero LSA row.
        idx = np.fromiter(map(index.get, terms, repeat(-1, size)), dtype=np.intp, count=size)
        n = np.fromiter(counts.values(), dtype=np.float64, count=size)
        w = (1.0 + np.log(n)) * model.idf_oov[idx]
        lsa = _unit(w.astype(np.float32) @ model.components_oov[idx])
        unknown = int(np.count_nonzero(idx < 0))
        return _Vector(dict(zip(terms, w.tolist(), strict=True)), math.sqrt(float(w @ w)), lsa, unknown)

    def _quoted(
        self, post: Post, terms: list[str]
    ) -> tuple[list[bool] | None, list[_Remembered], frozenset[int]]:
        """Which of the post's topic words repeat an earlier post (inline quotes), which earlier posts
        the post answers, and the post's own shingles."""
        mask: list[bool] | None = None
        hits: list[tuple[int, int, _Remembered]] = []
        unique: frozenset[int] = frozenset()
        if len(terms) >= _SHINGLE:
            # Shingles as hashes: int sets intersect much faster than sets of tuples (which rehash).
            mine = list(map(hash, zip(*(terms[j:] for j in range(_SHINGLE)), strict=False)))
            unique = frozenset(mine)
            quoted: set[int] = set()
            sources = [*self._shingles, self._opening_shingles] if self._opening_shingles else self._shingles
            for order, (source, theirs) in enumerate(sources):
                common = unique & theirs if len(unique) < len(theirs) else theirs & unique
                if len(common) >= _MIN_SHINGLES:
                    hits.append((len(common), -order, source))
                    quoted |= common
            if quoted:
                # A word is quoted when one of the shingles covering it is.
                hit = np.fromiter(map(quoted.__contains__, mine), dtype=np.float32, count=len(mine))
                mask = (np.convolve(hit, _SHINGLE_ONES) > 0).tolist()
        for quote in post.quotes:  # a marked quote answers the post it names
            if quote.post_id is not None and quote.post_id in self._by_id:
                hits.append((len(quote.text), 1, self._by_id[quote.post_id]))
        hits.sort(key=lambda h: (h[0], h[1]), reverse=True)
        answered: list[_Remembered] = []
        for _, _, source in hits:
            if all(source is not seen for seen in answered):
                answered.append(source)
        return mask, answered[:2], unique

    def _new_names(self, text: str, recent_only: bool) -> list[str]:
        """The names the post brings that the thread has not used (a new subject, in news threads)."""
        index, idf = self._model.index, self._model.idf
        known, anchor = self._thread.weights, self._anchor.weights
        names = []
        for name in dict.fromkeys(_NAME.findall(text)):
            low = name.lower()
            if low in _STOP_WORDS or low in known or (not recent_only and low in anchor):
                continue
            i = index.get(low)
            if i is None or idf[i] >= _NAME_MIN_IDF:
                names.append(name)
        return names

    def _observe(self, post: Post) -> _Observation:
        text, words = _prepare(post.text)
        terms = content_terms(words)
        mask, answered, shingles = self._quoted(post, terms)
        if mask is None:
            own = Counter(terms)
            n_quoted = 0
        else:
            own = Counter([t for t, quoted in zip(terms, mask, strict=True) if not quoted])
            n_quoted = sum(mask)
        vector = self._vector(own)
        marked = sum(len(content_terms(post_words(q.text))) for q in post.quotes)
        quoted_share = (n_quoted + marked) / max(1, len(terms) + marked)

        # Term overlap with the anchor, the recent discussion and the whole thread in one pass; `shared`
        # is the post's distinctive weight on terms the thread already uses.
        thread, anchor = self._thread, self._anchor
        a_weights, t_weights = anchor.weights, thread.weights
        a_dot = t_dot = shared = total = 0.0
        for term, w in vector.weights.items():
            total += w
            t = t_weights.get(term)
            if t is not None:
                t_dot += w * t
            a = a_weights.get(term)
            if a is not None:
                a_dot += w * a
            if a is not None or t is not None:
                shared += w
        norm = vector.norm
        tfidf_thread = t_dot / (norm * thread.norm) if norm and thread.norm else 0.0
        lsa = vector.lsa
        lsa_context = float(lsa @ _unit(self._centroid))
        if self._recent_only:
            # A catch-all thread: only the recent discussion counts, not where the thread started.
            shared = sum(w for term, w in vector.weights.items() if term in t_weights)
            lsa_anchor = lsa_thread = lsa_context
            tfidf_anchor = tfidf_thread
        else:
            lsa_anchor = float(lsa @ anchor.lsa)
            lsa_thread = float(lsa @ _unit(self._thread_centroid))
            tfidf_anchor = a_dot / (norm * anchor.norm) if norm and anchor.norm else 0.0
        known_share = shared / total if total > 0 else 0.0
        n_recent = len(self._recent)
        lsa_recent = float((self._recent_matrix[:n_recent] @ lsa).max()) if n_recent else lsa_context
        lsa_answer = max((float(lsa @ r.vector.lsa) for r in answered), default=0.0)

        log_terms = math.log1p(len(vector.weights))
        # Names only matter for the catch-all rule (as a combiner input they added nothing, measured).
        new_names = self._new_names(text, recent_only=True) if self._recent_only else []
        semantic: SemanticPost | None = None
        sem_features: tuple[float, ...] = _NO_SEMANTIC
        anchor_sim = 0.0
        if self._semantic is not None:
            semantic = self._semantic.post(text)
            sem_features, anchor_sim = self._semantic.measure(semantic, len(words))
        features = np.array(
            [
                lsa_anchor,
                lsa_context,
                lsa_thread,
                lsa_recent,
                lsa_answer,
                tfidf_anchor,
                tfidf_thread,
                quoted_share,
                log_terms,
                math.log(self._position),
                *self._manner(post.text, words, self.style == "question"),
                vector.unknown / len(vector.weights) if vector.weights else 0.0,
                total / len(vector.weights) / self._model.oov_idf if vector.weights else 0.0,
                lsa_anchor * log_terms,
                tfidf_thread * log_terms,
                *sem_features,
            ],
            dtype=np.float64,
        )
        return _Observation(
            features,
            vector,
            words,
            shingles,
            sum(own.values()),
            answered,
            known_share,
            new_names,
            semantic,
            anchor_sim,
        )

    @staticmethod
    def _manner(text: str, words: list[str], by_words: bool) -> tuple[float, ...]:
        """How a reply is written: questions back, "you"/"I", chat and thanks, exclamations, links.

        These tell a chatty non-answer from an answer in question threads. In debates only the cheap
        character counts helped (measured), so the word counts are left at 0 unless `by_words`.
        """
        lowered = text.lower()
        second = first = chat = 0.0
        if by_words:
            cues = Counter([w for w in words if w in _CUE_WORDS])
            n_words = max(1, len(words))
            emoticons = 0
            if ":" in lowered or ";" in lowered or "@" in lowered or "!!" in lowered:
                emoticons = len(_EMOTICON.findall(lowered))
            second = min(sum(cues[w] for w in _SECOND_PERSON) * 10 / n_words, 1.0)
            first = min(sum(cues[w] for w in _FIRST_PERSON) * 10 / n_words, 1.0)
            chat = min(sum(cues[w] for w in _CHAT_WORDS) + emoticons, 3) / 3.0
        return (
            min(lowered.count("?"), 3) / 3.0,
            second,
            first,
            chat,
            min(lowered.count("!"), 3) / 3.0,
            float("http" in lowered or "www." in lowered),
        )

    def _too_little_to_judge(self, observation: _Observation) -> str:
        """Why the thread or the post says too little to judge the post (empty when they say enough)."""
        if self._semantic is None or observation.semantic is None:
            return ""
        if not self._recent_only and self._semantic.anchor.n_content < _MIN_ANCHOR_CONTENT:
            return "the title and opening post say too little to tell what the thread is about"
        if observation.semantic.n_content < _MIN_POST_CONTENT:
            return "the post has too few telling words to judge what it is about"
        return ""

    def _apply_rules(self, raw: float, observation: _Observation) -> tuple[float, str]:
        d = self._d
        score, rule = raw, ""
        if observation.n_terms < d.min_terms:
            if observation.answered:
                # A short reply is judged with what it answers.
                score = min(raw, max(r.score for r in observation.answered))
                rule = "short reply: judged with the post it quotes"
            else:
                score = min(raw, d.short_cap)
                rule = "short post: too few words of its own to judge"
        if self._recent_only and observation.new_names:
            # A catch-all thread has no subject of its own, only a current one: a post that brings many
            # names the recent discussion never used, and shares little else with it, changes it.
            # (Hand-set, not fitted: there is no labelled catch-all data; see the model card.)
            change = (1.0 - math.exp(-len(observation.new_names) / d.subject_names)) * (
                1.0 - observation.known_share
            )
            if change > score:
                score, rule = change, "catch-all thread: changes the subject of the recent discussion"
        if self._rescale:
            score = d.rescale_for_catch_all(score)
        return min(1.0, max(0.0, score)), rule

    # -- remembering -------------------------------------------------------------------------------

    def _remember_opening(self, post: Post) -> None:
        words = post_words(post.text)
        title_terms = content_terms(post_words(self.title))
        self._anchor = self._vector(Counter(title_terms * 2 + content_terms(words)))
        self._opening_text = (self.title + "\n" + post.text)[: self._d.max_text_chars]
        terms = content_terms(words)
        shingles = frozenset(map(hash, zip(*(terms[j:] for j in range(_SHINGLE)), strict=False)))
        self._add_context(_Remembered(post.id, post.author, self._anchor, 0.0), shingles, opening=True)
        self._opening_raw = post.text
        if self._d.style == "auto":
            self.style = "everyday" if len(words) < AUTO_OPENING_WORDS else "discussion"
            self._lengths = [len(words)] if self.style == "everyday" else []
        elif self._d.semantic_space is not None:
            self._begin_semantic()

    def _begin_semantic(self) -> None:
        space = self._d.semantic_space
        if space is None:
            return
        self._semantic = SemanticThread(
            space,
            window=self._d.window,
            decay=self._d.decay if self._recent_only else self._d.thread_decay,
            anchor_is_recent=self._recent_only,
        )
        self._semantic.begin(self.title, self._opening_raw)

    def _settle_style(self, post: Post) -> None:
        """Under "auto", before a reply is judged: an everyday thread becomes a discussion (for good) when
        the median length of its posts, this one included, passes `AUTO_LONG_WORDS` or this post passes
        `AUTO_MAX_WORDS` (the everyday combiner was fitted on short posts and misjudges long debate posts).
        An everyday thread meets its word-vector memory at its first reply, so a thread that is a
        discussion from its opening post never pays for it."""
        if not self._lengths:
            return
        n = len(post_words(post.text))
        self._lengths.append(n)
        if statistics.median(self._lengths) > AUTO_LONG_WORDS or n > AUTO_MAX_WORDS:
            self.style, self._semantic, self._lengths = "discussion", None, []
        elif self._semantic is None:
            self._begin_semantic()

    def _remember(self, post: Post, observation: _Observation, score: float) -> None:
        remembered = _Remembered(post.id, post.author, observation.vector, score)
        self._add_context(remembered, observation.shingles)
        self._texts.append(post.text[: self._d.max_text_chars])
        if self._semantic is not None and observation.semantic is not None:
            self._semantic.remember(observation.semantic, observation.anchor_sim)

    def _add_context(
        self, remembered: _Remembered, shingles: frozenset[int], *, opening: bool = False
    ) -> None:
        d = self._d
        thread = self._thread
        thread.advance()
        scale = thread.scale
        weights = thread.weights
        sq = thread.sq
        for term, w in remembered.vector.weights.items():
            add = w * scale
            old = weights.get(term, 0.0)
            weights[term] = old + add
            sq += (2.0 * old + add) * add
        thread.sq = sq
        thread.prune()
        lsa = remembered.vector.lsa
        self._centroid = self._centroid * np.float32(d.decay) + lsa
        self._thread_centroid = self._thread_centroid * np.float32(d.thread_decay) + lsa
        self._by_id[remembered.post_id] = remembered
        # The opening post's shingles stay for the whole thread; another post's leave with it.
        if opening:
            self._opening_shingles = (remembered, shingles)
            return
        self._recent.append(remembered)
        self._recent_matrix[self._recent_slot] = lsa
        self._recent_slot = (self._recent_slot + 1) % d.window
        if len(self._shingles) == d.window:
            self._by_id.pop(self._shingles[0][0].post_id, None)
        self._shingles.append((remembered, shingles))

    # -- explaining --------------------------------------------------------------------------------

    def _thread_key_terms(self, exclude: Collection[str]) -> list[str]:
        """What the thread is about: its heaviest terms (recent discussion only in catch-all threads)."""
        weight: dict[str, float] = {}
        norm = self._thread.norm or 1.0
        for t, w in self._thread.weights.items():
            weight[t] = w / norm
        if not self._recent_only and self._anchor.norm:
            for t, w in self._anchor.weights.items():
                weight[t] = weight.get(t, 0.0) + w / self._anchor.norm
        ranked = heapq.nlargest(_THREAD_TERMS + len(exclude), weight.items(), key=lambda kv: kv[1])
        return [t for t, _ in ranked if t not in exclude][:_THREAD_TERMS]

    def _spellings(self, terms: Sequence[str]) -> list[str]:
        """The terms as the thread writes them: in lower case if it ever does, else as first written."""
        found: dict[str, str] = {}
        wanted = set(terms)
        texts = [*([] if self._recent_only else [self._opening_text[:_SPELLING_CHARS]]), *self._texts]
        for text in texts:
            for m in WORD_RE.finditer(text):
                word = m.group()
                low = word.lower()
                if low.endswith(("'s", "’s")):
                    low, word = low[:-2], word[:-2]
                if low in wanted and (low not in found or (word.islower() and not found[low].islower())):
                    found[low] = word
            if all(t in found and found[t].islower() for t in wanted):
                break
        return [found.get(t, t) for t in terms]

    def _explain(
        self, post: Post, observation: _Observation, rule: str
    ) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
        vector = observation.vector
        known = self._thread.weights
        anchor = {} if self._recent_only else self._anchor.weights
        foreign = {t: w for t, w in vector.weights.items() if t not in known and t not in anchor}
        chosen = [t for t, _ in sorted(foreign.items(), key=lambda kv: (-kv[1], kv[0]))[:_POST_TERMS]]

        # Spell the post's terms as it does, joining a name to the next when that is new too ("Ada Lovelace").
        text = post.text
        evidence: list[Evidence] = []
        phrases: list[str] = []
        used: set[str] = set()
        spans_of: dict[str, list[tuple[int, int]]] = {t: [] for t in chosen}
        for m in WORD_RE.finditer(text):
            low = m.group().lower()
            end = m.end()
            if low.endswith(("'s", "’s")):
                low, end = low[:-2], end - 2
            if low in spans_of:
                spans_of[low].append((m.start(), end))
        for term in chosen:
            if term in used:
                continue
            used.add(term)
            spans = spans_of[term]
            if not spans:  # written in a form only normalisation finds (NFKC): named as normalised
                phrases.append(term)
                continue
            evidence.extend(Evidence(a, b, note=f"not used in this thread: {term}") for a, b in spans)
            start, end = spans[0]
            follower = _NEXT_NAME.match(text, end)
            if text[start].isupper() and follower:
                nterm = follower.group(1).lower()
                if nterm in foreign and nterm not in used:
                    end = follower.end()
                    used.add(nterm)
            phrases.append(text[start:end])
        evidence = sorted(evidence, key=lambda e: e.start)[:_MAX_EVIDENCE]
        thread_terms = self._spellings(self._thread_key_terms(exclude=vector.weights))

        where = "the recent discussion" if self._recent_only else "this thread"
        if self.style == "question" and not self._recent_only:
            where = "the question"
        about = f" ({', '.join(thread_terms)})" if thread_terms else ""
        known_share = observation.known_share
        if phrases:
            subject = f"it is about {', '.join(phrases)}."
        else:
            subject = "it reads as part of another conversation."
        if known_share < 0.25:
            reasons = [f"shares almost nothing with {where}{about}; {subject}"]
        else:
            reasons = [f"strays from {where}{about}; {subject}"]
        if rule.startswith("catch-all"):
            names = _name_phrases(post.text, observation.new_names)
            more = " and others" if len(names) > _SHOWN_NAMES else ""
            reasons.append(
                f"brings up {len(observation.new_names)} names the recent discussion has not used: "
                f"{', '.join(names[:_SHOWN_NAMES])}{more}."
            )
        return tuple(reasons), tuple(evidence)


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
        flag_threshold: float = 0.7,
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
        if catch_all_mode not in CATCH_ALL_MODES:
            raise ValueError(
                f"catch_all_mode must be one of {', '.join(CATCH_ALL_MODES)}, got {catch_all_mode!r}"
            )
        if style not in DETECTOR_STYLES:
            raise ValueError(f"style must be one of {', '.join(DETECTOR_STYLES)}, got {style!r}")
        for name, value in (("catch_all_threshold", catch_all_threshold), ("flag_threshold", flag_threshold)):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be within (0, 1), got {value}")
        for name, value in (("decay", decay), ("thread_decay", thread_decay)):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be within (0, 1), got {value}")
        if window < 1 or min_terms < 0 or not 0.0 <= short_cap <= 1.0:
            raise ValueError("window must be >= 1, min_terms >= 0 and short_cap within [0, 1]")
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
        # The word-vector measurements are taken where the combiner weighs them (or when asked: training);
        # only then are the word vectors needed (default: the shipped table, loaded once per process).
        self.uses_word_vectors = (
            bool(np.any(self._combiners["everyday" if style == "auto" else style][0][_N_BASE:] != 0.0))
            if measure_word_vectors is None
            else measure_word_vectors
        )
        self.semantic_space: SemanticSpace | None = None
        if self.uses_word_vectors:
            self.semantic_space = SemanticSpace(
                word_vectors if word_vectors is not None else default_word_vectors(),
                sentence=sentence if sentence is not None else default_sentence_encoder,
            )
        self.version = f"offtopic-{FORMAT_VERSION}.{style}+{model.digest}"

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
