"""The verdict: does a post add little beyond repeating its thread, or re-quote what the thread already
quoted?

The rules, as a moderator reads them (each number is a field of `Rules`):

- **re-quote** (alert): the post quotes again a passage of at least 8 words and 40 characters that an
  earlier post of the thread already quoted from someone else. Flagged however many words of its own the
  post adds; the reason names the passage's author and who quoted it first. Two people quoting each other
  back and forth, an author repeating their own words, or a marked quote of a one-line post (12 words or
  fewer) that others quoted too, answered, is not a re-quote.
- **over-quote** (alert): the post repeats earlier posts of the thread (at least 5 words, marked as quotes
  or pasted inline, or a short opening line quoted inline) and adds at most 15 words of its own: a full
  quote with a one-liner, "+1" under a wall of quoted text. Marked quotes of 12 words or fewer in all,
  answered, are not: on boards with quote markup that is how a reply points at what it answers.
- **quote pyramid** (alert): marked quotes nested 3 or more deep (2 deep under a one-liner is an
  over-quote already).
- **self-repeat** (minor: listed for moderators, never alerted): an opening post that pastes passages of its
  own text twice (at least 10 words), such as the best lines of the article it pasted.

Anything else is not flagged, however long its quote: an ordinary reply quotes what it answers and then
answers it. Its score stays below `UNFLAGGED_CEILING`, rising with the share it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.result import Severity

UNFLAGGED_CEILING = 0.4


@dataclass(frozen=True, slots=True)
class Rules:
    """The numbers of the rules above."""

    max_own_words: int = 15
    min_repeated_words: int = 5
    min_requote_words: int = 8
    min_requote_chars: int = 40
    pyramid_depth: int = 3
    min_self_words: int = 10
    min_unmarked_words: int = 10  # where the source marks quotes: overlap outside the markup, in a row
    one_line_words: int = 12  # a one-line quote (or post): answered, it is no over-quote or re-quote


@dataclass(frozen=True, slots=True)
class Source:
    """An earlier post (or outside source) a post repeats: 'post #3 by rxu', how many words, all of it?"""

    label: str
    words: int
    whole: bool = False
    own_author: bool = False


@dataclass(frozen=True, slots=True)
class Requote:
    """The longest passage a post re-quotes: its words, its first words, whose it is, who quoted it first."""

    words: int
    chars: int
    excerpt: str
    source: str
    quoter: str
    source_words: int = 0  # in a marked quote: words first said in the post it comes from (0: unknown)


@dataclass(frozen=True, slots=True)
class Measures:
    """What a post repeats, as words a reader counts (contractions are one word)."""

    own_words: int
    repeated_words: int  # repeating earlier posts or outside sources, inline or in marked quotes
    repeated_share: float  # of the post's letters
    self_words: int  # passages pasted twice within the post
    depth: int  # nesting of marked quotes
    sources: tuple[Source, ...]  # most repeated first
    requote: Requote | None = None
    opening: bool = False  # the first post of its thread
    one_line: bool = False  # its only repeats are marked quotes of `Rules.one_line_words` words or fewer
    quoted_line: bool = False  # it opens with a short line of an earlier post, quoted inline
    outside: tuple[int, int] = (0, 0)  # passages quoted from outside the thread, and their words


@dataclass(frozen=True, slots=True)
class Verdict:
    """The score, severity and plain-word reasons of one post."""

    score: float
    severity: Severity
    reasons: tuple[str, ...]


def flags(m: Measures, rules: Rules) -> bool:
    """Whether any rule flags the post (as an alert or as minor)."""
    return is_requote(m, rules) or is_over_quote(m, rules) or is_pyramid(m, rules) or is_self_repeat(m, rules)


def judge(m: Measures, rules: Rules) -> Verdict:
    """Apply the rules in the module docstring to one post's measures."""
    reasons: list[str] = []
    score = 0.0
    if is_requote(m, rules):
        assert m.requote is not None
        reasons.append(_requote_reason(m.requote))
        score = max(score, 0.8 + 0.15 * min(1.0, m.requote.words / 60))
    if is_over_quote(m, rules):
        reasons.append(_over_quote_reason(m))
        mine_only = all(s.own_author for s in m.sources)
        # Reposting one's own words is the lesser form of repeating others.
        score = max(score, 0.95 - 0.1 * m.own_words / (rules.max_own_words + 1) - 0.1 * mine_only)
    if is_pyramid(m, rules):
        reasons.append(f"quotes {m.depth} levels of nested quotes and adds {_words(m.own_words)}.")
        score = max(score, min(0.9, 0.75 + 0.05 * (m.depth - 3)))
    if reasons:
        if m.outside[0]:
            reasons.append(_outside_reason(*m.outside))
        return Verdict(round(score, 4), "alert", tuple(reasons))
    if is_self_repeat(m, rules):
        reason = f"repeats {m.self_words} of its own words (passages pasted twice in this post); minor."
        return Verdict(0.65, "minor", (reason,))
    score = round(UNFLAGGED_CEILING * m.repeated_share, 4)
    if m.repeated_words and m.sources:
        return Verdict(score, "alert", (_repeats_reason(m),))
    return Verdict(score, "alert", ())


