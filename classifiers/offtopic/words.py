"""Words as the off-topic detector reads them: normalised, stop words out, names and chat cues."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from classifiers.shingles import native
from classifiers.stopwords import ENGLISH_STOP_WORDS
from classifiers.text import WORD_RE, normalize, own_text

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
        return text, _ascii_words(lowered)
    return text, WORD_RE.findall(_POSSESSIVE.sub("", normalize(text).replace("’", "'")))


def python_ascii_words(lowered: str) -> list[str]:
    """The words of lower-cased ASCII text ("'s" dropped): `WORD_RE` on such text, faster."""
    return _ASCII_WORD.findall(_POSSESSIVE.sub("", lowered))


def python_content_terms(words: Iterable[str], stop_words: Collection[str]) -> list[str]:
    """`words` but `stop_words`, numbers and single letters (`content_terms` without the C extension)."""
    return [w for w in words if w not in stop_words and len(w) > 1 and not w[0].isdigit()]


# The C extension's copies when it is built (2.5 and 2.3 times faster; the same lists, tests run both).
_ascii_words = native.ascii_words if native is not None else python_ascii_words
_content_terms = native.content_terms if native is not None else python_content_terms


def content_terms(words: Iterable[str]) -> list[str]:
    """The words that carry a topic: no stop words, numbers or single letters."""
    terms: list[str] = _content_terms(words, _STOP_WORDS)
    return terms


def _analyzer(text: str) -> list[str]:
    return content_terms(post_words(text))


def manner(text: str, words: list[str], by_words: bool) -> tuple[float, ...]:
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


def new_names_in(
    text: str, index: Mapping[str, int], idf: npt.NDArray[np.float32], known: Collection[str]
) -> list[str]:
    """The names in `text` that `known` (the thread's terms) lacks and the background never saw or finds
    rare: a new subject, in news threads."""
    names = []
    for name in dict.fromkeys(_NAME.findall(text)):
        low = name.lower()
        if low in _STOP_WORDS or low in known:
            continue
        i = index.get(low)
        if i is None or idf[i] >= _NAME_MIN_IDF:
            names.append(name)
    return names
