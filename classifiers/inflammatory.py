"""The inflammatory detector: insults, personal attacks, flame-bait and dehumanising talk in a post's own
words.

How a text becomes a score:

1. **De-obfuscation**, one vectorised numpy pass over a whole batch of texts: NFKC, invisible characters
   dropped,
   case folded, look-alike letters of other scripts read as Latin ("іdіot" in Cyrillic), mentions and links
   replaced by placeholders, spaced-out letters joined ("d u m b", "i.d.i.o.t"), digits and symbols inside
   words
   read as letters ("1d10t", "sh!t"), runs of one letter squashed ("sooo").
2. **Hashed features** (`TextFeatures`): word unigrams and bigrams and character 3-5-grams inside words, each
   a
   bucket of a seeded 64-bit hash (no vocabulary is stored), weighted by IDF and normalised per block, plus a
   few
   dense style features (capitals, exclamation and question marks, second person, mentions, length).
3. **A linear model** (log-count-ratio scaled logistic regression, trained on several corpora) scores the
   whole
   text and each of its sentences; a small second-stage model combines the text's score, its worst sentence
   and
   the style features (long posts with one insulting sentence are not averaged away).
4. **Calibration**: an isotonic map from that score to a probability, fitted on held-out folds against the
   share
   of annotators who called a text inflammatory; a score of 0.8 means about 80% of them would.
5. **Explanations** by occlusion: each word of the original text (a run of spaced-out letters counts as one)
   is
   blanked in turn, the variants are scored in one batch, and the words whose removal lowers the score most
   are
   the evidence, as character spans of the original text.

The model file is an `.npz` read with `classifiers.persistence.load_model`: arrays and JSON, never pickle.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.persistence import ModelError, load_model, save_model
from classifiers.profanity import ProfanityModel
from classifiers.result import Category, Detection, DetectorFailure, Evidence
from classifiers.text import (
    _INVISIBLE,
    boilerplate_spans,
    forget_oldest,
    shingle_hashes,
    word_key_spans,
    word_keys,
)
from classifiers.thread import Post

MODEL_KIND = "modassist.inflammatory.hashed-linear"
FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "inflammatory.npz"
DEFAULT_THRESHOLD = 0.6

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------------------------------
# De-obfuscation on code points
# ------------------------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    """A word list written as one string."""
    return tuple(text.split())


# Letters of other scripts that look like Latin ones (lower case: applied after case folding).
_HOMOGLYPHS = str.maketrans(
    "авеёкмнорстухѕіїјԁԛԝɡոսıɩʟɪɴʀᴅαβεικνορτυχγωηø", "abeekmhopctyxsiijdqwgnuiilinrdabeikvoptuxywno"
)
# Digits and symbols that stand for letters inside a word.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s",
         "!": "i", "|": "l"}  # fmt: skip
_TABLE_SIZE = 0x20000
MENTION = 0xE000  # placeholder code point for an @-mention (a word character)
LINK = 0xE001  # placeholder code point for a link
NEWLINE, SPACE = 10, 32
_SEPARATOR_CHARS = " .-_*"


@dataclass(frozen=True, slots=True)
class _Tables:
    fold: npt.NDArray[np.int32]  # code point -> folded code point, -1 = drop
    word: Bools  # folded code point -> is a word character
    leet: npt.NDArray[np.int32]  # code point -> letter it stands for (or itself)
    letter: Bools  # ASCII letter a-z
    leet_strong: Bools  # digit or symbol read as a letter wherever it stands in a word
    leet_weak: Bools  # "!" and "|": read as a letter only between two letters
    leet_any: Bools
    separator: Bools


def _build_tables() -> _Tables:
    fold = np.arange(_TABLE_SIZE, dtype=np.int32)
    invisible = set(_INVISIBLE)
    for cp in range(_TABLE_SIZE):
        ch = chr(cp)
        if cp == NEWLINE:
            continue
        if cp in invisible:
            fold[cp] = -1
        elif ch.isspace():
            fold[cp] = SPACE
        elif 0xD800 <= cp < 0xE000 or 0xE000 <= cp < 0xF900:
            continue  # surrogates and private use (our placeholders) stay as they are
        elif unicodedata.category(ch) == "Cc":
            fold[cp] = -1
        else:
            folded = unicodedata.normalize("NFKC", ch).casefold().translate(_HOMOGLYPHS)
            if len(folded) == 1:
                fold[cp] = ord(folded)
            elif not folded:
                fold[cp] = -1
            else:
                lower = ch.lower()
                fold[cp] = ord(lower) if len(lower) == 1 else cp
    word = np.zeros(_TABLE_SIZE, dtype=bool)
    for cp in range(_TABLE_SIZE):
        ch = chr(cp)
        word[cp] = ch.isalnum() or ch in "_'"
    word[MENTION] = word[LINK] = True
    leet = np.arange(_TABLE_SIZE, dtype=np.int32)
    for src, dst in _LEET.items():
        leet[ord(src)] = ord(dst)
    letter = np.zeros(_TABLE_SIZE, dtype=bool)
    letter[ord("a") : ord("z") + 1] = True
    strong = np.zeros(_TABLE_SIZE, dtype=bool)
    strong[[ord(c) for c in _LEET if c not in "!|"]] = True
    weak = np.zeros(_TABLE_SIZE, dtype=bool)
    weak[[ord("!"), ord("|")]] = True
    separator = np.zeros(_TABLE_SIZE, dtype=bool)
    separator[[ord(c) for c in _SEPARATOR_CHARS]] = True
    return _Tables(fold, word, leet, letter, strong, weak, strong | weak, separator)


_tables_cache: list[_Tables] = []


def _tables() -> _Tables:
    if not _tables_cache:
        _tables_cache.append(_build_tables())
    return _tables_cache[0]


def _lookup(table: npt.NDArray[Any], codes: I64, default: Any) -> npt.NDArray[Any]:
    """table[codes] for code points inside the table, `default` (or the code itself) beyond it."""
    inside = codes < _TABLE_SIZE
    if inside.all():
        return table[codes]
    out = np.empty(codes.shape[0], dtype=table.dtype)
    out[inside] = table[codes[inside]]
    out[~inside] = codes[~inside] if default is None else default
    return out


def _ranges_mask(n: int, starts: I64, ends: I64) -> Bools:
    """Boolean mask of positions inside any [start, end)."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    return np.cumsum(delta[:n]) > 0


