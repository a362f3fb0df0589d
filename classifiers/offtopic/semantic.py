"""Meaning-level measurements for the off-topic detector, from static word vectors.

The LSA background of `classifiers.offtopic` is fitted on debate and Q&A forums: everyday words (timetable,
striker, keeper) are outside its vocabulary, and it hardly separates everyday subjects from each other.
The static word vectors of `classifiers.wordvectors` know every word a sentence model knows, so they
measure what a short reply is about where the background cannot:

- `sem_*`: cosines of the post's vector (weighted mean of its token vectors) to the anchor (title twice
  and the opening post), to a decaying centroid of the thread, and the highest to one of the last
  `window` posts; `sem_drift` is the anchor cosine less the mean anchor cosine of the earlier replies
  (a thread that has drifted together is not held to its opening post);
- `soft_*`: "soft overlap": for each content token of the post (weight above `min_weight`, the heaviest
  `post_tokens`), its highest cosine to a token of the context, averaged by token weight; against the
  anchor, against anchor and recent posts together, and the best of the last `recent_posts` posts;
- `short_post`: 1 for a post of fewer than `short_words` words, so that one combiner serves short chat
  replies and long debate posts with an intercept each;
- `sent_*`: the same cosines as `sem_*` (anchor, decaying thread centroid, the closest of the last
  `recent_posts` posts, drift) from the sentence encoder (`classifiers.sentence`), which reads word order
  and context: "the match was late" is about football, whatever "late" shares with a bus thread. They are
  measured when the space has an encoder (the everyday style's semantic tier), otherwise 0.

State per thread is bounded: the anchor's vector and tokens, one centroid, and the last `window` posts'
vectors and tokens (in preallocated arrays).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from classifiers.persistence import return_freed_memory
from classifiers.sentence import SentenceEncoder, vocab_digest
from classifiers.wordvectors import WordVectors

__all__ = [
    "SEMANTIC_FEATURE_NAMES",
    "SemanticPost",
    "SemanticSpace",
    "SemanticThread",
    "default_sentence_encoder",
    "default_word_vectors",
]

SEMANTIC_FEATURE_NAMES: Final = (
    "sem_anchor",
    "sem_thread",
    "sem_recent",
    "sem_drift",
    "soft_anchor",
    "soft_context",
    "soft_recent",
    "short_post",
    "sent_anchor",
    "sent_thread",
    "sent_recent",
    "sent_drift",
)

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.intp]


@functools.cache
def default_word_vectors() -> WordVectors:
    """The shipped word vectors, loaded once per process."""
    return WordVectors.load()


@functools.cache
def default_sentence_encoder() -> SentenceEncoder:
    """The shipped sentence encoder (with the shipped word vectors' tokenizer), loaded once per process (the
    heap pages its loading freed are handed back: 7 MiB of a running bot's memory)."""
    tokenizer = default_word_vectors().tokenizer
    encoder = SentenceEncoder.load(tokenizer, vocab_digest(tokenizer.vocab))
    return_freed_memory()
    return encoder


@dataclass(frozen=True, slots=True)
class SemanticPost:
    """A text as the vectors see it: its unit vector, its content tokens (unit rows) and their weights."""

    vector: FloatArray  # (dims,), zeros when no token is known
    tokens: FloatArray  # (k, dims), unit token vectors of the heaviest content tokens
    weights: FloatArray  # (k,)
    sentence: FloatArray | None = None  # (sentence dims,), the sentence encoder's unit vector, if measured

    @property
    def n_content(self) -> int:
        """How many content tokens (weight above the space's `min_weight`) the text has, up to the cap."""
        return int(self.weights.shape[0])


class SemanticSpace:
    """Word vectors prepared for the detector: token vectors of unit length, the content-token rule."""

    def __init__(
        self,
        vectors: WordVectors | Callable[[], WordVectors],
        *,
        sentence: SentenceEncoder | Callable[[], SentenceEncoder] | None = None,
        min_weight: float = 0.3,
        post_tokens: int = 16,
        anchor_tokens: int = 48,
    ) -> None:
        # The word vectors, or how to load them: loaded at the first text read (a detector whose threads
        # are all discussions never reads one), as the sentence encoder below.
        self._vectors = vectors
        # The encoder, or how to load it: loaded at the first text that needs it (it is about 60 MB in
        # memory, and a detector whose threads are all discussions never needs it).
        self._sentence = sentence
        self.min_weight = min_weight
        self.post_tokens = post_tokens
        self.anchor_tokens = anchor_tokens
        self._weights: FloatArray | None = None
        self._lengths: FloatArray | None = None

    @property
    def vectors(self) -> WordVectors:
        """The word vectors (loaded now if they were given as a loader)."""
        if not isinstance(self._vectors, WordVectors):
            self._vectors = self._vectors()
        return self._vectors

    @property
    def dims(self) -> int:
        """Dimensions of a text vector."""
        return self.vectors.dims

    def _token_tables(self) -> tuple[FloatArray, FloatArray]:
        """Per token: its weight and the length of its weighted vector."""
        if self._weights is None or self._lengths is None:
            self._weights = self.vectors.weights.astype(np.float32)
            self._lengths = self.vectors.token_lengths()
        return self._weights, self._lengths

    @property
    def sentence(self) -> SentenceEncoder | None:
        """The sentence encoder (loaded now if it was given as a loader), or None without one."""
        if self._sentence is not None and not isinstance(self._sentence, SentenceEncoder):
            self._sentence = self._sentence()
        return self._sentence

    def text(
        self, parts: Sequence[str], max_tokens: int | None = None, sentence: str | None = None
    ) -> SemanticPost:
        """The vector and content tokens of `parts` read as one text (repeat a part to weigh it more), and
        the sentence vector of `sentence` when the space has an encoder."""
        tokenizer = self.vectors.tokenizer
        weights, lengths = self._token_tables()
        ids: IdArray = np.array([i for part in parts for i in tokenizer.ids(part)], dtype=np.intp)
        rows = self.vectors.unit_rows(ids)  # one gather serves the text's vector and its content tokens
        vector = lengths[ids] @ rows
        norm = float(np.sqrt(vector @ vector))
        vector = vector / norm if norm > 1e-12 else np.zeros(self.dims, dtype=np.float32)
        unique, first = np.unique(ids, return_index=True)
        w = weights[unique]
        keep = np.flatnonzero(w > self.min_weight)
        cap = max_tokens or self.post_tokens
        if len(keep) > cap:
            keep = keep[np.argpartition(-w[keep], cap - 1)[:cap]]
        encoded = None
        if sentence is not None and (encoder := self.sentence) is not None:
            encoded = encoder.encode(sentence)
        return SemanticPost(vector, rows[first[keep]], w[keep], encoded)


class SemanticThread:
    """One thread's semantic memory: anchor, decaying centroid, the last `window` posts (bounded)."""

    def __init__(
        self,
        space: SemanticSpace,
        *,
        window: int,
        decay: float,
        recent_posts: int = 3,
        short_words: int = 25,
        anchor_is_recent: bool = False,
    ) -> None:
        self._space = space
        self._window = window
        self._decay = np.float32(decay)
        self._recent_posts = recent_posts
        self._short_words = short_words
        # A catch-all thread is judged on its recent discussion: the anchor stands in for nothing.
        self._anchor_is_recent = anchor_is_recent
        dims, k, a = space.dims, space.post_tokens, space.anchor_tokens
        self.anchor = SemanticPost(
            np.zeros(dims, np.float32), np.zeros((0, dims), np.float32), np.zeros(0, np.float32)
        )
        self._centroid = np.zeros(dims, dtype=np.float32)
        self._recent = np.zeros((window, dims), dtype=np.float32)
        # Context tokens: the anchor's block, then one block of `k` rows per remembered post (a ring).
        self._context = np.zeros((a + window * k, dims), dtype=np.float32)
        self._slot_order: list[int] = []  # ring slots, oldest first
        self._next = 0
        self._anchor_sims_sum = 0.0
        self._anchor_sims_n = 0
        # The sentence encoder's memory (zeros and unused without an encoder).
        sdims = space.sentence.dims if space.sentence is not None else 1
        self._sent_anchor = np.zeros(sdims, dtype=np.float32)
        self._sent_centroid = np.zeros(sdims, dtype=np.float32)
        self._sent_recent = np.zeros((window, sdims), dtype=np.float32)
        self._sent_sims_sum = 0.0

    def begin(self, title: str, opening: str, reply: str | None = None) -> None:
        """Remember the title and opening post (the anchor); the opening post is the first recent post.
        `reply`, the text of the reply about to be measured (if known), is encoded with them: one pass
        of the encoder for the three texts costs about two thirds of three passes (short texts)."""
        space = self._space
        anchor_text = f"{title}\n{opening}"
        if (encoder := space.sentence) is not None:
            encoder.encode_many([anchor_text, opening, *([] if reply is None else [reply])])
        self.anchor = space.text(
            [title, title, opening], max_tokens=space.anchor_tokens, sentence=anchor_text
        )
        if self.anchor.sentence is not None:
            self._sent_anchor = self.anchor.sentence
        n = self.anchor.n_content
        self._context[:n] = self.anchor.tokens
        self.remember(space.text([opening], sentence=opening), anchor_sim=None)

    def post(self, text: str) -> SemanticPost:
        """The vector, content tokens and sentence vector of a reply."""
        return self._space.text([text], sentence=text)

    def measure(self, post: SemanticPost, n_words: int) -> tuple[tuple[float, ...], float]:
        """The semantic features of `post` against the thread so far, and its anchor cosine."""
        v = post.vector
        n_recent = len(self._slot_order)
        cn = float(np.sqrt(self._centroid @ self._centroid))
        sem_thread = float(v @ self._centroid) / cn if cn > 0 else 0.0
        sem_recent = float((self._recent[:n_recent] @ v).max()) if n_recent else sem_thread
        sem_anchor = float(v @ self.anchor.vector)
        soft_anchor, soft_context, soft_recent = self._soft(post)
        if self._anchor_is_recent:
            sem_anchor, soft_anchor = sem_thread, soft_context
        mean = self._anchor_sims_sum / self._anchor_sims_n if self._anchor_sims_n else sem_anchor
        drift = 0.0 if self._anchor_is_recent else sem_anchor - mean
        features = (
            sem_anchor,
            sem_thread,
            sem_recent,
            drift,
            soft_anchor,
            soft_context,
            soft_recent,
            float(n_words < self._short_words),
            *self._sentence_features(post),
        )
        return features, sem_anchor

    def _sentence_features(self, post: SemanticPost) -> tuple[float, float, float, float]:
        """`sent_anchor`, `sent_thread`, `sent_recent`, `sent_drift` (zeros without an encoder)."""
        v = post.sentence
        if v is None:
            return 0.0, 0.0, 0.0, 0.0
        cn = float(np.sqrt(self._sent_centroid @ self._sent_centroid))
        thread = float(v @ self._sent_centroid) / cn if cn > 0 else 0.0
        last = self._slot_order[-self._recent_posts :]
        recent = float((self._sent_recent[last] @ v).max()) if last else thread
        if self._anchor_is_recent:
            return thread, thread, recent, 0.0
        anchor = float(v @ self._sent_anchor)
        mean = self._sent_sims_sum / self._anchor_sims_n if self._anchor_sims_n else anchor
        return anchor, thread, recent, anchor - mean

    def _soft(self, post: SemanticPost) -> tuple[float, float, float]:
        w = post.weights
        total = float(w.sum())
        if total <= 0:
            return 0.0, 0.0, 0.0
        a, k = self._space.anchor_tokens, self._space.post_tokens
        sims = post.tokens @ self._context.T  # (n, a + window * k); empty rows count as cosine 0
        soft_anchor = float(sims[:, :a].max(1) @ w) / total if self.anchor.n_content else 0.0
        soft_context = float(sims.max(1) @ w) / total
        per_slot = sims[:, a:].reshape(len(w), self._window, k).max(2)  # (n, window)
        last = self._slot_order[-self._recent_posts :]
        soft_recent = float((w @ per_slot[:, last]).max()) / total if last else soft_context
        return soft_anchor, soft_context, soft_recent

    def remember(self, post: SemanticPost, anchor_sim: float | None) -> None:
        """Add a post to the centroid, the recent vectors and the context tokens."""
        self._centroid = self._centroid * self._decay + post.vector
        slot = self._next
        self._next = (slot + 1) % self._window
        if slot in self._slot_order:
            self._slot_order.remove(slot)
        self._slot_order.append(slot)
        self._recent[slot] = post.vector
        if post.sentence is not None:
            self._sent_centroid = self._sent_centroid * self._decay + post.sentence
            self._sent_recent[slot] = post.sentence
        a, k = self._space.anchor_tokens, self._space.post_tokens
        block = self._context[a + slot * k : a + (slot + 1) * k]
        block[:] = 0.0
        block[: post.n_content] = post.tokens
        if anchor_sim is not None:
            self._anchor_sims_sum += anchor_sim
            self._anchor_sims_n += 1
            if post.sentence is not None:
                self._sent_sims_sum += float(post.sentence @ self._sent_anchor)
