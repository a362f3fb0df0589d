"""Static word vectors distilled from the sentence model all-MiniLM-L6-v2: texts compared by meaning.

The shipped table (`models/wordvectors.npz`, built by `lab/wordvectors/build.py`) holds one 128-dimension
vector per WordPiece token of the model's uncased vocabulary (the token's own sentence embedding,
reduced by PCA) and one weight per token (rarer tokens weigh more). A text's vector is the weighted
mean of its tokens' vectors, scaled to unit length, so the cosine of two texts is a dot product. This
is model2vec's recipe; at run time it needs only numpy and the tokenizer below.

The tokenizer reproduces the model's (Hugging Face `tokenizers`' BERT uncased) in pure Python: control
characters dropped, whitespace unified, CJK ideographs split apart, accents stripped (NFD, marks
dropped), lower case, words split at whitespace and punctuation, then greedy longest-match-first
WordPiece with "##" continuations; a word longer than 100 characters, or one the vocabulary cannot
spell, is `[UNK]`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

from classifiers.persistence import ModelError, load_model

__all__ = [
    "DEFAULT_MODEL_PATH",
    "MODEL_KIND",
    "ModelError",
    "WordPieceTokenizer",
    "WordVectors",
]

MODEL_KIND: Final = "modassist.wordvectors"
FORMAT_VERSION: Final = 1
DEFAULT_MODEL_PATH: Final = Path(__file__).resolve().parent / "models" / "wordvectors.npz"

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.intp]

_MAX_WORD_CHARS: Final = 100
_CACHE_LIMIT: Final = 100_000  # chunks (~20 MB); the cache is emptied when it grows past this
_CHUNK_TOKENS: Final = 1 << 16  # token rows gathered at once by embed_many (~32 MB at 128 dims)
# ASCII control characters the model's tokenizer drops (tab, newline and carriage return are spaces).
_ASCII_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_PIECE: Final = re.compile(r"[^!-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")
# Unicode White_Space (what the Rust tokenizer calls whitespace), less the controls it drops first.
_WHITESPACE: Final = frozenset(" \t\n\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
# Control, format, private-use and surrogate characters are dropped; unassigned ones (Cn) are kept.
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Co", "Cs"})
_CJK_RANGES: Final = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _clean(text: str) -> str:
    """Drop control characters, turn whitespace into spaces and put spaces around CJK ideographs."""
    if text.isascii():
        # Lower-cased here already, so that "The" and "the" share one cache entry.
        return (_ASCII_CONTROL.sub("", text) if _ASCII_CONTROL.search(text) else text).lower()
    if len(_CLEANED) > _CLEANED_LIMIT:
        _CLEANED.clear()
    for ch in set(text):  # each distinct character judged once, then kept
        if ord(ch) not in _CLEANED:
            _CLEANED[ord(ch)] = _cleaned_char(ch)
    return text.translate(_CLEANED)  # one pass in C, not a Python step per character


def _cleaned_char(ch: str) -> str:
    """What `_clean` makes of one non-ASCII-text character."""
    if ch in _WHITESPACE:
        return " "
    cp = ord(ch)
    if cp == 0xFFFD or unicodedata.category(ch) in _DROPPED_CATEGORIES:
        return ""
    return f" {ch} " if cp >= 0x3400 and _is_cjk(cp) else ch


# Characters already judged by `_clean`: code point -> replacement, as `str.translate` reads it. Bounded: a
# text of every code point would otherwise keep them all.
_CLEANED: dict[int, str] = {}
_CLEANED_LIMIT: Final = 1 << 16


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _pieces(chunk: str) -> list[str]:
    """A whitespace-free chunk: accents stripped, lower-cased, split at punctuation."""
    if chunk.isascii():
        return _ASCII_PIECE.findall(chunk.lower())
    stripped = "".join(c for c in unicodedata.normalize("NFD", chunk) if unicodedata.category(c) != "Mn")
    # Lower case one character at a time, as the Rust tokenizer does (no final-sigma rule).
    lowered = "".join(c.lower() for c in stripped)
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(lowered):
        if _is_punctuation(ch):
            if start < i:
                pieces.append(lowered[start:i])
            pieces.append(ch)
            start = i + 1
    if start < len(lowered):
        pieces.append(lowered[start:])
    return pieces


class WordPieceTokenizer:
    """The BERT uncased WordPiece tokenizer over a given vocabulary (token strings in id order)."""

    def __init__(self, vocab: Sequence[str], unk_token: str = "[UNK]") -> None:
        self._ids: dict[str, int] = {token: i for i, token in enumerate(vocab)}
        if unk_token not in self._ids:
            raise ValueError(f"the vocabulary has no {unk_token!r}")
        self._vocab = list(vocab)
        self._unk = self._ids[unk_token]
        self._cache: dict[str, tuple[int, ...]] = {}

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > _MAX_WORD_CHARS:
            return [self._unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    ids.append(found)
                    break
                end -= 1
            else:
                return [self._unk]
            start = end
        return ids

    def _miss(self, chunk: str) -> tuple[int, ...]:
        ids = tuple(i for piece in _pieces(chunk) for i in self._wordpiece(piece))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[chunk] = ids
        return ids

    def chunk_ids(self, text: str) -> list[tuple[int, ...]]:
        """Token ids of each whitespace-separated chunk of `text` (cached per chunk)."""
        chunks = _clean(text).split()
        found = list(map(self._cache.get, chunks))
        if None in found:
            return [
                ids if ids is not None else self._miss(chunk)
                for ids, chunk in zip(found, chunks, strict=True)
            ]
        return cast("list[tuple[int, ...]]", found)  # no None left

    @property
    def vocab(self) -> list[str]:
        """The token strings in id order."""
        return self._vocab

    def id_of(self, token: str) -> int:
        """The id of a token of the vocabulary (KeyError when it has none)."""
        return self._ids[token]

    def ids(self, text: str, limit: int | None = None) -> list[int]:
        """Token ids of `text` (no [CLS]/[SEP]); with `limit`, its first `limit` ids, read from only as many
        of its chunks as they need (the sentence encoder reads the first 126 of a post of any length)."""
        if limit is None:
            return list(itertools.chain.from_iterable(self.chunk_ids(text)))
        found: list[int] = []
        for chunk in _clean(text).split():
            if len(found) >= limit:
                break
            ids = self._cache.get(chunk)
            found.extend(ids if ids is not None else self._miss(chunk))
        return found[: max(limit, 0)]

    def tokens(self, text: str) -> list[str]:
        """Token strings of `text`, as the model's tokenizer spells them."""
        return [self._vocab[i] for i in self.ids(text)]


