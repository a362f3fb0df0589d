"""Model files are written stored, not deflated (inflating them was most of a model's loading time at every
start), and a deflated one, as written before, still loads with the same arrays."""

from __future__ import annotations

import platform
import subprocess
import sys
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


# Freed heap memory stands in the middle of the heap (the last array still holds its top), so glibc keeps it
# resident until `malloc_trim`; a 16 MiB array freed first raises glibc's mmap threshold, so the small ones
# come from the heap, as a model's load-time copies do.
_FREED_HEAP = """
import sys
import numpy as np
from classifiers.persistence import return_freed_memory

def anonymous_kib():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("RssAnon:"))

big = np.ones(16 << 20, dtype=np.uint8)
del big
arrays = [np.ones(1 << 20, dtype=np.uint8) for _ in range(100)]
del arrays[:-1]
before = anonymous_kib()
return_freed_memory()
print(before - anonymous_kib())
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_freed_heap_pages_go_back_to_the_system() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FREED_HEAP], capture_output=True, text=True, check=True, timeout=60
    )
    assert int(done.stdout) > 50_000  # KiB: most of the 99 MiB freed in the middle of the heap
