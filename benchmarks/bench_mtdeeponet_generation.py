"""Throughput of the MT-DeepONet generators against the floors of their bare numerics.

Usage: ``python benchmarks/bench_mtdeeponet_generation.py [--samples N] [--repeat K]``.

Generators (``conf/data/<name>.yaml`` defaults) and their floors:

- ``fisher_kpp`` (``generate_fisher_kpp``, default 1000 samples, 64 cells, 20 frames x 20 ETDRK4
  steps): two floors on the same samples, in chunks of B = 256 (the generator's chunk). (1) The
  bare time steps: the generator's own ``FisherKPPStepper.step`` 400 times per chunk, nothing
  else (no sampling, frame storage, self-check). (2) Only the FFTs inside those steps: four
  ``irfft`` + four ``rfft`` of the ``(B, 64)`` batch per step. At 64 points a row the ETDRK4
  combination of the 33 complex coefficients (18 array operations per step) and the pointwise
  reaction cost about as much as the FFTs themselves, so (2) bounds the ratio near 2 from below
  even for a generator with no overhead at all; (1) measures the generator's overhead.
- ``darcy_geometries`` (``generate_darcy_geometries``, default 1000 samples at 64^2): floor = the
  SuperLU factorise + solve of each sample's matrix (:func:`pdebench.datasets.numerics.finite_volume.assemble_masked`
  run beforehand, same options as :func:`finite_volume.solve_masked`).
- ``heated_plate`` (``generate_heated_plate``, fixed 64 geometries at 64 x 32 x 8): floor = the
  factorise + solve of each geometry's matrix, assembled beforehand.

``--samples N`` sets the samples timed for fisher_kpp and darcy_geometries (default 200, a fifth
of the default 1000: seconds per sample are size-independent for these per-sample or chunked
loops) and the geometries for heated_plate (default all 64). Best of K runs (default 2), generator
and floor alternated; the load average is printed because the machine is shared.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse.linalg as spla
from _timing import (  # benchmarks/ is on sys.path when run
    interleaved,
    machine_line,
    print_ratio_table,
)

from pdebench.datasets.mtdeeponet.darcy_geometries_solver import (
    generate_darcy_geometries,
    geometry_mask,
    sample_spherical_grf,
)
from pdebench.datasets.mtdeeponet.fisher_kpp_solver import (
    DEFAULT_STEPS_PER_FRAME,
    FisherKPPStepper,
    generate_fisher_kpp,
)
from pdebench.datasets.mtdeeponet.heated_plate_solver import (
    BOX_BC,
    _spacing,
    generate_heated_plate,
    geometries,
    plate_mask,
    plate_source,
)
from pdebench.datasets.numerics.finite_volume import assemble_masked as assemble


def _lu_solve(a, f):
    return spla.splu(a.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                     options={"SymmetricMode": True}).solve(f)


def bench_fisher(n: int, k: int) -> tuple[float, float, float]:
    """Generator, FFT-only floor and bare-step floor, seconds for ``n`` samples."""
    generate_fisher_kpp(4)  # warm-up: imports, torch
    steps = 20 * DEFAULT_STEPS_PER_FRAME

    def make_fft_floor(_):
        chunks = [min(256, n - s) for s in range(0, n, 256)]
        vs = [np.fft.rfft(np.random.default_rng(0).random((b, 64))) for b in chunks]

        def floor():
            for v in vs:
                for _ in range(steps):
                    for _ in range(4):
                        np.fft.rfft(np.fft.irfft(v, 64))
        return floor

    def make_step_floor(out):  # the generator's own steppers (sorted by form, as it runs them)
        lab, sol, work = out["labels"], out["solver"], []
        for s in range(0, n, 256):
            sl = slice(s, min(n, s + 256))
            order = np.argsort(lab["form"][sl], kind="stable")
            stepper = FisherKPPStepper(sol["resolution"], sol["diffusivity"], sol["dt"],
                                       lab["a"][sl][order], lab["form"][sl][order],
                                       lab["beta"][sl][order])
            work.append((stepper, np.fft.rfft(out["x"][sl, 0][order].astype(np.float64))))

        def floor():
            for stepper, v in work:
                for _ in range(steps):
                    v = stepper.step(v)
        return floor

    t_gen, t_fft, out = interleaved(lambda: generate_fisher_kpp(n), make_fft_floor, k)
    _, t_step, _ = interleaved(lambda: out, make_step_floor, k)
    return t_gen, t_fft, t_step


def bench_darcy_geometries(n: int, k: int) -> tuple[float, float]:
    geoms = ("square", "disc", "triangle")
    generate_darcy_geometries(3)  # warm-up
    res = 64

    def make_floor(_):
        masks = {g: geometry_mask(g, res) for g in geoms}
        systems = []
        for i, ss in enumerate(np.random.SeedSequence(0).spawn(n)):
            mask = masks[geoms[i % 3]]
            field = sample_spherical_grf(1, res, np.random.default_rng(ss), 0.25, 1.0)[0]
            a, cells = assemble(np.exp(field), mask, (1.0 / res, 1.0 / res))
            systems.append((a.tocsc(), np.ones(cells.size)))
        return lambda: [_lu_solve(a, f) for a, f in systems]

    t_gen, t_floor, _ = interleaved(lambda: generate_darcy_geometries(n), make_floor, k)
    return t_gen, t_floor


def bench_heated_plate(n: int, k: int) -> tuple[float, float, int]:
    res = (64, 32, 8)
    geoms = geometries(tuple(range(2, 10)), (0.9, 1.25, 1.6), 5, 0)[:n]
    holes = sorted({g[1] for g in geoms})
    # the generator takes hole counts, not a count of geometries: time whole hole-count groups
    n_gen = len(geometries(tuple(holes), (0.9, 1.25, 1.6), 5, 0))
    spacing = _spacing(res)

    def make_floor(_):
        systems = []
        for _, nh, p in geometries(tuple(holes), (0.9, 1.25, 1.6), 5, 0):
            mask = plate_mask(nh, p, 0.09, res)
            src = plate_source(mask, 1.0, "bottom_face")
            a, cells = assemble(np.ones(res), mask, spacing, BOX_BC, "neumann_zero")
            systems.append((a.tocsc(), src.ravel()[cells]))
        return lambda: [_lu_solve(a, f) for a, f in systems]

    t_gen, t_floor, _ = interleaved(lambda: generate_heated_plate(res, holes=holes),
                                     make_floor, k)
    return t_gen, t_floor, n_gen


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="samples (fisher_kpp, darcy_geometries; default 200) and geometries "
                             "(heated_plate; default 64)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    k = max(1, args.repeat)
    n = args.samples or 200
    print(machine_line("MT-DeepONet generators", k))
    rows = {}
    t_gen, t_fft, t_step = bench_fisher(n, k)
    rows["fisher_kpp"] = (n, t_gen, t_step, "the bare ETDRK4 steps (FisherKPPStepper.step), 400")
    rows["fisher_kpp (FFTs)"] = (n, t_gen, t_fft, "only the 4 irfft + 4 rfft of each of them")
    t_gen, t_floor = bench_darcy_geometries(n, k)
    rows["darcy_geometries"] = (n, t_gen, t_floor, "SuperLU factorise + solve, 64^2 masked")
    t_gen, t_floor, m = bench_heated_plate(args.samples or 64, k)
    rows["heated_plate"] = (m, t_gen, t_floor, "SuperLU factorise + solve, 64x32x8 masked")
    return print_ratio_table(rows)


if __name__ == "__main__":
    main()
