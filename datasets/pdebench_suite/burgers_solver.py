"""Numerics of the 1D viscous Burgers dataset: a Fourier pseudo-spectral ETDRK4 solver, generator.

Problem (specs/PROBLEMS.md, A.3): ``u_t + (u^2/2)_x = (nu/pi) u_xx`` on the periodic unit
interval ``[0, 1)``, ``t`` in ``[0, t_end]`` (PDEBench: ``t_end = 2``, ``nu`` in ``{0.001, 0.01,
0.1, 1}``, 1024 cells, 201 frames). Dimensionless throughout; the diffusion coefficient is
``eps = nu / pi`` (PDEBench's convention). Values sit at cell centres ``x_j = (j + 1/2) / X``.
Initial data: the sine-sum law of :func:`pdebench.datasets.pdebench_suite.advection_solver.sample_sine_sums`
(the harness's draw, not PDEBench's bit-for-bit); a sum of low sines is represented exactly on
every grid with ``X > 3 max_wavenumber``, so different resolutions start from the same function.

Method (the harness's choice; PDEBench used a finite-volume scheme): Fourier pseudo-spectral in
space, nonlinear term in conservation form ``-(1/2) i kappa FFT(u^2)`` with the 2/3 rule (modes
``|m| > X/3`` of the product are zeroed, so no aliasing reaches the kept modes); the stiff
diffusion ``-eps kappa^2`` is integrated exactly by exponential time differencing, fourth-order
Runge-Kutta (ETDRK4, Cox & Matthews 2002), coefficients by the contour-integral average of
Kassam & Trefethen (2005, SIAM J. Sci. Comput. 26(4)) with 32 points. Spectral (exponential) in
space for smooth solutions, fourth order in time. The mean (mode 0) is untouched by both terms:
conserved to round-off. All arithmetic in float64, frames stored as float32.

Time step: fixed, ``dt = frame_dt / ceil(frame_dt / dt_target)`` (a whole number of steps per
frame), with ``dt_target = cfl * h / U``; ``U = n_waves`` bounds ``max |u|`` a priori (amplitudes
are below 1, and viscous Burgers obeys the maximum principle), so ``dt`` does not depend on the
draw and a smaller batch gives bitwise the same trajectories. The stability limit of ETDRK4 for
the dealiased advective term is ``U dt / h ~ 1.34``; an explicit ``dt`` or ``cfl`` above
:data:`CFL_MAX` raises ``ValueError`` before any work. Measured at ``X = 256``, ``nu = 0.01``,
the worst initial data: the time error at ``cfl = 1`` is ~4e-6 (max norm), far below the space
error, and falls 16x per halving of ``dt``.

Resolution: the viscous shock of jump ``2U`` has width ``~ eps / U``; the grid must resolve it.
Criterion: cell Reynolds number ``Re_h = U h / eps <= max_cell_reynolds`` (default
:data:`MAX_CELL_REYNOLDS` = 2.5), else ``ValueError`` before any work. Measured max-norm error at
the steepest time (``u0 = 2 sin(2 pi x)``, the worst case of the law): 5e-2 at ``Re_h = 2.45``
(the defaults ``X = 256``, ``nu = 0.01``; typical draws with ``A_1 + A_2 ~ 1`` are ~100x better),
3e-3 at 1.2, 5e-6 at 0.6. ``nu = 0.001`` thus needs ``X >= 2560`` (subsample afterwards if a
coarser grid is wanted); PDEBench's 1024-cell ``nu = 0.001`` data are dominated by the numerical
viscosity of its scheme.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pdebench.datasets.numerics.etdrk4 import etdrk4_coefficients
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed
from pdebench.datasets.pdebench_suite.advection_solver import (
    SineSums,
    frame_times,
    sample_sine_sums,
)

__all__ = [
    "CFL_MAX",
    "DIVERGENCE_FACTOR",
    "MAX_CELL_REYNOLDS",
    "MEAN_DRIFT_TOL",
    "SELF_CHECK_REL_TOL",
    "SpectralBurgers",
    "generate_burgers",
    "plan_time_step",
]

#: Largest allowed ``U dt / h`` (ETDRK4's limit for the dealiased advective term is ~1.34).
CFL_MAX = 1.2
#: Default largest cell Reynolds number ``U h / (nu / pi)`` (see the module docstring).
MAX_CELL_REYNOLDS = 2.5
#: The run stops with ``RuntimeError`` once ``max |u|`` exceeds this multiple of its initial max.
DIVERGENCE_FACTOR = 10.0
#: Largest per-sample relative residual the self-check accepts. The relative residual is at most
#: sqrt(3) for any field (Cauchy-Schwarz) and ~1 for unrelated terms; see :func:`generate_burgers`.
SELF_CHECK_REL_TOL = 1.2
#: Largest drift of a sample's spatial mean over time (conserved exactly by the scheme).
MEAN_DRIFT_TOL = 1e-12
_CHUNK = 128


class SpectralBurgers:
    """Dealiased pseudo-spectral ETDRK4 stepper of ``u_t + (u^2/2)_x = eps u_xx`` on [0, 1).

    Works on the real-FFT coefficients ``v = rfft(u)`` of a batch ``(B, X)``; every method is
    vectorised over the batch.

    Parameters
    ----------
    resolution : int
        Grid points ``X`` (>= 4).
    nu : float
        PDEBench's viscosity (> 0); ``eps = nu / pi``.
    dt : float
        Time step (> 0). No stability check here: see :func:`plan_time_step`.
    """

    def __init__(self, resolution: int, nu: float, dt: float) -> None:
        self.n = int(resolution)
        self.nu, self.dt = float(nu), float(dt)
        m = np.arange(self.n // 2 + 1)
        kappa = 2.0 * np.pi * m
        self.eps = self.nu / math.pi
        self.coeffs = etdrk4_coefficients(-self.eps * kappa**2, self.dt)
        # nonlinear factor -(1/2) i kappa, zero beyond the 2/3 cut (and at the Nyquist mode)
        self.nl = np.where(3 * m <= self.n, -0.5j * kappa, 0.0)

    def nonlinear(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N(v), u)``: the dealiased ``-FFT((u^2/2)_x)`` and the physical field ``u``."""
        u = np.fft.irfft(v, self.n)
        return self.nl * np.fft.rfft(u * u), u

    def step(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One ETDRK4 step; returns the new coefficients and ``u`` at the *start* of the step."""
        e, e2, q, f1, f2, f3 = self.coeffs
        nv, u = self.nonlinear(v)
        e2v = e2 * v
        a = e2v + q * nv
        na, _ = self.nonlinear(a)
        nb, _ = self.nonlinear(e2v + q * na)
        nc, _ = self.nonlinear(e2 * a + q * (2.0 * nb - nv))
        return e * v + f1 * nv + f2 * (2.0 * (na + nb)) + f3 * nc, u

    def run(self, u0: np.ndarray, n_frames: int, steps_per_frame: int) -> np.ndarray:
        """Integrate ``u0`` (B, X) and return frames (B, T, X) float64, ``T = n_frames``.

        Frame ``k`` is at ``t = k * steps_per_frame * dt``. Raises ``RuntimeError`` as soon as
        ``u`` is not finite or ``max |u|`` exceeds ``DIVERGENCE_FACTOR`` times its initial max
        (checked at every step, on the field the step starts from).
        """
        u0 = np.asarray(u0, dtype=np.float64)
        out = np.empty((u0.shape[0], n_frames, self.n))
        out[:, 0] = u0
        bound = DIVERGENCE_FACTOR * max(float(np.abs(u0).max()), 1e-300)
        v = np.fft.rfft(u0)
        step = 0
        for k in range(1, n_frames):
            for _ in range(steps_per_frame):
                v, u = self.step(v)
                peak = float(np.abs(u).max())
                if not peak <= bound:
                    raise RuntimeError(
                        f"Burgers solver diverged at step {step} (t = {step * self.dt:.6g}): "
                        f"max|u| = {peak:.6g} exceeds {DIVERGENCE_FACTOR:g} x the initial max "
                        f"(bound {bound:.6g}) or is not finite; dt = {self.dt:.6g}")
                step += 1
            out[:, k] = np.fft.irfft(v, self.n)
        if not np.isfinite(out[:, -1]).all() or not np.abs(out[:, -1]).max() <= bound:
            raise RuntimeError(f"Burgers solver diverged by the last step {step} "
                               f"(t = {step * self.dt:.6g}): final max|u| out of bounds")
        return out


def plan_time_step(resolution: int, u_bound: float, frame_dt: float, cfl: float = 1.0,
                   dt: float | None = None, check_cfl: bool = True) -> tuple[float, int]:
    """The fixed step ``(dt, steps_per_frame)`` for a grid, speed bound and frame spacing.

    Without ``dt``: ``dt = frame_dt / ceil(frame_dt / (cfl h / u_bound))``. With ``dt``:
    ``frame_dt / ceil(frame_dt / dt)`` (``dt`` itself when it divides ``frame_dt``). With
    ``check_cfl``, ``0 < cfl <= CFL_MAX`` and ``u_bound dt / h <= CFL_MAX`` are required
    (``ValueError``, naming the quantity); ``check_cfl=False`` skips the latter check on purpose
    (tests of the divergence detector).
    """
    h = 1.0 / resolution
    if dt is None:
        cfl = check_real("cfl", cfl, positive=True)
        if check_cfl and cfl > CFL_MAX:
            raise ValueError(f"cfl = {cfl:g} exceeds the stability bound CFL_MAX = {CFL_MAX:g} "
                             "(CFL number U*dt/h of the nonlinear term)")
        target = cfl * h / u_bound
    else:
        target = check_real("dt", dt, positive=True)
        number = u_bound * target / h
        if check_cfl and number > CFL_MAX:
            raise ValueError(
                f"dt = {target:g} violates the CFL condition of the nonlinear term: "
                f"U*dt/h = {u_bound:g}*{target:g}*{resolution} = {number:.4g} > CFL_MAX = "
                f"{CFL_MAX:g}; need dt <= {CFL_MAX * h / u_bound:.4g} (U = max|u| bound)")
    steps = max(1, math.ceil(frame_dt / target * (1.0 - 1e-12)))
    return frame_dt / steps, steps


def _residual(u: np.ndarray, nu: float, frame_dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample RMS and relative RMS (N,) of the shared residual of frames (N, T, X)."""
    import torch

    from pdebench.physics.burgers import burgers_residual, central_time_derivative
    from pdebench.physics.derivatives import FiniteDifference

    n, nt, nx = u.shape
    d = FiniteDifference([1.0 / nx], bc="periodic")
    ut = torch.from_numpy(u)
    u_t = central_time_derivative(ut, frame_dt, dim=1).reshape(n * nt, nx)
    flat = ut.reshape(n * nt, nx)
    r = burgers_residual(u_t, flat, nu, d)
    (flux_x,) = d.grad(0.5 * flat * flat)
    diff = (nu / math.pi) * d.lap(flat)
    terms = (u_t.square() + flux_x.square() + diff.square()).reshape(n, -1).mean(dim=1).sqrt()
    rms = r.square().reshape(n, -1).mean(dim=1).sqrt()
    return rms.numpy(), (rms / terms.clamp_min(1e-300)).numpy()


def generate_burgers(n_samples: int, resolution: int = 256, nu: float = 0.01,
                     n_frames: int = 41, t_end: float = 2.0, max_wavenumber: int = 8,
                     seed: int = 0, progress: Callable[[int, int], None] | None = None,
                     cfl: float = 1.0, dt: float | None = None, n_waves: int = 2,
                     max_cell_reynolds: float = MAX_CELL_REYNOLDS,
                     check_cfl: bool = True) -> dict[str, Any]:
    """Generate ``n_samples`` viscous Burgers trajectories, deterministically from ``seed``.

    Initial conditions from :func:`~pdebench.datasets.pdebench_suite.advection_solver.sample_sine_sums` with
    ``numpy.random.default_rng(seed)``; solved in batches of up to 128 by
    :class:`SpectralBurgers`; the same arguments give bitwise-identical arrays and a smaller
    ``n_samples`` a prefix. All parameters are validated before any work.

    Self-check: the shared residual :func:`pdebench.physics.burgers.burgers_residual` (periodic
    central differences in ``x``, central differences between frames in ``t``) per sample,
    relative to the RMS of ``sqrt(u_t^2 + (u^2/2)_x^2 + (eps u_xx)^2)``. It is the
    finite-difference truncation error of the *output* grid, dominated by the sparse frames
    (``frame_dt^2 / 6 u_ttt``), not a measure of the solver's accuracy (that is tested by
    refinement). Measured maxima over 100 samples, ``X = 256``: 0.68 (``nu = 0.01``, 41 frames),
    0.17 (201 frames), 0.05 (``X = 512``, 401 frames); 0.67 at ``nu = 0.1`` and 0.96 at ``nu = 1``
    with 41 frames, where the ``k = 8`` modes decay in ~1e-3, far below the frame spacing 0.05,
    so ``u_t`` between frames is meaningless. Hence the check is only a sanity bound: the
    relative residual is at most ``sqrt(3)`` for any field and ~1 for unrelated terms; above
    :data:`SELF_CHECK_REL_TOL` (1.2), or if a sample's mean drifts by more than
    :data:`MEAN_DRIFT_TOL`, ``RuntimeError``. With frames that resolve the dynamics it is small
    and second order (see the tests).

    Parameters
    ----------
    n_samples : int
        Number of trajectories, >= 1.
    resolution : int
        Grid points ``X``, > 3 ``max_wavenumber`` and fine enough for ``nu`` (PDEBench: 1024;
        default 256): ``n_waves * (1/X) / (nu/pi) <= max_cell_reynolds``.
    nu : float
        Viscosity parameter, finite and > 0 (PDEBench: 0.001, 0.01, 0.1, 1).
    n_frames : int
        Output frames on ``linspace(0, t_end, T)``, >= 2 (PDEBench: 201; default 41).
    t_end : float
        Final time, > 0 (PDEBench: 2).
    max_wavenumber : int
        Largest integer wavenumber of the initial sines, >= 1 (default 8).
    seed : int
        Seed (>= 0) of ``numpy.random.default_rng``.
    progress : callable, optional
        ``progress(done, total)`` in samples, after each batch of up to 128.
    cfl : float
        Target CFL number ``U dt / h`` in ``(0, CFL_MAX]`` when ``dt`` is not given (default 1).
    dt : float, optional
        Explicit time step (rounded down to divide the frame spacing); must satisfy
        ``U dt / h <= CFL_MAX``.
    n_waves : int
        Sines per initial condition, >= 1 (default 2); ``U = n_waves`` bounds ``max |u|``.
    max_cell_reynolds : float
        Largest accepted ``U h / (nu/pi)`` (default :data:`MAX_CELL_REYNOLDS`); raise it only
        knowingly (under-resolved fronts give Gibbs oscillations).
    check_cfl : bool
        ``False`` skips the CFL checks (only for testing the divergence detector).

    Returns
    -------
    dict
        ``u`` (N, T, 1, X) float32 (sample, time, channel, space); ``t`` (T,) float64; ``x`` (X,)
        float64 cell centres; ``initial_condition`` (``amplitude``, ``wavenumber``, ``phase``,
        each (N, n_waves)); ``residual`` (self-check summary); ``solver`` (method, order, step).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    resolution = check_int("resolution", resolution, 4)
    nu = check_real("nu", nu, positive=True)
    n_frames = check_int("n_frames", n_frames, 2)
    t_end = check_real("t_end", t_end, positive=True)
    max_wavenumber = check_int("max_wavenumber", max_wavenumber, 1)
    n_waves = check_int("n_waves", n_waves, 1)
    seed = check_seed(seed)
    max_cell_reynolds = check_real("max_cell_reynolds", max_cell_reynolds, positive=True)
    if 3 * max_wavenumber >= resolution:
        raise ValueError(f"resolution = {resolution} cannot represent the initial sines after "
                         f"2/3 de-aliasing: need resolution > 3 * max_wavenumber = "
                         f"{3 * max_wavenumber}")
    u_bound, h, eps = float(n_waves), 1.0 / resolution, nu / math.pi
    re_h = u_bound * h / eps
    if re_h > max_cell_reynolds:
        need = math.ceil(u_bound / (eps * max_cell_reynolds))
        raise ValueError(
            f"resolution = {resolution} is too coarse for nu = {nu:g}: cell Reynolds number "
            f"U*h/(nu/pi) = {re_h:.3g} > max_cell_reynolds = {max_cell_reynolds:g} (U = "
            f"{u_bound:g} bounds max|u|); the viscous shock width ~ (nu/pi)/U is not resolved; "
            f"use resolution >= {need}")
    t = frame_times(n_frames, t_end)
    frame_dt = float(t[1] - t[0])
    step_dt, steps = plan_time_step(resolution, u_bound, frame_dt, cfl=cfl, dt=dt,
                                    check_cfl=check_cfl)

    rng = np.random.default_rng(seed)
    ic = sample_sine_sums(n_samples, rng, n_waves=n_waves, max_wavenumber=max_wavenumber)
    x = cell_centres_1d(resolution)
    solver = SpectralBurgers(resolution, nu, step_dt)
    u32 = np.empty((n_samples, n_frames, 1, resolution), dtype=np.float32)
    rms, rel = np.empty(n_samples), np.empty(n_samples)
    drift = 0.0
    for start in range(0, n_samples, _CHUNK):
        stop = min(n_samples, start + _CHUNK)
        chunk: SineSums = ic[start:stop]
        frames = solver.run(chunk.evaluate(x), n_frames, steps)
        u32[start:stop, :, 0] = frames
        means = frames.mean(axis=2)
        drift = max(drift, float(np.abs(means - means[:, :1]).max()))
        rms[start:stop], rel[start:stop] = _residual(frames, nu, frame_dt)
        if progress is not None:
            progress(stop, n_samples)
    residual = self_check(
        "burgers",
        "r = u_t + (u^2/2)_x - (nu/pi) u_xx (pdebench.physics.burgers, periodic finite "
        "differences; u_t by central_time_derivative between frames); rel_rms = RMS_(t,x)(r) / "
        "RMS_(t,x)(sqrt(u_t^2 + (u^2/2)_x^2 + ((nu/pi) u_xx)^2)), per sample; mean_drift: max "
        "change of a sample's spatial mean over time",
        {"rms_max": rms.max(), "rel_rms_max": rel.max(), "rel_rms_mean": rel.mean(),
         "mean_drift_max": drift},
        {"rel_rms_max": SELF_CHECK_REL_TOL, "mean_drift_max": MEAN_DRIFT_TOL},
        expected="finite-difference truncation error of the output grid, dominated by the frame "
                 "spacing (up to ~0.7 at the defaults; ~1 when modes decay between frames); a "
                 "sanity bound, not an accuracy measure")
    info = {
        "method": "pseudo_spectral_etdrk4",
        "space": "Fourier pseudo-spectral, conservative flux -(1/2) i kappa FFT(u^2), 2/3-rule "
                 "de-aliasing",
        "time": "ETDRK4 (Cox & Matthews 2002), Kassam-Trefethen contour coefficients",
        "order_space": "spectral",
        "order_time": 4,
        "dt": step_dt,
        "steps_per_frame": steps,
        "cfl_number": u_bound * step_dt / h,
        "cell_reynolds": re_h,
        "u_bound": u_bound,
        "grid": "cell_centered",
        "resolution": resolution,
        "spacing": h,
        "extent": [0.0, 1.0],
        "boundary": "periodic",
        "nu": nu,
        "diffusion_coefficient": eps,
        "t_end": t_end,
        "n_frames": n_frames,
        "frame_dt": frame_dt,
        "initial_law": "sine_sums",
        "n_waves": n_waves,
        "max_wavenumber": max_wavenumber,
        "seed": seed,
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
    }
    return {"u": u32, "t": t, "x": x, "initial_condition": ic.as_dict(), "residual": residual,
            "solver": info}
