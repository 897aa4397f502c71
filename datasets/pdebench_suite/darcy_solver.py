"""Numerics of the steady Darcy dataset: coefficient samplers, finite-volume solver, generator.

Problem (specs/PROBLEMS.md, A.1): ``-div(a(x) grad u) = beta`` on the unit square, ``u = 0`` on
the boundary, on a grid of ``H x W`` cells; array axis 0 is the first coordinate (spacing
``1/H``), axis 1 the second (spacing ``1/W``); values sit at cell centres ``(k + 1/2) h``.

Discretisation: cell-centred five-point finite volumes
(:class:`pdebench.datasets.numerics.finite_volume.FiniteVolume`). The flux through the face between
cells L and R is ``a_f (u_R - u_L) / h`` with the harmonic mean ``a_f = 2 a_L a_R / (a_L + a_R)``;
at a wall the face value of ``u`` is 0, so the wall flux is ``a_cell (u_cell - 0) / (h/2)``. The
cell balance divided by the cell area gives ``A u = beta``, ``A`` symmetric positive definite (an
M-matrix). It is solved directly: sparse LU (SuperLU through :func:`scipy.sparse.linalg.splu`)
without pivoting (safe for an SPD M-matrix) in a fill-reducing ordering (minimum degree on
``A^T + A``) computed once per grid; the matrix is assembled straight into that ordering's
compressed layout by one gather per sample. On 64^2 grids (2 CPU cores) this measured about 20%
faster than ``splu`` choosing its ordering on every call and 1.8x faster than ``spsolve``; see
``benchmarks/bench_darcy_generation.py``. (SuperLU's ``relax``/``panel_size`` are left at their
defaults: some non-default pairs gained ~15% but one, (8, 24), crashed SuperLU on a 64^2 grid.)

PDEBench reached the same steady state by time-marching a diffusion equation; the direct solve
gives the field of the same scheme to round-off, far faster. This module needs numpy and scipy
only; the generator's self-check imports torch lazily (a dependency of the package) to evaluate
the shared equation code of :mod:`pdebench.physics.darcy`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp

from pdebench.datasets.numerics.finite_volume import FiniteVolume
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.threads import single_threaded_torch
from pdebench.datasets.numerics.validation import (
    check_choice,
    check_int,
    check_real,
    check_resolution,
    check_seed,
)

__all__ = [
    "COEFFICIENT_LAWS",
    "DarcyDiscretisation",
    "assemble_darcy_matrix",
    "cell_centres",
    "generate_darcy",
    "sample_coefficients_grf",
    "sample_coefficients_pdebench",
    "solve_darcy",
]

Resolution = int | tuple[int, int]
#: Relative residual above which the generator's self-check fails (round-off is ~1e-13 at 64^2).
SELF_CHECK_TOL = 1e-8
_MIN_RES = 8


def _resolution(resolution: Resolution, minimum: int = _MIN_RES) -> tuple[int, int]:
    return check_resolution("resolution", resolution, 2, minimum)


def cell_centres(resolution: Resolution) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates ``((H,), (W,))`` of the unit square, float64."""
    h, w = _resolution(resolution, minimum=1)
    return cell_centres_1d(h), cell_centres_1d(w)


def _check_values(values: tuple[float, float]) -> tuple[float, float]:
    if isinstance(values, str) or len(values) != 2:
        raise ValueError(f"data.coefficient_params.values must be two finite numbers > 0, got "
                         f"{values!r}")
    hi, lo = (check_real("coefficient_params.values", v, positive=True) for v in values)
    return hi, lo


# ---------------------------------------------------------------------------------------------
# Coefficient laws
# ---------------------------------------------------------------------------------------------

