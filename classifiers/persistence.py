"""Safe model files: numpy arrays (no pickle) plus JSON metadata, guarded by a SHA-256 digest.

A model file is an `.npz` archive written with `allow_pickle=False`. It holds the model's arrays
and one extra array `__meta__` with UTF-8 JSON: the format name, a version, free metadata, and the
SHA-256 of every array. Loading never executes code from the file: object arrays are refused, the
digests must match and the format name must be the one the caller expects.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_META_KEY = "__meta__"


class ModelError(Exception):
    """A model file that is missing, damaged, tampered with, or not the kind expected."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"model file {path}: {problem}")


def _digest(array: npt.NDArray[Any]) -> str:
    h = hashlib.sha256()
    h.update(str(array.dtype).encode())
    h.update(repr(array.shape).encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def save_model(
    path: Path | str, kind: str, arrays: Mapping[str, npt.NDArray[Any]], meta: Mapping[str, Any]
) -> None:
    """Write `arrays` and JSON-serialisable `meta` to `path` as a model of format `kind`."""
    path = Path(path)
    for name, array in arrays.items():
        if array.dtype == object:
            raise ValueError(f"array {name!r} has dtype object, which cannot be stored without pickle")
        if name == _META_KEY:
            raise ValueError(f"{_META_KEY} is reserved")
    header = {
        "kind": kind,
        "meta": dict(meta),
        "digests": {name: _digest(np.asarray(a)) for name, a in arrays.items()},
    }
    blob = np.frombuffer(json.dumps(header, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(
            fh, allow_pickle=False, **{_META_KEY: blob}, **{k: np.asarray(v) for k, v in arrays.items()}
        )


def load_model(path: Path | str, kind: str) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """Read a model of format `kind`: its arrays and its metadata. Raises ModelError on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "not found; reinstall modassist or retrain the model")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META_KEY not in archive.files:
                raise ModelError(path, "no metadata: not a modassist model file")
            header = json.loads(bytes(archive[_META_KEY]).decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != _META_KEY}
    except ModelError:
        raise
    except (
        ValueError,
        OSError,
        zipfile.BadZipFile,
        json.JSONDecodeError,
        UnicodeDecodeError,
        EOFError,
    ) as exc:
        raise ModelError(path, f"damaged or not a model file ({exc})") from exc
    if not isinstance(header, dict) or header.get("kind") != kind:
        found = header.get("kind") if isinstance(header, dict) else None
        raise ModelError(path, f"holds a {found!r} model, expected {kind!r}")
    digests = header.get("digests", {})
    if set(digests) != set(arrays):
        raise ModelError(path, "its arrays do not match its metadata (tampered with?)")
    for name, array in arrays.items():
        if _digest(array) != digests[name]:
            raise ModelError(path, f"array {name!r} fails its checksum (tampered with?)")
    meta = header.get("meta", {})
    return arrays, meta if isinstance(meta, dict) else {}
