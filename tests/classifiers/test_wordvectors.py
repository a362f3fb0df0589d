"""Static word vectors: the tokenizer against the model's own, topical sanity, loading and batching.

The expected token lists were produced once by the `tokenizers` library with the model's tokenizer.json
(`lab/wordvectors/check_tokenizer.py --literals`), so these tests do not need `tokenizers`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import wordvectors as wv_module
from classifiers.persistence import ModelError
from classifiers.wordvectors import DEFAULT_MODEL_PATH, WordVectors

# (text, its tokens joined by spaces) as the `tokenizers` library gives them; tokens hold no spaces.
TOKEN_CASES = [
    ("", ""),
    ("   \t\n  ", ""),
    ("Hello, World!", "hello , world !"),
    (
        "Café déjà vu: naïve coöperation, Ångström, façade",
        "cafe de ##ja vu : naive cooperation , ang ##strom , facade",
    ),
    ("ÉCOLE Straße ΣΟΦΊΑ Ӝ", "ecole st ##raße σ ##ο ##φ ##ια ж"),
    (
        "don't stop-believing... (really?!) #hashtag @user e-mail: a.b@c.de",
        "don ' t stop - believing . . . ( really ? ! ) # hash ##tag @ user e - mail : a . b @ c . de",
    ),
    ("I ❤️ football ⚽🏆 😂😂", "i [UNK] football [UNK] [UNK]"),
    ("北京欢迎你 and 東京 and 서울", "北 京 [UNK] [UNK] [UNK] and 東 京 and ᄉ ##ᅥ ##ᄋ ##ᅮ ##ᆯ"),
    (
        "Prices: $3.50, 1,000,000 and 3.14159; 24/7 at 10:30pm",
        "prices : $ 3 . 50 , 1 , 000 , 000 and 3 . 141 ##59 ; 24 / 7 at 10 : 30 ##pm",
    ),
    (
        "supercalifragilisticexpialidocious antidisestablishmentarianism",
        "super ##cal ##if ##rag ##ilis ##tic ##ex ##pia ##lid ##oc ##ious anti ##dis ##est "
        "##ab ##lish ##ment ##arian ##ism",
    ),
    ("a" * 101 + " ok " + "b" * 100, "[UNK] ok bb" + " ##bb" * 49),
    (
        "tab\tseparated\x00null\u200bzero-width\ufeffbom\xa0nbsp\u2028line",
        "tab separated ##nu ##ll ##zer ##o - width ##bo ##m n ##bs ##p line",
    ),
    ("http://example.com/path?q=1&r=two#frag", "http : / / example . com / path ? q = 1 & r = two # fra ##g"),
    ("Ünïcödé ﬁne ligature ＦＵＬＬ\u3000ｗｉｄｔｈ ½ ² ™", "unicode ﬁ ##ne liga ##ture [UNK] [UNK] ½ ² ™"),
    ("İstanbul ǅ ß ẞ", "istanbul [UNK] ß ß"),
    ("The Bus Route 42A runs every 15 minutes", "the bus route 42 ##a runs every 15 minutes"),
    # Lower case one character at a time: no final sigma.
    ("ΟΔΟΣ final sigma", "ο ##δ ##ο ##σ final sigma"),
    # Control characters are dropped (joining their neighbours); an unassigned code point is kept.
    ("joined\x0bby\x0ccontrols and\u0379unassigned", "joined ##by ##con ##tro ##ls [UNK]"),
    (
        "C++ and C# vs. U.S.A. — em dash… ellipsis «quotes»",
        "c + + and c # vs . u . s . a . — em dash … el ##lip ##sis « quotes »",
    ),
]

BUS = [
    "The bus to the station was twenty minutes late this morning.",
    "They changed the timetable for the number 42 route again.",
    "Does the night bus still stop outside the hospital?",
]
FOOTBALL = [
    "Our striker scored twice in the second half.",
    "What a match, that last-minute goal won us the derby.",
    "The referee should never have given that penalty.",
]


@pytest.fixture(scope="module")
def vectors() -> WordVectors:
    return WordVectors.load()


@pytest.mark.parametrize(("text", "expected"), TOKEN_CASES)
def test_tokens_match_the_models_tokenizer(vectors: WordVectors, text: str, expected: str) -> None:
    assert vectors.tokens(text) == expected.split()


def test_the_shipped_table_describes_itself(vectors: WordVectors) -> None:
    assert vectors.dims == 128
    assert vectors.meta["source_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert vectors.meta["licence"].startswith("Apache-2.0")
    assert DEFAULT_MODEL_PATH.stat().st_size < 10_000_000


def test_sentences_on_one_topic_are_closer_than_across_topics(vectors: WordVectors) -> None:
    sims = vectors.embed_many(BUS + FOOTBALL) @ vectors.embed_many(BUS + FOOTBALL).T
    topic = np.array([0] * len(BUS) + [1] * len(FOOTBALL))
    for i in range(len(topic)):
        same = [sims[i, j] for j in range(len(topic)) if j != i and topic[j] == topic[i]]
        other = [sims[i, j] for j in range(len(topic)) if topic[j] != topic[i]]
        assert min(same) > max(other) + 0.05, (i, same, other)
        assert np.mean(same) > np.mean(other) + 0.15, (i, same, other)


def test_words_on_one_topic_are_closer_than_across_topics(vectors: WordVectors) -> None:
    bus, football = ["bus", "timetable", "route"], ["football", "match", "goal"]
    a, b = vectors.embed_many(bus), vectors.embed_many(football)
    within = np.concatenate([(a @ a.T)[np.triu_indices(3, 1)], (b @ b.T)[np.triu_indices(3, 1)]])
    across = (a @ b.T).ravel()
    assert within.mean() > across.mean() + 0.15


def test_a_football_post_is_far_from_a_bus_thread(vectors: WordVectors) -> None:
    thread = vectors.embed("Number 42 bus timetable changes\nFrom Monday the 42 runs every 20 minutes.")
    # A reply on topic only through its context ("so now I will wait at my stop even longer") is NOT
    # separated this way: static vectors need some topical word (see lab/wordvectors/README.md).
    on_topic = vectors.embed("Does the night route still go past the hospital?")
    off_topic = vectors.embed("Did anyone watch the match? What a goal in the second half!")
    assert float(thread @ on_topic) > float(thread @ off_topic) + 0.15


def test_embed_many_equals_embed_row_by_row(vectors: WordVectors) -> None:
    texts = [*BUS, "", "   ", "😂😂", *FOOTBALL, "bus " * 300, "Ünïcödé café"]
    batch = vectors.embed_many(texts)
    assert batch.shape == (len(texts), vectors.dims)
    assert batch.dtype == np.float32
    for row, text in zip(batch, texts, strict=True):
        np.testing.assert_allclose(row, vectors.embed(text), atol=1e-6)


def test_vectors_are_unit_length_or_zero(vectors: WordVectors) -> None:
    batch = vectors.embed_many(["", "😂", "[UNK]", "bus", *BUS])
    norms = np.linalg.norm(batch, axis=1)
    assert norms[:2].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(norms[2:], 1.0, atol=1e-5)


def test_texts_cut_by_the_chunk_edge_sum_across_chunks(
    vectors: WordVectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [*BUS, "", *FOOTBALL, "a much longer post about buses and trains " * 5]
    whole = vectors.embed_many(texts)
    monkeypatch.setattr(wv_module, "_CHUNK_TOKENS", 7)
    np.testing.assert_allclose(vectors.embed_many(texts), whole, atol=1e-6)


def test_the_word_cache_stays_bounded(vectors: WordVectors, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wv_module, "_CACHE_LIMIT", 5)
    text = "one two three four five six seven eight nine ten eleven"
    expected = vectors.tokens(text)
    assert len(vectors.tokenizer._cache) <= 5
    assert vectors.tokens(text) == expected


@given(st.text(max_size=200))
def test_any_text_gives_a_unit_or_zero_vector(text: str) -> None:
    vector = _shared().embed(text)
    norm = float(np.linalg.norm(vector))
    assert norm == 0.0 or abs(norm - 1.0) < 1e-5


@given(st.text(max_size=300), st.integers(min_value=0, max_value=60))
def test_the_first_ids_of_a_text_are_the_first_of_all_its_ids(text: str, limit: int) -> None:
    tokenizer = _shared().tokenizer
    assert tokenizer.ids(text, limit=limit) == tokenizer.ids(text)[:limit]


def test_the_first_ids_of_a_huge_text_read_only_its_start() -> None:
    tokenizer = _shared().tokenizer
    huge = "timetable " * 10 + "".join(f"w{i}x " for i in range(150_000))  # 150,000 words never seen
    tokenizer._cache.clear()
    first = tokenizer.ids(huge, limit=12)
    assert len(tokenizer._cache) <= 2  # the words after the 12th id are never looked at
    assert first == tokenizer.ids("timetable " * 10 + "w0x")[:12]


_CACHE: list[WordVectors] = []


def _shared() -> WordVectors:
    if not _CACHE:
        _CACHE.append(WordVectors.load())
    return _CACHE[0]


def _rewrite(src: Path, dst: Path, change: dict[str, np.ndarray]) -> None:
    """Copy the model file with some arrays replaced and its metadata left as it was."""
    with np.load(src, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays.update(change)
    with dst.open("wb") as fh:
        np.savez_compressed(fh, allow_pickle=False, **arrays)


def test_a_tampered_vector_is_refused(tmp_path: Path) -> None:
    with np.load(DEFAULT_MODEL_PATH, allow_pickle=False) as archive:
        vectors = archive["vectors"].copy()
    vectors[2000, 0] = vectors[2000, 0] // 2 + 1
    path = tmp_path / "wordvectors.npz"
    _rewrite(DEFAULT_MODEL_PATH, path, {"vectors": vectors})
    with pytest.raises(ModelError, match=r"checksum|SHA-256"):
        WordVectors.load(path)


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    with np.load(DEFAULT_MODEL_PATH, allow_pickle=False) as archive:
        weights = archive["weights"] * 2
    path = tmp_path / "wordvectors.npz"
    _rewrite(DEFAULT_MODEL_PATH, path, {"weights": weights})
    with pytest.raises(ModelError, match="checksum"):
        WordVectors.load(path)


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        WordVectors.load(tmp_path / "nothing.npz")
    with pytest.raises(ModelError, match=r"expected 'modassist\.wordvectors'"):
        WordVectors.load(DEFAULT_MODEL_PATH.parent / "offtopic.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(ModelError):
        WordVectors.load(garbage)


def test_the_shipped_file_loads_from_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy.npz"
    shutil.copyfile(DEFAULT_MODEL_PATH, copy)
    loaded = WordVectors.load(copy)
    assert loaded.tokens("bus timetable") == ["bus", "timetable"]


def test_int8_vectors_kept_as_stored_give_the_float_tables_vectors(vectors: WordVectors) -> None:
    # The shipped table stays int8 and is scaled and weighted per gathered column: the same float32 values
    # as a table dequantised and weighted once (what it held before), bit for bit.
    arrays = np.load(DEFAULT_MODEL_PATH)
    table = arrays["vectors"].astype(np.float32) * arrays["scales"].astype(np.float32)[:, None]
    vocab = bytes(arrays["vocab"]).decode("utf-8").split("\n")
    dense = WordVectors(table, arrays["weights"].astype(np.float32), vocab, {})
    texts = ["The bus to the stadium was late again.", "", "vaccines and taxes", "zzzz qqqq"]
    assert np.array_equal(vectors.embed_many(texts), dense.embed_many(texts))
    assert np.array_equal(vectors.token_lengths(), dense.token_lengths())
    ids = np.array([0, 5, 1037, 30521], dtype=np.intp)
    assert np.array_equal(vectors.unit_rows(ids), dense.unit_rows(ids))
    assert vectors._stored_t.dtype == np.int8


def _clean_char_by_char(text: str) -> str:
    """The tokenizer's cleaning spelt out one character at a time (what `_clean`'s table holds)."""
    if text.isascii():
        return "".join(c for c in text if c in "\t\n\r" or 32 <= ord(c) < 127).lower()
    out = []
    for ch in text:
        if ch in wv_module._WHITESPACE:
            out.append(" ")
        elif ord(ch) != 0xFFFD and wv_module.unicodedata.category(ch) not in {"Cc", "Cf", "Co", "Cs"}:
            out.append(f" {ch} " if wv_module._is_cjk(ord(ch)) else ch)
    return "".join(out)


@given(st.text(max_size=80), st.booleans())
def test_clean_reads_any_text_as_character_by_character(text: str, forget: bool) -> None:
    if forget:  # a text judged after the table of known characters is emptied reads the same
        wv_module._CLEANED.clear()
    assert wv_module._clean(text) == _clean_char_by_char(text)
