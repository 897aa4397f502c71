"""Numerics of Darcy flow on several geometries (MT-DeepONet, specs/PROBLEMS.md B.2).

Problem: ``-div(K grad h) = f`` (``f = 1``) in a domain ``Omega`` inside the unit square, ``h = 0``
on its boundary, ``K = exp(G)``, ``G`` a zero-mean Gaussian random field with the spherical
covariance ``C(r) = sigma^2 (1 - 3r/(2 rho) + r^3/(2 rho^3))`` for ``r < rho`` and 0 beyond
(``rho = 0.25``, the published "correlation length" read as the range of the spherical model;
``sigma = 1``). Array axis 0 is ``x``, axis 1 is ``y``, values at cell centres ``(k + 1/2) / n``.

Geometries (the harness's concrete reading; only their names are published), a cell belongs to
``Omega`` when its centre does:

- ``square``: the whole unit square;
- ``disc``: the inscribed disc, centre (1/2, 1/2), radius 1/2;
- ``triangle``: the equilateral triangle of side 1 with a horizontal base, centred vertically:
  vertices (0, y0), (1, y0), (1/2, y0 + sqrt(3)/2), ``y0 = (1 - sqrt(3)/2) / 2``;
- ``cross``: the square minus a centred plus-shaped hole, two bars 0.6 long and 0.2 wide
  (``|x - 1/2| < 0.1, |y - 1/2| < 0.3`` and ``|x - 1/2| < 0.3, |y - 1/2| < 0.1``); ``h = 0`` on
  the hole's boundary too. The transfer target.

GRF sampling: circulant embedding (Dietrich & Newsam 1997), exact on the grid: the covariance of
the cell-centre lags is embedded in a periodic ``m x m`` grid (``m = 2n``, enough because the
spherical covariance vanishes beyond ``rho < 1``: the wrapped lags ``m h - |d| >= rho`` never reach
into the support), whose eigenvalues come from one FFT; a field is the real part of the FFT of
``sqrt(lambda / m^2)`` times complex white noise. The embedding's eigenvalues are checked to be
non-negative (they are, for ``rho = 0.25``; the grid is enlarged otherwise). Cost: one ``2n x 2n``
FFT per sample, independent of the number of grid points otherwise; a dense Cholesky of the
``n^2 x n^2`` covariance would be exact too but costs O(n^6).

Discretisation: :class:`pdebench.datasets.numerics.finite_volume.FiniteVolume` on the masked grid
(cell-centred five-point finite volumes, harmonic-mean faces, ``h = 0`` on the box walls and on
faces to excluded cells through ghost values, as in
:mod:`pdebench.datasets.pdebench_suite.darcy_solver`), one per geometry with its fill-reducing
ordering computed once. On the square it is second order;
on the disc and triangle the staircase boundary (the discrete domain differs from ``Omega`` by
``O(1/n)``) limits it to first order (see ``tests/test_mtdeeponet.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy

from pdebench.datasets.numerics.finite_volume import FiniteVolume
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed, check_subset

__all__ = [
    "GEOMETRIES",
    "SELF_CHECK_TOL",
    "check_geometries",
    "check_parameters",
    "generate_darcy_geometries",
    "geometry_mask",
    "sample_spherical_grf",
    "spherical_covariance",
]

#: Geometry name -> description.
GEOMETRIES = {
    "square": "the unit square",
    "disc": "inscribed disc, centre (0.5, 0.5), radius 0.5",
    "triangle": "equilateral triangle, side 1, horizontal base, centred vertically",
    "cross": "unit square minus a centred plus-shaped hole (bars 0.6 x 0.2)",
}
#: Relative residual above which the self-check fails (round-off is ~1e-13 at 64^2).
SELF_CHECK_TOL = 1e-8
_MIN_RES = 16


def check_geometries(geometries: Sequence[str]) -> tuple[str, ...]:
    """Validate a list of geometry names; ValueError listing the valid ones."""
    return check_subset("geometries", geometries, tuple(GEOMETRIES), "geometry")


def geometry_mask(name: str, resolution: int) -> np.ndarray:
    """Cells of ``Omega`` (bool ``(n, n)``, axis 0 = x): those whose centre lies inside."""
    check_geometries([name])
    c = cell_centres_1d(int(resolution))
    x, y = c[:, None], c[None, :]
    if name == "square":
        return np.ones((c.size, c.size), dtype=bool)
    if name == "disc":
        return (x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.25
    if name == "triangle":
        s3 = math.sqrt(3.0)
        y0 = (1.0 - s3 / 2.0) / 2.0
        return (y > y0) & (y - y0 < s3 * x) & (y - y0 < s3 * (1.0 - x))
    bar1 = (np.abs(x - 0.5) < 0.1) & (np.abs(y - 0.5) < 0.3)
    bar2 = (np.abs(x - 0.5) < 0.3) & (np.abs(y - 0.5) < 0.1)
    return ~(bar1 | bar2)


def spherical_covariance(r: np.ndarray, correlation_length: float, sigma: float) -> np.ndarray:
    """``sigma^2 (1 - 1.5 r/rho + 0.5 (r/rho)^3)`` for ``r < rho``, else 0."""
    s = np.asarray(r, dtype=np.float64) / correlation_length
    return np.where(s < 1.0, sigma**2 * (1.0 - 1.5 * s + 0.5 * s**3), 0.0)


@lru_cache(maxsize=8)
def _embedding(n: int, correlation_length: float, sigma: float) -> tuple[int, np.ndarray]:
    """Embedding size ``m`` and the square roots of its eigenvalues divided by ``m``."""
    h = 1.0 / n
    m = max(2 * n, n + math.ceil(correlation_length / h) + 1)
    for _ in range(4):
        i = np.arange(m)
        lag = np.minimum(i, m - i) * h
        c = spherical_covariance(np.hypot(lag[:, None], lag[None, :]), correlation_length, sigma)
        lam = np.fft.fft2(c).real
        if lam.min() >= -1e-10 * lam.max():
            return m, np.sqrt(np.clip(lam, 0.0, None)) / m
        m *= 2
    raise ValueError(f"circulant embedding of the spherical covariance (rho = "
                     f"{correlation_length}) is not non-negative up to m = {m // 2}")


def sample_spherical_grf(n_fields: int, resolution: int, rng: np.random.Generator,
                         correlation_length: float = 0.25, sigma: float = 1.0) -> np.ndarray:
    """Zero-mean GRFs with the spherical covariance at the cell centres: ``(N, n, n)`` float64.

    Draws ``rng.standard_normal((2, m, m))`` per field, in order.
    """
    m, root = _embedding(int(resolution), correlation_length, sigma)
    out = np.empty((n_fields, resolution, resolution))
    for i in range(n_fields):
        xi = rng.standard_normal((2, m, m))
        z = scipy.fft.fft2(root * (xi[0] + 1j * xi[1]))
        out[i] = z.real[:resolution, :resolution]
    return out


def check_parameters(n_samples: int, resolution: int = 64,
                     geometries: Sequence[str] = ("square", "disc", "triangle"),
                     correlation_length: float = 0.25, sigma: float = 1.0, source: float = 1.0,
                     seed: int = 0) -> dict[str, Any]:
    """Validate the arguments of :func:`generate_darcy_geometries` (ValueError naming the
    offending one) and return them normalised (JSON-able)."""
    return {"n_samples": check_int("n_samples", n_samples, 1),
            "resolution": check_int("resolution", resolution, _MIN_RES,
                                    " (the geometries need it)"),
            "geometries": list(check_geometries(geometries)),
            "correlation_length": check_real("correlation_length", correlation_length,
                                             positive=True),
            "sigma": check_real("sigma", sigma, positive=True),
            "source": check_real("source", source, positive=True),
            "seed": check_seed(seed)}


def generate_darcy_geometries(n_samples: int, resolution: int = 64,
                              geometries: Sequence[str] = ("square", "disc", "triangle"),
                              correlation_length: float = 0.25, sigma: float = 1.0,
                              source: float = 1.0, seed: int = 0,
                              progress: Callable[[int, int], None] | None = None
                              ) -> dict[str, Any]:
    """Generate Darcy pairs on a mix of geometries, deterministically from ``seed``.

    Sample ``i`` lies on ``geometries[i % len(geometries)]``; its field ``G`` comes from the
    ``i``-th child of ``numpy.random.SeedSequence(seed)`` (a smaller ``n`` gives a prefix).

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 1).
    resolution : int
        Cells per side (>= 16; published 100).
    geometries : sequence of str
        Names from :data:`GEOMETRIES`.
    correlation_length, sigma : float
        Range ``rho`` and standard deviation of ``G = log K``.
    source : float
        Right-hand side ``f`` (published 1).
    seed : int
        Seed (>= 0).
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    dict
        ``x`` (N, 2, n, n) float32, channels ``[log_k, mask]`` with ``log_k = G / sigma`` (the
        standardised log-permeability, zero mean and unit variance by construction) on the domain
        and 0 outside; ``y`` (N, 1, n, n) float32, ``h`` (0 outside); ``geometry`` (N,) names;
        ``residual``, ``solver``.
    """
    p = check_parameters(n_samples, resolution, geometries, correlation_length, sigma, source,
                         seed)
    n, res, geoms = p["n_samples"], p["resolution"], tuple(p["geometries"])
    rho, sigma, source, seed = p["correlation_length"], p["sigma"], p["source"], p["seed"]

    import torch

    from pdebench.physics.darcy import darcy_residual
    from pdebench.physics.heat import MaskedFiniteDifference, masked_residual

    masks = {g: geometry_mask(g, res) for g in geoms}
    # one system per geometry: pattern and fill-reducing ordering computed once
    systems = {g: FiniteVolume((res, res), (1.0 / res, 1.0 / res), "dirichlet_zero",
                               mask=masks[g], inner_bc="dirichlet_zero", sign=-1, reorder=True)
               for g in geoms}
    providers = {g: MaskedFiniteDifference((1.0 / res, 1.0 / res), torch.from_numpy(masks[g]))
                 for g in geoms}
    x = np.zeros((n, 2, res, res), dtype=np.float32)
    y = np.zeros((n, 1, res, res), dtype=np.float32)
    rel = np.empty(n)
    names = [geoms[i % len(geoms)] for i in range(n)]
    for i, ss in enumerate(np.random.SeedSequence(int(seed)).spawn(n)):
        g = names[i]
        mask = masks[g]
        field = sample_spherical_grf(1, res, np.random.default_rng(ss), rho, sigma)[0]
        k = np.exp(field)
        h = systems[g].solve(k, source)
        r = masked_residual(darcy_residual(torch.from_numpy(h)[None], torch.from_numpy(k)[None],
                                           source, providers[g]), torch.from_numpy(mask)[None])
        rel[i] = float(r.square().sum().div(mask.sum()).sqrt()) / source
        x[i, 0] = np.where(mask, field / sigma, 0.0)
        x[i, 1] = mask
        y[i, 0] = h
        if progress is not None:
            progress(i + 1, n)
    residual = self_check(
        "darcy_geometries",
        "RMS over the domain cells of -div(K grad h) - f (pdebench.physics.darcy.darcy_residual "
        "with pdebench.physics.heat.MaskedFiniteDifference, dirichlet_zero on the box and the "
        "domain boundary) divided by f, per sample, on the float64 solution",
        {"rel_rms_max": rel.max(), "rel_rms_mean": rel.mean()}, {"rel_rms_max": SELF_CHECK_TOL},
        expected="round-off (~1e-13): the residual is A h - f of the solved system")
    solver = {
        "method": "masked_finite_volume_direct",
        "discretisation": "cell-centred five-point finite volumes on the cells whose centre lies "
                          "in the domain; harmonic-mean faces; h = 0 on box walls and domain "
                          "boundary faces via ghost values "
                          "(pdebench.datasets.numerics.finite_volume)",
        "linear_solver": "scipy.sparse.linalg.splu (SuperLU, symmetric mode, MMD on A^T + A "
                         "computed once per geometry)",
        "order_space": "2 on the square; 1 on curved/slanted domains (staircase boundary)",
        "grf": f"spherical covariance, range {rho:g}, sigma {sigma:g}, circulant embedding "
               f"({_embedding(res, rho, sigma)[0]}^2)",
        "geometries": {g: GEOMETRIES[g] for g in geoms},
        "geometry_cells": {g: int(masks[g].sum()) for g in geoms},
        "task_assignment": "sample i on geometries[i % len(geometries)]",
        "labels": {"geometry": names},
        "resolution": res,
        "grid": "cell_centered",
        "source": source,
        "seed": int(seed),
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
    }
    return {"x": x, "y": y, "geometry": names, "residual": residual, "solver": solver}
