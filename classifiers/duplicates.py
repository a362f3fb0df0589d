"""The duplicated-quote detector: posts that mostly repeat earlier posts of their thread.

It finds repeated words whether they are marked as quotes or pasted inline, by overlap of hashed word
shingles over normalised text (robust to re-wrapping, case and small edits), and says where they come
from. It also notices a passage re-quoted that an earlier post already quoted, quote pyramids (quotes
nested two or more deep) and a post repeating its own passages.

Memory per thread is bounded (at most `max_shingles` hashed shingles and `max_posts` post references),
and the cost of a post is linear in its length, so a thread costs time linear in its length. The work per
post is done on runs of repeated words, not word by word, and word keys come from C-level string
methods, so the detector keeps up with busy forums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate, compress, groupby, repeat

from classifiers.result import Category, Detection, Evidence
from classifiers.text import ascii_word_bounds, forget_oldest, shingle_hashes, word_key_spans, word_keys
from classifiers.thread import Post, Quote

_NONE = -1
_SELF = -2  # a passage repeated within the same post


@dataclass(frozen=True, slots=True)
class _Ref:
    """Who wrote a passage: an earlier post of the thread, or the source a marked quote names."""

    post_id: str | None
    author: str | None
    position: int | None

    def label(self) -> str:
        """'post #3 by alice', 'post p1 by bob' or 'an unattributed source'."""
        if self.position is not None:
            where = f"post #{self.position}"
        elif self.post_id is not None:
            where = f"post {self.post_id}"
        else:
            where = "an unattributed source"
        return f"{where} by {self.author}" if self.author else where

    def short(self) -> str:
        """'post #3 (alice)'."""
        where = f"post #{self.position}" if self.position is not None else f"post {self.post_id}"
        return f"{where} ({self.author})" if self.author else where


@dataclass(slots=True)
class _Run:
    """Words [start, end) of a post that repeat `source` (a ref index, or _SELF)."""

    start: int
    end: int
    source: int


@dataclass(slots=True)
class _QuoteSummary:
    """What a post's marked quotes add up to."""

    depth: int = 0
    words: int = 0
    letters: int = 0
    sources: Counter[int] = field(default_factory=Counter)
    requoters: Counter[int] = field(default_factory=Counter)
    evidence: list[Evidence] = field(default_factory=list)


_NOTHING_REPEATED = Detection("duplicated_quote", 0.0)
_NO_QUOTES = _QuoteSummary()  # read only


def _value_runs(values: list[int], none: int) -> list[tuple[int, int, int]]:
    """Runs (first, last + 1, value) of equal values other than `none` in a per-shingle list."""
    found = []
    pos = 0
    for value, group in groupby(values):
        end = pos + len(list(group))
        if value != none:
            found.append((pos, end, value))
        pos = end
    return found


