"""Throughput of the multiphysics generators against the floors of their bare numerics.

Usage: ``python benchmarks/bench_multiphysics_generation.py [--samples N] [--repeat K]``.

Generators at their ``conf/data/<name>.yaml`` defaults (64^2) and their floors:

- ``electrothermal`` (``generate_electrothermal``, default 1000 samples, regime 1): manufactured
  solutions, no solve. Floor = the closed-form fields and their autograd sources alone
  (``electrothermal_mms._evaluate`` on the generator's chunks of 16), i.e. without the two
  finite-difference self-checks and the float32 storage.
- ``electro_osmotic`` (``generate_electro_osmotic``, default 1000 samples): floor = the two
  SuperLU factorise + solve per sample (potential, then pressure), matrices and right-hand sides
  assembled beforehand.
- ``electro_thermal`` (``generate_electro_thermal``, default 200 samples): floor = per Picard
  iteration one complex SuperLU factorise + solve of the Helmholtz matrix and one solve with the
  prefactored heat LU, times the mean iterations the samples took (matrices assembled beforehand
  with each sample's converged conductivity, recomputed from its stored ``T``).

``--samples N`` samples per generator (default 100 for electrothermal and electro_osmotic, 1/10
of their default 1000; 8 for electro_thermal, 1/25 of its 200, each sample taking ~1-2 s; the
generators loop per sample or per fixed chunk, so seconds per sample do not depend on N). Best of
K runs (default 2), generator and floor alternated, after a warm-up; the load average is printed
because the machine is shared.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from _timing import (  # benchmarks/ is on sys.path when run
    interleaved,
    machine_line,
    print_ratio_table,
)

from pdebench.datasets.lstm_pinn.electrothermal_solver import (
    ElectrothermalParams,
    _evaluate,
    generate_electrothermal,
    sample_parameters,
)
from pdebench.datasets.multiphysics_bench.e_flow_solver import _bcs as eo_bcs
from pdebench.datasets.multiphysics_bench.e_flow_solver import generate_electro_osmotic
from pdebench.datasets.multiphysics_bench.te_heat_solver import (
    _heat_bcs,
    generate_electro_thermal,
    helmholtz_bcs,
)
from pdebench.datasets.numerics.finite_volume import assemble_fv

RES = 64
GAMMA = 5.0  # Arrhenius exponent, the generator's default



def _lu(a):
    return spla.splu(sp.csc_matrix(a))


def bench_electrothermal(n: int, k: int) -> tuple[float, float]:
    generate_electrothermal(2, RES)  # warm-up: imports, autograd
    params = ElectrothermalParams()

    def make_floor(_):
        prm = sample_parameters(n, np.random.default_rng(0), steep=False)

        def floor():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # as the generator does
            try:
                for s in range(0, n, 16):
                    _evaluate(prm[s:s + 16], RES, params)
            finally:
                torch.set_num_threads(threads)
        return floor

    t_gen, t_floor, _ = interleaved(lambda: generate_electrothermal(n, RES), make_floor, k)
    return t_gen, t_floor


def bench_electro_osmotic(n: int, k: int) -> tuple[float, float]:
    generate_electro_osmotic(2, RES)  # warm-up
    shape = (RES, RES)

    def make_floor(out):
        systems = []
        for i in range(n):
            kap, kp = out["kappa"][i].astype(np.float64), out["k_p"][i].astype(np.float64)
            a_v, b_v = assemble_fv(kap, shape, eo_bcs(1.0))
            a_p, _ = assemble_fv(kp, shape, eo_bcs(0.0))
            systems.append((sp.csc_matrix(a_v), -b_v, sp.csc_matrix(a_p), np.ones(RES * RES)))

        def floor():
            for a_v, b_v, a_p, b_p in systems:
                _lu(a_v).solve(b_v)
                _lu(a_p).solve(b_p)
        return floor

    t_gen, t_floor, _ = interleaved(lambda: generate_electro_osmotic(n, RES), make_floor, k)
    return t_gen, t_floor


def bench_electro_thermal(n: int, k: int) -> tuple[float, float, float]:
    shape = (RES, RES)
    k0 = 4 * np.pi
    iters = []

    def make_floor(out):
        lap_e, b_e = assemble_fv(1.0, shape, helmholtz_bcs(shape, k0, 0.0))
        a_t, b_t = assemble_fv(1.0, shape, _heat_bcs(1.0))
        lu_t = _lu(a_t)
        iters.append(out["residual"]["picard_iterations_mean"])
        eps, sig0 = out["eps_r"].astype(np.float64), out["sigma0"].astype(np.float64)
        temp = out["T"].astype(np.float64)  # converged conductivity, as the generator's last one
        sig = np.where(sig0 > 0, sig0 * np.exp(GAMMA * (1.0 - 1.0 / temp)), 0.0)
        systems = [sp.csc_matrix(lap_e + sp.diags((k0 * k0 * (eps[j % n] - 1j * sig[j % n]))
                                                  .ravel()))
                   for j in range(int(round(iters[0] * n)))]  # iterations of all samples
        rhs, src = np.ascontiguousarray(-b_e), np.ones(RES * RES)

        def floor():
            for a in systems:
                _lu(a).solve(rhs)
                lu_t.solve(src - b_t)
        return floor

    t_gen, t_floor, _ = interleaved(lambda: generate_electro_thermal(n, RES), make_floor, k)
    return t_gen, t_floor, iters[0]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per generator (default 100, 100, 8)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    k = max(1, args.repeat)
    print(machine_line(f"Multiphysics generators at {RES}^2", k))
    rows = {}
    n = args.samples or 100
    tg, tf = bench_electrothermal(n, k)
    rows["electrothermal"] = (n, tg, tf, "closed-form fields + autograd sources")
    tg, tf = bench_electro_osmotic(n, k)
    rows["e_flow"] = (n, tg, tf, "2 x SuperLU factorise + solve")
    n = args.samples or 8
    tg, tf, it = bench_electro_thermal(n, k)
    rows["te_heat"] = (n, tg, tf, f"{it:.1f} Picard its x (complex splu + heat solve)")
    return print_ratio_table(rows)


if __name__ == "__main__":
    main()