def _next_true(mask: Bools, positions: I64) -> I64:
    """For each position, the first index >= position where `mask` holds (len(mask) if none)."""
    hits = np.flatnonzero(mask)
    idx = np.searchsorted(hits, positions)
    return np.where(
        idx < hits.shape[0], hits[np.minimum(idx, max(hits.shape[0] - 1, 0))], mask.shape[0]
    ).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Normalised:
    codes: I64  # folded, de-obfuscated code points; texts separated by NEWLINE, with a SPACE at both ends
    n_docs: int
    raw_stats: F64  # per text: upper-case letters, letters, "!", "?", mentions


def _normalise(texts: Sequence[str]) -> _Normalised:
    t = _tables()
    n_docs = len(texts)
    raw = "\n".join(texts_one_line(texts))
    codes = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    # Style counts on the raw text: upper-case letters, letters, "!", "?", "@".
    doc_raw = np.cumsum(codes == NEWLINE)
    upper = (codes >= 65) & (codes <= 90)
    raw_stats = np.zeros((n_docs, 5), dtype=np.float64)
    if n_docs:
        for k, values in enumerate(
            (upper, upper | ((codes >= 97) & (codes <= 122)), codes == 33, codes == 63, codes == 64)
        ):
            raw_stats[:, k] = np.bincount(doc_raw, weights=values, minlength=n_docs)

    # Fold (NFKC, case, look-alikes), drop invisible characters.
    codes = _lookup(t.fold, codes, None).astype(np.int64)
    codes = codes[codes >= 0]
    codes = np.concatenate(([SPACE], codes, [SPACE]))
    n = codes.shape[0]
    word = _lookup(t.word, codes, False)
    boundary = (codes == SPACE) | (codes == NEWLINE)

    # Links: "http://", "https://" or "www." up to the next space become one placeholder.
    drop = np.zeros(n, dtype=bool)
    if n >= 8:
        c = codes
        head = np.zeros(n, dtype=bool)
        m = n - 7
        http = (c[:m] == 104) & (c[1 : m + 1] == 116) & (c[2 : m + 2] == 116) & (c[3 : m + 3] == 112)
        plain = (c[4 : m + 4] == 58) & (c[5 : m + 5] == 47) & (c[6 : m + 6] == 47)
        secure = (c[4 : m + 4] == 115) & (c[5 : m + 5] == 58) & (c[6 : m + 6] == 47) & (c[7 : m + 7] == 47)
        www = (c[:m] == 119) & (c[1 : m + 1] == 119) & (c[2 : m + 2] == 119) & (c[3 : m + 3] == 46)
        head[:m] = ((http & (plain | secure)) | www) & ~word[np.maximum(np.arange(m) - 1, 0)]
        starts = np.flatnonzero(head)
        if starts.shape[0]:
            ends = _next_true(boundary, starts)
            drop |= _ranges_mask(n, starts + 1, ends)
            codes[starts] = LINK
            word[starts] = True
    # Mentions: "@name" after a non-word character becomes one placeholder.
    at = np.flatnonzero((codes[1:-1] == 64) & ~word[:-2] & word[2:] & ~drop[1:-1]) + 1
    if at.shape[0]:
        ends = _next_true(~word, at + 1)
        drop |= _ranges_mask(n, at + 1, ends)
        codes[at] = MENTION
        word[at] = True
    if drop.any():
        keep = ~drop
        codes, word = codes[keep], word[keep]
        n = codes.shape[0]

    # Spaced-out letters: three or more one-character words split by one separator are joined.
    single = np.zeros(n, dtype=bool)
    single[1:-1] = word[1:-1] & ~word[:-2] & ~word[2:]
    sep = _lookup(t.separator, codes, False)
    link = np.zeros(n, dtype=bool)
    link[1:-1] = sep[1:-1] & single[:-2] & single[2:]
    chained = np.zeros(n, dtype=bool)
    chained[2:] |= link[2:] & link[:-2]
    chained[:-2] |= link[:-2] & link[2:]
    if chained.any():
        keep = ~chained
        codes, word = codes[keep], word[keep]
        n = codes.shape[0]

    # Digits and symbols inside words: "1d10t", "l0ser", "sh!t". A digit or @/$ next to a letter, and a "!"
    # or "|"
    # between two letters, stands for a letter.
    candidates = np.flatnonzero(_lookup(t.leet_any, codes, False)[1:-1]) + 1
    if candidates.shape[0]:
        letter = t.letter
        before = _lookup(letter, codes[candidates - 1], False)
        after = _lookup(letter, codes[candidates + 1], False)
        weak = _lookup(t.leet_weak, codes[candidates], False)
        change = candidates[np.where(weak, before & after, before | after)]
        if change.shape[0]:
            codes[change] = t.leet[codes[change]]
            word[change] = True

    # Runs of three or more of one character become one; runs of spaces become one space.
    same = np.zeros(n, dtype=bool)
    same[1:] = codes[1:] == codes[:-1]
    neighbour = np.zeros(n, dtype=bool)
    neighbour[1:] = same[:-1]
    neighbour[:-1] |= same[1:]
    drop_run = same & (neighbour | (codes == SPACE))
    if drop_run.any():
        codes = codes[~drop_run]

    return _Normalised(codes=codes, n_docs=n_docs, raw_stats=raw_stats)


def texts_one_line(texts: Sequence[str]) -> list[str]:
    """Each text with its line breaks turned into spaces (texts are joined by line breaks in a batch)."""
    return [t.replace("\n", " ") if "\n" in t else t for t in texts]


def deobfuscate(text: str) -> str:
    """The text as the model reads it: folded and de-obfuscated (mentions shown as "@user", links as
    "<link>")."""
    codes = _normalise([text]).codes
    out = "".join(chr(c) for c in codes.tolist())
    return _SPACES.sub(" ", out.replace(chr(MENTION), "@user").replace(chr(LINK), "<link>")).strip()


_SPACES = re.compile(r" +")


