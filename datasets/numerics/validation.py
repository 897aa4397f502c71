"""Parameter checks shared by every generator and source: one message format, before any work.

Every check names the config option (``data.<name>``) and what would be valid, so a bad value
fails at construction with a message a user can act on, never halfway through a generation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["check_choice", "check_int", "check_interval", "check_range", "check_real",
           "check_resolution", "check_seed", "check_subset", "real_or_nan"]


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


def real_or_nan(value: Any) -> float:
    """``value`` as a float, NaN when it is not a number (booleans are not numbers here)."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def check_real(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    """``value`` as a finite float, optionally ``> 0`` (``positive``) or ``>= 0`` (``nonneg``)."""
    v = real_or_nan(value)
    if not math.isfinite(v) or (positive and v <= 0) or (nonneg and v < 0):
        need = " > 0" if positive else " >= 0" if nonneg else ""
        raise ValueError(f"data.{name} must be a finite number{need}, got {value!r}")
    return v


def check_range(name: str, value: Any, lo: float, hi: float, *, integer: bool = False,
                open_lo: bool = False, open_hi: bool = False, why: str = "") -> float | int:
    """``value`` in the interval ``[lo, hi]`` (``(`` / ``)`` with ``open_lo`` / ``open_hi``).

    With ``integer`` an int is required (returned as int), else a finite number (a float).
    """
    if integer:
        try:
            ok = not isinstance(value, bool) and int(value) == value
        except (TypeError, ValueError):
            ok = False
        v = float(value) if ok else math.nan
    else:
        v = real_or_nan(value)
    inside = math.isfinite(v) and (lo < v if open_lo else lo <= v) and (v < hi if open_hi
                                                                        else v <= hi)
    if not inside:
        what = "an int" if integer else "a finite number"
        interval = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"
        raise ValueError(f"data.{name} must be {what} in {interval}{why}, got {value!r}")
    return int(value) if integer else v


def check_interval(name: str, value: Any, lower: float = -math.inf) -> tuple[float, float]:
    """A pair ``[lo, hi]`` of finite numbers with ``lower < lo <= hi``, as floats."""
    try:
        lo, hi = (real_or_nan(v) for v in value)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lower < lo <= hi):
        bound = "" if lower == -math.inf else f"{lower:g} < "
        raise ValueError(f"data.{name} must be a pair [lo, hi] of finite numbers with "
                         f"{bound}lo <= hi, got {value!r}")
    return lo, hi


def check_resolution(name: str, value: Any, ndim: int, minimum: int, why: str = "", *,
                     scalar: bool = True) -> tuple[int, ...]:
    """Cells per axis: an int (the same along every axis, when ``scalar``) or ``ndim`` ints,
    each ``>= minimum``; returned as a tuple of ``ndim`` ints."""
    if hasattr(value, "__len__") and not isinstance(value, str | bytes):
        res = tuple(value)
    elif scalar:
        res = (value,) * ndim
    else:
        res = ()
    try:
        ok = len(res) == ndim and all(not isinstance(r, bool) and int(r) == r and r >= minimum
                                      for r in res)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        form = f"an int or {ndim} ints" if scalar else f"{ndim} ints"
        raise ValueError(f"data.{name} must be {form} >= {minimum}{why}, got {value!r}")
    return tuple(int(r) for r in res)


def check_choice(name: str, value: Any, choices: tuple[Any, ...] | list[Any]) -> Any:
    """``value`` if it is one of ``choices``; ValueError listing them otherwise."""
    if value not in choices:
        raise ValueError(f"data.{name}={value!r} is unknown; valid: "
                         f"{', '.join(map(str, choices))}")
    return value


def check_subset(name: str, values: Any, choices: Sequence[Any] | Mapping[Any, str],
                 what: str = "entry") -> tuple[Any, ...]:
    """A non-empty list of distinct entries of ``choices`` (a mapping: keys, with descriptions
    shown in the message), as a tuple; ``what`` names one entry in the messages."""
    valid = ", ".join(f"{k} ({v})" for k, v in choices.items()) if isinstance(choices, Mapping) \
        else ", ".join(map(str, choices))
    if isinstance(values, str | bytes) or not hasattr(values, "__len__") or not len(values):
        raise ValueError(f"data.{name} must be a non-empty list of {what}s from {valid}, "
                         f"got {values!r}")
    values = list(values)
    for v in values:
        if isinstance(v, bool) or v not in choices:
            raise ValueError(f"data.{name}: unknown {what} {v!r}; valid: {valid}")
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"data.{name} lists the {what} {seen[0]!r} twice: {list(values)}")
    return tuple(values)
