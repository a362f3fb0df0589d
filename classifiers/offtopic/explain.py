"""Reasons and evidence for an off-topic flag: what the thread is about (its key terms, spelled as the
thread spells them) and what the post is about instead (its heaviest terms the thread never used)."""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Final

from classifiers.result import Evidence
from classifiers.text import WORD_RE

_THREAD_TERMS: Final = 3  # key terms named in a reason
_POST_TERMS: Final = 3
_MAX_EVIDENCE: Final = 12
_SHOWN_NAMES: Final = 4
_NEXT_NAME: Final = re.compile(r"[ \t]+([A-Z][\w\-]*)")


def key_terms(
    thread: tuple[Mapping[str, float], float],
    anchor: tuple[Mapping[str, float], float],
    exclude: Collection[str],
) -> list[str]:
    """The heaviest terms of the thread's profile and the anchor (each as weights and norm; give the anchor
    empty in a catch-all thread), leaving out `exclude`."""
    weight: dict[str, float] = {}
    weights, norm = thread
    for t, w in weights.items():
        weight[t] = w / (norm or 1.0)
    anchor_weights, anchor_norm = anchor
    if anchor_norm:
        for t, w in anchor_weights.items():
            weight[t] = weight.get(t, 0.0) + w / anchor_norm
    ranked = heapq.nlargest(_THREAD_TERMS + len(exclude), weight.items(), key=lambda kv: kv[1])
    return [t for t, _ in ranked if t not in exclude][:_THREAD_TERMS]


def spellings(texts: Iterable[str], terms: Sequence[str]) -> list[str]:
    """The terms as `texts` write them: in lower case if they ever do, else as first written."""
    found: dict[str, str] = {}
    wanted = set(terms)
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


def foreign_terms(post_weights: Mapping[str, float], *known: Mapping[str, float]) -> dict[str, float]:
    """The post's terms that none of the `known` profiles use, with their weights."""
    return {t: w for t, w in post_weights.items() if not any(t in k for k in known)}


def phrases_and_evidence(text: str, foreign: Mapping[str, float]) -> tuple[list[str], list[Evidence]]:
    """The post's heaviest foreign terms spelled as it writes them (a name joined to the next when that is
    foreign too: "Ada Lovelace"), and evidence spans on every occurrence."""
    chosen = [t for t, _ in sorted(foreign.items(), key=lambda kv: (-kv[1], kv[0]))[:_POST_TERMS]]
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
    return phrases, sorted(evidence, key=lambda e: e.start)[:_MAX_EVIDENCE]


def reasons(where: str, thread_terms: Sequence[str], phrases: Sequence[str], known_share: float) -> list[str]:
    """The main reason: how little the post shares with `where` (named by its key terms), and what it is
    about instead."""
    about = f" ({', '.join(thread_terms)})" if thread_terms else ""
    subject = f"it is about {', '.join(phrases)}." if phrases else "it reads as part of another conversation."
    if known_share < 0.25:
        return [f"shares almost nothing with {where}{about}; {subject}"]
    return [f"strays from {where}{about}; {subject}"]


def names_reason(names: Sequence[str], count: int) -> str:
    """The catch-all reason: the names the post brings that the recent discussion has not used."""
    more = " and others" if len(names) > _SHOWN_NAMES else ""
    shown = ", ".join(names[:_SHOWN_NAMES])
    return f"brings up {count} names the recent discussion has not used: {shown}{more}."
