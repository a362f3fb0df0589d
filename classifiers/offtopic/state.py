"""One thread's memory for the off-topic detector: `review` judges a post, then remembers it."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from classifiers.offtopic import explain
from classifiers.offtopic.ahead import SentencePlan
from classifiers.offtopic.memory import (
    _MIN_ANCHOR_CONTENT,
    _MIN_POST_CONTENT,
    _NO_SEMANTIC,
    _SHINGLE,
    _SPELLING_CHARS,
    LOG_TABLE,
    _DecayingProfile,
    _name_phrases,
    _Observation,
    _Remembered,
    _unit,
    _Vector,
    add_weights,
    find_quotes,
    python_term_weights,
    term_overlap,
    term_weights,
    tuple_hashes,
)
from classifiers.offtopic.model import (
    AUTO_OPENING_WORDS,
    QUESTION_BLEND,
    Float64Array,
    asks,
    becomes_discussion,
)
from classifiers.offtopic.policy import Policy
from classifiers.offtopic.semantic import SemanticPost, SemanticThread
from classifiers.offtopic.words import _prepare, content_terms, manner, new_names_in, post_words
from classifiers.result import Detection, Evidence
from classifiers.thread import Post


class OffTopicThreadState:
    """One thread's memory for the off-topic detector; `review` judges a post and then remembers it."""

    def __init__(self, detector: Policy, thread_id: str, title: str) -> None:
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
        self._blend = 0.0  # under "auto", the question combiner's share in an everyday thread that asks
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
        raw = self._combine(observation.features)
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

    def _combine(self, features: Float64Array) -> float:
        """The thread's combiner; under "auto", an everyday thread that asks is also judged as a question."""
        raw = self._d.combine(features, self.style)
        if self._blend and self.style == "everyday":
            raw = (1.0 - self._blend) * raw + self._blend * self._d.combine(features, "question")
        return raw

    def _weighs_manner_words(self) -> bool:
        """Whether the word counts of `manner` are measured: for the question combiner, alone or blended into
        an everyday thread that asks. The others were fitted with them at 0 (so their weights are 0): an
        "auto" thread that asked and has become a discussion does not count them either."""
        return self.style == "question" or (self._blend > 0.0 and self.style == "everyday")

    def sentence_plan(self) -> SentencePlan:
        """Where this thread stands for the sentence encoder (for `OffTopicDetector.review_batch`)."""
        encoding = self._semantic is not None
        auto = self._d.style == "auto"
        return SentencePlan(
            self.title, self._position, auto, encoding, list(self._lengths), self._opening_raw
        )

    # -- measuring ---------------------------------------------------------------------------------

    def _vector(self, terms: list[str], mask: list[bool] | None = None) -> tuple[_Vector, int]:
        """Sublinear TF-IDF weights of `terms` (but those `mask` marks quoted) and their LSA direction, and
        how many terms that counted."""
        model = self._model
        found = term_weights(terms, mask, model.index, model.idf_oov, LOG_TABLE)
        if found is None:  # a term repeated past the table's end: the same, with its logarithm taken
            found = python_term_weights(terms, mask, model.index, model.idf_oov, None)
            assert found is not None
        weights, rows, values, unknown, counted = found
        if not weights:
            return _Vector({}, 0.0, np.zeros(self._k, dtype=np.float32)), counted
        w = np.frombuffer(values, dtype=np.float64)
        # Row -1 (a word the background never saw) is all zeros.
        lsa = _unit(
            w.astype(np.float32) @ model.components_oov.take(np.frombuffer(rows, dtype=np.intp), axis=0)
        )
        return _Vector(weights, math.sqrt(float(w @ w)), lsa, unknown), counted

    def _observe(self, post: Post) -> _Observation:
        text, words = _prepare(post.text)
        terms = content_terms(words)
        opening = [self._opening_shingles] if self._opening_shingles else []
        mask, answered, shingles = find_quotes(post, terms, [*self._shingles, *opening], self._by_id)
        vector, n_own = self._vector(terms, mask)
        n_quoted = 0 if mask is None else sum(mask)
        marked = sum(len(content_terms(post_words(q.text))) for q in post.quotes)
        quoted_share = (n_quoted + marked) / max(1, len(terms) + marked)

        sims = self._similarities(vector, answered)
        lsa_anchor, tfidf_thread = sims[0], sims[6]
        known_share, total = sims[7], sims[8]

        log_terms = math.log1p(len(vector.weights))
        # Names only matter for the catch-all rule (as a combiner input they added nothing, measured).
        model = self._model
        new_names = (
            new_names_in(text, model.index, model.idf, self._thread.weights) if self._recent_only else []
        )
        semantic: SemanticPost | None = None
        sem_features: tuple[float, ...] = _NO_SEMANTIC
        anchor_sim = 0.0
        if self._semantic is not None:
            semantic = self._semantic.post(text)
            sem_features, anchor_sim = self._semantic.measure(semantic, len(words))
        features = np.array(
            [
                *sims[:7],  # the LSA and TF-IDF cosines, in FEATURE_NAMES' order
                quoted_share,
                log_terms,
                math.log(self._position),
                *manner(post.text, words, self._weighs_manner_words()),
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
            n_own,
            answered,
            known_share,
            new_names,
            semantic,
            anchor_sim,
        )

    def _similarities(self, vector: _Vector, answered: list[_Remembered]) -> tuple[float, ...]:
        """LSA cosines to the anchor, the recent discussion, the thread, the closest recent post and the
        answered post; TF-IDF cosines to the anchor and the thread; the share of the post's distinctive
        weight on terms the thread already uses, and that weight's total."""
        thread, anchor = self._thread, self._anchor
        t_weights = thread.weights
        a_dot, t_dot, shared, total = term_overlap(vector.weights, anchor.weights, t_weights)
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
        return (
            lsa_anchor,
            lsa_context,
            lsa_thread,
            lsa_recent,
            lsa_answer,
            tfidf_anchor,
            tfidf_thread,
            known_share,
            total,
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
        terms = content_terms(words)
        self._anchor = self._vector(title_terms * 2 + terms)[0]
        self._opening_text = (self.title + "\n" + post.text)[: self._d.max_text_chars]
        shingles = frozenset(tuple_hashes(terms, _SHINGLE))
        self._add_context(_Remembered(post.id, post.author, self._anchor, 0.0), shingles, opening=True)
        self._opening_raw = post.text
        if self._d.style == "auto":
            self.style = "everyday" if len(words) < AUTO_OPENING_WORDS else "discussion"
            self._lengths = [len(words)] if self.style == "everyday" else []
            self._blend = QUESTION_BLEND if asks(self.title, post.text) else 0.0
        elif self._d.semantic_space is not None:
            self._begin_semantic()

    def _begin_semantic(self, reply: str | None = None) -> None:
        """Start the semantic memory; `reply` (the next reply's prepared text) is encoded with the anchor."""
        space = self._d.semantic_space
        if space is None:
            return
        self._semantic = SemanticThread(
            space,
            window=self._d.window,
            decay=self._d.decay if self._recent_only else self._d.thread_decay,
            anchor_is_recent=self._recent_only,
        )
        self._semantic.begin(self.title, self._opening_raw, reply)

    def _settle_style(self, post: Post) -> None:
        """Under "auto", before a reply is judged: an everyday thread becomes a discussion (for good) when
        the median length of its posts, this one included, passes `AUTO_LONG_WORDS` or this post passes
        `AUTO_MAX_WORDS` (the everyday combiner was fitted on short posts and misjudges long debate posts).
        An everyday thread meets its word-vector memory at its first reply, so a thread that is a
        discussion from its opening post never pays for it."""
        if not self._lengths:
            return
        text, words = _prepare(post.text)
        self._lengths.append(len(words))
        if becomes_discussion(self._lengths, asks(self.title, self._opening_raw)):
            self.style, self._semantic, self._lengths = "discussion", None, []
        elif self._semantic is None:
            self._begin_semantic(text)

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
        thread.sq = add_weights(thread.weights, remembered.vector.weights, thread.scale, thread.sq)
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

    def _explain(
        self, post: Post, observation: _Observation, rule: str
    ) -> tuple[tuple[str, ...], tuple[Evidence, ...]]:
        """Reasons and evidence, against the thread as it was before this post."""
        vector = observation.vector
        anchor = {} if self._recent_only else self._anchor.weights
        foreign = explain.foreign_terms(vector.weights, self._thread.weights, anchor)
        phrases, evidence = explain.phrases_and_evidence(post.text, foreign)
        anchor_profile = ({}, 0.0) if self._recent_only else (self._anchor.weights, self._anchor.norm)
        terms = explain.key_terms((self._thread.weights, self._thread.norm), anchor_profile, vector.weights)
        texts = [*([] if self._recent_only else [self._opening_text[:_SPELLING_CHARS]]), *self._texts]
        where = "the recent discussion" if self._recent_only else "this thread"
        if self.style == "question" and not self._recent_only:
            where = "the question"
        reasons = explain.reasons(where, explain.spellings(texts, terms), phrases, observation.known_share)
        if rule.startswith("catch-all"):
            names = _name_phrases(post.text, observation.new_names)
            reasons.append(explain.names_reason(names, len(observation.new_names)))
        return tuple(reasons), tuple(evidence)