# ------------------------------------------------------------------------------------------------------------
# Hashed features
# ------------------------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1
# Odd 64-bit multipliers, one per character position of an n-gram or a word (fixed: they define the features).
_MULTIPLIERS = np.array(
    [((0x9E3779B97F4A7C15 * (2 * i + 1) + 0x632BE59BD9B4E019 * i * i) & _MASK64) | 1 for i in range(32)],
    dtype=np.uint64,
)
_WORD_MAX = 24  # characters of a word that its hash reads
_PAIR = np.uint64(0x2545F4914F6CDD1D)

SECOND_PERSON = ("you", "your", "you're", "youre", "ur", "u", "ya", "yourself", "yourselves", "yall", "y'all")
# Words that point an insult at someone: "you ...", "he is ...", "@name ...".
TARGETING = (
    *SECOND_PERSON,
    *_words("is are was were be being been he's she's they're such what"),
    chr(MENTION),
)
# Words that insult whoever they are said of. A prior the model weighs from the data (a count feature): it
# carries insults the training texts rarely use.
INSULT_WORDS = _words(
    "idiot idiots idiotic moron morons moronic stupid stupidity dumb dumber dumbest dumbass imbecile "
    "imbeciles cretin cretins retard retards retarded fool fools foolish clown clowns buffoon buffoons "
    "loser losers pathetic wannabe wannabes scum scumbag scumbags vermin parasite parasites swine coward "
    "cowards cowardly traitor traitors liar liars hypocrite hypocrites hypocritical fraud frauds crook "
    "crooks thug thugs lunatic lunatics nutjob nutjobs nutcase wingnut wingnuts loony psycho psychopath "
    "sociopath degenerate degenerates disgusting disgrace disgraceful ignorant ignoramus brainless "
    "clueless incompetent worthless spineless gutless sleazy sleazebag creep creepy jerk jerks jackass "
    "asshole assholes dickhead bastard bastards halfwit nitwit dimwit dimwits simpleton numbskull "
    "bonehead knucklehead airhead shill shills stooge stooges lackey lackeys sycophant bigot bigots "
    "libtard libtards snowflake snowflakes sheeple grifter grifters charlatan charlatans delusional "
    "deranged brainwashed uneducated subhuman savages trash garbage filth filthy despicable vile pig pigs "
    "rat rats hack hacks"
)
# Words that speak of people as vermin, animals or disease (dehumanising talk).
DEHUMANISING_WORDS = _words(
    "vermin animals cockroaches roaches rats parasites parasite subhuman subhumans savages savage "
    "invaders invasion infestation infest infested breed breeding filth plague mongrels beasts apes "
    "monkeys leeches inferior primitive barbarians barbaric exterminate extermination vile scum trash "
    "degenerates freaks"
)
# Words of violence and threats.
VIOLENCE_WORDS = _words(
    "kill killed killing shoot shot hang hanged lynch lynched burn die dead murder beat punch stab bomb "
    "destroy wipe slaughter execute executed gun guns rope jail prison deport"
)
DENSE_NAMES = (
    "log_words",
    "caps_share",
    "exclamations",
    "questions",
    "second_person",
    "mentions",
    "insult_words",
    "targeted_insults",
    "dehumanising_words",
    "violence_words",
)
# What the second stage reads: the linear score of the text and of its worst sentence, the style features, and
# the two scores times the (standardised) length, so long posts can weigh their worst sentence differently.
SECOND_STAGE_NAMES = ("text", "worst_sentence", *DENSE_NAMES, "text_x_length", "worst_sentence_x_length")
# A model trained with the peer's profanity score (`classifiers.profanity`, `modassist train --with-peer`)
# also reads it, alone and times the worst sentence's score. The shipped model does not: see MODEL_CARD.md.
PEER_INPUTS = ("peer_profanity", "peer_profanity_x_worst_sentence")


_SCORE_BOUND = 8.0


def standardise(dense: F64, mean: F64, scale: F64) -> F64:
    """Dense features in standard units, clipped to +-4 so that freak texts (a word repeated 200,000 times)
    cannot push the second stage outside what it was trained on."""
    clipped: F64 = np.clip((dense - mean) / scale, -4.0, 4.0)
    return clipped


def second_stage_inputs(doc: F64, best: F64, dense: F64, peer: F64 | None = None) -> F64:
    """The second stage's input matrix, from linear scores, standardised dense features and, when the model
    has one, the peer's profanity probability (read as bounded log-odds)."""
    length = dense[:, 0]
    # Linear scores grow with the square root of a phrase's repeats (norms are counted per occurrence): bound
    # them, so a post that repeats one phrase thousands of times stays within the trained range.
    doc = np.clip(doc, -_SCORE_BOUND, _SCORE_BOUND)
    best = np.clip(best, -_SCORE_BOUND, _SCORE_BOUND)
    columns = [doc, best, dense, doc * length, best * length]
    if peer is not None:
        p = np.clip(peer, 1e-3, 1 - 1e-3)
        log_odds = np.log(p / (1 - p))
        columns.extend([log_odds, log_odds * best])
    stacked: F64 = np.column_stack(columns)
    return stacked


_SENTENCE_END = np.array([ord("."), ord("!"), ord("?")], dtype=np.int64)


def _mix(h: U64, seed: int) -> U64:
    """Finalise 64-bit hashes (a splitmix-style avalanche) with a seed."""
    h = h + np.uint64(seed & _MASK64)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _word_hash_of(word: str) -> int:
    """The hash `TextFeatures` gives a folded word (for the second-person list)."""
    h = len(word)
    for j, ch in enumerate(word[:_WORD_MAX]):
        h = (h + ord(ch) * int(_MULTIPLIERS[j])) & _MASK64
    return h


