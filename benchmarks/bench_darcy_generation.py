"""Throughput of the Darcy generator against the floor of its bare sparse solves.

Usage: ``python benchmarks/bench_darcy_generation.py [N] [--resolution R] [--coefficient LAW]
[--repeat K]`` (defaults: N = 200, R = 64, LAW = pdebench, K = 3; the best of K runs is reported,
after one untimed warm-up run).

Prints samples/s of ``generate_darcy`` (sampling, assembly, solves, float32 storage and the
residual self-check), of the floor (the same coefficients, matrices assembled beforehand, only the
factorise-and-solve timed) and their ratio; then, for the record, the floor of two alternatives
the generator does not use (SuperLU choosing an ordering on every call; ``spsolve``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse.linalg as spla
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run

from pdebench.datasets.pdebench_suite.darcy_solver import (
    COEFFICIENT_LAWS,
    DarcyDiscretisation,
    generate_darcy,
)


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.1f} samples/s  ({1e3 * seconds / n:6.2f} ms/sample)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200, help="samples (default 200)")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--coefficient", default="pdebench", choices=sorted(COEFFICIENT_LAWS))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept (default 3)")
    args = parser.parse_args(argv)
    n, res, k = args.n, args.resolution, max(1, args.repeat)

    generate_darcy(n, res, coefficient=args.coefficient)  # warm-up: imports, grid ordering
    t_gen = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        out = generate_darcy(n, res, coefficient=args.coefficient, seed=0)
        t_gen = min(t_gen, time.perf_counter() - t0)

    disc = DarcyDiscretisation(res)
    rhs = disc.rhs(1.0)
    a = out["a"].astype(np.float64)
    mats = [disc.matrix(x) for x in a]
    t_floor = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        u = np.stack([disc.solve_matrix(m, rhs) for m in mats])
        t_floor = min(t_floor, time.perf_counter() - t0)
    same = bool(np.array_equal(u.astype(np.float32), out["u"]))

    cpus = available_cpus()
    print(f"Darcy generation, {res}x{res} cells, {n} samples, law {args.coefficient!r}, "
          f"best of {k}, CPUs available: {cpus}")
    print(f"  generate_darcy          {_rate(n, t_gen)}")
    print(f"  floor (solves only)     {_rate(n, t_floor)}")
    print(f"  ratio generate / floor  {t_floor / t_gen:8.3f}   (1 = no overhead beyond the solves)")
    print(f"  floor reproduces generator's u bitwise: {same}")
    print(f"  self-check: max relative residual {out['residual']['rel_rms_max']:.2e} (float64), "
          f"{out['residual']['rel_rms_max_float32']:.2e} (stored float32)")

    m = min(n, 100)
    nat = [disc.natural_matrix(x).tocsc() for x in a[:m]]
    b = np.full(disc.n_cells, 1.0)
    t0 = time.perf_counter()
    for mat in nat:
        spla.splu(mat, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True}).solve(b)
    t_mmd = time.perf_counter() - t0
    t0 = time.perf_counter()
    for mat in nat:
        spla.spsolve(mat, b)
    t_sps = time.perf_counter() - t0
    print(f"  for reference, first {m} samples, solves only:")
    print(f"    splu, ordering per call    {_rate(m, t_mmd)}")
    print(f"    spsolve (default solver)   {_rate(m, t_sps)}")
    return {"generate": n / t_gen, "floor": n / t_floor, "ratio": t_floor / t_gen,
            "splu_ordering_per_call": m / t_mmd, "spsolve": m / t_sps}


if __name__ == "__main__":
    main()