def _decode_vocab(path: Path, blob: npt.NDArray[Any], rows: int) -> list[str]:
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ModelError(path, "vocab is not a uint8 blob")
    try:
        vocab = bytes(blob).decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise ModelError(path, f"vocab is not UTF-8 ({exc})") from exc
    if len(vocab) != rows:
        raise ModelError(path, f"vocab has {len(vocab)} tokens for {rows} vectors")
    return vocab


def _table(path: Path, arrays: Mapping[str, npt.NDArray[Any]]) -> tuple[npt.NDArray[Any], FloatArray | None]:
    """The vectors as stored (int8 rows, with their float32 `scales`) or as float32 (scales None), checked
    for shape."""
    vectors, weights = arrays.get("vectors"), arrays.get("weights")
    if vectors is None or weights is None or "vocab" not in arrays:
        raise ModelError(path, "needs the arrays vectors, weights and vocab")
    if vectors.ndim != 2 or weights.shape != (vectors.shape[0],):
        raise ModelError(path, f"vectors {vectors.shape} and weights {weights.shape} do not match")
    if vectors.dtype == np.int8:
        scales = arrays.get("scales")
        if scales is None or scales.shape != weights.shape:
            raise ModelError(path, "int8 vectors need a per-row `scales` array")
        return vectors, scales.astype(np.float32)
    if vectors.dtype in (np.float16, np.float32):
        return vectors.astype(np.float32), None
    raise ModelError(path, f"vectors of dtype {vectors.dtype} are not supported")