def sample_coefficients_pdebench(n: int, resolution: Resolution, rng: np.random.Generator,
                                 mean_batch: int = 200,
                                 values: tuple[float, float] = (1.0, 0.1)) -> np.ndarray:
    """PDEBench's two-valued coefficient: thresholded sums of five Gaussian bumps.

    ``s(x) = sum_{k=1..5} exp(-|x - c_k|^2 / w_k)`` with ``c_k ~ U(0,1)^2`` and
    ``w_k = 0.5 (1 - U[0,1))`` (so ``w_k`` in ``(0, 0.5]``, never 0); ``a = values[0]`` where
    ``s`` exceeds its mean and ``values[1]`` elsewhere. The mean is one scalar over all grid cells
    of a batch of ``mean_batch`` samples, as in PDEBench's generator.

    ``n`` not a multiple of ``mean_batch``: whole batches are always drawn (``ceil(n / mean_batch)``
    of them) and the first ``n`` samples kept, so every threshold is a mean over ``mean_batch``
    samples and sample ``i`` does not depend on ``n`` (a smaller ``n`` gives a prefix). The extra
    cost is at most ``mean_batch - 1`` unused bump fields, no solves.

    Parameters
    ----------
    n : int
        Number of samples, >= 1.
    resolution : int or (H, W)
        Cells per dimension.
    rng : numpy.random.Generator
        Source of randomness; per batch it draws ``c`` as ``rng.random((mean_batch, 5, 2))``
        then ``w`` from ``rng.random((mean_batch, 5))``.
    mean_batch : int
        Samples per thresholding batch (PDEBench: 200).
    values : (float, float)
        Coefficient above / below the threshold (PDEBench: 1 and 0.1).

    Returns
    -------
    numpy.ndarray
        ``(n, H, W)`` float64 with exactly the two ``values``.
    """
    n = check_int("n_samples", n, 1)
    hi, lo = _check_values(values)
    mean_batch = check_int("coefficient_params.mean_batch", mean_batch, 1)
    x0, x1 = cell_centres(resolution)
    out = np.empty((n, x0.size, x1.size))
    for start in range(0, n, mean_batch):
        c = rng.random((mean_batch, 5, 2))
        w = 0.5 * (1.0 - rng.random((mean_batch, 5)))
        # exp(-|x-c|^2/w) factorises into a product of one-dimensional Gaussians
        e0 = np.exp(-((x0[None, None, :] - c[..., 0:1]) ** 2) / w[..., None])
        e1 = np.exp(-((x1[None, None, :] - c[..., 1:2]) ** 2) / w[..., None])
        s = np.einsum("bkh,bkw->bhw", e0, e1)
        a = np.where(s > s.mean(), hi, lo)
        stop = min(n, start + mean_batch)
        out[start:stop] = a[: stop - start]
    return out


def sample_coefficients_grf(n: int, resolution: Resolution, rng: np.random.Generator,
                            alpha: float = 2.0, tau: float = 3.0,
                            values: tuple[float, float] = (1.0, 0.1)) -> np.ndarray:
    """FNO-paper coefficient: a thresholded Gaussian random field.

    ``psi ~ N(0, (-Laplacian + tau^2)^(-alpha))`` with zero-Neumann boundary conditions on the
    Laplacian (Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021, sec. 5.2), by
    spectral sampling in the cosine eigenbasis: ``psi = sum_k xi_k (pi^2 |k|^2 + tau^2)^(-alpha/2)
    phi_k`` with ``xi_k ~ N(0, 1)``, ``phi_k`` orthonormal products of ``cos(pi k_i x_i)``, all
    ``H x W`` modes of the grid and the constant mode removed (zero mean). Evaluated at the cell
    centres by an orthonormal inverse DCT-II. ``a = values[0]`` where ``psi >= 0`` and
    ``values[1]`` elsewhere (the FNO paper used 12 and 3; the default 1 and 0.1 matches the
    PDEBench law's contrast). The mode set is the grid's, so the same seed at two resolutions gives
    two different fields (as in the FNO data, coarse data come from subsampling a fine field); the
    PDEBench law, a function of continuous ``x``, does not have this property.

    Parameters
    ----------
    n : int
        Number of samples, >= 1.
    resolution : int or (H, W)
        Cells per dimension.
    rng : numpy.random.Generator
        Source of randomness; draws ``rng.standard_normal((H, W))`` per sample in order, so a
        smaller ``n`` gives a prefix.
    alpha, tau : float
        Smoothness exponent (> 0) and inverse length scale (>= 0). FNO: 2 and 3.
    values : (float, float)
        Coefficient where ``psi >= 0`` / where ``psi < 0``.

    Returns
    -------
    numpy.ndarray
        ``(n, H, W)`` float64 with exactly the two ``values``.
    """
    n = check_int("n_samples", n, 1)
    hi, lo = _check_values(values)
    alpha = check_real("coefficient_params.alpha", alpha, positive=True)
    tau = check_real("coefficient_params.tau", tau, nonneg=True)
    h, w = _resolution(resolution, minimum=1)
    k0, k1 = np.arange(h)[:, None], np.arange(w)[None, :]
    amp = (math.pi**2 * (k0**2 + k1**2) + tau**2) ** (-alpha / 2.0)
    amp[0, 0] = 0.0
    out = np.empty((n, h, w))
    chunk = 256
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        xi = rng.standard_normal((stop - start, h, w))
        psi = scipy.fft.idctn(amp * xi, type=2, norm="ortho", axes=(1, 2))
        out[start:stop] = np.where(psi >= 0.0, hi, lo)
    return out


