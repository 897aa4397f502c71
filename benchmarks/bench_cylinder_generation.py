"""Throughput of the cylinder-flow generator against the floor of its bare transforms.

Usage: ``python benchmarks/bench_cylinder_generation.py [--samples N] [--repeat K]``.

The generator (``cylinder_flow.generate_scenario``, ``conf/data/cylinder_sim.yaml`` defaults:
scenario ``cylinder``, 12 Reynolds numbers in [100, 400], 64 x 128 cells, 30 D/U spin-up + 40
frames every 0.5 D/U) writes, per configuration, one simulated trajectory (u, v, p) and one
emulated measurement (a second simulation at a perturbed Re, started ``shift`` frames earlier,
then blurred, resampled to 32 x 64 and noised through ``measurement_model.measure``): one
"sample" below is one configuration, i.e. two simulations, the self-check and two HDF5 files.

Floor: the transforms the scheme must perform, timed alone on ``(64, 128)`` arrays and batched
as the generator batches them: per SSP-RK3 step three right-hand sides of one ``irfft2`` of
(u, v, vorticity) and one ``rfft2`` of the Lamb vector (2 fields), plus the penalisation's
``irfft2`` and ``rfft2`` of (u, v): 19 transforms in 8 calls per step, for the number of steps
both simulations of the configuration took (read from the generator's own runs). The CFL speed
needs no transform of its own: it comes from the first stage's physical velocity.

``--samples N`` Reynolds numbers (configurations) timed (default 3 of the 12, the fewest the
generator's in/out-of-distribution split accepts: each takes several seconds; seconds per
configuration grow mildly with Re through the adaptive step, so the default ``re_min..re_max``
range is kept and N values spread over it). Best of K runs (default 2), generator
and floor alternated; the load average is printed because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

import numpy as np
import scipy.fft as sfft
from _timing import machine_line  # benchmarks/ is on sys.path when run

import pdebench.datasets.realpdebench.cylinder as cf
from pdebench.datasets.realpdebench.cylinder_solver import simulate

SHAPE = (64, 128)


def _params(n_re: int) -> dict:
    return {"scenario": "cylinder", "re_min": 100.0, "re_max": 400.0, "n_re": n_re,
            "control_frequencies": [0.1, 0.2, 0.3], "control_amplitude": 1.0,
            "resolution": list(SHAPE), "height": 6.0, "length": 12.0, "n_frames": 40,
            "frame_dt": 0.5, "spin_up": 30.0, "cfl": 0.5, "seed": 0,
            "measurement": {"re_mismatch": 0.03, "max_shift": 8, "blur_sigma": 1.0,
                            "noise": 0.03, "additive_noise": 0.005, "resolution": [32, 64]}}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3, help="Reynolds numbers (>= 3, default 3)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    n, k = max(3, args.samples), max(1, args.repeat)
    print(machine_line(f"Cylinder flow generator, {SHAPE[0]}x{SHAPE[1]}, {n} configurations "
                       "(Re 100..400)", k))
    p = _params(n)

    # count the steps the generator takes, by recording simulate's results
    steps: list[int] = []

    def counting(*a, **kw):
        out = simulate(*a, **kw)
        steps.append(out["n_steps"] + 1)  # + the self-check's extra step
        return out

    rng = np.random.default_rng(0)
    phys2, phys3 = rng.standard_normal((2, *SHAPE)), rng.standard_normal((3, *SHAPE))
    spec2, spec3 = sfft.rfft2(phys2), sfft.rfft2(phys3)

    def floor(total_steps: int) -> None:  # the generator's transforms, batched as it batches them
        for _ in range(total_steps):
            for _ in range(3):  # three RK3 stages: irfft2 of (u, v, w), rfft2 of the Lamb vector
                sfft.irfft2(spec3, s=SHAPE)
                sfft.rfft2(phys2)
            sfft.irfft2(spec2, s=SHAPE)  # penalisation: to physical space and back
            sfft.rfft2(phys2)

    # generator and floor alternated, so that a change in the machine's load hits both
    t_gen = t_floor = float("inf")
    for _ in range(k):
        steps.clear()
        with tempfile.TemporaryDirectory() as tmp:
            with patch.object(cf, "simulate", counting):
                t0 = time.perf_counter()
                cf.generate_scenario(Path(tmp) / "run", p)
                t_gen = min(t_gen, time.perf_counter() - t0)
        total_steps = sum(steps)
        t0 = time.perf_counter()
        floor(total_steps)
        t_floor = min(t_floor, time.perf_counter() - t0)

    print(f"  {'generator':18s} {'configs':>7s} {'s/config':>9s} {'floor s/config':>15s} "
          f"{'ratio':>6s}  floor")
    print(f"  {'cylinder_sim+real':18s} {n:7d} {t_gen / n:9.3f} {t_floor / n:15.3f} "
          f"{t_gen / t_floor:6.2f}  19 FFTs x {total_steps / n:.0f} steps/config "
          f"(2 simulations)")
    print(f"  (goal: ratio <= 2)  load average at end: {os.getloadavg()[0]:.2f}")
    return {"cylinder": t_gen / t_floor}


if __name__ == "__main__":
    main()
