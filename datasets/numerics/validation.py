"""Parameter checks shared by every generator and source: one message format, before any work.

Every check names the config option (``data.<name>``) and what would be valid, so a bad value
fails at construction with a message a user can act on, never halfway through a generation.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check_choice", "check_int", "check_real", "check_seed"]


def check_int(name: str, value: Any, minimum: int, why: str = "") -> int:
    """``value`` as an int ``>= minimum``; ValueError naming ``data.<name>`` otherwise.

    Booleans and non-integral numbers are refused (``2.5`` is not a grid size).
    """
    try:
        ok = not isinstance(value, bool) and int(value) == value and int(value) >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"data.{name} must be an int >= {minimum}{why}, got {value!r}")
    return int(value)


def check_seed(value: Any) -> int:
    """A generation seed: an int >= 0."""
    return check_int("seed", value, 0)


def check_real(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    """``value`` as a finite float, optionally ``> 0`` (``positive``) or ``>= 0`` (``nonneg``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or (positive and v <= 0) or (nonneg and v < 0):
        need = " > 0" if positive else " >= 0" if nonneg else ""
        raise ValueError(f"data.{name} must be a finite number{need}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: tuple[Any, ...] | list[Any]) -> Any:
    """``value`` if it is one of ``choices``; ValueError listing them otherwise."""
    if value not in choices:
        raise ValueError(f"data.{name}={value!r} is unknown; valid: "
                         f"{', '.join(map(str, choices))}")
    return value