#: Coefficient law name -> sampler ``(n, resolution, rng, **params) -> (n, H, W)``.
COEFFICIENT_LAWS: dict[str, Callable[..., np.ndarray]] = {
    "pdebench": sample_coefficients_pdebench,
    "grf": sample_coefficients_grf,
}


# ---------------------------------------------------------------------------------------------
# Finite-volume system
# ---------------------------------------------------------------------------------------------

class DarcyDiscretisation(FiniteVolume):
    """The five-point system ``-div(a grad u) = beta``, ``u = 0`` on the walls, of one grid.

    A :class:`~pdebench.datasets.numerics.finite_volume.FiniteVolume` (``sign=-1``) with the
    pattern and a fill-reducing ordering cached (``reorder=True``): unknown ``p = i * W + j`` is
    cell ``(i, j)`` ("natural" order); :meth:`matrix` and :meth:`rhs` are in solver order
    (``perm[q]`` = natural index of solver unknown ``q``).

    Parameters
    ----------
    resolution : int or (H, W)
        Cells per dimension, each >= 8.
    extent : ((lo, hi), (lo, hi))
        Domain; default the unit square.
    """

    def __init__(self, resolution: Resolution,
                 extent: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0))
                 ) -> None:
        shape = _resolution(resolution)
        spacing = tuple((hi - lo) / n for (lo, hi), n in zip(extent, shape, strict=True))
        if not all(h > 0 and math.isfinite(h) for h in spacing):
            raise ValueError(f"extent must give positive finite cell widths, got {extent!r}")
        super().__init__(shape, spacing, "dirichlet_zero", sign=-1, reorder=True)
        self.extent = extent

    def solve(self, a: np.ndarray, beta: float | np.ndarray = 1.0) -> np.ndarray:
        """Solve ``-div(a grad u) = beta``, ``u = 0`` on the boundary; ``u`` (H, W) float64."""
        return super().solve(a, beta)


@lru_cache(maxsize=8)
def _discretisation(shape: tuple[int, int]) -> DarcyDiscretisation:
    return DarcyDiscretisation(shape)


def assemble_darcy_matrix(a: np.ndarray) -> sp.csr_matrix:
    """The finite-volume matrix ``A`` (natural order) of ``-div(a grad u)`` on the unit square.

    ``a`` is ``(H, W)``, positive; returns ``(H*W, H*W)`` CSR, row ``i * W + j`` = cell ``(i, j)``.
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"coefficient must be (H, W), got shape {a.shape}")
    return _discretisation(_resolution(a.shape)).natural_matrix(a)


def solve_darcy(a: np.ndarray, beta: float | np.ndarray = 1.0) -> np.ndarray:
    """Solve ``-div(a grad u) = beta`` on the unit square with ``u = 0`` on the boundary.

    Parameters
    ----------
    a : numpy.ndarray
        Coefficient at cell centres, ``(H, W)``, finite and positive, ``H, W >= 8``.
    beta : float or numpy.ndarray
        Source: a scalar or ``(H, W)`` values at cell centres (any finite sign).

    Returns
    -------
    numpy.ndarray
        ``u`` at the cell centres, ``(H, W)`` float64.
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"coefficient must be (H, W), got shape {a.shape}")
    return _discretisation(_resolution(a.shape)).solve(a, beta)


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------

def _law_params(law: str, params: dict[str, Any] | None) -> dict[str, Any]:
    params = dict(params or {})
    allowed = [p for p in inspect.signature(COEFFICIENT_LAWS[law]).parameters
               if p not in ("n", "resolution", "rng")]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"data.coefficient_params: unknown parameter(s) {unknown} for "
                         f"coefficient law {law!r}; valid: {', '.join(allowed)}")
    return params


