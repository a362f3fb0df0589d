"""The duplicated-quote detector: posts that mostly repeat earlier posts of their thread.

It finds repeated words whether they are marked as quotes or pasted inline, by overlap of hashed word
shingles over normalised text (robust to re-wrapping, case and small edits), and says where they come
from. It also notices a passage re-quoted that an earlier post already quoted, quote pyramids (quotes
nested two or more deep) and a post repeating its own passages.

Memory per thread is bounded (at most `max_shingles` hashed shingles and `max_posts` post references),
and the cost of a post is linear in its length, so a thread costs time linear in its length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from classifiers.result import Category, Detection, Evidence
from classifiers.text import tokenize, words
from classifiers.thread import Post, Quote

_NONE = -1
_SELF = -2


@dataclass(frozen=True, slots=True)
class _Ref:
    """Who wrote a passage: an earlier post of the thread, or the source a marked quote names."""

    post_id: str | None
    author: str | None
    position: int | None

    def label(self) -> str:
        if self.position is not None:
            where = f"post #{self.position}"
        elif self.post_id is not None:
            where = f"post {self.post_id}"
        else:
            where = "an unattributed source"
        return f"{where} by {self.author}" if self.author else where

    def short(self) -> str:
        where = f"post #{self.position}" if self.position is not None else f"post {self.post_id}"
        return f"{where} ({self.author})" if self.author else where


def _shingles(tokens: list[str], size: int) -> list[int]:
    """Hashes of every run of `size` consecutive words (for short texts: of the whole text)."""
    if len(tokens) < size:
        return []
    return list(map(hash, zip(*(tokens[i:] for i in range(size)), strict=False)))


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


class QuoteDuplicateDetector:
    """Scores how much of a post repeats its thread; implements `classifiers.suite.Detector`."""

    category: Category = "duplicated_quote"
    version = "duplicates-1"

    def __init__(
        self,
        shingle_size: int = 5,
        gap_fill: int = 3,
        min_requote_words: int = 15,
        min_requote_share: float = 0.25,
        own_repeat_discount: float = 0.5,
        max_shingles: int = 200_000,
        max_posts: int = 20_000,
    ) -> None:
        if shingle_size < 2:
            raise ValueError("shingle_size must be at least 2")
        self.shingle_size = shingle_size
        self.gap_fill = gap_fill
        self.min_requote_words = min_requote_words
        self.min_requote_share = min_requote_share
        self.own_repeat_discount = own_repeat_discount
        self.max_shingles = max_shingles
        self.max_posts = max_posts

    def begin_thread(self, thread_id: str, title: str) -> DuplicateThreadState:
        """A fresh memory for one thread."""
        return DuplicateThreadState(self)


class DuplicateThreadState:
    """What one thread has said so far, as hashed shingles, and who said or quoted it first."""

    def __init__(self, detector: QuoteDuplicateDetector) -> None:
        self._d = detector
        self._origin: dict[int, int] = {}  # shingle -> ref index of the first post that had it
        self._quoted_by: dict[int, int] = {}  # shingle -> ref index of the first post that repeated it
        self._refs: dict[int, _Ref] = {}
        self._by_post_id: dict[str, int] = {}
        self._next_ref = 0

    # -- memory -----------------------------------------------------------------------------------------

    def _add_ref(self, ref: _Ref) -> int:
        index = self._next_ref
        self._next_ref += 1
        self._refs[index] = ref
        if ref.post_id is not None:
            self._by_post_id.setdefault(ref.post_id, index)
        if len(self._refs) > self._d.max_posts:
            oldest = next(iter(self._refs))
            gone = self._refs.pop(oldest)
            if gone.post_id is not None and self._by_post_id.get(gone.post_id) == oldest:
                del self._by_post_id[gone.post_id]
        return index

    def _ref(self, index: int) -> _Ref:
        return self._refs.get(index) or _Ref(None, None, None)

    def _remember(self, table: dict[int, int], hashes: list[int] | set[int], index: int) -> None:
        new = [h for h in hashes if h not in table] if len(table) else list(hashes)
        table.update(dict.fromkeys(new, index))
        excess = len(table) - self._d.max_shingles
        if excess > 0:
            # Forget the oldest shingles first (dicts keep insertion order).
            for key in [k for k, _ in zip(table, range(excess), strict=False)]:
                del table[key]

    # -- review -----------------------------------------------------------------------------------------

    def review(self, post: Post) -> Detection:
        """Score `post` against the thread so far, then remember it."""
        size = self._d.shingle_size
        own = words(post.text)
        n = len(own)
        hashes = _shingles(own, size)
        me = self._add_ref(_Ref(post.id, post.author, post.position))

        source = [_NONE] * n  # per word: ref index it repeats, _SELF for a repeat within the post
        requoter = [_NONE] * n  # per word: ref index of an earlier post that already quoted it
        origin, quoted_by = self._origin, self._quoted_by
        hash_set = set(hashes)
        matched = hash_set & origin.keys() if origin else set()
        internal_repeats = len(hash_set) != len(hashes)
        if matched or internal_repeats:
            first_seen: dict[int, int] = {}
            for i, h in enumerate(hashes):
                src = origin.get(h, _NONE) if h in matched else _NONE
                if src != _NONE:
                    quoter = quoted_by.get(h, _NONE)
                    if quoter != _NONE and not self._is_requote(post, src, quoter):
                        quoter = _NONE
                    for j in range(i, i + size):
                        if source[j] < 0:
                            source[j] = src
                        if quoter != _NONE:
                            requoter[j] = quoter
                else:
                    earlier = first_seen.setdefault(h, i)
                    if earlier + size <= i:
                        for j in range(i, i + size):
                            if source[j] == _NONE:
                                source[j] = _SELF
            self._fill_gaps(source)

        quote_words, quote_letters, quote_sources, quote_requoters, depth, quote_evidence = self._review_quotes(
            post, me
        )

        # Remember this post: its new shingles are its own; repeated ones now have a first quoter.
        self._remember(origin, hash_set - matched if matched else hash_set, me)
        if matched:
            self._remember(quoted_by, matched, me)

        return self._judge(
            post, own, source, requoter, quote_words, quote_letters, quote_sources, quote_requoters, depth,
            quote_evidence,
        )

    def _is_requote(self, post: Post, src: int, quoter: int) -> bool:
        """A third party's passage quoted again: neither the source nor the earlier quoter is this author.

        Two people quoting each other back and forth is ordinary debate, not a duplicate.
        """
        author = post.author
        if author is None:
            return True
        return self._ref(src).author != author and self._ref(quoter).author != author

    def _fill_gaps(self, source: list[int]) -> None:
        """Small edits inside a repeated passage (a changed word) stay part of the passage."""
        gap = self._d.gap_fill
        last_src, last_pos = _NONE, -1
        for i, src in enumerate(source):
            if src == _NONE:
                continue
            if src == last_src and 1 < i - last_pos <= gap + 1:
                for j in range(last_pos + 1, i):
                    source[j] = src
            last_src, last_pos = src, i

    def _review_quotes(
        self, post: Post, me: int
    ) -> tuple[int, int, Counter[int], Counter[int], int, list[Evidence]]:
        """Words and letters in marked quotes, where they come from, who quoted them before, nesting depth."""
        size = self._d.shingle_size
        total = 0
        letters = 0
        sources: Counter[int] = Counter()
        requoters: Counter[int] = Counter()
        evidence: list[Evidence] = []
        depth = max((q.depth() for q in post.quotes), default=0)
        for index, top in enumerate(post.quotes):
            for quote in top.walk():
                qwords = words(quote.text)
                if not qwords:
                    continue
                total += len(qwords)
                letters += sum(map(len, qwords))
                hashes = _shingles(qwords, size)
                src = self._quote_source(quote, hashes)
                sources[src] += len(qwords)
                earlier_quoters = Counter(
                    q
                    for h in hashes
                    if (q := self._quoted_by.get(h, me)) != me and self._is_requote(post, src, q)
                )
                if earlier_quoters:
                    quoter, hits = earlier_quoters.most_common(1)[0]
                    requoters[quoter] += min(len(qwords), hits + size - 1)
                self._remember(self._quoted_by, hashes, me)
                self._remember(self._origin, hashes, src)
                evidence.append(
                    Evidence(0, 0, note=f"quotes {self._ref(src).label()}", source_post_id=self._ref(src).post_id,
                             quote_index=index)
                )
        return total, letters, sources, requoters, depth, evidence

    def _quote_source(self, quote: Quote, hashes: list[int]) -> int:
        """The ref a marked quote comes from: the post it names, else the earliest post its words match."""
        if quote.post_id is not None and quote.post_id in self._by_post_id:
            return self._by_post_id[quote.post_id]
        origins = Counter(self._origin[h] for h in hashes if h in self._origin)
        if origins:
            return origins.most_common(1)[0][0]
        return self._add_ref(_Ref(quote.post_id, quote.author, None))

    # -- verdict ----------------------------------------------------------------------------------------

    def _judge(
        self,
        post: Post,
        own: list[str],
        source: list[int],
        requoter: list[int],
        quote_words: int,
        quote_letters: int,
        quote_sources: Counter[int],
        quote_requoters: Counter[int],
        depth: int,
        quote_evidence: list[Evidence],
    ) -> Detection:
        n = len(own)
        total = n + quote_words
        if total == 0:
            return Detection(self._category(), 0.0)
        by_source: Counter[int] = Counter(s for s in source if s >= 0)
        by_source.update(quote_sources)
        self_words = sum(1 for s in source if s == _SELF)
        repeated = sum(by_source.values())
        own_words = total - repeated - self_words
        # Shares are by letters, not words: a reader sees how much text repeats, and long words weigh more.
        letters = [len(w) for w in own]
        total_letters = sum(letters) + quote_letters
        repeated_letters = sum(c for c, s in zip(letters, source, strict=True) if s >= 0) + quote_letters
        self_letters = sum(c for c, s in zip(letters, source, strict=True) if s == _SELF)
        repeated_share = repeated_letters / total_letters
        # Repeating one's own words (an earlier post of the same author, or a passage pasted twice in this
        # post) counts for less than quoting others: it is the minor form of the problem.
        author = post.author
        own_repeat_letters = self_letters + (
            sum(c for c, s in zip(letters, source, strict=True) if s >= 0 and self._ref(s).author == author)
            if author is not None
            else 0
        )
        share = (repeated_letters + self_letters - self._d.own_repeat_discount * own_repeat_letters) / total_letters

        requoted: Counter[int] = Counter(r for r in requoter if r >= 0)
        requoted.update(quote_requoters)
        requote_words = sum(requoted.values())

        reasons: list[str] = []
        score = share
        if repeated:
            sources_text = ", ".join(
                f"{self._ref(s).label()} ({count} words)" for s, count in by_source.most_common(3)
            )
            if len(by_source) == 1:
                sources_text = self._ref(next(iter(by_source))).label()
            reasons.append(
                f"{_percent(repeated_share)} of this post repeats {sources_text}; "
                f"{own_words} word{'s' if own_words != 1 else ''} {'are' if own_words != 1 else 'is'} its own."
            )
        requote_share = sum(c for c, r in zip(letters, requoter, strict=True) if r >= 0) / total_letters
        requote_share += sum(quote_requoters.values()) * (quote_letters / quote_words if quote_words else 0) / total_letters
        if requote_words >= self._d.min_requote_words and requote_share >= self._d.min_requote_share:
            quoters = [self._ref(q).short() for q, _ in requoted.most_common(2)]
            reasons.append(
                f"re-quotes a passage ({requote_words} words) that {' and '.join(quoters)} already quoted."
            )
            # A passage the thread already quoted, quoted again as a good part of a post, is a duplicate
            # even when the post goes on to say more; a long post re-quoting a line is ordinary debate.
            excess = (requote_share - self._d.min_requote_share) / (1.0 - self._d.min_requote_share)
            score = max(score, min(0.95, 0.65 + 0.3 * excess + 0.1 * min(1.0, requote_words / 60)))
        if depth >= 2:
            reasons.append(f"quotes nested {depth} deep (a quote pyramid).")
            score = max(score, min(0.95, 0.55 + 0.15 * (depth - 1)))
        if self_words >= self._d.shingle_size * 2:
            reasons.append(f"repeats {self_words} of its own words (passages pasted twice).")

        evidence = self._evidence(post, own, source, requoter) + quote_evidence if (repeated or self_words) else []
        details: dict[str, object] = {
            "repeated_share": round(repeated_share, 4),
            "self_repeated_words": self_words,
            "own_words": own_words,
            "requoted_words": requote_words,
            "quote_depth": depth,
            "sources": [
                {"post_id": self._ref(s).post_id, "author": self._ref(s).author, "words": c}
                for s, c in by_source.most_common()
            ],
        }
        return Detection(self._category(), round(min(1.0, score), 4), tuple(reasons), tuple(evidence), details)

    def _evidence(self, post: Post, own: list[str], source: list[int], requoter: list[int]) -> list[Evidence]:
        """Character spans of the repeated runs of the post's text."""
        tokens = tokenize(post.text)
        if len(tokens) != len(own):  # the two tokenisers disagree (should not happen): no spans
            return []
        spans: list[Evidence] = []
        i = 0
        while i < len(source):
            src = source[i]
            if src == _NONE:
                i += 1
                continue
            j = i
            while j + 1 < len(source) and source[j + 1] == src:
                j += 1
            if src == _SELF:
                note = "repeats a passage of this same post"
                pid = post.id
            else:
                note = f"repeats {self._ref(src).label()}"
                if any(r >= 0 for r in requoter[i : j + 1]):
                    quoter = next(r for r in requoter[i : j + 1] if r >= 0)
                    note += f", already quoted by {self._ref(quoter).short()}"
                pid = self._ref(src).post_id
            spans.append(Evidence(tokens[i].start, tokens[j].end, note=note, source_post_id=pid))
            i = j + 1
        return spans

    def _category(self) -> Category:
        return self._d.category