def _runs(shingle_runs: Iterable[tuple[int, int, int]], size: int, gap: int) -> list[_Run]:
    """Turn runs of shingles (first, last + 1, source), in order, into runs of words.

    A shingle covers `size` words. Words already covered keep their first source. Two runs of the same
    source separated by at most `gap` words are one passage with a small edit inside.
    """
    runs: list[_Run] = []
    for pos, last, src in shingle_runs:
        end = last - 1 + size
        if runs:
            prev = runs[-1]
            if src == prev.source and pos <= prev.end + gap:
                if end > prev.end:
                    prev.end = end
                continue
            if pos < prev.end:
                pos = prev.end
                if pos >= end:
                    continue
        runs.append(_Run(pos, end, src))
    return runs


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


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
        evidence_min_score: float = 0.3,
    ) -> None:
        if shingle_size < 2:
            raise ValueError("shingle_size must be at least 2")
        if not 0.0 < min_requote_share < 1.0:
            raise ValueError("min_requote_share must be within (0, 1)")
        self.shingle_size = shingle_size
        self.gap_fill = gap_fill
        self.min_requote_words = min_requote_words
        self.min_requote_share = min_requote_share
        self.own_repeat_discount = own_repeat_discount
        self.max_shingles = max_shingles
        self.max_posts = max_posts
        self.evidence_min_score = evidence_min_score

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold: evidence spans are computed for posts that reach it."""
        self.evidence_min_score = min(self.evidence_min_score, value)

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

    def _remember(self, table: dict[int, int], hashes: list[int], index: int) -> None:
        """Record `hashes` as first seen at `index` (those already known keep their first sighting)."""
        if table and not table.keys().isdisjoint(hashes):
            hashes = [h for h in hashes if h not in table]
        table.update(dict.fromkeys(hashes, index))
        forget_oldest(table, self._d.max_shingles)

    # -- review -----------------------------------------------------------------------------------------

    def review(self, post: Post) -> Detection:
        """Score `post` against the thread so far, then remember it."""
        size = self._d.shingle_size
        own = word_keys(post.text)
        hashes = shingle_hashes(own, size)
        me = self._add_ref(_Ref(post.id, post.author, post.position))
        # `me` is new to the tables, so below it stands for "not seen before this post".
        origin = self._origin
        quoted_by = self._quoted_by
        if post.quotes:
            # Marked quotes enter the tables before this post's own words do: look up first, store last.
            srcs = list(map(origin.get, hashes, repeat(me)))
            lookup_quoter: Callable[[int, int], int] = quoted_by.get
            internal = len(set(hashes)) != len(hashes)
        else:
            # One pass in C looks every shingle up and stores the new ones as this post's own.
            before = len(origin)
            srcs = list(map(origin.setdefault, hashes, repeat(me)))
            added = len(origin) - before
            if added == len(hashes):
                # The common case, kept cheap: every shingle new to the thread, none twice in this post.
                forget_oldest(origin, self._d.max_shingles)
                return _NOTHING_REPEATED
            # Repeated shingles get their first quoter as they are looked up (setdefault too).
            lookup_quoter = quoted_by.setdefault
            internal = srcs.count(me) != added  # a shingle new to the thread twice in this post

        marks = srcs
        if internal:
            first_seen: dict[int, int] = {}
            again = [
                i
                for i, (h, src) in enumerate(zip(hashes, srcs, strict=True))
                if src == me and first_seen.setdefault(h, i) + size <= i
            ]
            if again:
                marks = srcs.copy()
                for i in again:
                    marks[i] = _SELF
        shingle_runs = _value_runs(marks, me)
        runs = _runs(shingle_runs, size, self._d.gap_fill)
        matched = [run for run in shingle_runs if run[2] != _SELF]
        requote_runs = self._requote_runs(post, matched, hashes, lookup_quoter, me) if matched else []

        if post.quotes:
            quotes = self._review_quotes(post, me)
            # Remember this post: its new shingles are its own; repeated ones now have a first quoter.
            is_new = [src == me for src in srcs]
            self._remember(quoted_by, list(compress(hashes, [not new for new in is_new])), me)
            self._remember(origin, list(compress(hashes, is_new)), me)
        else:
            quotes = _NO_QUOTES
            forget_oldest(quoted_by, self._d.max_shingles)
            forget_oldest(origin, self._d.max_shingles)
        return self._judge(post, own, runs, requote_runs, quotes)

    def _requote_runs(
        self,
        post: Post,
        matched: list[tuple[int, int, int]],
        hashes: list[int],
        lookup_quoter: Callable[[int, int], int],
        me: int,
    ) -> list[_Run]:
        """Runs of words that repeat a passage an earlier post (of a third party) already quoted.

        `matched` holds the runs of shingles (first, last + 1, source) that repeat earlier posts;
        `lookup_quoter(h, me)` says who first repeated shingle `h` (`me`: nobody before this post).
        """
        found: list[tuple[int, int, int]] = []
        verdicts: dict[tuple[int, int], bool] = {}
        for first, last, src in matched:
            pos = first
            for quoter, group in groupby(map(lookup_quoter, hashes[first:last], repeat(me))):
                end = pos + len(list(group))
                if quoter != me:
                    verdict = verdicts.get((src, quoter))
                    if verdict is None:
                        verdict = verdicts[src, quoter] = self._is_requote(post, src, quoter)
                    if verdict:
                        if found and found[-1][1] == pos and found[-1][2] == quoter:
                            found[-1] = (found[-1][0], end, quoter)  # the same quoter across sources
                        else:
                            found.append((pos, end, quoter))
                pos = end
        return _runs(found, self._d.shingle_size, self._d.gap_fill)

    def _is_requote(self, post: Post, src: int, quoter: int) -> bool:
        """A third party's passage quoted again: neither the source nor the earlier quoter is this author.

        Two people quoting each other back and forth is ordinary debate, not a duplicate.
        """
        author = post.author
        if author is None:
            return True
        return self._ref(src).author != author and self._ref(quoter).author != author

    def _review_quotes(self, post: Post, me: int) -> _QuoteSummary:
        """Words in marked quotes, where they come from, who quoted them before, and nesting depth."""
        size = self._d.shingle_size
        summary = _QuoteSummary(depth=max((q.depth() for q in post.quotes), default=0))
        for index, top in enumerate(post.quotes):
            for quote in top.walk():
                qwords = word_keys(quote.text)
                if not qwords:
                    continue
                summary.words += len(qwords)
                summary.letters += sum(map(len, qwords))
                hashes = shingle_hashes(qwords, size)
                src = self._quote_source(quote, hashes)
                summary.sources[src] += len(qwords)
                earlier = Counter(
                    q
                    for h in hashes
                    if (q := self._quoted_by.get(h, me)) != me and self._is_requote(post, src, q)
                )
                if earlier:
                    quoter, hits = earlier.most_common(1)[0]
                    summary.requoters[quoter] += min(len(qwords), hits + size - 1)
                self._remember(self._quoted_by, hashes, me)
                self._remember(self._origin, hashes, src)
                ref = self._ref(src)
                summary.evidence.append(
                    Evidence(
                        0, 0, note=f"quotes {ref.label()}", source_post_id=ref.post_id, quote_index=index
                    )
                )
        return summary

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
        self, post: Post, own: list[bytes], runs: list[_Run], requote_runs: list[_Run], quotes: _QuoteSummary
    ) -> Detection:
        total = len(own) + quotes.words
        if total == 0:
            return Detection(self._d.category, 0.0)
        # Shares are by letters, not words: a reader sees how much text repeats, and long words weigh more.
        prefix = [0, *accumulate(map(len, own))]
        total_letters = prefix[-1] + quotes.letters
        author = post.author

        by_source: Counter[int] = Counter(quotes.sources)
        repeated_letters = quotes.letters
        self_words = self_letters = own_author_letters = 0
        for run in runs:
            length, run_letters = run.end - run.start, prefix[run.end] - prefix[run.start]
            if run.source == _SELF:
                self_words += length
                self_letters += run_letters
                continue
            by_source[run.source] += length
            repeated_letters += run_letters
            if author is not None and self._ref(run.source).author == author:
                own_author_letters += run_letters
        repeated = sum(by_source.values())
        own_words = total - repeated - self_words
        repeated_share = repeated_letters / total_letters
        # Repeating one's own words (an earlier post of the same author, or a passage pasted twice in this
        # post) counts for less than quoting others: it is the minor form of the problem.
        discounted = self._d.own_repeat_discount * (self_letters + own_author_letters)
        share = (repeated_letters + self_letters - discounted) / total_letters

        requoted: Counter[int] = Counter(quotes.requoters)
        requote_letters = 0.0
        for run in requote_runs:
            requoted[run.source] += run.end - run.start
            requote_letters += prefix[run.end] - prefix[run.start]
        if quotes.words:
            requote_letters += sum(quotes.requoters.values()) * quotes.letters / quotes.words
        requote_words = sum(requoted.values())
        requote_share = requote_letters / total_letters

        reasons: list[str] = []
        score = share
        if repeated:
            if len(by_source) == 1:
                sources_text = self._source_label(next(iter(by_source)), author)
            else:
                sources_text = ", ".join(
                    f"{self._source_label(s, author)} ({count} words)"
                    for s, count in by_source.most_common(3)
                )
            reasons.append(
                f"{_percent(repeated_share)} of this post repeats {sources_text}; "
                f"{_plural(own_words, 'word')} {'is' if own_words == 1 else 'are'} its own."
            )
        if requote_words >= self._d.min_requote_words and requote_share >= self._d.min_requote_share:
            quoters = [self._ref(q).short() for q, _ in requoted.most_common(2)]
            reasons.append(
                f"re-quotes a passage ({requote_words} words) that {' and '.join(quoters)} already quoted."
            )
            # A passage the thread already quoted, quoted again as a good part of a post, is a duplicate
            # even when the post goes on to say more; a long post re-quoting a line is ordinary debate.
            excess = (requote_share - self._d.min_requote_share) / (1.0 - self._d.min_requote_share)
            score = max(score, min(0.95, 0.65 + 0.3 * excess + 0.1 * min(1.0, requote_words / 60)))
        if quotes.depth >= 2:
            reasons.append(f"quotes nested {quotes.depth} deep (a quote pyramid).")
            score = max(score, min(0.95, 0.55 + 0.15 * (quotes.depth - 1)))
        if self_words >= self._d.shingle_size * 2:
            reasons.append(f"repeats {self_words} of its own words (passages pasted twice).")

        # Character spans cost a second pass over the text: only for posts that may be flagged.
        wanted = reasons and score >= self._d.evidence_min_score
        evidence = self._evidence(post, len(own), runs, requote_runs) + quotes.evidence if wanted else []
        details: dict[str, object] = {
            "repeated_share": round(repeated_share, 4),
            "self_repeated_words": self_words,
            "own_words": own_words,
            "requoted_words": requote_words,
            "quote_depth": quotes.depth,
            "sources": [
                {"post_id": self._ref(s).post_id, "author": self._ref(s).author, "words": c}
                for s, c in by_source.most_common()
            ],
        }
        score = round(min(1.0, max(0.0, score)), 4)
        return Detection(self._d.category, score, tuple(reasons), tuple(evidence), details)

    def _source_label(self, index: int, author: str | None) -> str:
        ref = self._ref(index)
        if author is not None and ref.author == author:
            return f"{ref.label()} (its own author)"
        return ref.label()

    def _evidence(self, post: Post, words: int, runs: list[_Run], requote_runs: list[_Run]) -> list[Evidence]:
        """Character spans of the repeated runs of the post's text."""
        if not runs:
            return []
        if post.text.isascii():
            starts, ends = ascii_word_bounds(post.text)
            # Boilerplate lines hold words that `word_keys` skipped: then the counts differ.
            spans = list(zip(starts, ends, strict=True)) if len(starts) == words else None
        else:
            spans = None
        if spans is None:
            spans = word_key_spans(post.text)
        if spans is None or len(spans) != words:
            return []  # the text cannot be aligned word for word (rare Unicode): no spans
        found: list[Evidence] = []
        for run in runs:
            pid: str | None
            if run.source == _SELF:
                note, pid = "repeats a passage of this same post", post.id
            else:
                note, pid = f"repeats {self._ref(run.source).label()}", self._ref(run.source).post_id
                quoter = next(
                    (r.source for r in requote_runs if r.start < run.end and run.start < r.end), _NONE
                )
                if quoter != _NONE:
                    note += f", already quoted by {self._ref(quoter).short()}"
            found.append(Evidence(spans[run.start][0], spans[run.end - 1][1], note=note, source_post_id=pid))
        return found
