"""From the runs of repeated words that a thread's memory found in a post to its `Measures`, verdict and
evidence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from operator import itemgetter

from classifiers.duplicates._refs import ThreadMemory
from classifiers.duplicates._runs import NONE, SELF, Run
from classifiers.duplicates._verdict import (
    UNFLAGGED_CEILING,
    Measures,
    Requote,
    Rules,
    Source,
    Verdict,
    flags,
    is_over_quote,
    is_pyramid,
    judge,
)
from classifiers.result import Detection, Evidence
from classifiers.shingles import Shingles
from classifiers.text import word_key_spans, words
from classifiers.thread import Post

_EXCERPT_WORDS = 8
_WHOLE = 0.9  # repeating this share of a post's own words is quoting all of it
_JOINERS = "'.-"  # inside a word to a reader (`classifiers.text.WORD_RE`), between words to the shingles


@dataclass(slots=True)
class QuoteSummary:
    """What a post's marked quotes add up to."""

    depth: int = 0
    words: int = 0
    letters: int = 0
    sources: Counter[int] = field(default_factory=Counter)
    requoters: Counter[int] = field(default_factory=Counter)
    requote: tuple[int, str, int, int] | None = None  # words, quote text, source, first quoter
    evidence: list[Evidence] = field(default_factory=list)


def measure(
    state: ThreadMemory,
    post: Post,
    own: Shingles,
    runs: list[Run],
    requote_runs: list[Run],
    quotes: QuoteSummary,
    *,
    quoted_line: bool = False,
) -> Detection:
    """Count what `post` repeats, judge it, and point at the repeated words when it may be flagged.
    `quoted_line`: the first run is a short opening line quoted inline (`_lines`)."""
    detector = state.detector
    total = own.words + quotes.words
    if total == 0:
        return Detection("duplicated_quote", 0.0)
    by_source, letters, self_words = _repeated(own, runs, quotes)
    repeated = sum(by_source.values())
    own_words = total - repeated - self_words
    rules = detector.rules
    inside = {s: n for s, n in by_source.items() if not state.is_outside(s)}
    outside = [n for s, n in by_source.items() if s not in inside]
    repeated_inside = sum(inside.values())
    marked_inside = sum(n for s, n in quotes.sources.items() if not state.is_outside(s))
    # A marked quote of a line or two, answered, is how a board replies: it points at what it answers.
    one_line = 0 < marked_inside == repeated_inside <= rules.one_line_words
    counted = rules.max_own_words < own_words <= 2 * rules.max_own_words
    counted = counted and (repeated_inside >= rules.min_repeated_words or quoted_line)
    if counted:
        # Near the limit, count as a reader does (marked quotes are not in the text): it may fall under it.
        own_words = _reader_words(post.text, own, runs, own_words)
    measures = Measures(
        own_words=own_words,
        repeated_words=repeated_inside,
        repeated_share=letters / (own.letters() + quotes.letters),
        self_words=self_words,
        depth=quotes.depth,
        sources=(),
        requote=_requote(state, post, own, runs, requote_runs, quotes, rules),
        opening=state.posts_before == 0,
        one_line=one_line,
        quoted_line=quoted_line,
        outside=(len(outside), sum(outside)),
    )
    measures, verdict = _judged(state, post, own, runs, measures, inside, counted=counted)
    # Character spans cost a second pass over the text: only for posts that may be flagged.
    wanted = verdict.reasons and verdict.score >= detector.evidence_min_score
    evidence = _evidence(state, post, own, runs, requote_runs) + quotes.evidence if wanted else []
    return Detection(
        "duplicated_quote",
        verdict.score,
        verdict.reasons,
        tuple(evidence),
        _details(state, measures, by_source),
        verdict.severity,
    )


def _repeated(own: Shingles, runs: list[Run], quotes: QuoteSummary) -> tuple[dict[int, int], int, int]:
    """Words repeated per source (marked quotes included), letters repeated from earlier posts, and words
    the post repeats of itself."""
    by_source: dict[int, int] = dict(quotes.sources)
    letters = quotes.letters
    self_words = 0
    for run in runs:
        length = run.end - run.start
        if run.source == SELF:
            self_words += length
            continue
        by_source[run.source] = by_source.get(run.source, 0) + length
        letters += own.letters(run.start, run.end)
    return by_source, letters, self_words


def _judged(
    state: ThreadMemory,
    post: Post,
    own: Shingles,
    runs: list[Run],
    measures: Measures,
    inside: dict[int, int],
    *,
    counted: bool,
) -> tuple[Measures, Verdict]:
    """The verdict on the measures; those of a post worth explaining first get the sources its reasons
    name, and own words counted as a reader does (unless `counted` so already)."""
    rules = state.detector.rules
    flagged = flags(measures, rules)
    if flagged or UNFLAGGED_CEILING * measures.repeated_share >= state.detector.evidence_min_score:
        own_words = measures.own_words
        if own_words and not counted and (is_over_quote(measures, rules) or is_pyramid(measures, rules)):
            own_words = _reader_words(post.text, own, runs, own_words)
        measures = replace(measures, own_words=own_words, sources=_sources(state, post, inside))
        return measures, judge(measures, rules)
    return measures, Verdict(round(UNFLAGGED_CEILING * measures.repeated_share, 4), "alert", ())


