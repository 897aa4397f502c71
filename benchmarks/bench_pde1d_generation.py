"""Throughput of the 1D advection and Burgers generators against the floor of their bare numerics.

Usage: ``python benchmarks/bench_pde1d_generation.py [N] [--resolution X] [--frames T] [--nu NU]
[--beta B] [--repeat K]`` (defaults: N = 128, X = 256, T = 41, NU = 0.01, B = 1, K = 3; the best
of K timed runs, generator and floor alternated so that a change in the machine's load hits both).

Prints seconds per trajectory of each generator (sampling, solve, float32 storage, self-check)
and of its floor, and their ratio (goal <= 2):

- advection: the floor is the bare ``numpy.sin`` evaluations of the exact solution, ``n_waves``
  sines on every (sample, frame, point);
- Burgers: the floor is the same number of right-hand-side evaluations as the solver performs
  (4 per ETDRK4 step), each one ``irfft`` + ``rfft`` of the whole batch, and nothing else.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run
from _timing import interleaved

from pdebench.datasets.pdebench_suite.advection_solver import generate_advection
from pdebench.datasets.pdebench_suite.burgers_solver import _CHUNK, generate_burgers


def _line(name: str, n: int, seconds: float) -> str:
    return f"  {name:<30s} {1e3 * seconds / n:8.3f} ms/trajectory  ({seconds:6.3f} s for {n})"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=128, help="trajectories (default 128)")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--frames", type=int, default=41)
    parser.add_argument("--nu", type=float, default=0.01)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept (default 3)")
    args = parser.parse_args(argv)
    n, res, frames, k = args.n, args.resolution, args.frames, max(1, args.repeat)
    cpus = available_cpus()
    print(f"1D generation, {res} points, {frames} frames on [0, 2], {n} trajectories, best of {k}, "
          f"CPUs available: {cpus}")

    # --- advection -----------------------------------------------------------------------------
    def adv():
        return generate_advection(n, res, beta=args.beta, n_frames=frames)

    def make_adv_floor(out):
        waves = out["initial_condition"]["amplitude"].shape[1]
        arg = np.random.default_rng(0).random((min(n, 256), frames, res))

        def floor():
            for _ in range(0, n, 256):
                for _ in range(waves):
                    np.sin(arg)
        return floor

    adv()  # warm-up (imports)
    t_adv, t_adv_floor, _ = interleaved(adv, make_adv_floor, k)
    print("advection (exact shift), beta =", args.beta)
    print(_line("generate_advection", n, t_adv))
    print(_line("floor (sines only)", n, t_adv_floor))
    print(f"  ratio generate / floor         {t_adv / t_adv_floor:8.2f}   (goal <= 2)")

    # --- Burgers -------------------------------------------------------------------------------
    def burg():
        return generate_burgers(n, res, nu=args.nu, n_frames=frames)

    def make_burg_floor(out):
        n_rhs = 4 * out["solver"]["steps_per_frame"] * (frames - 1)
        v = np.fft.rfft(np.random.default_rng(0).standard_normal((min(n, _CHUNK), res)))

        def floor():
            for _ in range(0, n, _CHUNK):
                for _ in range(n_rhs):
                    np.fft.rfft(np.fft.irfft(v, res))
        return floor

    burg()  # warm-up
    t_burg, t_burg_floor, out = interleaved(burg, make_burg_floor, k)
    s = out["solver"]
    n_rhs = 4 * s["steps_per_frame"] * (frames - 1)
    print(f"Burgers (pseudo-spectral ETDRK4), nu = {args.nu}, dt = {s['dt']:.3g}, "
          f"{s['steps_per_frame'] * (frames - 1)} steps, {n_rhs} RHS evaluations per batch")
    print(_line("generate_burgers", n, t_burg))
    print(_line("floor (FFT pairs only)", n, t_burg_floor))
    print(f"  ratio generate / floor         {t_burg / t_burg_floor:8.2f}   (goal <= 2)")
    print(f"  self-check: advection closed-form deviation "
          f"{adv()['residual']['closed_form_deviation']:.1e}; Burgers relative residual max "
          f"{out['residual']['rel_rms_max']:.2f}, mean drift {out['residual']['mean_drift_max']:.1e}")
    return {"advection_s_per_traj": t_adv / n, "advection_ratio": t_adv / t_adv_floor,
            "burgers_s_per_traj": t_burg / n, "burgers_ratio": t_burg / t_burg_floor}


if __name__ == "__main__":
    main()
