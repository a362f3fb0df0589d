"""Safe model files: numpy arrays (no pickle) plus JSON metadata, guarded by a SHA-256 digest.

A model file is an `.npz` archive written with `allow_pickle=False`, stored rather than deflated (a deflated
one is read too). It holds the model's arrays and one extra array `__meta__` with UTF-8 JSON: the format
name, a version, free metadata, and the SHA-256 of every array. Loading never executes code from the file:
object arrays are refused, the digests must match and the format name must be the one the caller expects.

Before anything is inflated, the archive's central directory and each array's `.npy` header are read:
an entry that would inflate past `MAX_MODEL_BYTES` (all entries together, too), an array whose header
claims more than its entry holds, or metadata nested deeper than `MAX_META_DEPTH` is refused, so a
decompression bomb or a hostile header costs a few kilobytes of reading, not gigabytes of memory.

The digests check integrity, not origin: they catch a damaged file or one whose arrays were changed
without its metadata, but whoever can write a model file can write matching digests too. Load only
model files from a source you trust (the shipped ones, or your own `modassist-lab train`).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

_META_KEY = "__meta__"
# The shipped models inflate to under 5 MB; a model 50 times larger is still welcome, a bomb is not.
MAX_MODEL_BYTES = 256 * 1024 * 1024
MAX_META_BYTES = 1024 * 1024
MAX_META_DEPTH = 64
_MAX_ENTRIES = 256
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


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
    h.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)  # tobytes()'s bytes, not copied
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
    # Stored, not deflated: the weights hardly compress (the off-topic model's 4.6 MB deflate to 4.1), and
    # inflating them cost more than the rest of loading (33 ms against 5 ms), at every start of a command.
    with path.open("wb") as fh:
        np.savez(fh, allow_pickle=False, **{_META_KEY: blob}, **{k: np.asarray(v) for k, v in arrays.items()})


def load_model(
    path: Path | str, kind: str, *, max_bytes: int = MAX_MODEL_BYTES
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """Read a model of format `kind`: its arrays and its metadata. Raises ModelError on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "not found; reinstall modassist or retrain the model")
    try:
        # One open file for the checks and the load: what was checked is what is read.
        with path.open("rb") as fh:
            _check_archive(path, fh, max_bytes)
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as archive:
                if _META_KEY not in archive.files:
                    raise ModelError(path, "no metadata: not a modassist model file")
                header = _read_header(path, bytes(archive[_META_KEY]))
                arrays = {name: archive[name] for name in archive.files if name != _META_KEY}
    except ModelError:
        raise
    except (
        ValueError,
        OSError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
        EOFError,
        RecursionError,
    ) as exc:
        raise ModelError(path, f"damaged or not a model file ({_one_line(exc)})") from exc
    if header.get("kind") != kind:
        raise ModelError(path, f"holds a {header.get('kind')!r} model, expected {kind!r}")
    digests = header.get("digests")
    if not isinstance(digests, dict) or not all(isinstance(d, str) for d in digests.values()):
        raise ModelError(path, "its metadata's 'digests' is not a mapping of array names to SHA-256 strings")
    if set(digests) != set(arrays):
        raise ModelError(path, "its arrays do not match its metadata (tampered with?)")
    for name, array in arrays.items():
        if _digest(array) != digests[name]:
            raise ModelError(path, f"array {name!r} fails its checksum (tampered with?)")
    meta = header.get("meta", {})
    return arrays, meta if isinstance(meta, dict) else {}


def _check_archive(path: Path, fh: IO[bytes], max_bytes: int) -> None:
    """Refuse an archive that would inflate too far, from its central directory and .npy headers alone."""
    with zipfile.ZipFile(fh) as archive:
        entries = archive.infolist()
        if len(entries) > _MAX_ENTRIES:
            raise ModelError(path, f"holds {len(entries):,} entries; a model file has at most {_MAX_ENTRIES}")
        total = 0
        for info in entries:
            limit = MAX_META_BYTES if info.filename == _META_KEY + ".npy" else max_bytes
            if info.file_size > limit:
                raise ModelError(
                    path,
                    f"entry {info.filename!r} would inflate to {info.file_size:,} bytes, over the "
                    f"{limit:,}-byte limit for it (a decompression bomb?)",
                )
            total += info.file_size
            if total > max_bytes:
                raise ModelError(path, f"its entries would inflate to over {max_bytes:,} bytes together")
            _check_entry(path, archive, info)


def _check_entry(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """An entry must be a .npy array of plain values whose header agrees with the entry's size."""
    name = info.filename
    if not name.endswith(".npy"):
        raise ModelError(path, f"entry {name!r} is not a .npy array")
    with archive.open(info) as member:  # reads (and inflates) only the first block: the header
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ModelError(path, f"entry {name!r} is .npy format {version}, which modassist does not read")
        header_bytes = member.tell()
    if dtype.hasobject:
        raise ModelError(path, f"entry {name!r} holds Python objects, which would need pickle: refused")
    # numpy allocates the array from the header's shape before reading: it must match the entry's size.
    claimed = math.prod(shape) * dtype.itemsize
    if header_bytes + claimed != info.file_size:
        raise ModelError(
            path,
            f"entry {name!r} claims an array of {claimed:,} bytes but holds "
            f"{info.file_size - header_bytes:,} (damaged or crafted)",
        )


def _read_header(path: Path, blob: bytes) -> dict[str, Any]:
    """The metadata JSON, refused when nested deeper than any model needs (before the parser recurses)."""
    text = blob.decode("utf-8")
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_META_DEPTH:
            raise ModelError(path, f"its metadata is nested too deeply (over {MAX_META_DEPTH} levels)")
    try:
        header = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(path, f"its metadata is not valid JSON ({_one_line(exc)})") from exc
    if not isinstance(header, dict):
        raise ModelError(path, f"its metadata is a JSON {type(header).__name__}, not an object")
    return header


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def return_freed_memory() -> None:
    """Hand the heap pages freed since start back to the operating system (glibc's `malloc_trim`; elsewhere
    nothing). Loading a model leaves megabytes of them (its arrays as read, before they are transposed and
    fused): a long-lived process would otherwise keep them resident. Costs a few milliseconds."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return
    trim(0)
