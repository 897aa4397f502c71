"""Timing and reporting helpers shared by the benchmark scripts (not a test)."""

from __future__ import annotations

import os
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


def cpus() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_line(title: str, k: int) -> str:
    """The first line of a benchmark: what, best of how many, CPUs and the load at start (the
    machine is often shared)."""
    load = os.getloadavg()
    return (f"{title}, best of {k}, CPUs available: {cpus()}, load average at start: "
            f"{load[0]:.2f} {load[1]:.2f}")


def print_ratio_table(rows: dict[str, tuple[int, float, float, str]]) -> dict[str, float]:
    """Print ``name: (samples, generator s, floor s, what the floor is)`` rows with per-sample
    times and ratios (goal <= 2); return the ratios."""
    width = max(len(name) for name in rows)
    print(f"  {'generator':{width}s} {'samples':>7s} {'s/sample':>10s} {'floor s/sample':>15s} "
          f"{'ratio':>6s}  floor")
    for name, (m, tg, tf, what) in rows.items():
        print(f"  {name:{width}s} {m:7d} {tg / m:10.5f} {tf / m:15.5f} {tg / tf:6.2f}  {what}",
              flush=True)
    print(f"  (goal: ratio <= 2)  load average at end: {os.getloadavg()[0]:.2f}")
    return {name: r[1] / r[2] for name, r in rows.items()}
