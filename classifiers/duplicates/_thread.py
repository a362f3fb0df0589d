"""One thread's memory: what it has said so far, as hashed shingles, and who said or quoted it first.

Each post is looked up against the thread (`review`): its words that repeat earlier posts (inline or in
marked quotes), passages it pastes twice, and passages it quotes that an earlier post of a third party
already quoted. `_measure.measure` turns those runs into `Measures` for the verdict.

Memory per thread is bounded (at most `max_shingles` hashed shingles and `max_posts` post references),
and the cost of a post is linear in its length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import compress, repeat
from typing import TYPE_CHECKING

from classifiers.duplicates import _runs
from classifiers.duplicates._lines import RecentTexts, opening_line
from classifiers.duplicates._measure import QuoteSummary, measure
from classifiers.duplicates._refs import NOBODY, Ref
from classifiers.duplicates._runs import SELF, Run, word_runs
from classifiers.result import Detection, Evidence
from classifiers.shingles import shingles
from classifiers.text import forget_oldest
from classifiers.thread import Post, Quote

if TYPE_CHECKING:
    from classifiers.duplicates import QuoteDuplicateDetector

_NOTHING_REPEATED = Detection("duplicated_quote", 0.0)
_NO_QUOTES = QuoteSummary()  # read only


class DuplicateThreadState:
    """What one thread has said so far, as hashed shingles, and who said or quoted it first."""

    def __init__(self, detector: QuoteDuplicateDetector) -> None:
        self._d = detector
        self._origin: dict[int, int] = {}  # shingle -> ref index of the first post that had it
        self._quoted_by: dict[int, int] = {}  # shingle -> ref index of the first post that repeated it
        self._refs: dict[int, Ref] = {}
        self._fresh: dict[int, int] = {}  # ref index -> words first said there, for "quotes all of"
        self._outside: set[int] = set()  # refs of sources outside the thread (named by marked quotes)
        self._labels: dict[int, str] = {}  # ref index -> its label, for the refs still kept
        self._by_post_id: dict[str, int] = {}
        self._next_ref = 0
        self.posts_before = 0  # posts of the thread reviewed before the current one
        self.marked = False  # whether the thread's source marks quotes up (a post of it had `quotes`)
        self._recent = RecentTexts()  # latest posts' texts, for short lines quoted inline (plain text only)

    @property
    def detector(self) -> QuoteDuplicateDetector:
        """The detector whose settings this memory follows."""
        return self._d

    # -- memory -----------------------------------------------------------------------------------------

    def _add_ref(self, ref: Ref) -> int:
        index = self._next_ref
        self._next_ref += 1
        self._refs[index] = ref
        if ref.post_id is not None:
            self._by_post_id.setdefault(ref.post_id, index)
        if len(self._refs) > self._d.max_posts:
            oldest = next(iter(self._refs))
            gone = self._refs.pop(oldest)
            self._labels.pop(oldest, None)
            self._fresh.pop(oldest, None)
            self._outside.discard(oldest)
            if gone.post_id is not None and self._by_post_id.get(gone.post_id) == oldest:
                del self._by_post_id[gone.post_id]
        return index

    def ref(self, index: int) -> Ref:
        """The post (or outside source) a ref index stands for; an empty one once forgotten."""
        return self._refs.get(index) or NOBODY

    def label(self, index: int) -> str:
        """`Ref.label` of a ref, made once."""
        label = self._labels.get(index)
        if label is None:
            label = self.ref(index).label()
            if index in self._refs:  # forgotten refs are not kept
                self._labels[index] = label
        return label

    def fresh_words(self, index: int) -> int:
        """Words first said in that post (0 when unknown)."""
        return self._fresh.get(index, 0)

    def is_outside(self, index: int) -> bool:
        """Whether the ref is a source outside the thread (a marked quote of something never posted)."""
        return index in self._outside

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
        me = self._add_ref(Ref(post.id, post.author, post.position))
        # `me` is new to the tables, so below it stands for "not seen before this post".
        origin = self._origin
        count = len(hashes)
        line: Run | None = None
        if post.quotes:
            # Marked quotes enter the tables before this post's own words do: look up first, store last.
            shingle_runs = _runs.lookup_runs(origin, hashes, 0, count, me, False)[0]
            store_quoter = False
            internal = len(set(hashes)) != count
        else:
            line = self._quoted_line(post, me)
            # One pass in C looks every shingle up and stores the new ones as this post's own.
            shingle_runs, added, fresh = _runs.lookup_runs(origin, hashes, 0, count, me, True)
            if added == count and line is None:
                # The common case, kept cheap: every shingle new to the thread, none twice in this post.
                self._fresh[me] = own.words
                self.posts_before += 1
                forget_oldest(origin, self._d.max_shingles)
                return _NOTHING_REPEATED
            # Repeated shingles get their first quoter as they are looked up (setdefault too).
            store_quoter = True
            internal = fresh != added  # a shingle new to the thread twice in this post

        if internal:  # passages pasted twice in this post
            shingle_runs = _runs.self_runs(own.hash_array, size, shingle_runs, SELF)
        runs = word_runs(shingle_runs, size, self._d.gap_fill)
        if line is not None and (not runs or runs[0].start >= line.end):
            runs.insert(0, line)
        else:
            line = None
        matched = [run for run in shingle_runs if run[2] != SELF]
        if post.quotes or self.marked:
            runs, matched = self._unmarked_runs(post, runs, matched)
        requote_runs = self._requote_runs(post, matched, hashes, store_quoter, me) if matched else []

        if post.quotes:
            quotes = self._review_quotes(post, me)
            # Remember this post: its new shingles are its own; repeated ones now have a first quoter.
            is_new = [True] * count
            for first, last, src in shingle_runs:
                if src != SELF:
                    is_new[first:last] = repeat(False, last - first)
            self._remember(self._quoted_by, list(compress(hashes, [not new for new in is_new])), me)
            self._remember(origin, list(compress(hashes, is_new)), me)
        else:
            quotes = _NO_QUOTES
            forget_oldest(self._quoted_by, self._d.max_shingles)
            forget_oldest(origin, self._d.max_shingles)
        detection = measure(self, post, own, runs, requote_runs, quotes, quoted_line=line is not None)
        self._fresh[me] = own.words - sum(r.end - r.start for r in runs if r.source != SELF)
        self.posts_before += 1
        return detection

    def _quoted_line(self, post: Post, me: int) -> Run | None:
        """In plain text, a short opening line said by a recent post (`_lines`), as a run of words of
        the post; the post's text is remembered for those that follow."""
        if self.marked:
            return None
        needle = opening_line(post.text, self._d.shingle_size - 1)
        if needle is None:
            self._recent.add(me, post.text)
            return None
        source = self._recent.find(needle)
        self._recent.add(me, post.text)
        return None if source is None else Run(0, shingles(needle, self._d.shingle_size).words, source)

    def _unmarked_runs(
        self, post: Post, runs: list[Run], matched: list[tuple[int, int, int]]
    ) -> tuple[list[Run], list[tuple[int, int, int]]]:
        """Where the source marks its quotes, the runs outside the markup long enough to be a quote
        (`Rules.min_unmarked_words`; shorter ones are words in common by chance), and the shingle runs
        within them."""
        # (An empty quote block says nothing: the source marks quotes once one holds words.)
        if not self.marked:
            self.marked = any(q.text.strip() for _, q in _walk(post.quotes))
        if not self.marked or not matched:
            return runs, matched
        least = self._d.rules.min_unmarked_words
        kept = [run for run in runs if run.source == SELF or run.end - run.start >= least]
        if len(kept) == len(runs):
            return runs, matched
        size = self._d.shingle_size
        spans = [(run.start, run.end) for run in kept if run.source != SELF]
        inside = [m for m in matched if any(start <= m[0] and m[1] - 1 + size <= end for start, end in spans)]
        return kept, inside

    def _requote_runs(
        self,
        post: Post,
        matched: list[tuple[int, int, int]],
        hashes: list[int],
        store_quoter: bool,
        me: int,
    ) -> list[Run]:
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
            for pos, end, quoter in _runs.lookup_runs(quoted_by, hashes, first, last, me, store_quoter)[0]:
                verdict = verdicts.get((src, quoter))
                if verdict is None:
                    verdict = verdicts[src, quoter] = self.is_requote(post, src, quoter)
                if verdict:
                    if found and found[-1][1] == pos and found[-1][2] == quoter:
                        found[-1] = (found[-1][0], end, quoter)  # the same quoter across sources
                    else:
                        found.append((pos, end, quoter))
        return word_runs(found, self._d.shingle_size, self._d.gap_fill)

    def is_requote(self, post: Post, src: int, quoter: int) -> bool:
        """A third party's passage that an earlier post quoted, quoted again.

        Not a re-quote: an author quoting back their own words that someone quoted (two people quoting
        each other back and forth is ordinary debate), nor a passage whose earlier "quoter" was its own
        author repeating it. An author quoting again a passage they already quoted is one.
        """
        source_author = self.ref(src).author
        quoter_author = self.ref(quoter).author
        if quoter_author is not None and quoter_author == source_author:
            return False
        return post.author is None or source_author != post.author

    def _review_quotes(self, post: Post, me: int) -> QuoteSummary:
        """Words in marked quotes, where they come from, who quoted them before, and nesting depth."""
        summary = QuoteSummary(depth=max((q.depth() for q in post.quotes), default=0))
        for index, quote in _walk(post.quotes):
            quoted = shingles(quote.text, self._d.shingle_size)
            qwords = quoted.words
            if not qwords:
                continue
            summary.words += qwords
            summary.letters += quoted.letters()
            hashes = quoted.hashes
            src = self._quote_source(quote, hashes)
            summary.sources[src] += qwords
            self._note_requote(post, summary, quote, src, hashes, me)
            self._remember(self._quoted_by, hashes, me)
            self._remember(self._origin, hashes, src)
            summary.evidence.append(
                Evidence(
                    0,
                    0,
                    note=self._quote_note(src, qwords),
                    source_post_id=self.ref(src).post_id,
                    quote_index=index,
                )
            )
        return summary

    def _quote_note(self, src: int, words: int) -> str:
        """What a marked quote is, in plain words: 'quotes post #3 by rxu', or for a source never posted in
        the thread 'quotes a passage from an outside source (120 words)' (or '... by alice from outside the
        thread')"""
        if not self.is_outside(src):
            return f"quotes {self.label(src)}"
        author = self.ref(src).author
        what = "a passage from an outside source"
        if author:
            what = f"a passage by {author} from outside the thread"
        return f"quotes {what} ({words} word{'' if words == 1 else 's'})"

    def _note_requote(
        self, post: Post, summary: QuoteSummary, quote: Quote, src: int, hashes: list[int], me: int
    ) -> None:
        """Count the words of a marked quote that an earlier post (of a third party) already quoted."""
        earlier = Counter(
            q for h in hashes if (q := self._quoted_by.get(h, me)) != me and self.is_requote(post, src, q)
        )
        if not earlier:
            return
        quoter, hits = earlier.most_common(1)[0]
        words = min(len(hashes) + self._d.shingle_size - 1, hits + self._d.shingle_size - 1)
        summary.requoters[quoter] += words
        best = summary.requote
        if best is None or words > best[0]:
            summary.requote = (words, quote.text, src, quoter)

    def _quote_source(self, quote: Quote, hashes: list[int]) -> int:
        """The ref a marked quote comes from: the post it names, else the earliest post its words match."""
        if quote.post_id is not None and quote.post_id in self._by_post_id:
            return self._by_post_id[quote.post_id]
        origins = Counter(self._origin[h] for h in hashes if h in self._origin)
        if origins:
            return origins.most_common(1)[0][0]
        index = self._add_ref(Ref(quote.post_id, quote.author, None))
        self._outside.add(index)
        return index


def _walk(quotes: tuple[Quote, ...]) -> Iterator[tuple[int, Quote]]:
    """Every marked quote, nested ones included, with the index of its outermost quote."""
    for index, top in enumerate(quotes):
        for quote in top.walk():
            yield index, quote