@dataclass(frozen=True, slots=True)
class FeatureOccurrences:
    """Every feature occurrence of a batch (its column, text and sentence) and the dense features per text.

    Sentences ("chunks") are numbered across the batch in order; `chunk_doc` gives each one's text, and
    every text has at least one.
    """

    n_docs: int
    column: I64
    chunk: I64
    chunk_doc: I64
    dense: F64
    n_word_occurrences: int  # the first ones are words; the rest character n-grams

    @property
    def doc(self) -> I64:
        """The text of each occurrence."""
        return self.chunk_doc[self.chunk]

    @property
    def is_char(self) -> npt.NDArray[np.int64]:
        """1 for a character n-gram occurrence, 0 for a word one."""
        flags = np.ones(self.column.shape[0], dtype=np.int64)
        flags[: self.n_word_occurrences] = 0
        return flags

    @property
    def n_chunks(self) -> int:
        """Sentences in the batch."""
        return int(self.chunk_doc.shape[0])


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """Turns a batch of texts into hashed feature occurrences. Its settings define the feature space."""

    word_bits: int = 19
    char_bits: int = 20
    char_sizes: tuple[int, ...] = (3, 4, 5)
    seed: int = 0x5EED1A77

    @property
    def n_word_columns(self) -> int:
        """Columns of the word block (they come first)."""
        return 1 << self.word_bits

    @property
    def n_columns(self) -> int:
        """Columns of the whole feature space: words, then character n-grams."""
        return (1 << self.word_bits) + (1 << self.char_bits)

    def settings(self) -> dict[str, Any]:
        """JSON-serialisable settings (stored in the model file)."""
        return {
            "word_bits": self.word_bits,
            "char_bits": self.char_bits,
            "char_sizes": list(self.char_sizes),
            "seed": self.seed,
        }

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> TextFeatures:
        """Rebuild from `settings()` output."""
        return cls(
            word_bits=int(settings["word_bits"]),
            char_bits=int(settings["char_bits"]),
            char_sizes=tuple(int(n) for n in settings["char_sizes"]),
            seed=int(settings["seed"]),
        )

    def _members(self, word_hash: U64, word_column: I64, words: tuple[str, ...]) -> Bools:
        """Which words are in `words`: a bucket table first, exact hashes for the few candidates."""
        key = (words, self.word_bits, self.seed)
        table = _bucket_cache.get(key)
        if table is None:
            hashes = _hashes(words)
            table = np.zeros(1 << self.word_bits, dtype=bool)
            table[(_mix(hashes.copy(), self.seed + 1) >> np.uint64(64 - self.word_bits)).astype(np.int64)] = (
                True
            )
            _bucket_cache[key] = table
        found = table[word_column]
        candidates = np.flatnonzero(found)
        if candidates.shape[0]:
            found[candidates] = np.isin(word_hash[candidates], _hashes(words))
        return found

    def occurrences(self, texts: Sequence[str]) -> FeatureOccurrences:
        """All feature occurrences of `texts`, in one vectorised pass over the batch."""
        norm = _normalise(texts)
        codes = norm.codes
        n = codes.shape[0]
        t = _tables()
        is_newline = codes == NEWLINE
        doc_of = np.cumsum(is_newline)
        # A sentence starts after ". ", "! " or "? ", and at every text.
        starts = is_newline.copy()
        starts[0] = True
        if n > 2:
            starts[2:] |= (codes[1:-1] == SPACE) & np.isin(codes[:-2], _SENTENCE_END)
        chunk_of = np.cumsum(starts) - 1
        chunk_doc = doc_of[np.flatnonzero(starts)]

        columns: list[I64] = []
        positions: list[I64] = []

        # Words: maximal runs of word characters.
        word = _lookup(t.word, codes, False)
        edges = np.flatnonzero(np.diff(word.astype(np.int8)))
        w_start, w_end = edges[0::2] + 1, edges[1::2] + 1
        lengths = w_end - w_start
        wide = codes.astype(np.uint64)
        word_hash = lengths.astype(np.uint64)
        for j in range(_WORD_MAX):
            live = np.flatnonzero(lengths > j)
            if not live.shape[0]:
                break
            word_hash[live] += wide[w_start[live] + j] * _MULTIPLIERS[j]
        word_doc = doc_of[w_start]
        shift = np.uint64(64 - self.word_bits)
        columns.append((_mix(word_hash, self.seed + 1) >> shift).astype(np.int64))
        positions.append(w_start)
        pair = np.flatnonzero(word_doc[1:] == word_doc[:-1])
        columns.append(
            (_mix(word_hash[pair] * _PAIR + word_hash[pair + 1], self.seed + 2) >> shift).astype(np.int64)
        )
        positions.append(w_start[pair])

        # Character n-grams inside space-delimited chunks: spaces only at a window's two ends.
        hashed = np.where(is_newline, SPACE, codes).astype(np.uint64)
        boundary = (codes == SPACE) | is_newline
        bound_cum = np.concatenate(([0], np.cumsum(boundary)))
        rolling = np.zeros(n, dtype=np.uint64)
        char_shift = np.uint64(64 - self.char_bits)
        for size in range(1, max(self.char_sizes) + 1):
            count = n - size + 1
            if count <= 0:
                break
            rolling = rolling[:count] + hashed[size - 1 : size - 1 + count] * _MULTIPLIERS[size - 1]
            if size not in self.char_sizes:
                continue
            idx = np.flatnonzero(bound_cum[size - 1 : size - 1 + count] == bound_cum[1 : 1 + count])
            columns.append(
                (_mix(rolling[idx], self.seed + 16 * size + 7) >> char_shift).astype(np.int64)
                + self.n_word_columns
            )
            positions.append(idx)

        n_word_occurrences = columns[0].shape[0] + columns[1].shape[0]
        column = np.concatenate(columns)
        position = np.concatenate(positions)
        second = self._members(word_hash, columns[0], SECOND_PERSON)
        insult = self._members(word_hash, columns[0], INSULT_WORDS)
        targeted = np.zeros(insult.shape[0], dtype=bool)
        hits = np.flatnonzero(insult)
        if hits.shape[0]:
            pointing = self._members(word_hash, columns[0], TARGETING)
            for back in (1, 2, 3):
                prev = hits - back
                ok = prev >= 0
                prev_ok = np.where(ok, prev, 0)
                targeted[hits] |= ok & pointing[prev_ok] & (word_doc[prev_ok] == word_doc[hits])
        lexicons = [
            self._members(word_hash, columns[0], words) for words in (DEHUMANISING_WORDS, VIOLENCE_WORDS)
        ]
        dense = _dense_features(norm, word_doc, second, [insult, targeted, *lexicons])
        return FeatureOccurrences(
            n_docs=norm.n_docs,
            column=column,
            chunk=chunk_of[position],
            chunk_doc=chunk_doc,
            dense=dense,
            n_word_occurrences=n_word_occurrences,
        )


