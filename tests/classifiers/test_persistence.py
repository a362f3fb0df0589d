"""The model loader refuses hostile files with a one-line ModelError naming the file, before any harm is done.

Every file here is crafted on tmp_path and read by the real loader: metadata nested beyond reason, digests of
the wrong type, and a decompression bomb (a 3 GiB array of zeros in a 3 MB archive, written block by block so
that building it stays quick).
"""

from __future__ import annotations

import functools
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifiers.inflammatory import MODEL_KIND as INFLAMMATORY_KIND
from classifiers.persistence import ModelError, load_model, save_model
from tests.bot.measured_cli import run_measured

KIND = "modassist.test"
BOMB_BYTES = 3 * 1024**3  # what the bomb's one array inflates to
BLOCK = 1024**2


def _meta_blob(header: str) -> np.ndarray:
    return np.frombuffer(header.encode("utf-8"), dtype=np.uint8)


def _npz_with_header(path: Path, header: str, **arrays: np.ndarray) -> Path:
    """An .npz of plain arrays whose metadata is exactly `header` (JSON text, valid or not)."""
    members: dict[str, Any] = {"__meta__": _meta_blob(header), **arrays}
    with path.open("wb") as fh:
        np.savez(fh, **members)
    return path


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# Zip records (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16); the archive here is small enough for 32-bit fields.
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def _zip(path: Path, members: list[tuple[str, int, bytes, int, int]]) -> None:
    """A zip archive of (name, method, stored bytes, crc32, inflated size), written record by record."""
    body, directory = bytearray(), bytearray()
    for name, method, data, crc, size in members:
        encoded, offset = name.encode(), len(body)
        sizes = (crc, len(data), size, len(encoded))
        body += _LOCAL.pack(0x04034B50, 20, 0, method, 0, 33, *sizes, 0) + encoded + data
        directory += _CENTRAL.pack(0x02014B50, 20, 20, 0, method, 0, 33, *sizes, 0, 0, 0, 0, 0, offset)
        directory += encoded
    count = len(members)
    end = _END.pack(0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    path.write_bytes(bytes(body) + bytes(directory) + end)


@functools.cache
def _bomb_entry() -> tuple[bytes, bytes, int]:
    """The .npy header of a BOMB_BYTES array of zeros, the entry's deflated bytes, and its CRC-32."""
    header = io.BytesIO()
    array = {"descr": "|u1", "fortran_order": False, "shape": (BOMB_BYTES,)}
    np.lib.format.write_array_header_1_0(header, array)
    start = header.getvalue()
    # After a full flush deflate forgets its history, so every block of zeros compresses to the same bytes:
    # one block is compressed and repeated, instead of deflating 3 GiB.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = packer.compress(start) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(bytes(BLOCK)) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(bytes(BLOCK)) + packer.flush(zlib.Z_FULL_FLUSH) == block
    stream += block * (BOMB_BYTES // BLOCK) + packer.flush()
    return start, stream, _crc32_of_zeros(BOMB_BYTES, zlib.crc32(start))


def _crc32_of_zeros(count: int, crc: int) -> int:
    """`zlib.crc32(bytes(count), crc)` without reading `count` bytes (3 GiB took 2-4 s): a CRC-32 over
    zeros is an affine map of the starting CRC, kept as its images of 0 and of each bit, squared to double."""

    def apply(table: list[int], value: int) -> int:
        out = table[32]
        for bit in range(32):
            if value >> bit & 1:
                out ^= table[bit]
        return out

    one = [zlib.crc32(b"\0", 1 << bit) ^ zlib.crc32(b"\0", 0) for bit in range(32)] + [zlib.crc32(b"\0", 0)]
    while count:
        if count & 1:
            crc = apply(one, crc)
        image = [apply(one, apply(one, 1 << bit)) ^ apply(one, apply(one, 0)) for bit in range(32)]
        one = [*image, apply(one, apply(one, 0))]
        count >>= 1
    return crc


def _bomb(path: Path, kind: str, *, declared: int | None = None) -> Path:
    """A model file whose array `weights` inflates to BOMB_BYTES of zeros; `declared` overrides the size the
    zip's central directory gives for it (a lying archive)."""
    start, stream, crc = _bomb_entry()
    meta = _npy_bytes(_meta_blob(json.dumps({"kind": kind, "meta": {}, "digests": {"weights": "0" * 64}})))
    size = len(start) + BOMB_BYTES if declared is None else declared
    _zip(
        path,
        [
            ("__meta__.npy", 0, meta, zlib.crc32(meta), len(meta)),
            ("weights.npy", 8, stream, crc, size),
        ],
    )
    return path


def _nested(path: Path, kind: str) -> Path:
    depth = 100_000
    header = '{"kind": "%s", "digests": {}, "meta": %s}' % (kind, "[" * depth + "]" * depth)  # noqa: UP031
    return _npz_with_header(path, header)


def _digests_five(path: Path, kind: str) -> Path:
    return _npz_with_header(path, json.dumps({"kind": kind, "meta": {}, "digests": 5}), weights=np.zeros(3))


def _load_fails(path: Path, match: str) -> ModelError:
    with pytest.raises(ModelError, match=match) as caught:
        load_model(path, KIND)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    return caught.value


def test_a_well_formed_model_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.npz"
    weights = np.arange(12, dtype=np.float32).reshape(3, 4)
    save_model(path, KIND, {"weights": weights, "bias": np.array([0.5])}, {"nested": {"a": [1, {"b": 2}]}})
    arrays, meta = load_model(path, KIND)
    assert np.array_equal(arrays["weights"], weights)
    assert meta == {"nested": {"a": [1, {"b": 2}]}}


def test_deeply_nested_metadata_is_refused(tmp_path: Path) -> None:
    _load_fails(_nested(tmp_path / "nested.npz", KIND), "nested too deeply")


@pytest.mark.parametrize("digests", [5, None, "weights", ["weights"], {"weights": 5}, {"weights": ["x"]}])
def test_digests_of_the_wrong_type_are_refused(tmp_path: Path, digests: Any) -> None:
    header = json.dumps({"kind": KIND, "meta": {}, "digests": digests})
    path = _npz_with_header(tmp_path / "digests.npz", header, weights=np.zeros(3))
    _load_fails(path, "'digests' is not a mapping")


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.npz", KIND)
    assert path.stat().st_size < 4 * 1024**2
    error = _load_fails(path, "weights.npy")
    assert "3,221,225," in error.problem  # the size it would inflate to, from the archive's own directory


def test_an_array_larger_than_its_archive_entry_is_refused(tmp_path: Path) -> None:
    # The zip says 1 MiB; the array header inside says 3 GiB: numpy would allocate from the header.
    path = _bomb(tmp_path / "liar.npz", KIND, declared=BLOCK)
    _load_fails(path, "weights.npy")


@pytest.mark.parametrize("make", [_nested, _digests_five, _bomb])
def test_the_cli_reports_a_hostile_model_file_in_one_line(tmp_path: Path, make: Any) -> None:
    model = make(tmp_path / "hostile.npz", INFLAMMATORY_KIND)
    post = tmp_path / "post.jsonl"
    post.write_text('{"id": "p1", "text": "The ferry terminal was approved on Monday."}\n', encoding="utf-8")
    run = run_measured(
        "classify", tmp_path=tmp_path, env={"MODASSIST_MODELS__INFLAMMATORY": str(model)}, stdin=post
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"modassist: error: model file {model}: ")
    assert run.stderr.count("\n") == 1  # one line, no traceback
    assert run.stdout == ""
    assert run.peak_rss_mib < 300, f"peak RSS {run.peak_rss_mib:.0f} MiB"