def _residual_summary(a: np.ndarray, u64: np.ndarray, u32: np.ndarray, beta: float,
                      spacing: tuple[float, float]) -> dict[str, Any]:
    import torch

    from pdebench.physics.darcy import darcy_residual
    from pdebench.physics.derivatives import FiniteDifference

    d = FiniteDifference(spacing, bc="dirichlet_zero")
    rel64, rel32 = [], []
    with single_threaded_torch():  # many small element-wise ops
        for start in range(0, a.shape[0], 256):
            at = torch.from_numpy(a[start:start + 256])
            for u, acc in ((u64, rel64), (u32, rel32)):
                ut = torch.from_numpy(np.asarray(u[start:start + 256], dtype=np.float64))
                r = darcy_residual(ut, at, beta, d)
                acc.append(r.square().mean(dim=(1, 2)).sqrt().numpy() / abs(beta))
    r64, r32 = np.concatenate(rel64), np.concatenate(rel32)
    return self_check(
        "darcy", "RMS over cells of -div(a grad u) - beta (pdebench.physics.darcy, "
                 "finite-difference provider) divided by |beta|, per sample",
        {"rel_rms_max": r64.max(), "rel_rms_mean": r64.mean(), "rel_rms_max_float32": r32.max()},
        {"rel_rms_max": SELF_CHECK_TOL})


def generate_darcy(n_samples: int, resolution: Resolution = 64, beta: float = 1.0,
                   coefficient: str = "pdebench", seed: int = 0,
                   progress: Callable[[int, int], None] | None = None,
                   coefficient_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Generate ``n_samples`` Darcy problems and their solutions, deterministically from ``seed``.

    Coefficients are drawn with ``COEFFICIENT_LAWS[coefficient]`` from
    ``numpy.random.default_rng(seed)``, stored as float32, and each problem is solved in float64
    with exactly the stored coefficient, so the stored pair is consistent. The same arguments give
    bitwise-identical arrays. The solutions are then checked against the shared equation code
    (:func:`pdebench.physics.darcy.darcy_residual`, finite-difference provider): the relative
    residual of every float64 solution must be below ``SELF_CHECK_TOL`` (round-off), else
    ``RuntimeError``.

    Parameters
    ----------
    n_samples : int
        Number of samples, >= 1.
    resolution : int or (H, W)
        Cells per dimension, >= 8 (PDEBench published 128; 64 is the CPU default).
    beta : float
        Constant source, finite and > 0 (PDEBench: 0.01, 0.1, 1, 10, 100).
    coefficient : str
        Coefficient law, a key of :data:`COEFFICIENT_LAWS` (``"pdebench"`` or ``"grf"``).
    seed : int
        Seed (>= 0) of ``numpy.random.default_rng``.
    progress : callable, optional
        ``progress(done, total)`` after each solved sample.
    coefficient_params : dict, optional
        Keyword parameters of the coefficient law (e.g. ``{"values": (12.0, 3.0)}``).

    Returns
    -------
    dict
        ``a`` (N, H, W) float32; ``u`` (N, H, W) float32; ``x`` (H,) and ``y`` (W,) cell-centre
        coordinates of axes 1 and 2 (float64); ``residual`` (the self-check summary); ``solver``
        (discretisation, linear solver, grid, coefficient law, seed, versions).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    shape = _resolution(resolution)
    beta = check_real("beta", beta, positive=True)
    check_choice("coefficient", coefficient, tuple(COEFFICIENT_LAWS))
    seed = check_seed(seed)
    params = _law_params(coefficient, coefficient_params)

    rng = np.random.default_rng(seed)
    a32 = COEFFICIENT_LAWS[coefficient](n_samples, shape, rng, **params).astype(np.float32)
    a = a32.astype(np.float64)
    disc = _discretisation(shape)
    rhs = disc.rhs(beta)
    u = np.empty(a.shape)
    for i in range(a.shape[0]):
        u[i] = disc.solve_matrix(disc.matrix(a[i]), rhs)
        if progress is not None:
            progress(i + 1, a.shape[0])
    u32 = u.astype(np.float32)
    residual = _residual_summary(a, u, u32, beta, disc.spacing)
    x, y = cell_centres(shape)
    solver = {
        "method": "finite_volume_5pt_direct",
        "discretisation": "cell-centred five-point finite volume, harmonic-mean face "
                          "coefficients, u = 0 on the wall faces (half-cell wall flux)",
        "linear_solver": "sparse LU (SuperLU, scipy.sparse.linalg.splu), no pivoting, "
                         "MMD(A^T+A) ordering computed once per grid",
        "direct": True,
        "tolerance": None,
        "grid": "cell_centered",
        "resolution": list(shape),
        "spacing": list(disc.spacing),
        "extent": [[0.0, 1.0], [0.0, 1.0]],
        "beta": beta,
        "coefficient_law": coefficient,
        "coefficient_params": {k: list(v) if isinstance(v, tuple) else v
                               for k, v in params.items()},
        "seed": int(seed),
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
    }
    return {"a": a32, "u": u32, "x": x, "y": y, "residual": residual, "solver": solver}