_hash_cache: dict[tuple[str, ...], U64] = {}
_bucket_cache: dict[tuple[tuple[str, ...], int, int], Bools] = {}


def _hashes(words: tuple[str, ...]) -> U64:
    found = _hash_cache.get(words)
    if found is None:
        found = _hash_cache[words] = np.array(sorted({_word_hash_of(w) for w in words}), dtype=np.uint64)
    return found


def _dense_features(norm: _Normalised, word_doc: I64, second: Bools, counted: list[Bools]) -> F64:
    n_docs = norm.n_docs
    upper, letters, excl, quest, at = norm.raw_stats.T
    n_words = np.bincount(word_doc, minlength=n_docs).astype(np.float64)
    n_second = np.bincount(word_doc, weights=second, minlength=n_docs)
    return np.column_stack(
        [
            np.log1p(n_words),
            np.where(letters >= 12, upper / np.maximum(letters, 1), 0.0),
            np.log1p(excl),
            np.log1p(quest),
            n_second / np.maximum(n_words, 1),
            np.log1p(at),
            *(np.log1p(np.bincount(word_doc, weights=hits, minlength=n_docs)) for hits in counted),
        ]
    )


def block_sums(occ: FeatureOccurrences, table: F64, *, by_chunk: bool) -> tuple[F64, F64]:
    """Per text (or sentence) and block: the sum of `values[column]` over its occurrences and its IDF norm.

    A linear score is the sum over the two blocks of (sum of weight x idf) / norm: the dot product of the
    weights with IDF-weighted term counts, L2-normalised per block (the norm counted per occurrence).
    `table` holds per feature column (weight x idf, idf squared).
    """
    rows = occ.chunk if by_chunk else occ.doc
    n_rows = occ.n_chunks if by_chunk else occ.n_docs
    key = rows * 2
    key[occ.n_word_occurrences :] += 1
    gathered = table[occ.column]
    num: F64 = np.bincount(key, weights=gathered[:, 0], minlength=n_rows * 2).astype(np.float64, copy=False)
    den: F64 = np.bincount(key, weights=gathered[:, 1], minlength=n_rows * 2).astype(np.float64, copy=False)
    return num.reshape(n_rows, 2), np.sqrt(den).reshape(n_rows, 2)


def _ratio(num: F64, norm: F64) -> F64:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, norm, out=out, where=norm > 0)
    return out


_DEDUP_ABOVE = 20_000  # feature occurrences in one text or sentence


def _counted_sums(occ: FeatureOccurrences, table: F64, rows: I64, chosen: I64) -> tuple[F64, F64]:
    """`block_sums` for the `chosen` rows with term counts: sum of tf x weight x idf, L2 norm of tf x idf."""
    n_columns = table.shape[0]
    where = np.flatnonzero(np.isin(rows, chosen))
    block = (where >= occ.n_word_occurrences).astype(np.int64)
    slot = np.searchsorted(chosen, rows[where]) * 2 + block
    pairs, counts = np.unique(slot * n_columns + occ.column[where], return_counts=True)
    slots, columns = pairs // n_columns, pairs % n_columns
    tf = counts.astype(np.float64)
    num: F64 = np.bincount(slots, weights=tf * table[columns, 0], minlength=chosen.shape[0] * 2).astype(
        np.float64
    )
    den: F64 = np.bincount(slots, weights=tf * tf * table[columns, 1], minlength=chosen.shape[0] * 2).astype(
        np.float64
    )
    return num.reshape(-1, 2), np.sqrt(den).reshape(-1, 2)


def text_and_sentence_scores(occ: FeatureOccurrences, table: F64) -> tuple[F64, F64]:
    """Each text's linear score and the highest score of its sentences (its own score if it has none)."""
    num, norm = block_sums(occ, table, by_chunk=True)
    if occ.n_docs == 0:
        return np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.float64)
    # A text with no chunk (empty, or only quotes taken out) has no segment of its own: `reduceat` must only
    # see the texts that have one, or it reads past the end (or the next text's first chunk).
    has_chunks = np.bincount(occ.chunk_doc, minlength=occ.n_docs) > 0
    firsts = np.searchsorted(occ.chunk_doc, np.flatnonzero(has_chunks))
    doc_num = np.zeros((occ.n_docs, 2), dtype=np.float64)
    doc_norm = np.zeros((occ.n_docs, 2), dtype=np.float64)
    if firsts.shape[0]:
        doc_num[has_chunks] = np.add.reduceat(num, firsts, axis=0)
        doc_norm[has_chunks] = np.sqrt(np.add.reduceat(norm * norm, firsts, axis=0))
    # Norms are counted per occurrence, so a phrase repeated n times weighs sqrt(n) times more. Texts far
    # longer than any training text (spam, a word pasted 100,000 times) get true L2 norms of their counts.
    per_chunk = np.bincount(occ.chunk, minlength=occ.n_chunks)
    huge_chunks = np.flatnonzero(per_chunk > _DEDUP_ABOVE)
    if huge_chunks.shape[0]:
        per_doc = np.bincount(occ.chunk_doc, weights=per_chunk, minlength=occ.n_docs)
        huge_docs = np.flatnonzero(per_doc > _DEDUP_ABOVE)
        num[huge_chunks], norm[huge_chunks] = _counted_sums(occ, table, occ.chunk, huge_chunks)
        doc_num[huge_docs], doc_norm[huge_docs] = _counted_sums(occ, table, occ.doc, huge_docs)
    else:
        per_doc = np.bincount(occ.chunk_doc, weights=per_chunk, minlength=occ.n_docs)
        huge_docs = np.flatnonzero(per_doc > _DEDUP_ABOVE)
        if huge_docs.shape[0]:
            doc_num[huge_docs], doc_norm[huge_docs] = _counted_sums(occ, table, occ.doc, huge_docs)
    doc_score = _ratio(doc_num, doc_norm).sum(axis=1)
    sentence = _ratio(num, norm).sum(axis=1)
    sentence[(norm == 0).all(axis=1)] = -np.inf
    best = np.full(occ.n_docs, -np.inf)
    if firsts.shape[0]:
        best[has_chunks] = np.maximum.reduceat(sentence, firsts)
    return doc_score, np.where(np.isfinite(best), best, doc_score)