class WordVectors:
    """Token vectors and weights with their tokenizer: `embed(text)` gives a unit vector (or zeros)."""

    def __init__(
        self,
        vectors: npt.NDArray[Any],
        weights: FloatArray,
        vocab: Sequence[str],
        meta: Mapping[str, Any],
        scales: FloatArray | None = None,
    ) -> None:
        """`vectors` [tokens, dims]: float32, or int8 rows that `scales` (float32 per row) scale back."""
        self.tokenizer = WordPieceTokenizer(vocab)
        self.weights = weights
        self.meta = dict(meta)
        # Stored transposed ([dims, tokens]): numpy gathers and reduces along the last axis several times
        # faster. Float vectors get their weights folded in once (a text's vector is then a plain sum of
        # columns); int8 ones stay int8 (3.7 MB, not a 15 MB float32 table) and the columns a text needs are
        # scaled and weighted as they are gathered: the same float32 operations in the same order, so the
        # same values.
        self._scales = scales
        self._stored_t: npt.NDArray[Any]
        if scales is None:
            self._stored_t = np.empty((vectors.shape[1], vectors.shape[0]), dtype=np.float32)
            np.multiply(vectors.T, weights[None, :], out=self._stored_t)
        else:
            self._stored_t = np.ascontiguousarray(vectors.T)
        self._lengths: FloatArray | None = None

    def _columns(self, ids: IdArray) -> FloatArray:
        """The weighted vectors of tokens `ids` as columns [dims, len(ids)] (a new array)."""
        if self._scales is None:
            found: FloatArray = np.take(self._stored_t, ids, axis=1)
            return found
        columns = np.take(self._stored_t, ids, axis=1).astype(np.float32)
        columns *= self._scales[ids]
        columns *= self.weights[ids]
        return columns

    @property
    def dims(self) -> int:
        """Dimensions of a text vector."""
        return int(self._stored_t.shape[0])

    @classmethod
    def load(cls, path: Path | str | None = None) -> WordVectors:
        """Read the table (default: the shipped file). Raises ModelError when missing or tampered with."""
        path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        arrays, meta = load_model(path, MODEL_KIND)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                path, f"format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        vectors = arrays.get("vectors")
        if vectors is None or hashlib.sha256(vectors.tobytes()).hexdigest() != meta.get("vectors_sha256"):
            raise ModelError(path, "vectors do not match the SHA-256 in its metadata (tampered with?)")
        table, scales = _table(path, arrays)
        vocab = _decode_vocab(path, arrays["vocab"], table.shape[0])
        return cls(table, arrays["weights"].astype(np.float32), vocab, meta, scales)

    def tokens(self, text: str) -> list[str]:
        """The WordPiece tokens of `text`."""
        return self.tokenizer.tokens(text)

    def embed(self, text: str) -> FloatArray:
        """The unit vector [dims] of `text` (zeros when it has no known token)."""
        vector: FloatArray = self.embed_many([text])[0]
        return vector

    def token_lengths(self) -> FloatArray:
        """The length of every token's weighted vector [tokens] (computed once, then shared)."""
        if self._lengths is None:
            rows = self._stored_t.shape[1]
            parts = [
                np.linalg.norm(
                    np.ascontiguousarray(self._columns(np.arange(start, min(start + 4096, rows))).T), axis=1
                )
                for start in range(0, rows, 4096)
            ]
            self._lengths = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
        return self._lengths

    def unit_rows(self, ids: IdArray) -> FloatArray:
        """The weighted vectors of tokens `ids` as unit rows [len(ids), dims], so that a text's vector is
        `token_lengths()[ids] @ unit_rows(ids)` before scaling. Computed for the rows asked only: a table of
        them all would hold a second copy of the vectors (16 MB)."""
        lengths = self.token_lengths()
        # Row-major like the table it replaces: BLAS sums a matrix-vector product in another order otherwise.
        rows = np.ascontiguousarray(self._columns(ids).T)
        rows /= np.maximum(lengths[ids], 1e-12)[:, None]
        return rows

    def embed_many(self, texts: Iterable[str]) -> FloatArray:
        """Unit vectors [n, dims], one row per text (zeros for a text with no known token)."""
        chunked = [self.tokenizer.chunk_ids(text) for text in texts]
        lengths = np.fromiter((sum(map(len, c)) for c in chunked), dtype=np.intp, count=len(chunked))
        flat: IdArray = np.fromiter(
            itertools.chain.from_iterable(itertools.chain.from_iterable(chunked)),
            dtype=np.intp,
            count=int(lengths.sum()),
        )
        owner: IdArray = np.repeat(np.arange(len(chunked), dtype=np.intp), lengths)
        out = np.zeros((len(chunked), self.dims), dtype=np.float32)
        for start in range(0, len(flat), _CHUNK_TOKENS):
            ids, rows_of = flat[start : start + _CHUNK_TOKENS], owner[start : start + _CHUNK_TOKENS]
            # Each text's tokens are contiguous: sum each run of one owner, then add it to its row
            # (a text cut by the chunk edge gets its two partial sums added in turn).
            starts = np.flatnonzero(np.r_[True, rows_of[1:] != rows_of[:-1]])
            columns = self._columns(ids)
            out[rows_of[starts]] += np.add.reduceat(columns, starts, axis=1).T
        norms = np.linalg.norm(out, axis=1)
        nonzero = norms > 1e-12
        out[nonzero] /= norms[nonzero, None]
        out[~nonzero] = 0.0
        return out
