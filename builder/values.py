"""What counts as a whole number and as a number in a JSON document, decided once.

The project file, the layer catalogue and the dataset registry all check values read from
JSON; they share these rules, so ``true`` is never a number anywhere and NaN or infinity
(which Python's JSON parser accepts) is refused everywhere.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["is_int", "is_number"]


def is_int(value: Any) -> bool:
    """An integer that is not a bool.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool.

    >>> is_number(0.5), is_number(2), is_number(float("nan")), is_number(float("inf"))
    (True, True, False, False)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)