# ------------------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class InflammatoryModel:
    """Hashed features, a linear text model, a second stage over (text, worst sentence, style) and a
    calibration.

    `columns` are the feature columns in use (sorted); `idf` and `weights` hold their IDF and linear weights.
    The second stage is `meta_coef` . `second_stage_inputs(...)` +
    `meta_bias`; `calibration_x`/`calibration_y` map that to a probability (piecewise linear, isotonic).
    """

    features: TextFeatures
    columns: I64
    idf: F32
    weights: F32
    dense_mean: F64
    dense_scale: F64
    meta_coef: F64
    meta_bias: float
    calibration_x: F64
    calibration_y: F64
    linear_bias: float = 0.0
    version: str = "inflammatory-untrained"
    info: dict[str, Any] = field(default_factory=dict)
    peer: ProfanityModel | None = None

    @property
    def second_stage_names(self) -> tuple[str, ...]:
        """What the second stage reads, in order."""
        return (*SECOND_STAGE_NAMES, *PEER_INPUTS) if self.peer is not None else SECOND_STAGE_NAMES

    def __post_init__(self) -> None:
        n = self.features.n_columns
        if self.columns.shape[0] and (self.columns.min() < 0 or self.columns.max() >= n):
            raise ValueError("feature columns outside the feature space")
        # Per column: weight x idf and idf squared, side by side so one lookup fetches both.
        self._table = np.zeros((n, 2), dtype=np.float64)
        idf = self.idf.astype(np.float64)
        self._table[self.columns, 0] = idf * self.weights
        self._table[self.columns, 1] = idf * idf

    def decision(self, texts: Sequence[str]) -> F64:
        """Uncalibrated scores (log-odds scale) of a batch of texts."""
        if not texts:
            return np.zeros(0)
        occ = self.features.occurrences(texts)
        doc, best = text_and_sentence_scores(occ, self._table)
        dense = standardise(occ.dense, self.dense_mean, self.dense_scale)
        peer = self.peer.probability(texts) if self.peer is not None else None
        stacked = second_stage_inputs(doc + self.linear_bias, best + self.linear_bias, dense, peer)
        scores: F64 = stacked @ self.meta_coef + self.meta_bias
        return scores

    def calibrate(self, decision: F64) -> F64:
        """Probabilities for uncalibrated scores.

        The isotonic map is flat between its steps; a slope of at most 0.001 keeps the model's ranking inside
        a
        step (two posts on one step are not equally inflammatory) without moving any probability noticeably.
        """
        stepped = np.interp(decision, self.calibration_x, self.calibration_y)
        ranked = stepped + 0.001 * (1.0 / (1.0 + np.exp(-np.clip(decision, -30, 30))) - 0.5)
        clipped: F64 = np.clip(ranked, 0.0, 1.0)
        return clipped

    def probability(self, texts: Sequence[str]) -> F64:
        """Calibrated probabilities that each text is inflammatory."""
        return self.calibrate(self.decision(texts))

    # -- persistence -----------------------------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        """Write the model as arrays + JSON (no pickle)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "columns": self.columns.astype(np.int32),
            "idf": self.idf.astype(np.float32),
            "weights": self.weights.astype(np.float32),
            "dense_mean": self.dense_mean.astype(np.float64),
            "dense_scale": self.dense_scale.astype(np.float64),
            "meta_coef": self.meta_coef.astype(np.float64),
            "calibration_x": self.calibration_x.astype(np.float64),
            "calibration_y": self.calibration_y.astype(np.float64),
        }
        if self.peer is not None:
            arrays.update(self.peer.arrays())
        meta = {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "features": self.features.settings(),
            "dense_names": list(DENSE_NAMES),
            "meta_bias": float(self.meta_bias),
            "linear_bias": float(self.linear_bias),
            "second_stage": list(self.second_stage_names),
            "info": self.info,
        }
        save_model(path, MODEL_KIND, arrays, meta)

    @classmethod
    def load(cls, path: Path | str) -> InflammatoryModel:
        """Read a model file; a missing, damaged, tampered or incompatible file raises ModelError."""
        arrays, meta = load_model(path, MODEL_KIND)
        try:
            if meta.get("format_version") != FORMAT_VERSION:
                raise ModelError(
                    path, f"format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}"
                )
            stage = tuple(meta.get("second_stage", []))
            if stage not in (SECOND_STAGE_NAMES, (*SECOND_STAGE_NAMES, *PEER_INPUTS)):
                raise ModelError(path, "its style features do not match this version of modassist")
            peer = ProfanityModel.from_arrays(arrays) if len(stage) > len(SECOND_STAGE_NAMES) else None
            features = TextFeatures.from_settings(meta["features"])
            n_dense = len(DENSE_NAMES)
            model = cls(
                features=features,
                columns=arrays["columns"].astype(np.int64),
                idf=arrays["idf"].astype(np.float32),
                weights=arrays["weights"].astype(np.float32),
                dense_mean=_vector(arrays["dense_mean"], n_dense),
                dense_scale=_vector(arrays["dense_scale"], n_dense),
                meta_coef=_vector(arrays["meta_coef"], len(stage)),
                linear_bias=float(meta["linear_bias"]),
                meta_bias=float(meta["meta_bias"]),
                calibration_x=arrays["calibration_x"].astype(np.float64),
                calibration_y=arrays["calibration_y"].astype(np.float64),
                version=str(meta["version"]),
                info=dict(meta.get("info", {})),
                peer=peer,
            )
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(path, f"incomplete or inconsistent inflammatory model ({exc})") from exc
        n = model.columns.shape[0]
        if model.idf.shape != (n,) or model.weights.shape != (n,):
            raise ModelError(path, "feature arrays of different lengths")
        if model.calibration_x.shape != model.calibration_y.shape or model.calibration_x.shape[0] < 2:
            raise ModelError(path, "calibration map is malformed")
        if not all(
            np.isfinite(a).all() for a in (model.idf, model.weights, model.meta_coef, model.calibration_y)
        ):
            raise ModelError(path, "non-finite weights")
        return model


