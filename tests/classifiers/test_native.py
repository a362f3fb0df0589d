"""The optional C extension gives exactly what the numpy and plain-Python path gives.

Skipped when the extension is not built (the install succeeds without it). The whole suite also runs
on the fallback path with MODASSIST_PURE_PYTHON=1.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import replace
from itertools import accumulate
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers import shingles as shingles_module
from classifiers import text as text_module
from classifiers.duplicates import _runs
from classifiers.result import Detection
from classifiers.thread import Post, Quote
from tests.classifiers.duplicates.test_duplicates import _thread_of_copies, review_all

native: ModuleType | None = shingles_module.native
needs_native = pytest.mark.skipif(native is None, reason="C extension not built (or MODASSIST_PURE_PYTHON)")
ROOT = Path(__file__).resolve().parents[2]


def _both(joined: bytes, size: int, aligned: bool) -> None:
    """Numpy and C hash `joined` alike: hashes, arrays, word bounds and boilerplate candidates."""
    by_numpy, numpy_present = shingles_module._shingles_of(joined, size, aligned, look_for=True)
    by_c, c_present = shingles_module._native_shingles_of(joined, size, aligned, look_for=True)
    assert by_c.hashes == by_numpy.hashes
    assert by_c.hash_array.tolist() == by_numpy.hash_array.tolist()
    assert by_c.starts.tolist() == by_numpy.starts.tolist()
    assert by_c.ends.tolist() == by_numpy.ends.tolist()
    assert by_c.letters_before.tolist() == by_numpy.letters_before.tolist()
    assert by_c.letters_before.tolist() == [0, *accumulate(by_c.ends - by_c.starts)]
    assert (by_c.joined, by_c.aligned, by_c.words, by_c.letters()) == (
        by_numpy.joined,
        by_numpy.aligned,
        by_numpy.words,
        by_numpy.letters(),
    )
    assert sorted(c_present) == sorted(numpy_present)


_texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet="ab \n\0é’\u200b.", max_size=200),
    st.lists(
        st.sampled_from(["said", "top", "Top", "x" * 256, "y" * 255, "attachment", "ﬁne", "naïve", "\0"]),
        max_size=30,
    ).map(" ".join),
)


@needs_native
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=7))
def test_any_bytes_hash_alike(joined: bytes, size: int) -> None:
    _both(joined, size, False)


@needs_native
@given(_texts, st.integers(min_value=2, max_value=6))
def test_texts_hash_alike(text: str, size: int) -> None:
    encoded = text.encode("utf-8", "surrogatepass")
    _both(encoded.translate(shingles_module._ZERO_TABLE), size, text.isascii())
    _both(b"\0".join(text_module.word_keys(text)), size, False)


@needs_native
@pytest.mark.parametrize(
    "text",
    [
        "",
        "\0" * 1000,
        "word " * 200_000,  # a 1 MB post
        "z" * 1_000_000,  # one 1 MB word: hashed with `hash`, not polynomially
        " ".join(f"w{i % 5000}" for i in range(100_000)) + " " + "y" * 256 + " tail end of it",
        "Ｔｏｐ\nnaïve café said: don’t\u200b stop " * 5000,
    ],
)
def test_huge_and_odd_posts_hash_alike(text: str) -> None:
    _both(text.encode("utf-8").translate(shingles_module._ZERO_TABLE), 5, text.isascii())
    _both(b"\0".join(text_module.word_keys(text)), 5, False)


@needs_native
def test_bad_arguments_raise_instead_of_crashing() -> None:
    assert native is not None
    sieve = shingles_module._BOILERPLATE_SIEVE_BYTES
    with pytest.raises(ValueError, match="size"):
        native.hash_shingles(b"a b c", 0, 5, 5, sieve)
    with pytest.raises(ValueError, match="sieve"):
        native.hash_shingles(b"a b c", 2, 5, 5, b"short")
    with pytest.raises(TypeError):
        native.hash_shingles("not bytes", 2, 5, 5, sieve)
    with pytest.raises(TypeError):
        native.lookup_runs([], [1, 2], 0, 2, 0, True)  # not a dict
    with pytest.raises(TypeError):
        native.lookup_runs({}, (1, 2), 0, 2, 0, True)  # not a list
    hashes = np.array([1, 2, 1, 2, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="int64"):
        native.self_runs(b"odd", 2, [], -2)
    with pytest.raises(ValueError, match="size"):
        native.self_runs(hashes, -1, [], -2)
    with pytest.raises(TypeError):
        native.self_runs(hashes, 2, [(0, 1)], -2)  # not (first, end, value)
    with pytest.raises(TypeError):
        native.self_runs(hashes, 2, [(0, "1", 0)], -2)
    with pytest.raises(TypeError):
        native.self_runs(hashes, 2, ((0, 1, 0),), -2)  # not a list
    for runs in ([(1, 2, 0), (0, 1, 0)], [(0, 2, 0), (1, 3, 0)], [(2, 2, 0)], [(3, 6, 0)], [(-1, 1, 0)]):
        with pytest.raises(ValueError, match="in order"):
            native.self_runs(hashes, 2, runs, -2)


_keys = st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.integers(0, 6), max_size=60)


@needs_native
@given(
    st.dictionaries(st.integers(0, 6), st.integers(0, 3), max_size=6),
    _keys,
    st.integers(0, 70),
    st.integers(0, 70),
    st.booleans(),
)
def test_lookup_runs_alike(
    table: dict[int, int], keys: list[int], start: int, stop: int, store: bool
) -> None:
    assert native is not None
    default = 3  # also a value of some entries: those count as "not seen"
    start = min(start, len(keys))
    by_python_table, by_c_table = dict(table), dict(table)
    by_python = _runs.python_lookup_runs(by_python_table, keys, start, stop, default, store)
    by_c = native.lookup_runs(by_c_table, keys, start, stop, default, store)
    assert by_c == by_python
    assert list(by_c_table.items()) == list(by_python_table.items())  # same entries, same order


@needs_native
def test_lookup_runs_compares_values_not_identities() -> None:
    assert native is not None
    big = 10**20
    table = {1: big, 2: int(str(big)), 3: big + 1}  # equal values, different objects
    assert native.lookup_runs(table, [1, 2, 3, 4], 0, 4, int(str(big + 1)), False) == ([(0, 2, big)], 0, 2)


@st.composite
def _hashes_and_runs(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Shingle hashes with repeats (some posts long enough to be sorted) and runs apart within them."""
    alphabet = draw(st.sampled_from([[0, 1], [5, -(2**63), 2**63 - 1, 7], list(range(40))]))
    hashes = draw(st.lists(st.sampled_from(alphabet), max_size=400))
    cuts = sorted(draw(st.sets(st.integers(0, len(hashes)), max_size=12)))
    runs = [(first, end, draw(st.integers(0, 3))) for first, end in zip(cuts[::2], cuts[1::2], strict=False)]
    return hashes, runs


