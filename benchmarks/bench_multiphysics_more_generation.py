"""Throughput of four more multiphysics generators against the floors of their bare numerics.

Usage: ``python benchmarks/bench_multiphysics_more_generation.py [--samples N] [--repeat K]``.

Generators at their ``conf/data/<name>.yaml`` defaults (parameters read from the file) and floors:

- ``mhd`` (``generate_mhd``, default 1000 samples at 64^2): floor = per sample one SuperLU
  factorise + solve of the coupled ``2 N^2`` Hartmann block system (``direct_solve``, one BLAS
  thread as in the generator), block matrices and right-hand sides assembled beforehand.
- ``acoustic_structure`` (``generate_acoustic``, default 2000 samples at 64^2): floor = per sample
  one complex SuperLU factorise + solve (``direct_solve``) of the fluid-cell Helmholtz system,
  matrices (solid cells removed) and right-hand sides assembled beforehand.
- ``natural_convection`` (``generate_natural_convection``, default 50 samples at 64^2): floor =
  per pseudo-time iteration one SuperLU factorise + solve (COLAMD, as the generator) of the coupled
  ``3 n^2`` system, times the iterations each sample took (counted by wrapping ``solve_steady``
  while the generator runs); each sample's matrix is assembled beforehand at its converged state.
- ``elder`` (``generate_elder``, default 80 samples, 64 x 32 cells, ``t_end`` 0.2): floor = per
  Heun step two stages of (prefactored Poisson solve for ``psi`` + transport right-hand side),
  times the steps each sample took (counted by wrapping ``run_elder``); the right-hand sides and
  face velocities are computed beforehand from each sample's last frame.

``--samples N`` samples per generator (default 1/10 of each default: 100, 200, 5 and 8; a default
run would take ~40-65 s each on 2 shared cores; the generators loop per sample, so seconds per
sample do not depend on N). Best of K runs (default 2), generator and floor alternated, after a
warm-up; the load average is printed because the machine is shared.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from unittest.mock import patch

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from _timing import (  # benchmarks/ is on sys.path when run
    interleaved,
    machine_line,
    print_ratio_table,
)
from omegaconf import OmegaConf

import pdebench.datasets.multiphysics_bench.elder_solver as el
import pdebench.datasets.multiphysics_bench.ns_heat_solver as nc
from pdebench.datasets.multiphysics_bench.mhd_solver import (
    _laplacian,
    d_y,
    forcing_maps,
    generate_mhd,
)
from pdebench.datasets.multiphysics_bench.te_heat_solver import helmholtz_bcs
from pdebench.datasets.multiphysics_bench.va_solver import (
    INV_RHO_SOLID,
    generate_acoustic,
    sample_media,
)
from pdebench.datasets.numerics.finite_volume import assemble_fv
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.datasets.numerics.threads import single_threaded_blas

CONF = Path(__file__).resolve().parents[1] / "conf" / "data"
FRACTION = 10  # default run: 1/FRACTION of each config's n_samples



def _config(name: str, func) -> dict:
    """The generator's keyword arguments from ``conf/data/<name>.yaml`` (incl. ``n_samples``)."""
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml"))  # as Hydra parses it
    accepted = inspect.signature(func).parameters
    return {k: v for k, v in cfg.items() if k in accepted}