def _details(state: ThreadMemory, measures: Measures, by_source: dict[int, int]) -> dict[str, object]:
    """The measures as the detection's details (its output and the moderators' record)."""
    return {
        "repeated_share": round(measures.repeated_share, 4),
        "self_repeated_words": measures.self_words,
        "own_words": measures.own_words,
        "requoted_words": measures.requote.words if measures.requote else 0,
        "quote_depth": measures.depth,
        "sources": [_source_detail(state, s, n) for s, n in _by_count(by_source)],
    }


def _by_count(counts: dict[int, int]) -> list[tuple[int, int]]:
    # sorted() by count is stable, as Counter.most_common is: ties keep the order of first sighting.
    return sorted(counts.items(), key=itemgetter(1), reverse=True)


def _sources(state: ThreadMemory, post: Post, inside: dict[int, int]) -> tuple[Source, ...]:
    found = []
    for index, count in _by_count(inside):
        fresh = state.fresh_words(index)
        author = state.ref(index).author
        found.append(
            Source(
                state.label(index),
                count,
                whole=fresh > 0 and count >= _WHOLE * fresh,
                own_author=author is not None and author == post.author,
            )
        )
    return tuple(found)


def _source_detail(state: ThreadMemory, index: int, words: int) -> dict[str, object]:
    ref = state.ref(index)
    return {"post_id": ref.post_id, "author": ref.author, "words": words}


def _reader_words(text: str, own: Shingles, runs: list[Run], keys: int) -> int:
    """The post's own words as a reader counts them (as `classifiers.text.words` does): "didn't",
    "pro-life" and "www.example.com" are one word each, where the shingles split them. `keys` is the
    count as the shingles split them."""
    if not own.aligned:
        return min(keys, _reader_words_slowly(text, own, runs) or keys)
    joins = 0
    first = 0
    for run in [*runs, Run(own.words, own.words, SELF)]:
        if run.start - first > 1:  # own words [first, run.start)
            starts = own.starts[first + 1 : run.start].tolist()
            ends = own.ends[first : run.start - 1].tolist()
            # Two own words one joining character apart ("didn" ' "t") are one word to a reader.
            joins += sum(1 for s, e in zip(starts, ends, strict=True) if s - e == 1 and text[e] in _JOINERS)
        first = max(first, run.end)
    return keys - joins


def _reader_words_slowly(text: str, own: Shingles, runs: list[Run]) -> int | None:
    """`_reader_words` of text that is not plain ASCII: `words` of the text outside the repeated runs."""
    spans = word_key_spans(text)
    if spans is None or len(spans) != own.words:
        return None
    parts = []
    pos = 0
    for run in runs:
        parts.append(text[pos : spans[run.start][0]])
        pos = spans[run.end - 1][1]
    parts.append(text[pos:])
    return len(words(" ".join(parts)))


def _requote(
    state: ThreadMemory,
    post: Post,
    own: Shingles,
    runs: list[Run],
    requote_runs: list[Run],
    quotes: QuoteSummary,
    rules: Rules,
) -> Requote | None:
    """The longest passage the post re-quotes, inline or in a marked quote (its first words only when it
    is long enough to flag)."""
    best: Requote | None = None
    if requote_runs:
        run = max(requote_runs, key=lambda r: r.end - r.start)
        source = next((r.source for r in runs if r.start <= run.start < r.end and r.source != SELF), NONE)
        words = run.end - run.start
        chars = own.letters(run.start, run.end) + words - 1
        best = Requote(words, chars, "", state.label(source), state.label(run.source))
        if words >= rules.min_requote_words and chars >= rules.min_requote_chars:
            best = _with_excerpt(best, post.text, own, run)
    if quotes.requote is not None:
        words, text, src, quoter = quotes.requote
        if best is None or words > best.words:
            excerpt = " ".join(text.split()[:_EXCERPT_WORDS])
            chars = len(" ".join(text.split()))
            fresh = state.fresh_words(src)
            best = Requote(words, chars, excerpt, state.label(src), state.label(quoter), fresh)
    return best


def _with_excerpt(requote: Requote, text: str, own: Shingles, run: Run) -> Requote:
    """The re-quoted passage's first words, as the post shows them."""
    last = min(run.end, run.start + _EXCERPT_WORDS) - 1
    if own.aligned:
        start, end = own.starts.item(run.start), own.ends.item(last)
    else:
        spans = word_key_spans(text)
        if spans is None or len(spans) != own.words:
            return requote
        start, end = spans[run.start][0], spans[last][1]
    excerpt = " ".join(text[start:end].split())
    more = "…" if run.end - 1 > last else ""
    r = requote
    return Requote(r.words, r.chars, excerpt + more, r.source, r.quoter, r.source_words)


def _evidence(
    state: ThreadMemory, post: Post, own: Shingles, runs: list[Run], requote_runs: list[Run]
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
        if source == SELF:
            note, pid = "repeats a passage of this same post", post.id
        else:
            note, pid = f"repeats {state.label(source)}", state.ref(source).post_id
            quoter = next((r.source for r in requote_runs if r.start < run.end and run.start < r.end), NONE)
            if quoter != NONE:
                note += f", already quoted by {state.label(quoter)}"
        found.append(Evidence(start, end, note=note, source_post_id=pid))
    return found