def is_requote(m: Measures, rules: Rules) -> bool:
    """A passage (8+ words, 40+ characters) that an earlier post already quoted, quoted again (not a
    one-line post answered)."""
    r = m.requote
    if r is None or r.words < rules.min_requote_words or r.chars < rules.min_requote_chars:
        return False
    # A one-line post (a question, a remark) quoted in the markup by several people is being answered by
    # each of them.
    return not (0 < r.source_words <= rules.one_line_words and m.own_words > 0)


def is_over_quote(m: Measures, rules: Rules) -> bool:
    """Repeats earlier posts and adds at most `max_own_words` words (not a one-line quote answered)."""
    if m.one_line and m.own_words > 0:
        return False
    quotes = m.repeated_words >= rules.min_repeated_words or m.quoted_line
    return quotes and m.own_words <= rules.max_own_words


def is_self_repeat(m: Measures, rules: Rules) -> bool:
    """An opening post that pastes passages of its own text twice."""
    return m.opening and m.self_words >= rules.min_self_words


def is_pyramid(m: Measures, rules: Rules) -> bool:
    """Quotes nested `pyramid_depth` deep."""
    return m.depth >= rules.pyramid_depth


def _words(count: int) -> str:
    return f"{count} word{'' if count == 1 else 's'}"


def _sources_text(sources: tuple[Source, ...]) -> str:
    """'all of post #3 by rxu', 'post #3 by rxu (42 words)', 'post #3 by rxu (42 words) and post #5 ...'."""
    parts = []
    for s in sources[:2]:
        own = " (its own author)" if s.own_author else ""
        parts.append(f"all of {s.label}{own}" if s.whole else f"{s.label}{own} ({_words(s.words)})")
    more = f" and {len(sources) - 2} more" if len(sources) > 2 else ""
    return " and ".join(parts) + more


def _over_quote_reason(m: Measures) -> str:
    return f"quotes {_sources_text(m.sources)} and adds {_words(m.own_words)}."


def _requote_reason(r: Requote) -> str:
    return f're-quotes a passage {r.quoter} already quoted: {_words(r.words)} of {r.source} ("{r.excerpt}").'


def _outside_reason(passages: int, words: int) -> str:
    """Quotes of outside sources, summed: 'also quotes 3 passages from an outside source (437 words).'"""
    what = "a passage" if passages == 1 else f"{passages} passages"
    return f"also quotes {what} from an outside source ({_words(words)})."


def _repeats_reason(m: Measures) -> str:
    """Below the flag: what it repeats, for a moderator who lowers the threshold."""
    return f"quotes {_sources_text(m.sources)} and adds {_words(m.own_words)} of its own."