def bench_mhd(n: int | None, k: int) -> tuple[int, float, float, str]:
    p = _config("mhd", generate_mhd)
    n = n or max(1, p["n_samples"] // FRACTION)
    p["n_samples"] = n
    generate_mhd(**{**p, "n_samples": 2})  # warm-up
    res = p["resolution"]

    def make_floor(out):
        g, _ = forcing_maps(n, res, np.random.default_rng(p["seed"]), p["g0"])
        lap, dy = _laplacian(res), d_y((res, res), 2.0 / res)
        systems = [(sp.csc_matrix(sp.bmat([[lap, ha * dy], [ha * dy, lap]])),
                    np.concatenate([-g[i].ravel(), np.zeros(res * res)]))
                   for i, ha in enumerate(out["ha"])]

        def floor():
            with single_threaded_blas():
                for a, b in systems:
                    direct_solve(a, b, (2, res, res))
        return floor

    t_gen, t_floor, _ = interleaved(lambda: generate_mhd(**p), make_floor, k)
    return n, t_gen, t_floor, f"SuperLU factorise + solve of the 2x{res}^2 block system"


def bench_acoustic(n: int | None, k: int) -> tuple[int, float, float, str]:
    p = _config("va", generate_acoustic)
    n = n or max(1, p["n_samples"] // FRACTION)
    p["n_samples"] = n
    generate_acoustic(**{**p, "n_samples": 2})  # warm-up
    shape = (p["resolution"],) * 2
    omega = p["omega"]

    def make_floor(_):
        inv_rho, solid, _ = sample_media(n, shape, np.random.default_rng(p["seed"]))
        bcs = helmholtz_bcs(shape, omega, p["theta"])
        systems = []
        for i in range(n):
            a, b = assemble_fv(np.where(solid[i], INV_RHO_SOLID, inv_rho[i]), shape, bcs)
            a = sp.csr_matrix(a + sp.diags(np.full(a.shape[0], omega * omega)))
            fluid = ~solid[i].ravel()
            systems.append((sp.csc_matrix(a[fluid][:, fluid]),
                            np.ascontiguousarray(-b.astype(complex)[fluid]), int(fluid.sum())))

        def floor():
            with single_threaded_blas():
                for a, b, m in systems:
                    direct_solve(a, b, (m,))
        return floor

    t_gen, t_floor, _ = interleaved(lambda: generate_acoustic(**p), make_floor, k)
    return n, t_gen, t_floor, "complex SuperLU factorise + solve (direct_solve)"


def bench_natural_convection(n: int | None, k: int) -> tuple[int, float, float, str]:
    p = _config("ns_heat", nc.generate_natural_convection)
    n = n or max(1, p["n_samples"] // FRACTION)
    p["n_samples"] = n
    nc.generate_natural_convection(**{**p, "n_samples": 1, "resolution": 16})  # warm-up
    runs: list[tuple] = []  # (q, ra, iterations, converged state) per sample, last run
    orig = nc.solve_steady

    def counting(q, ra, *a, **kw):
        sol = orig(q, ra, *a, **kw)
        runs.append((q, ra, sol["iterations"], np.stack([sol["psi"], sol["omega"], sol["T"]])))
        return sol

    def gen():
        runs.clear()
        with patch.object(nc, "solve_steady", counting):
            return nc.generate_natural_convection(**p)

    def make_floor(_):
        h = 1.0 / (p["resolution"] - 1)
        systems = [(nc._system(state, q, ra, p["pr"], h, 1.0 / p["dtau"]), its)
                   for q, ra, its, state in runs]

        def floor():
            for (a, rhs), its in systems:
                for _ in range(its):
                    spla.splu(a, permc_spec=nc.PERMC).solve(rhs)
        return floor

    t_gen, t_floor, _ = interleaved(gen, make_floor, k)
    mean_its = np.mean([r[2] for r in runs])
    what = f"{mean_its:.1f} pseudo-time its x SuperLU of the 3x{p['resolution']}^2 system"
    return n, t_gen, t_floor, what


def bench_elder(n: int | None, k: int) -> tuple[int, float, float, str]:
    p = _config("elder", el.generate_elder)
    n = n or max(1, p["n_samples"] // FRACTION)
    p["n_samples"] = n
    el.generate_elder(**{**p, "n_samples": 1, "resolution": 8})  # warm-up
    runs: list[tuple] = []  # (ra, source length, steps, last frame c) per sample, last run
    orig = el.run_elder

    def counting(ra, source_length, *a, **kw):
        out = orig(ra, source_length, *a, **kw)
        runs.append((ra, source_length, out["steps"], out["c"][-1].copy()))
        return out

    def gen():
        runs.clear()
        with patch.object(el, "run_elder", counting):
            return el.generate_elder(**p)

    def make_floor(_):
        ny = p["resolution"]
        nx, h = 2 * ny, 1.0 / ny
        solver = el.StreamSolver(nx, ny, h)
        xc = (np.arange(nx) + 0.5) * h
        work = []
        for ra, length, steps, c in runs:
            cy = 0.5 * (c[:, 1:] + c[:, :-1])
            f = ra * (cy[1:] - cy[:-1]) / h
            uf, vf = el.face_velocities(solver.solve(f), h)
            work.append((f, c, uf, vf, xc >= 2.0 - length, steps))

        def floor():
            for f, c, uf, vf, mask, steps in work:
                for _ in range(2 * steps):  # Heun: two stages per step
                    solver.solve(f)
                    el.transport_rhs(c, uf, vf, h, mask)
        return floor

    t_gen, t_floor, _ = interleaved(gen, make_floor, k)
    mean_steps = np.mean([r[2] for r in runs])
    return n, t_gen, t_floor, f"{mean_steps:.0f} steps x 2 x (Poisson solve + transport rhs)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help=f"samples per generator (default 1/{FRACTION} of each config's "
                             "n_samples: 100, 200, 5, 8)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    k = max(1, args.repeat)
    print(machine_line("Multiphysics generators at their conf/data defaults", k))
    rows = {}
    for name, bench in (("mhd", bench_mhd), ("va", bench_acoustic),
                        ("ns_heat", bench_natural_convection),
                        ("elder", bench_elder)):
        print(f"  timing {name} ...", flush=True)  # each takes a while
        rows[name] = bench(args.samples, k)
    return print_ratio_table(rows)


if __name__ == "__main__":
    main()
