"""Model files are written stored, not deflated (inflating them was most of a model's loading time at every
start), and a deflated one, as written before, still loads with the same arrays."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifiers.persistence import load_model, save_model
from tests.paths import ROOT

KIND = "modassist.test"


def test_a_model_is_written_stored_and_reads_back(tmp_path: Path) -> None:
    arrays = {"weights": np.linspace(0.0, 1.0, 1000, dtype=np.float32), "ids": np.arange(7, dtype=np.int32)}
    path = tmp_path / "model.npz"
    save_model(path, KIND, arrays, {"note": "x"})
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    loaded, meta = load_model(path, KIND)
    assert meta == {"note": "x"}
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        assert np.array_equal(loaded[name], array)


def test_a_deflated_model_still_loads(tmp_path: Path) -> None:
    stored, deflated = tmp_path / "stored.npz", tmp_path / "deflated.npz"
    save_model(stored, KIND, {"weights": np.arange(100, dtype=np.float32)}, {})
    with np.load(stored) as archive:
        np.savez_compressed(deflated, **{name: archive[name] for name in archive.files})
    with zipfile.ZipFile(deflated) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    loaded, _ = load_model(deflated, KIND)
    assert np.array_equal(loaded["weights"], np.arange(100, dtype=np.float32))


@pytest.mark.parametrize("name", ["inflammatory", "offtopic"])
def test_the_models_loaded_at_start_are_shipped_stored(name: str) -> None:
    path = ROOT / "classifiers" / "models" / f"{name}.npz"
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
