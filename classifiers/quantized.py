"""Model matrices stored as int8 rows with one float scale per row (`name` and `name + ".scale"`), read back
as float32."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


def dequantize(arrays: Mapping[str, npt.NDArray[Any]], name: str) -> FloatArray:
    """A stored matrix as float32: int8 rows times their `name + ".scale"`, or a float array as is."""
    values = arrays[name]
    if values.dtype == np.int8:
        return (values.astype(np.float32) * arrays[name + ".scale"].astype(np.float32)[:, None]).astype(
            np.float32
        )
    return values.astype(np.float32)


class Dequantized(Mapping[str, FloatArray]):
    """The stored matrices as float32, each built when asked for: the transformer keeps its own
    (transposed) copy, so only one layer's float32 weights exist twice at a time while loading, not all."""

    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]], names: Sequence[str]) -> None:
        self._arrays = arrays
        self._names = list(names)

    def __getitem__(self, name: str) -> FloatArray:
        if name not in self._names:
            raise KeyError(name)
        return dequantize(self._arrays, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