@needs_native
@given(_hashes_and_runs(), st.integers(0, 7))
def test_self_runs_alike(hashes_and_runs: tuple[list[int], list[tuple[int, int, int]]], size: int) -> None:
    assert native is not None
    hashes, runs = hashes_and_runs
    array = np.array(hashes, dtype=np.int64)
    by_python = _runs.python_self_runs(array, size, runs, _runs.SELF)
    assert native.self_runs(array, size, runs, _runs.SELF) == by_python
    assert native.self_runs(array.tobytes(), size, runs, _runs.SELF) == by_python


@needs_native
def test_self_runs_of_a_huge_post() -> None:
    assert native is not None
    hashes = np.tile(np.arange(1000, dtype=np.int64), 1000)  # a million shingles, 1000 distinct
    runs = [(5, 999_000, 1)]
    found = native.self_runs(hashes, 5, runs, _runs.SELF)
    assert found == _runs.python_self_runs(hashes, 5, runs, _runs.SELF)
    assert found == [(5, 999_000, 1), (999_000, 1_000_000, _runs.SELF)]


def _review_both_ways(
    posts: list[Post], monkeypatch: pytest.MonkeyPatch, **options: float
) -> tuple[list[Detection], list[Detection]]:
    by_c = review_all(posts, **options)
    with monkeypatch.context() as patched:
        patched.setattr(shingles_module, "_hashed_shingles", shingles_module._shingles_of)
        patched.setattr(_runs, "lookup_runs", _runs.python_lookup_runs)
        patched.setattr(_runs, "self_runs", _runs.python_self_runs)
        by_python = review_all(posts, **options)
    return by_c, by_python


@needs_native
@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("options", [{}, {"max_shingles": 150, "max_posts": 4, "evidence_min_score": 0.0}])
def test_the_detector_gives_the_same_verdicts_both_ways(
    seed: int, options: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _thread_of_copies(seed)
    rng = random.Random(seed)
    marked = [
        replace(p, quotes=(Quote(rng.choice(plain).text, author="marina"),)) if rng.random() < 0.3 else p
        for p in plain
    ]
    for posts in (plain, marked):
        by_c, by_python = _review_both_ways(posts, monkeypatch, **options)
        assert by_c == by_python
        assert any(d.reasons for d in by_c)


def test_hashes_depend_on_the_interpreters_hash_secret() -> None:
    # The hash bases come from `hash`, salted per process: texts cannot be crafted to collide.
    code = (
        "from classifiers.shingles import shingles; print(shingles('one two three four five six', 5).hashes)"
    )
    found = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        found.add(run.stdout)
    assert len(found) == 2


def test_a_build_older_than_its_source_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkout updated without reinstalling keeps the old build, which lacks the newer functions: the
    # fallback is used (same results) instead of an AttributeError at the first call.
    stale = ModuleType("classifiers._shingles")
    stale.hash_shingles = lambda *args: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "classifiers._shingles", stale)
    assert shingles_module._load_native() is None


@needs_native
def test_the_list_of_functions_is_what_the_build_has() -> None:
    public = {name for name in dir(native) if not name.startswith("_") and callable(getattr(native, name))}
    assert public == set(shingles_module.NATIVE_FUNCTIONS)
