"""The duplicated-quote detector: posts that mostly repeat earlier posts of their thread.

It finds repeated words whether they are marked as quotes or pasted inline, by overlap of hashed word
shingles over normalised text (robust to re-wrapping, case and small edits), and says where they come
from. It also notices a passage re-quoted that an earlier post already quoted, quote pyramids (quotes
nested two or more deep) and a post repeating its own passages.

Memory per thread is bounded (at most `max_shingles` hashed shingles and `max_posts` post references),
and the cost of a post is linear in its length, so a thread costs time linear in its length. Word by
word, the work is done in C: shingles are hashed (`classifiers.text.shingles`) and looked up and stored
in the thread's dict in one pass that returns the runs of repeated shingles (`_lookup_runs`), both by
the optional C extension `classifiers._shingles` when it is built, else by numpy and `dict.setdefault`
(the same results); a post whose shingles are all new leaves there. Only posts that repeat something
go on, and their work is done on runs of repeated words, not word by word; passages a post pastes twice
are found in one pass too (`_self_runs`, in C when the extension is built, else by a dict or numpy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import compress, groupby, repeat
from operator import itemgetter, le, sub
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from classifiers.result import Category, Detection, Evidence
from classifiers.text import Shingles, forget_oldest, native, shingles, word_key_spans
from classifiers.thread import Post, Quote

_NONE = -1
_SELF = -2  # a passage repeated within the same post


class _Ref(NamedTuple):
    """Who wrote a passage: an earlier post of the thread, or the source a marked quote names.

    (A named tuple: one is made for every post, and a tuple is the cheapest immutable record to make.)
    """

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


def _python_lookup_runs(
    table: dict[int, int], keys: list[int], start: int, stop: int, default: int, store: bool
) -> tuple[list[tuple[int, int, int]], int, int]:
    """Look keys[start:stop] up (`table.setdefault(key, default)` if `store`, else `table.get`): the
    runs (first, last + 1, value) of looked-up values other than `default`, with positions in `keys`;
    how many keys were added; how many lookups gave `default`. (The C extension does the same.)"""
    before = len(table)
    lookup = table.setdefault if store else table.get
    values = list(map(lookup, keys[start:stop], repeat(default)))
    found = [(first + start, end + start, value) for first, end, value in _value_runs(values, default)]
    return found, len(table) - before, values.count(default)


_lookup_runs: Callable[
    [dict[int, int], list[int], int, int, int, bool], tuple[list[tuple[int, int, int]], int, int]
] = native.lookup_runs if native is not None else _python_lookup_runs


def _repeated_within(hashes: npt.NDArray[np.int64], size: int) -> list[int]:
    """Positions, in order, of the shingles of a post that already stood in it at least `size` shingles
    before (a passage pasted twice, not a word repeated in a row)."""
    count = len(hashes)
    if count < _SORT_FROM or not count:  # in C, with a dict
        first: dict[int, int] = {}
        positions = range(count)
        firsts = map(first.setdefault, hashes.tolist(), positions)
        return list(compress(positions, map(le, firsts, map(sub, positions, repeat(size)))))
    # Long posts: a stable sort groups equal shingles, the first of a group is its earliest place.
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts_group = np.empty(count, dtype=bool)
    starts_group[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    earliest = np.empty(count, dtype=np.intp)
    earliest[order] = order[starts_group][starts_group.cumsum() - 1]
    found: list[int] = (earliest <= np.arange(-size, count - size)).nonzero()[0].tolist()
    return found


_SORT_FROM = 150  # shingles; below, the dict is faster


def _python_self_runs(
    hashes: npt.NDArray[np.int64], size: int, runs: list[tuple[int, int, int]], marker: int
) -> list[tuple[int, int, int]]:
    """`runs` (first, last + 1, value), in order and apart, with the runs (first, last + 1, `marker`)
    added of the positions outside them whose shingle already stood in the post at least `size`
    shingles before; all in order (`runs` itself when no shingle did). (The C extension does the same.)
    """
    again = _repeated_within(hashes, size)
    if not again:
        return runs
    added: list[tuple[int, int, int]] = []
    r = 0
    for i in again:
        while r < len(runs) and runs[r][1] <= i:
            r += 1
        if r < len(runs) and runs[r][0] <= i:
            continue  # within a run that repeats an earlier post
        if added and added[-1][1] == i:
            added[-1] = (added[-1][0], i + 1, marker)
        else:
            added.append((i, i + 1, marker))
    return sorted(runs + added) if added else list(runs)


# A shingle is new to the thread at every place it stands in the post or at none, so the places where it
# stood before in the post can be found over them all and those within runs of repeated shingles dropped.
_self_runs: Callable[
    [npt.NDArray[np.int64], int, list[tuple[int, int, int]], int], list[tuple[int, int, int]]
] = native.self_runs if native is not None else _python_self_runs


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
        self._labels: dict[int, str] = {}  # ref index -> its label, for the refs still kept
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
            self._labels.pop(oldest, None)
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
        own = shingles(post.text, size)
        hashes = own.hashes
        me = self._add_ref(_Ref(post.id, post.author, post.position))
        # `me` is new to the tables, so below it stands for "not seen before this post".
        origin = self._origin
        quoted_by = self._quoted_by
        count = len(hashes)
        if post.quotes:
            # Marked quotes enter the tables before this post's own words do: look up first, store last.
            shingle_runs = _lookup_runs(origin, hashes, 0, count, me, False)[0]
            store_quoter = False
            internal = len(set(hashes)) != count
        else:
            # One pass in C looks every shingle up and stores the new ones as this post's own.
            shingle_runs, added, fresh = _lookup_runs(origin, hashes, 0, count, me, True)
            if added == count:
                # The common case, kept cheap: every shingle new to the thread, none twice in this post.
                forget_oldest(origin, self._d.max_shingles)
                return _NOTHING_REPEATED
            # Repeated shingles get their first quoter as they are looked up (setdefault too).
            store_quoter = True
            internal = fresh != added  # a shingle new to the thread twice in this post

        if internal:  # passages pasted twice in this post
            shingle_runs = _self_runs(own.hash_array, size, shingle_runs, _SELF)
        runs = _runs(shingle_runs, size, self._d.gap_fill)
        matched = [run for run in shingle_runs if run[2] != _SELF]
        requote_runs = self._requote_runs(post, matched, hashes, store_quoter, me) if matched else []

        if post.quotes:
            quotes = self._review_quotes(post, me)
            # Remember this post: its new shingles are its own; repeated ones now have a first quoter.
            is_new = [True] * count
            for first, last, src in shingle_runs:
                if src != _SELF:
                    is_new[first:last] = repeat(False, last - first)
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
        store_quoter: bool,
        me: int,
    ) -> list[_Run]:
        """Runs of words that repeat a passage an earlier post (of a third party) already quoted.

        `matched` holds the runs of shingles (first, last + 1, source) that repeat earlier posts; the
        quoters table says who first repeated each shingle (`me` or absent: nobody before this post).
        With `store_quoter`, this post becomes the first quoter of those that had none.
        """
        found: list[tuple[int, int, int]] = []
        verdicts: dict[tuple[int, int], bool] = {}
        quoted_by = self._quoted_by
        for first, last, src in matched:
            # (No runs: nobody repeated these shingles before this post.)
            for pos, end, quoter in _lookup_runs(quoted_by, hashes, first, last, me, store_quoter)[0]:
                verdict = verdicts.get((src, quoter))
                if verdict is None:
                    verdict = verdicts[src, quoter] = self._is_requote(post, src, quoter)
                if verdict:
                    if found and found[-1][1] == pos and found[-1][2] == quoter:
                        found[-1] = (found[-1][0], end, quoter)  # the same quoter across sources
                    else:
                        found.append((pos, end, quoter))
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
                quoted = shingles(quote.text, size)
                qwords = quoted.words
                if not qwords:
                    continue
                summary.words += qwords
                summary.letters += quoted.letters()
                hashes = quoted.hashes
                src = self._quote_source(quote, hashes)
                summary.sources[src] += qwords
                earlier = Counter(
                    q
                    for h in hashes
                    if (q := self._quoted_by.get(h, me)) != me and self._is_requote(post, src, q)
                )
                if earlier:
                    quoter, hits = earlier.most_common(1)[0]
                    summary.requoters[quoter] += min(qwords, hits + size - 1)
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
        self, post: Post, own: Shingles, runs: list[_Run], requote_runs: list[_Run], quotes: _QuoteSummary
    ) -> Detection:
        d = self._d
        total = own.words + quotes.words
        if total == 0:
            return Detection(d.category, 0.0)
        # Shares are by letters (UTF-8 bytes of the words), not words: a reader sees how much text repeats,
        # and long words weigh more.
        total_letters = own.letters() + quotes.letters
        author = post.author
        refs = self._refs

        # Plain dicts in insertion order; sorted() by count is stable, as Counter.most_common is.
        by_source: dict[int, int] = dict(quotes.sources)
        repeated = quotes.words
        repeated_letters = quotes.letters
        self_words = self_letters = own_author_letters = 0
        for run in runs:
            source, length, run_letters = run.source, run.end - run.start, own.letters(run.start, run.end)
            if source == _SELF:
                self_words += length
                self_letters += run_letters
                continue
            by_source[source] = by_source.get(source, 0) + length
            repeated += length
            repeated_letters += run_letters
            if author is not None and (ref := refs.get(source)) is not None and ref.author == author:
                own_author_letters += run_letters
        own_words = total - repeated - self_words
        repeated_share = repeated_letters / total_letters
        # Repeating one's own words (an earlier post of the same author, or a passage pasted twice in this
        # post) counts for less than quoting others: it is the minor form of the problem.
        discounted = d.own_repeat_discount * (self_letters + own_author_letters)
        share = (repeated_letters + self_letters - discounted) / total_letters

        requoted: dict[int, int] = dict(quotes.requoters)
        requote_words = sum(quotes.requoters.values())
        requote_letters = 0.0
        for run in requote_runs:
            requoted[run.source] = requoted.get(run.source, 0) + run.end - run.start
            requote_words += run.end - run.start
            requote_letters += own.letters(run.start, run.end)
        if quotes.words:
            requote_letters += sum(quotes.requoters.values()) * quotes.letters / quotes.words
        requote_share = requote_letters / total_letters

        reasons: list[str] = []
        score = share
        sources = sorted(by_source.items(), key=itemgetter(1), reverse=True) if by_source else []
        if repeated:
            if len(sources) == 1:
                sources_text = self._source_label(sources[0][0], author)
            else:
                sources_text = ", ".join(
                    f"{self._source_label(s, author)} ({count} words)" for s, count in sources[:3]
                )
            reasons.append(
                f"{_percent(repeated_share)} of this post repeats {sources_text}; "
                f"{_plural(own_words, 'word')} {'is' if own_words == 1 else 'are'} its own."
            )
        if requote_words >= d.min_requote_words and requote_share >= d.min_requote_share:
            firsts = sorted(requoted.items(), key=itemgetter(1), reverse=True)[:2]
            quoters = [self._ref(q).short() for q, _ in firsts]
            reasons.append(
                f"re-quotes a passage ({requote_words} words) that {' and '.join(quoters)} already quoted."
            )
            # A passage the thread already quoted, quoted again as a good part of a post, is a duplicate
            # even when the post goes on to say more; a long post re-quoting a line is ordinary debate.
            excess = (requote_share - d.min_requote_share) / (1.0 - d.min_requote_share)
            score = max(score, min(0.95, 0.65 + 0.3 * excess + 0.1 * min(1.0, requote_words / 60)))
        if quotes.depth >= 2:
            reasons.append(f"quotes nested {quotes.depth} deep (a quote pyramid).")
            score = max(score, min(0.95, 0.55 + 0.15 * (quotes.depth - 1)))
        if self_words >= d.shingle_size * 2:
            reasons.append(f"repeats {self_words} of its own words (passages pasted twice).")

        # Character spans cost a second pass over the text: only for posts that may be flagged.
        wanted = reasons and score >= d.evidence_min_score
        evidence = self._evidence(post, own, runs, requote_runs) + quotes.evidence if wanted else []
        details: dict[str, object] = {
            "repeated_share": round(repeated_share, 4),
            "self_repeated_words": self_words,
            "own_words": own_words,
            "requoted_words": requote_words,
            "quote_depth": quotes.depth,
            "sources": [self._source_detail(s, count) for s, count in sources],
        }
        score = round(min(1.0, max(0.0, score)), 4)
        return Detection(d.category, score, tuple(reasons), tuple(evidence), details)

    def _source_detail(self, index: int, words: int) -> dict[str, object]:
        ref = self._ref(index)
        return {"post_id": ref.post_id, "author": ref.author, "words": words}

    def _label(self, index: int) -> str:
        """`_Ref.label` of a ref, made once."""
        label = self._labels.get(index)
        if label is None:
            label = self._ref(index).label()
            if index in self._refs:  # forgotten refs are not kept
                self._labels[index] = label
        return label

    def _source_label(self, index: int, author: str | None) -> str:
        if author is not None and self._ref(index).author == author:
            return f"{self._label(index)} (its own author)"
        return self._label(index)

    def _evidence(
        self, post: Post, own: Shingles, runs: list[_Run], requote_runs: list[_Run]
    ) -> list[Evidence]:
        """Character spans of the repeated runs of the post's text."""
        if not runs:
            return []
        firsts = [run.start for run in runs]
        lasts = [run.end - 1 for run in runs]
        if own.aligned:  # the word bounds are character spans of the text
            starts, ends = own.starts[firsts].tolist(), own.ends[lasts].tolist()
        else:
            spans = word_key_spans(post.text)
            if spans is None or len(spans) != own.words:
                return []  # the text cannot be aligned word for word (rare Unicode): no spans
            starts, ends = [spans[i][0] for i in firsts], [spans[i][1] for i in lasts]
        found: list[Evidence] = []
        for run, start, end in zip(runs, starts, ends, strict=True):
            pid: str | None
            source = run.source
            if source == _SELF:
                note, pid = "repeats a passage of this same post", post.id
            else:
                note, pid = f"repeats {self._label(source)}", self._ref(source).post_id
                if requote_runs:
                    quoter = next(
                        (r.source for r in requote_runs if r.start < run.end and run.start < r.end), _NONE
                    )
                    if quoter != _NONE:
                        note += f", already quoted by {self._ref(quoter).short()}"
            found.append(Evidence(start, end, note=note, source_post_id=pid))
        return found
