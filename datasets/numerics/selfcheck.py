"""The self-check record every generator stores with its data, built and enforced in one place.

A generator evaluates its solution against the shared equation code (or another exact property:
a closed form, conservation) and records the result with the data; if the check fails the data
would be wrong, so nothing is stored and :class:`SelfCheckError` names the dataset, the quantity,
its value and the tolerance. The record (JSON-able, stored as the store's ``residual``)::

    {"definition": "...what was evaluated, on which cells, relative to what...",
     <quantity>: <value>, ...,           # everything measured (checked or only reported)
     "tolerance": {<quantity>: <bound>}, # the checked quantities and their upper bounds
     "rule": "...",                      # only for a check that is not a plain bound
     "passed": True,
     <extra>: ...}                       # e.g. "expected": the level one should see
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["SelfCheckError", "self_check"]


class SelfCheckError(RuntimeError):
    """A generator's self-check failed; ``record`` holds the full record (``passed`` False)."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def _plain(value: Any) -> Any:
    """numpy scalars and arrays -> Python floats, ints and lists (JSON-able), recursively."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _failures(name: str, value: Any, bound: float) -> list[str]:
    if isinstance(value, Mapping):
        return [f for k, v in value.items() for f in _failures(f"{name}[{k}]", v, bound)]
    v = float(value)
    if not math.isfinite(v):
        return [f"{name} = {v} is not finite"]
    return [f"{name} = {v:.3e} > tolerance {bound:.3g}"] if v > bound else []


def self_check(dataset: str, definition: str, values: Mapping[str, Any],
               tolerance: Mapping[str, float] | None = None, *, rule: str | None = None,
               passed: bool | None = None, hint: str = "", **extra: Any) -> dict[str, Any]:
    """Build a generator's self-check record; raise :class:`SelfCheckError` if it failed.

    Parameters
    ----------
    dataset : str
        The dataset's name (as registered), for the error message.
    definition : str
        What was evaluated: the equation code, the cells, the normalisation.
    values : mapping
        Measured quantities, name -> value (a number, or a mapping of numbers, e.g. one per
        equation); recorded as given (numpy types converted to Python ones).
    tolerance : mapping, optional
        Checked quantities (keys of ``values``) -> upper bound. A quantity passes when it is
        finite and ``<=`` its bound (every entry, for a mapping value).
    rule : str, optional
        A check that is not a plain bound (e.g. per sample against a per-sample allowance),
        recorded as ``"rule"``; its verdict is ``passed``.
    passed : bool, optional
        Verdict of ``rule``; required with it. Both the bounds and the rule must hold.
    hint : str
        What a failure usually means or how to fix it, appended to the error message.
    **extra
        Further recorded keys (e.g. ``expected``: the level a correct solution shows).

    Returns
    -------
    dict
        The record, ``passed`` True.
    """
    tolerance = dict(tolerance or {})
    unknown = [q for q in tolerance if q not in values]
    if unknown:
        raise ValueError(f"self_check({dataset!r}): tolerance names {unknown}, which are not "
                         f"among the values {list(values)}")
    if (rule is None) != (passed is None):
        raise ValueError(f"self_check({dataset!r}): a rule needs its verdict 'passed', and "
                         "'passed' needs the rule it is the verdict of")
    failures = [f for q, bound in tolerance.items() for f in _failures(q, values[q], bound)]
    if rule is not None and not passed:
        failures.append(f"{rule} does not hold")
    record: dict[str, Any] = {"definition": definition, **_plain(dict(values)),
                              "tolerance": _plain(tolerance)}
    if rule is not None:
        record["rule"] = rule
    record["passed"] = not failures
    record.update(_plain(extra))
    if failures:
        message = f"{dataset} self-check failed: " + "; ".join(failures)
        raise SelfCheckError(message + (f" ({hint})" if hint else ""), record)
    return record
