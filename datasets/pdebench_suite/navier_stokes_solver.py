"""Numerics of the 2D incompressible Navier--Stokes dataset (vorticity form): solver and generator.

Problem (specs/PROBLEMS.md, A.5; Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR
2021, sec. 5.3): on the periodic unit square ``[0, 1)^2``

    w_t + u . grad(w) = nu lap(w) + f,   u = (psi_y, -psi_x),   -lap(psi) = w,
    f = 0.1 (sin(2 pi (x + y)) + cos(2 pi (x + y))),

``nu`` in {1e-3, 1e-4, 1e-5}; initial vorticity from the Gaussian measure
``N(0, 7^{3/2} (-lap + 49 I)^{-2.5})`` (the paper's formula; see :func:`sample_vorticity_grf` for
the scale used by the FNO reference code, available through ``grf_scale``); published: ``T = 50``
for ``nu = 1e-3`` on 64^2 (downsampled from 256^2). Harness defaults: 64^2, ``t_end = 10``, 21
frames. Grid: ``H = W = N`` values at cell centres ``(j + 1/2) / N`` (the harness's convention; the
FNO grid uses ``j / N``, a half-cell translation: the law of ``w_0`` is translation invariant, only
the forcing's phase relative to the grid moves). Array axis 0 is ``x``, axis 1 is ``y``.

Space: pseudo-spectral (``rfft2``), the nonlinear term ``u w_x + v w_y`` in advective form with
2/3-rule de-aliasing (modes with ``3|k_i| >= N`` removed from the product and the initial field,
so the state stays band-limited). Time: IMEX Crank--Nicolson (diffusion) / Heun (advection and
forcing), second order:

    w* = (1 - dt/2 L)^{-1} [(1 + dt/2 L) w^n + dt N(w^n)]
    w^{n+1} = (1 - dt/2 L)^{-1} [(1 + dt/2 L) w^n + dt/2 (N(w^n) + N(w*))],   L = -nu |k|^2.

Step: each frame interval is split into equal steps with the CFL number ``dt (max|u|/h + max|v|/h)``
at most ``cfl`` (0.25) for the speed at the interval's start, and ``dt <= dt_max`` (0.05); an
explicit ``dt`` is fixed for the run. Heun has no stable interval on the imaginary axis: viscosity
and de-aliasing supply the damping, which at CFL 0.5 was not enough for ``nu = 1e-5`` at 64^2
(a late grid-scale blow-up in one of 8 samples at ``t = 10``) and was at 0.25 and 0.125 (same
frames to 3 digits); hence the target 0.25 and the hard limit :data:`CFL_LIMIT` = 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy
import scipy.fft as sfft

from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.threads import single_threaded_torch
from pdebench.datasets.numerics.validation import (
    check_int,
    check_range,
    check_real,
    check_seed,
    check_subset,
)
from pdebench.datasets.pdebench_suite.diffusion_reaction_solver import (
    _central_time_derivative,
    _three_point_weights,
)

__all__ = [
    "CFL_LIMIT",
    "DEFAULT_CFL",
    "FIELDS",
    "FNO_CODE_GRF_SCALE",
    "PUBLISHED",
    "SpectralGrid",
    "generate_navier_stokes",
    "sample_vorticity_grf",
    "solve_navier_stokes",
]

#: FNO paper's setup.
PUBLISHED = {"nu": (1e-3, 1e-4, 1e-5), "t_end": {1e-3: 50.0, 1e-4: 30.0, 1e-5: 20.0},
             "resolution": 64, "grf_alpha": 2.5, "grf_tau": 7.0, "grf_scale": 7.0**1.5,
             "forcing_amplitude": 0.1}
#: Covariance scale of the FNO reference code's sampler (amplitude 7^{3/2} per complex mode with a
#: sqrt(2) factor), about 6x the paper's formula in standard deviation.
FNO_CODE_GRF_SCALE = 2.0 * 7.0**3
#: Target CFL number of the adaptive step. 0.5 was measured unstable (Heun) for nu = 1e-5 at 64^2.
DEFAULT_CFL = 0.25
#: Hard CFL limit: an explicit ``dt`` above ``CFL_LIMIT / speed(w0)`` is refused (ValueError), and
#: a run whose CFL number exceeds it is stopped (RuntimeError) unless ``check_cfl=False``.
CFL_LIMIT = 0.5
DT_MAX = 0.05
FIELDS = ("vorticity", "u", "v")
#: Step-level self-check: the relative residual may exceed 1.1 x the provider's measured
#: truncation on the solution by this much (the time error; measured ~1e-4 at the defaults).
STEP_RESIDUAL_TOL = 1e-2
#: Divergence bound: max|w| above this factor times ``max|w0| + t max|f|`` (the maximum principle
#: of the continuous problem) stops the run.
BLOWUP_FACTOR = 2.0
_MIN_RES = 16

Hook = Callable[[int, np.ndarray, np.ndarray, np.ndarray, float, float], None]


class SpectralGrid:
    """Wavenumbers and operators of the periodic ``N x N`` grid in ``rfft2`` layout ``(N, N//2+1)``.

    Parameters
    ----------
    n : int
        Points per dimension (>= 4).
    workers : int, optional
        Threads of :mod:`scipy.fft`.
    """

    def __init__(self, n: int, workers: int | None = None) -> None:
        self.n, self.workers = n, workers
        ki0 = np.fft.fftfreq(n, 1.0 / n)
        ki1 = np.fft.rfftfreq(n, 1.0 / n)
        k0, k1 = 2.0 * np.pi * ki0[:, None], 2.0 * np.pi * ki1[None, :]
        self.k2 = k0**2 + k1**2
        inv = np.zeros_like(self.k2)
        inv[self.k2 > 0] = 1.0 / self.k2[self.k2 > 0]
        self.mask = ((3 * np.abs(ki0)[:, None] < n) & (3 * np.abs(ki1)[None, :] < n)).astype(float)
        # odd derivatives: Nyquist modes (outside the mask anyway) get no derivative
        d0 = np.where(np.abs(ki0) == n / 2, 0.0, k0[:, 0])[:, None]
        d1 = np.where(np.abs(ki1) == n / 2, 0.0, k1[0, :])[None, :]
        # u = psi_y, v = -psi_x, w_x, w_y from w_hat
        self.ops = np.stack([1j * d1 * inv, -1j * d0 * inv, 1j * d0 + 0 * d1, 1j * d1 + 0 * d0])

    def rfft(self, a: np.ndarray) -> np.ndarray:
        return sfft.rfft2(a, axes=(-2, -1), workers=self.workers)

    def irfft(self, a: np.ndarray, overwrite: bool = False) -> np.ndarray:
        return sfft.irfft2(a, s=(self.n, self.n), axes=(-2, -1), workers=self.workers,
                           overwrite_x=overwrite)

    def fields(self, w_hat: np.ndarray, which: Sequence[int]) -> np.ndarray:
        """Physical ``(B, len(which), N, N)`` of operators ``which`` (0 u, 1 v, 2 w_x, 3 w_y)."""
        ops = self.ops if list(which) == [0, 1, 2, 3] else self.ops[list(which)]
        return self.irfft(w_hat[:, None] * ops[None], overwrite=True)

    def speed(self, w_hat: np.ndarray) -> float:
        """``max|u| / h + max|v| / h`` over the batch (the CFL speed, units 1/T)."""
        uv = self.fields(w_hat, [0, 1])
        return float(np.abs(uv[:, 0]).max() + np.abs(uv[:, 1]).max()) * self.n


def sample_vorticity_grf(n: int, resolution: int, rng: np.random.Generator, alpha: float = 2.5,
                         tau: float = 7.0, scale: float = 7.0**1.5) -> np.ndarray:
    """Mean-zero Gaussian random vorticity ``N(0, scale (-lap + tau^2)^{-alpha})`` on the torus.

    The covariance operator has eigenvalue ``C_k = scale (4 pi^2 |k|^2 + tau^2)^{-alpha}`` on the
    orthonormal Fourier mode ``exp(2 pi i k.x)`` of ``[0, 1)^2``; the field is sampled exactly on the
    grid's modes ``|k_i| < N/2`` by colouring white noise (``w = sum_k sqrt(C_k) xi_k e_k``), the
    mean mode removed (a periodic vorticity has zero mean) and the Nyquist modes dropped. Defaults:
    the FNO paper's ``alpha = 2.5``, ``tau = 7``, ``scale = 7^{3/2}`` as printed (pointwise standard
    deviation ~0.045). The FNO reference code samples with the covariance
    :data:`FNO_CODE_GRF_SCALE` ``= 2 * 7^3`` instead (standard deviation ~0.27): pass
    ``scale=FNO_CODE_GRF_SCALE`` for data at the published amplitude.

    Parameters
    ----------
    n : int
        Number of fields, >= 1.
    resolution : int
        Grid points per dimension ``N``.
    rng : numpy.random.Generator
        Draws ``rng.standard_normal((N, N))`` per sample in order (a smaller ``n`` is a prefix).
    alpha, tau, scale : float
        Smoothness (> 1 for a continuous field), inverse length (>= 0), covariance scale (> 0).

    Returns
    -------
    numpy.ndarray
        ``(n, N, N)`` float64, units ``1 / T``.
    """
    alpha = check_real("grf_alpha", alpha, positive=True)
    tau = check_real("grf_tau", tau, nonneg=True)
    scale = check_real("grf_scale", scale, positive=True)
    g = SpectralGrid(resolution)
    ki0 = np.fft.fftfreq(resolution, 1.0 / resolution)[:, None]
    ki1 = np.fft.rfftfreq(resolution, 1.0 / resolution)[None, :]
    amp = np.sqrt(scale) * (g.k2 + tau**2) ** (-alpha / 2.0)
    amp[0, 0] = 0.0
    amp[(np.abs(ki0) == resolution / 2) | (np.abs(ki1) == resolution / 2)] = 0.0
    xi = np.stack([rng.standard_normal((resolution, resolution)) for _ in range(n)])
    # ortho rfft of white noise has unit-variance modes; sum_k c_k e_k = irfft_ortho(N c_hat)
    return sfft.irfft2(resolution * amp * sfft.rfft2(xi, norm="ortho"), s=(resolution,) * 2,
                       norm="ortho")


def _frame_plan_fixed(times: np.ndarray, dt: float) -> list[tuple[int, float]]:
    out = []
    for a, b in zip(times[:-1], times[1:], strict=True):
        m = max(1, math.ceil((b - a) / dt - 1e-9))
        out.append((m, (b - a) / m))
    return out


def solve_navier_stokes(w0: np.ndarray, times: np.ndarray, nu: float,
                        forcing: np.ndarray | None = None, dt: float | None = None,
                        cfl: float = DEFAULT_CFL, dt_max: float = DT_MAX, check_cfl: bool = True,
                        fields: Sequence[str] = ("vorticity",), workers: int | None = None,
                        progress: Callable[[int, int], None] | None = None,
                        hook: Hook | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Integrate the forced vorticity equation from ``w0``; frames at ``times``.

    Parameters
    ----------
    w0 : numpy.ndarray
        Initial vorticity ``(B, N, N)``; its mean and the modes outside the 2/3 band are removed.
    times : numpy.ndarray
        Output times ``(T,)``, strictly increasing, ``times[0]`` the time of ``w0``.
    nu : float
        Viscosity, > 0.
    forcing : numpy.ndarray, optional
        ``f`` at the grid points, ``(N, N)`` (time-independent); default none.
    dt : float, optional
        Fixed largest step (each frame interval split into ``ceil(interval / dt)`` equal steps).
        With ``check_cfl``, ValueError if ``dt`` exceeds ``CFL_LIMIT / speed(w0)``. Default:
        adaptive per frame interval from ``cfl`` and ``dt_max``.
    cfl, dt_max : float
        Target CFL number and largest step of the adaptive choice.
    check_cfl : bool
        Refuse a CFL-violating ``dt`` and stop a run whose CFL number exceeds :data:`CFL_LIMIT`.
        ``False`` leaves only the divergence detection (for tests of that detection).
    fields : sequence of str
        Output channels from :data:`FIELDS`, in the given order.
    workers : int, optional
        Threads of :mod:`scipy.fft`.
    progress : callable, optional
        ``progress(done, total)`` after each frame.
    hook : callable, optional
        ``hook(f, w_minus, w_f, w_plus, h_minus, h_plus)`` (physical vorticity ``(B, N, N)``) at
        each frame ``f >= 1``: one step before, at, one step after (an extra step follows the last).

    Returns
    -------
    (numpy.ndarray, dict)
        Frames ``(B, T, C, N, N)`` float64 and stepping statistics (steps, dt per interval, max CFL
        number). RuntimeError, naming step, time and quantity, when the velocity becomes non-finite,
        the CFL number exceeds the limit (with ``check_cfl``) or max|w| exceeds the bound.
    """
    w0 = np.asarray(w0, dtype=np.float64)
    if w0.ndim != 3 or w0.shape[1] != w0.shape[2] or w0.shape[1] < 4:
        raise ValueError(f"w0 must be (B, N, N) with N >= 4, got shape {w0.shape}")
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or not np.all(np.diff(times) > 0):
        raise ValueError("times must be strictly increasing with >= 2 entries")
    fields = check_subset("fields", fields, FIELDS, "field")
    nu = check_real("nu", nu, positive=True)
    n = w0.shape[1]
    g = SpectralGrid(n, workers)
    w_hat = g.rfft(w0) * g.mask
    w_hat[:, 0, 0] = 0.0
    f_hat = np.zeros_like(g.k2, dtype=complex) if forcing is None else g.rfft(
        np.asarray(forcing, dtype=np.float64)) * g.mask
    fmax = 0.0 if forcing is None else float(np.abs(forcing).max())
    lin = -nu * g.k2
    neg_mask = -g.mask

    speed = g.speed(w_hat)
    if dt is not None:
        dt = check_real("dt", dt, positive=True)
        bound = CFL_LIMIT / speed if speed > 0 else math.inf
        if check_cfl and dt > bound:
            raise ValueError(f"dt={dt:.4g} violates the CFL condition: bound {bound:.4g} "
                             f"(CFL number {dt * speed:.3g} > {CFL_LIMIT}, speed max|u|/h + "
                             f"max|v|/h = {speed:.4g} of the initial vorticity)")
        plan = _frame_plan_fixed(times, dt)
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def nonlinear(wh: np.ndarray) -> tuple[np.ndarray, float]:
        ph = g.fields(wh, [0, 1, 2, 3])
        sp = float(max(ph[:, 0].max(), -ph[:, 0].min()) + max(ph[:, 1].max(), -ph[:, 1].min())) * n
        adv = ph[:, 0] * ph[:, 2]
        adv += ph[:, 1] * ph[:, 3]
        out = g.rfft(adv)
        out *= neg_mask
        out += f_hat
        return out, sp

    w_phys0 = g.irfft(w_hat)
    wmax0 = float(np.abs(w_phys0).max())
    chans = {"vorticity": None, "u": 0, "v": 1}

    def frame(wh: np.ndarray, w_phys: np.ndarray) -> np.ndarray:
        out = np.empty((wh.shape[0], len(fields), n, n))
        uv = [chans[f] for f in fields if f != "vorticity"]
        vel = g.fields(wh, uv) if uv else None
        j = 0
        for c, name in enumerate(fields):
            if name == "vorticity":
                out[:, c] = w_phys
            else:
                out[:, c] = vel[:, j]
                j += 1
        return out

    frames = np.empty((w0.shape[0], times.size, len(fields), n, n))
    frames[:, 0] = frame(w_hat, w_phys0)
    step_no, max_cfl, t, dts = 0, 0.0, float(times[0]), []
    pending = None

    def step(wh: np.ndarray, h: float) -> tuple[np.ndarray, float]:
        if h not in cache:
            cache[h] = (1.0 + 0.5 * h * lin, 1.0 / (1.0 - 0.5 * h * lin))
        e, m = cache[h]
        n0, sp = nonlinear(wh)
        base = wh * e
        pred = n0 * h
        pred += base
        pred *= m
        n1, _ = nonlinear(pred)
        n1 += n0
        n1 *= 0.5 * h
        n1 += base
        n1 *= m
        return n1, sp

    for fi in range(1, times.size):
        interval = float(times[fi] - times[fi - 1])
        if dt is None:
            h_target = min(dt_max, cfl / speed) if speed > 0 else dt_max
            m_sub = max(1, math.ceil(interval / h_target - 1e-9))
            h = interval / m_sub
        else:
            m_sub, h = plan[fi - 1]
        dts.append(h)
        for _ in range(m_sub):
            w_old = w_hat
            w_hat, speed = step(w_hat, h)
            step_no += 1
            t += h
            if not math.isfinite(speed):
                raise RuntimeError(f"Navier-Stokes diverged at step {step_no}, t={t - h:.6g}: "
                                   f"velocity non-finite")
            max_cfl = max(max_cfl, speed * h)
            if check_cfl and speed * h > CFL_LIMIT:
                raise RuntimeError(f"Navier-Stokes CFL violated at step {step_no}, t={t - h:.6g}: "
                                   f"CFL number {speed * h:.3g} > {CFL_LIMIT} (dt={h:.4g})")
            if pending is not None:
                hook(pending[0], pending[1], pending[2], g.irfft(w_hat), pending[3], h)
                pending = None
        w_phys = g.irfft(w_hat)
        wmax = float(np.abs(w_phys).max())
        bound = BLOWUP_FACTOR * (wmax0 + fmax * (times[fi] - times[0])) + 1e-12
        if not (math.isfinite(wmax) and wmax <= bound):
            raise RuntimeError(f"Navier-Stokes diverged at step {step_no}, t={times[fi]:.6g}: "
                               f"max |vorticity| = {wmax:.4g} exceeds {bound:.4g} "
                               f"({BLOWUP_FACTOR:g} x (max|w0| + t max|f|))")
        frames[:, fi] = frame(w_hat, w_phys)
        if hook is not None:
            pending = (fi, g.irfft(w_old), w_phys, h)
        if progress is not None:
            progress(fi, times.size - 1)
    if pending is not None:
        w_next, _ = step(w_hat, pending[3])
        hook(pending[0], pending[1], pending[2], g.irfft(w_next), pending[3], pending[3])
    stats = {"steps": step_no, "dt_per_interval": dts, "max_cfl": max_cfl}
    return frames, stats