def _vector(array: npt.NDArray[Any], length: int) -> F64:
    if array.shape != (length,):
        raise ValueError(f"expected a vector of {length}, got shape {array.shape}")
    return array.astype(np.float64)


# ------------------------------------------------------------------------------------------------------------
# The detector
# ------------------------------------------------------------------------------------------------------------

# A unit of explanation: a run of non-space characters, or a run of three or more one-character pieces split
# by
# one separator ("d u m b"), which the model reads as one word.
_UNIT = re.compile(r"(?:(?<!\S)\w[ .\-_*]){2,}\w(?![^\s.,;:!?)\]\"'])|\S+")
_TRIM = "\"'“”‘’()[]{}<>«».,;:?!…"
_QUOTE_SHINGLE = 6  # words in a row that count as repeating an earlier post
_EXPLAIN_WHOLE = 1500  # characters: a longer text is explained in its most inflammatory passages
_EXPLAIN_PASSAGES = 3
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_INTENSIFIERS = frozenset(_words("a absolute absolutely an complete really so such too total utter very"))
_FUNCTION_WORDS = frozenset(
    _words(
        "a all am an and are as at be been being but by can could did do does for he her here his how i if "
        "in "
        "is it its just me my no not of on or our really she should so such than that the their them then "
        "there these they this those to too us very was we were what who why will with would you your yours"
    )
)


def _deobfuscate_word(word: str) -> str:
    return word.strip(_TRIM).casefold()


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int


def _units(text: str) -> list[_Unit]:
    units = []
    for m in _UNIT.finditer(text):
        start, end = m.span()
        while start < end and text[start] in _TRIM and not _is_leet_start(text, start, end):
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if end > start:
            units.append(_Unit(start, end))
    return units


