"""Model matrices stored as int8 rows with one float scale per row (`name` and `name + ".scale"`), read back
as float32."""

from __future__ import annotations

from collections.abc import Mapping
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
