"""Checks of model options shared by the model builders.

Every check returns the value converted to its type, or raises ``ValueError`` with the message
``"model.<name>=<value>: must be <what is valid>"`` so that a run's error names the config key that
is wrong and what would work (``pdebench.run`` turns builder errors into the run's error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pdebench.datasets.numerics.validation import real_or_nan

__all__ = ["check_choice", "check_fraction", "check_int", "check_int_list", "check_nonnegative",
           "check_positive", "fail"]


def fail(name: str, value: Any, valid: str) -> ValueError:
    """The error for option ``model.<name>`` set to ``value``; ``valid`` says what would work."""
    return ValueError(f"model.{name}={value!r}: must be {valid}")


def _as_int(value: Any) -> int | None:
    """``value`` as an int if it is integral (not a bool), else ``None``."""
    if isinstance(value, bool):
        return None
    try:
        return int(value) if int(value) == value else None
    except (TypeError, ValueError, OverflowError):
        return None


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``; booleans and non-integral numbers refused."""
    v = _as_int(value)
    if v is None or v < minimum or (maximum is not None and v > maximum):
        rng = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise fail(name, value, f"an int {rng}")
    return v


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float ``> 0``."""
    v = real_or_nan(value)
    if not (math.isfinite(v) and v > 0):
        raise fail(name, value, "a finite number > 0")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite float ``>= 0``."""
    v = real_or_nan(value)
    if not (math.isfinite(v) and v >= 0):
        raise fail(name, value, "a finite number >= 0")
    return v


def check_fraction(name: str, value: Any, *, closed_low: bool = False,
                   closed_high: bool = True) -> float:
    """``value`` as a float in ``(0, 1]`` (by default; the ends' closure is configurable)."""
    v = real_or_nan(value)
    ok_low = v >= 0 if closed_low else v > 0
    ok_high = v <= 1 if closed_high else v < 1
    if not (math.isfinite(v) and ok_low and ok_high):
        interval = f"{'[' if closed_low else '('}0, 1{']' if closed_high else ')'}"
        raise fail(name, value, f"a number in {interval}")
    return v


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise fail(name, value, f"one of {', '.join(choices)}")
    return value


def check_int_list(name: str, value: Any, minimum: int, length: int | None = None) -> list[int]:
    """``value`` (an int or a list of ints) as a list of ints ``>= minimum``.

    A single int is repeated ``length`` times (``length`` must then be given); a list must have
    ``length`` entries when ``length`` is given.
    """
    what = f"an int >= {minimum}" + ("" if length is None else
                                      f" or a list of {length} such ints")
    if _is_listlike(value):  # list, tuple, OmegaConf ListConfig
        items = [_as_int(v) for v in value]
        if (not items or any(v is None or v < minimum for v in items)
                or (length is not None and len(items) != length)):
            raise fail(name, _plain(value), what)
        return [int(v) for v in items]  # type: ignore[arg-type]
    v = _as_int(value)
    if v is None or v < minimum or length is None:
        raise fail(name, value, what)
    return [v] * length


def _is_listlike(value: Any) -> bool:
    """True for OmegaConf ``ListConfig`` and other non-string iterables with a length."""
    return (not isinstance(value, (str, bytes, dict)) and hasattr(value, "__iter__")
            and hasattr(value, "__len__") and not hasattr(value, "keys"))


def _plain(value: Any) -> Any:
    """A list-like value as a plain list (so messages show ``[0, 2]``, not ``ListConfig``)."""
    try:
        return list(value)
    except TypeError:
        return value