def _is_leet_start(text: str, start: int, end: int) -> bool:
    # "!d10t": a symbol that stands for a letter at the start of a word is part of the word.
    return text[start] == "!" and end - start > 1 and text[start + 1].isalnum()


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the given spans replaced by spaces (line breaks kept), so positions stay put."""
    if not spans:
        return text
    parts = []
    pos = 0
    for start, end in _merge(spans):
        if start < pos:
            start = pos
        if start >= end:
            continue
        parts.append(text[pos:start])
        parts.append("".join("\n" if ch == "\n" else " " for ch in text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class InflammatoryDetector:
    """Scores how inflammatory a post's own words are; implements `classifiers.suite.Detector`.

    `threshold` only decides when reasons and evidence are worth computing (at `explain_from` x threshold and
    above); whether a post is flagged is the suite's decision.
    """

    category: Category = "inflammatory"

    def __init__(
        self, model: InflammatoryModel, *, threshold: float = DEFAULT_THRESHOLD, explain_from: float = 0.5
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold}")
        self.model = model
        self.version = model.version
        self.threshold = threshold
        self.explain_from = explain_from
        self.load_seconds = 0.0

    @classmethod
    def load(cls, path: Path | None = None, **kwargs: Any) -> InflammatoryDetector:
        """The detector with the model at `path` (default: the shipped model). Raises ModelError."""
        started = time.perf_counter()
        model = InflammatoryModel.load(path or DEFAULT_MODEL_PATH)
        _tables()  # build the character tables now rather than on the first post
        detector = cls(model, **kwargs)
        detector.load_seconds = time.perf_counter() - started
        return detector

    def use_threshold(self, value: float) -> None:
        """Follow the suite's flag threshold: reasons are computed from `explain_from` x threshold."""
        self.threshold = value

    def begin_thread(self, thread_id: str, title: str) -> InflammatoryThreadState:
        """A fresh state for a thread."""
        return InflammatoryThreadState(self)

    def score_texts(self, texts: Sequence[str], batch_size: int = 512) -> F64:
        """Calibrated probabilities for a batch of texts (for evaluation and benchmarks)."""
        parts = [self.model.decision(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return self.model.calibrate(np.concatenate(parts) if parts else np.zeros(0))

    def explain(self, text: str, *, limit: int = 5) -> list[Evidence]:
        """The words and phrases whose removal lowers the score most, as spans of `text`, strongest first."""
        units = _units(text)
        if not units:
            return []
        drops = np.full(len(units), -np.inf)
        # Each word is compared with the strongest of its own passage (a long post's evidence covers each of
        # its worst passages), and with the strongest overall.
        local = np.full(len(units), np.inf)
        starts = np.array([u.start for u in units])
        for first, last in self._contexts(text):
            inside = np.flatnonzero((starts >= first) & (starts < last))
            inside = inside[[units[i].end <= last for i in inside]] if inside.shape[0] else inside
            if not inside.shape[0]:
                continue
            context = text[first:last]
            variants = [context] + [
                context[: units[i].start - first]
                + " " * (units[i].end - units[i].start)
                + context[units[i].end - first :]
                for i in inside
            ]
            scores = np.concatenate(
                [self.model.decision(variants[i : i + 256]) for i in range(0, len(variants), 256)]
            )
            drops[inside] = scores[0] - scores[1:]
            local[inside] = max(float(drops[inside].max()), 1e-9)
        strongest = float(drops.max())
        if strongest <= 0:
            return []
        words = [text[u.start : u.end].casefold() for u in units]
        floor = max(0.15 * strongest, 0.05)
        # Function words ("be", "you") can raise the score but say nothing on their own: only in a phrase.
        chosen = {
            int(i)
            for i in np.argsort(-drops)[: limit * 2]
            if drops[i] >= floor
            and drops[i] >= 0.3 * local[i]
            and _deobfuscate_word(words[i]) not in _FUNCTION_WORDS
        }
        # A phrase: chosen units next to each other, with an intensifier or article just before ("so dumb").
        phrases: list[tuple[int, int, float]] = []
        for i in sorted(chosen):
            u = units[i]
            start = u.start
            if i > 0 and i - 1 not in chosen and _deobfuscate_word(words[i - 1]) in _INTENSIFIERS:
                start = units[i - 1].start
            if phrases and i - 1 in chosen and text[phrases[-1][1] : u.start].strip() == "":
                first, _, weight = phrases[-1]
                phrases[-1] = (first, u.end, weight + float(drops[i]))
            else:
                phrases.append((start, u.end, float(drops[i])))
        phrases.sort(key=lambda p: -p[2])
        return [
            Evidence(start, end, note=f"raises the inflammatory score by {weight:.2f} (log-odds)")
            for start, end, weight in phrases[:limit]
        ]

    def _contexts(self, text: str) -> list[tuple[int, int]]:
        """Where to look for evidence: the whole text, or in a long one its most inflammatory passages."""
        if len(text) <= _EXPLAIN_WHOLE:
            return [(0, len(text))]
        pieces: list[tuple[int, int]] = []
        for m in _SENTENCE.finditer(text):
            start, end = m.span()
            while end - start > _EXPLAIN_WHOLE:  # a very long sentence: windows that end at a space
                cut = text.rfind(" ", start + _EXPLAIN_WHOLE // 2, start + _EXPLAIN_WHOLE)
                cut = cut if cut > start else start + _EXPLAIN_WHOLE
                pieces.append((start, cut))
                start = cut
            if text[start:end].strip():
                pieces.append((start, end))
        scores = np.concatenate(
            [
                self.model.decision([text[a:b] for a, b in pieces[i : i + 512]])
                for i in range(0, len(pieces), 512)
            ]
        )
        top = np.argsort(-scores)[:_EXPLAIN_PASSAGES]
        return [pieces[i] for i in sorted(top)]

    def review_text(self, text: str) -> Detection:
        """Judge one text (a post's own words) on its own."""
        score = float(self.score_texts([text])[0]) if text.strip() else 0.0
        return self._judge(text, score)

    def review_batch(
        self, items: Sequence[tuple[InflammatoryThreadState, Post]]
    ) -> list[Detection | DetectorFailure]:
        """Judge posts of one or several threads, in order, scoring their texts in one vectorised batch.

        A post that cannot be judged gets a `DetectorFailure`; the others are judged as usual (if the batch
        fails, each text is scored again on its own, which gives the same scores).
        """
        owns: list[tuple[str, int] | DetectorFailure] = []
        for state, post in items:
            try:
                owns.append(state.own_text(post))
            except Exception as exc:
                owns.append(DetectorFailure.of("inflammatory", exc))
        texts = [own[0] for own in owns if not isinstance(own, DetectorFailure)]
        scores = self._scores_isolated(texts)
        found: list[Detection | DetectorFailure] = []
        next_score = iter(scores)
        for own in owns:
            if isinstance(own, DetectorFailure):
                found.append(own)
                continue
            text, ignored = own
            score = next(next_score)
            if isinstance(score, DetectorFailure):
                found.append(score)
                continue
            try:
                found.append(_with_ignored(self._judge(text, score if text.strip() else 0.0), ignored))
            except Exception as exc:
                found.append(DetectorFailure.of("inflammatory", exc))
        return found

    def _scores_isolated(self, texts: Sequence[str]) -> list[float | DetectorFailure]:
        """Scores of `texts` in one batch; if that fails, text by text, so only the failing ones fail."""
        if not texts:
            return []
        try:
            return [float(score) for score in self.score_texts(texts)]
        except Exception:
            pass
        scores: list[float | DetectorFailure] = []
        for text in texts:
            try:
                scores.append(float(self.score_texts([text])[0]))
            except Exception as exc:
                scores.append(DetectorFailure.of("inflammatory", exc))
        return scores

    def _judge(self, text: str, score: float) -> Detection:
        """The detection for `text` scored `score`: reasons and evidence when it may be flagged."""
        reasons: tuple[str, ...] = ()
        evidence: tuple[Evidence, ...] = ()
        if score >= self.explain_from * self.threshold:
            found = self.explain(text)
            if found:
                shown: list[str] = []
                for e in found:
                    phrase = _SPACES_ANY.sub(" ", text[e.start : e.end])
                    if len(shown) < 3 and not any(phrase.casefold() in p.casefold() for p in shown):
                        shown.append(phrase)
                words = ", ".join(f"'{p}'" for p in shown)
                reasons = (f"insulting language: {words} (score {score:.2f}).",)
            else:
                reasons = (f"inflammatory tone (score {score:.2f}).",)
            evidence = tuple(found)
        return Detection("inflammatory", score, reasons, evidence, {"model_version": self.version})


def _with_ignored(detection: Detection, ignored: int) -> Detection:
    """Note in the details how many characters pasted from earlier posts were not judged."""
    if not ignored:
        return detection
    details = {**detection.details, "repeated_chars_ignored": ignored}
    return Detection(detection.category, detection.score, detection.reasons, detection.evidence, details)


_SPACES_ANY = re.compile(r"\s+")


class InflammatoryThreadState:
    """Judges each post of a thread on its own words.

    Marked quotes (`post.quotes`) are never read. Where quotes are pasted inline, passages that repeat an
    earlier
    post of the thread word for word (six words or more) are blanked first, so quoting a troll to object to it
    is not the quoter's insult. Memory is bounded by `max_shingles`.
    """

    def __init__(self, detector: InflammatoryDetector, max_shingles: int = 50_000) -> None:
        self._detector = detector
        self._seen: dict[int, None] = {}
        self._max = max_shingles

    def review(self, post: Post) -> Detection:
        """Judge `post`, then remember its words so later posts that paste them are not blamed for them."""
        own, ignored = self.own_text(post)
        return _with_ignored(self._detector.review_text(own), ignored)

    def own_text(self, post: Post) -> tuple[str, int]:
        """The post's text with boilerplate and passages repeating earlier posts blanked, and how many
        characters were blanked as repeats; the post's words are then remembered for later posts."""
        keys = word_keys(post.text)
        hashes = shingle_hashes(keys, _QUOTE_SHINGLE)
        repeated: list[tuple[int, int]] = []
        if self._seen and not self._seen.keys().isdisjoint(hashes):
            spans = word_key_spans(post.text)
            if spans is not None and len(spans) == len(keys):
                repeated = [
                    (spans[i][0], spans[i + _QUOTE_SHINGLE - 1][1])
                    for i, h in enumerate(hashes)
                    if h in self._seen
                ]
        own = _blank(post.text, boilerplate_spans(post.text) + repeated)
        self._seen.update(dict.fromkeys(hashes))
        forget_oldest(self._seen, self._max)
        return own, sum(e - s for s, e in _merge(repeated))


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
