"""Timing helper shared by the generator-vs-floor benchmark scripts (not a test)."""

from __future__ import annotations

import time


def interleaved(gen, make_floor, k: int) -> tuple[float, float, object]:
    """Best of ``k`` of the generator and of its floor, run alternately (gen, floor, gen, ...)
    so that a change in the machine's load hits both; the floor is built from the first
    generator output and warmed up once, untimed."""
    t_gen = t_floor = float("inf")
    out = floor = None
    for _ in range(k):
        t0 = time.perf_counter()
        out = gen()
        t_gen = min(t_gen, time.perf_counter() - t0)
        if floor is None:
            floor = make_floor(out)
            floor()
        t0 = time.perf_counter()
        floor()
        t_floor = min(t_floor, time.perf_counter() - t0)
    return t_gen, t_floor, out
