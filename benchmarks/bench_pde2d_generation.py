"""Throughput of the 2D diffusion-reaction and Navier--Stokes generators against their floors.

Usage: ``python benchmarks/bench_pde2d_generation.py [N] [--repeat K] [--workers W]`` (defaults:
N = 20 trajectories per generator at the default sizes, K = 2, best kept after a warm-up run;
W = scipy's default, one thread).

Floor: the bare transforms the scheme must perform, timed alone on arrays of the generator's
shapes -- per step of the diffusion-reaction scheme two forward and two inverse 2D DCT-II of the
``(N, 2, H, W)`` state; per step of the Navier--Stokes scheme two evaluations of the nonlinear
term, each an inverse ``rfft2`` of ``(N, 4, H, W//2+1)`` (u, v, w_x, w_y) and a forward ``rfft2``
of ``(N, H, W)`` -- for the number of steps the generator took. The ratio generator / floor is
the overhead of everything else (reaction and products, spectral multiplies, the self-checks,
float32 storage); the goal is <= 2.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.fft as sfft
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run

from pdebench.datasets.pdebench_suite.diffusion_reaction_solver import generate_diffusion_reaction
from pdebench.datasets.pdebench_suite.navier_stokes_solver import generate_navier_stokes


def _best(fn, k: int) -> tuple[float, object]:
    fn()
    best, out = float("inf"), None
    for _ in range(k):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _floor_dr(n: int, res: int, steps: int, workers: int | None, k: int) -> float:
    a = np.random.default_rng(0).standard_normal((n, 2, res, res))

    def run():
        for _ in range(steps):
            for _ in range(2):
                b = sfft.dctn(a, type=2, axes=(-2, -1), norm="ortho", workers=workers)
                sfft.idctn(b, type=2, axes=(-2, -1), norm="ortho", workers=workers,
                           overwrite_x=True)

    return _best(run, k)[0]


def _floor_ns(n: int, res: int, steps: int, workers: int | None, k: int) -> float:
    rng = np.random.default_rng(0)
    spec = sfft.rfft2(rng.standard_normal((n, 4, res, res)), axes=(-2, -1))
    phys = rng.standard_normal((n, res, res))

    def run():
        for _ in range(2 * steps):
            sfft.irfft2(spec, s=(res, res), axes=(-2, -1), workers=workers)
            sfft.rfft2(phys, axes=(-2, -1), workers=workers)

    return _best(run, k)[0]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=20, help="trajectories (default 20)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    n, k, w = args.n, max(1, args.repeat), args.workers
    cpus = available_cpus()
    print(f"2D generators, {n} trajectories each at default sizes, best of {k}, "
          f"fft workers {w}, CPUs available: {cpus}")
    results = {}
    for name, gen, floor in (
        ("diffusion_reaction", lambda: generate_diffusion_reaction(n, workers=w), _floor_dr),
        ("navier_stokes", lambda: generate_navier_stokes(n, workers=w), _floor_ns),
    ):
        t_gen, out = _best(gen, k)
        s = out["solver"]
        res = s["resolution"][0]
        t_floor = floor(n, res, s["steps"], w, k)
        results[name] = t_gen / t_floor
        print(f"  {name:19s} {res}^2, {out['u'].shape[1]} frames, {s['steps']} steps: "
              f"{t_gen / n:7.4f} s/trajectory; floor (bare transforms) {t_floor / n:7.4f} "
              f"s/trajectory; ratio {t_gen / t_floor:5.2f} (goal <= 2)")
    return results


if __name__ == "__main__":
    main()
