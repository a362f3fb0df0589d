"""The folding and word tables are built a block at a time, when a text needs them: the result must be
the same as building them whole."""

from __future__ import annotations

import numpy as np

from classifiers.inflammatory.normalise import (
    _TABLE_SIZE,
    LINK,
    MENTION,
    SPACE,
    _build_tables,
    _cover,
    _normalise,
)

MIXED = "Ｙｏｕ are ѕо ԁumb\u200b!! naïve café — “quoted” 😀 ﬁne\u00a0line ΑΒΓ Ω ñ \U0002a6a5 end"


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def test_a_fresh_table_covers_only_ascii_and_placeholders() -> None:
    tables = _build_tables()
    assert tables.built[0]
    assert tables.built[MENTION >> 8]
    assert tables.built.sum() == 2


def test_lazy_blocks_equal_the_whole_table_for_the_code_points_used() -> None:
    whole = _build_tables()
    _cover(whole, np.arange(_TABLE_SIZE, dtype=np.int64))
    lazy = _build_tables()
    codes = _codes(MIXED)
    _cover(lazy, codes)
    inside = codes[codes < _TABLE_SIZE]
    assert np.array_equal(lazy.fold[inside], whole.fold[inside])
    folded = lazy.fold[inside]
    folded = folded[folded >= 0]
    _cover(lazy, folded)
    assert np.array_equal(lazy.word[folded], whole.word[folded])
    assert lazy.built.sum() < whole.built.sum() / 10


def test_folding_reads_lookalikes_widths_and_invisible_characters() -> None:
    tables = _build_tables()
    codes = _codes("Ｄ ѕ \u200b \u00a0 A \n")
    _cover(tables, codes)
    assert [int(tables.fold[c]) for c in codes] == [
        ord("d"), SPACE, ord("s"), SPACE, -1, SPACE, SPACE, SPACE, ord("a"), SPACE, 10,
    ]  # fmt: skip
    assert tables.word[MENTION] and tables.word[LINK]


def test_normalised_text_does_not_depend_on_what_was_read_before() -> None:
    first = _normalise([MIXED]).codes
    _normalise(["Ωμέγα Ελληνικά ไทย 中文 한국어 עברית"])  # other blocks get built in between
    assert np.array_equal(_normalise([MIXED]).codes, first)


def test_the_compact_column_table_reads_as_the_dense_one() -> None:
    from classifiers.inflammatory.scoring import ColumnTable

    rng = np.random.default_rng(17)
    n = 1 << 12
    columns = np.sort(rng.choice(n, size=300, replace=False)).astype(np.int64)
    a, b = rng.normal(size=300), rng.random(300)
    dense = np.zeros((n, 2))
    dense[columns, 0], dense[columns, 1] = a, b
    table = ColumnTable.build(n, columns, a, b)
    probe = rng.integers(0, n, size=5_000)
    assert np.array_equal(table.rows(probe), dense[probe])
    assert table.n_columns == n
    assert table.slot.nbytes + table.values.nbytes < dense.nbytes / 3