class _ResidualAccumulator:
    """Per frame and sample: mean squares of the residual and of each term of the equation."""

    def __init__(self, nu: float, forcing: np.ndarray, n: int):
        import torch

        from pdebench.physics.derivatives import FiniteDifference

        self.torch = torch
        self.d = FiniteDifference((1.0 / n, 1.0 / n), bc="periodic")
        self.nu = nu
        self.f = torch.from_numpy(forcing)[None]
        self.res: list[np.ndarray] = []
        self.trunc: list[np.ndarray] = []
        self.terms: list[np.ndarray] = []

    def add(self, w: np.ndarray, w_t: np.ndarray) -> None:
        from pdebench.physics.navier_stokes import velocity_from_vorticity, vorticity_residual

        torch = self.torch
        wt, wtt = torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(w_t)
        vel = velocity_from_vorticity(wt, self.d.spacing)
        r = vorticity_residual(wtt, wt, self.nu, self.d, forcing=self.f, velocity=vel)
        gx, gy = self.d.grad(wt)
        lap = self.d.lap(wt)
        terms = [wtt, vel[0] * gx + vel[1] * gy, self.nu * lap, self.f.expand_as(wt)]
        # the provider's truncation on this field: finite differences minus the exact (spectral)
        # derivatives of the trigonometric interpolant, in the advection and diffusion terms
        n = wt.shape[-1]
        k0 = 2.0 * math.pi * torch.fft.fftfreq(n, 1.0 / n, dtype=wt.dtype)[:, None]
        k1 = 2.0 * math.pi * torch.fft.rfftfreq(n, 1.0 / n, dtype=wt.dtype)[None, :]
        k0d = torch.where(k0.abs() == math.pi * n, 0.0, k0)
        k1d = torch.where(k1.abs() == math.pi * n, 0.0, k1)
        wh = torch.fft.rfft2(wt)
        sx = torch.fft.irfft2(1j * k0d * wh, s=(n, n))
        sy = torch.fft.irfft2(1j * k1d * wh, s=(n, n))
        slap = torch.fft.irfft2(-(k0**2 + k1**2) * wh, s=(n, n))
        trunc = vel[0] * (gx - sx) + vel[1] * (gy - sy) - self.nu * (lap - slap)
        self.res.append(r.square().mean(dim=(1, 2)).numpy())
        self.trunc.append(trunc.square().mean(dim=(1, 2)).numpy())
        self.terms.append(np.stack([x.square().mean(dim=(1, 2)).numpy() for x in terms], axis=1))

    def truncation(self) -> np.ndarray:
        """Per sample: RMS(truncation) / RMS(largest term) over all frames."""
        return np.sqrt(np.mean(self.trunc, axis=0) / np.mean(self.terms, axis=0).max(axis=1))

    def relative(self) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: RMS(residual) / RMS(largest term) over all frames; and RMS(residual)."""
        res, terms = np.mean(self.res, axis=0), np.mean(self.terms, axis=0)
        return np.sqrt(res / terms.max(axis=1)), np.sqrt(res)

    def per_frame(self) -> list[float]:
        return [float(np.sqrt(r / t.max(axis=1)).max()) for r, t in zip(self.res, self.terms,
                                                                       strict=True)]


def generate_navier_stokes(n_samples: int, resolution: int = 64, nu: float = 1e-3,
                           n_frames: int = 21, t_end: float = 10.0, seed: int = 0,
                           progress: Callable[[int, int], None] | None = None,
                           dt: float | None = None, fields: Sequence[str] = ("vorticity",), *,
                           cfl: float = DEFAULT_CFL, check_cfl: bool = True,
                           forcing_amplitude: float = 0.1, grf_alpha: float = 2.5,
                           grf_tau: float = 7.0, grf_scale: float = 7.0**1.5,
                           workers: int | None = None) -> dict[str, Any]:
    """Generate forced 2D Navier--Stokes trajectories (FNO benchmark) deterministically from ``seed``.

    Initial vorticity from :func:`sample_vorticity_grf` with ``numpy.random.default_rng(seed)``;
    integrated by :func:`solve_navier_stokes` in float64 (one batch, so the adaptive step is common
    to all samples: a trajectory depends, at the level of the time-stepping error, on the batch it
    was generated with; pass ``dt`` to make every sample independent of ``n_samples``); stored as
    float32. Same arguments give bitwise-identical arrays.

    Self-check through :func:`pdebench.physics.navier_stokes.vorticity_residual`
    (``FiniteDifference`` periodic; spectral velocity from ``w``), RMS relative to the RMS of the
    largest term (``w_t``, advection, diffusion or forcing) per sample:

    - step level (every frame ``t > 0``, ``w_t`` by a three-point difference over the solver's
      step): leaves the provider's second-order spatial truncation on the spectral solution, which
      is computed alongside (finite minus spectral derivatives; ~5e-3 at 64^2 with
      ``nu = 1e-3``, O(0.5) for ``nu = 1e-5``, whose solutions reach the grid scale), and the
      time error; RuntimeError unless residual <= 1.1 x truncation + :data:`STEP_RESIDUAL_TOL`;
    - frame level (interior frames, central differences between stored frames): the
      time-differencing error ``dt_frame^2 w_ttt / 6`` on top; reported only.

    Parameters
    ----------
    n_samples : int
        Number of trajectories, >= 1.
    resolution : int
        Grid points per dimension ``N >= 16`` (FNO: 64 stored; default 64).
    nu : float
        Viscosity > 0 (FNO: 1e-3, 1e-4, 1e-5).
    n_frames : int
        Stored frames including ``t = 0``, >= 2 (default 21).
    t_end : float
        Final time > 0 (FNO: 50 for ``nu = 1e-3``; default 10).
    seed : int
        Seed (>= 0).
    progress : callable, optional
        ``progress(done, total)`` after each frame.
    dt : float, optional
        Fixed step; ValueError before stepping if above the CFL bound of the initial vorticity
        (``CFL_LIMIT / (max|u|/h + max|v|/h)``). Default: adaptive (``cfl``, at most 0.05).
    fields : sequence of str
        Output channels: ``("vorticity",)`` (default) or any of ``("vorticity", "u", "v")``.
    cfl : float
        Target CFL number of the adaptive step (0 < cfl <= CFL_LIMIT; default 0.25).
    check_cfl : bool
        See :func:`solve_navier_stokes`.
    forcing_amplitude : float
        ``f = amplitude (sin(2 pi (x + y)) + cos(2 pi (x + y)))`` (FNO: 0.1).
    grf_alpha, grf_tau, grf_scale : float
        Initial-vorticity law (paper: 2.5, 7, 7^{3/2}; reference code's scale
        :data:`FNO_CODE_GRF_SCALE`).
    workers : int, optional
        Threads for the FFTs.

    Returns
    -------
    dict
        ``u`` (N, T, C, H, W) float32 in the order of ``fields``; ``t`` (T,); ``x``, ``y`` cell
        centres (float64); ``residual``; ``solver``.
    """
    n_samples = check_int("n_samples", n_samples, 1)
    resolution = check_int("resolution", resolution, _MIN_RES)
    nu = check_real("nu", nu, positive=True)
    n_frames = check_int("n_frames", n_frames, 2)
    t_end = check_real("t_end", t_end, positive=True)
    seed = check_seed(seed)
    if dt is not None:
        dt = check_real("dt", dt, positive=True)
    cfl = check_range("cfl", cfl, 0.0, CFL_LIMIT, open_lo=True)
    forcing_amplitude = check_real("forcing_amplitude", forcing_amplitude)
    fields = check_subset("fields", fields, FIELDS, "field")

    rng = np.random.default_rng(seed)
    w0 = sample_vorticity_grf(n_samples, resolution, rng, grf_alpha, grf_tau, grf_scale)
    x = cell_centres_1d(resolution)
    s = 2.0 * np.pi * (x[:, None] + x[None, :])
    forcing = forcing_amplitude * (np.sin(s) + np.cos(s))
    times = np.linspace(0.0, t_end, n_frames)
    step_acc = _ResidualAccumulator(nu, forcing, resolution)

    def hook(f, wm, w, wp, h1, h2):
        c = _three_point_weights(h1, h2)
        with single_threaded_torch():
            step_acc.add(w, c[0] * wm + c[1] * w + c[2] * wp)

    frames, stats = solve_navier_stokes(w0, times, nu, forcing, dt=dt, cfl=cfl,
                                        check_cfl=check_cfl, fields=fields, workers=workers,
                                        progress=progress, hook=hook)
    out = frames.astype(np.float32)

    ci = fields.index("vorticity") if "vorticity" in fields else None
    rel_frame = rms_frame = None
    if times.size >= 3:
        frame_acc = _ResidualAccumulator(nu, forcing, resolution)
        w_all = frames[:, :, ci] if ci is not None else None
        if w_all is not None:
            w_t = _central_time_derivative(w_all, float(times[1] - times[0]))
            for i in range(1, times.size - 1):
                with single_threaded_torch():
                    frame_acc.add(w_all[:, i], w_t[:, i - 1])
            rel_frame, rms_frame = frame_acc.relative()
    rel_step, rms_step = step_acc.relative()
    rel_trunc = step_acc.truncation()
    allowed = 1.1 * rel_trunc + STEP_RESIDUAL_TOL
    worst = int(np.argmax(rel_step - allowed))
    residual = self_check(
        "navier_stokes",
        "RMS over frames and grid points of w_t + u.grad(w) - nu lap(w) - f (pdebench.physics."
        "navier_stokes, FiniteDifference periodic, spectral velocity from w) divided by the RMS "
        "of the largest term, per sample; 'step': frames t > 0, w_t by a three-point difference "
        "over the solver step; 'frame': interior stored frames, central differences between "
        "frames (only when the vorticity is among the fields)",
        {"rel_rms_step_max": rel_step.max(), "rel_rms_step_mean": rel_step.mean(),
         "rms_step_max": rms_step.max(), "rel_rms_step_per_frame": step_acc.per_frame(),
         "rel_truncation_step_max": rel_trunc.max(),
         "rel_rms_frame_max": None if rel_frame is None else rel_frame.max(),
         "rms_frame_max": None if rms_frame is None else rms_frame.max()},
        rule=f"per sample rel_rms_step <= 1.1 * rel_truncation_step + {STEP_RESIDUAL_TOL:g}",
        passed=bool(np.all(rel_step <= allowed)),
        hint=f"sample {worst}: relative residual {rel_step[worst]:.3e}, truncation "
             f"{rel_trunc[worst]:.3e}",
        expected="step: the provider's second-order truncation on the spectral solution, "
                 "computed as 'rel_truncation_step' (finite minus spectral derivatives in the "
                 "advection and diffusion terms; ~5e-3 at 64^2, nu = 1e-3, grows to O(0.5) for "
                 "nu = 1e-5 at 64^2) plus the O(dt^2) time error; frame: plus dt_frame^2 w_ttt / "
                 "6 (reported, not checked)",
        tolerance_step=STEP_RESIDUAL_TOL)
    solver = {
        "method": "pseudo_spectral_imex_cn_heun",
        "discretisation": "Fourier pseudo-spectral (rfft2), advective nonlinear term, 2/3-rule "
                          "de-aliasing; velocity (psi_y, -psi_x), -lap psi = w",
        "time_stepping": "IMEX: Crank-Nicolson diffusion, Heun advection + forcing; second order",
        "order_time": 2,
        "dt": None if dt is None else float(dt),
        "dt_per_interval": [float(f"{h:.12g}") for h in stats["dt_per_interval"]],
        "steps": stats["steps"],
        "max_cfl": stats["max_cfl"],
        "cfl": cfl if dt is None else None,
        "check_cfl": bool(check_cfl),
        "grid": "cell_centered",
        "resolution": [resolution] * 2,
        "spacing": [1.0 / resolution] * 2,
        "extent": [[0.0, 1.0], [0.0, 1.0]],
        "periodic": True,
        "nu": nu, "t_end": t_end, "n_frames": n_frames,
        "fields": list(fields),
        "forcing": f"{forcing_amplitude} (sin(2 pi (x + y)) + cos(2 pi (x + y)))",
        "initial_condition": {"law": "N(0, scale (-lap + tau^2)^-alpha), mean removed, 2/3 band",
                              "alpha": float(grf_alpha), "tau": float(grf_tau),
                              "scale": float(grf_scale)},
        "seed": seed,
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
    }
    return {"u": out, "t": times, "x": x.copy(), "y": x.copy(), "residual": residual,
            "solver": solver}
