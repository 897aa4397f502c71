"""Numerics of the 1D advection dataset: the sine-sum initial law and the exact-shift generator.

Problem (specs/PROBLEMS.md, A.2): ``u_t + beta u_x = 0`` on the periodic unit interval
``[0, 1)``, ``t`` in ``[0, t_end]`` (PDEBench: ``t_end = 2``, ``beta`` in ``{0.1, 0.4, 1, 4}``).
All quantities are dimensionless. Values sit at cell centres ``x_j = (j + 1/2) / X``.

Initial data (PDEBench style, the harness's own draw): ``u0(x) = sum_i A_i sin(2 pi k_i x +
phi_i)``, ``i = 1..n_waves`` (default 2), integer wavenumbers ``k_i`` uniform on
``1..max_wavenumber`` (default 8), ``A_i ~ U[0, 1)``, ``phi_i ~ U[0, 2 pi)``. PDEBench's published
files follow a law of this kind; its exact draw (random stream, ranges, any post-processing) is
*not* reproduced bit-for-bit: this law and its random stream are the harness's choice. The same
law feeds :mod:`pdebench.datasets.pdebench_suite.burgers_solver`.

Solution: exact, ``u(x, t) = u0(x - beta t)``, evaluated analytically (the shift is reduced modulo
1 before it multiplies ``2 pi k``), no interpolation and no time stepping. The self-check
evaluates the shared residual :func:`pdebench.physics.advection.advection_residual` with the
periodic finite-difference provider and :func:`central_time_derivative` between frames, at three
interior frames; for this exact solution its interior-frame value is known in closed form (see
:func:`generate_advection`), so the check is sharp (round-off) although the residual itself is at
discretisation level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed

__all__ = [
    "SELF_CHECK_TOL",
    "SineSums",
    "check_frames",
    "generate_advection",
    "sample_sine_sums",
]

#: Max deviation of the interior-frame residual from its closed form, relative to the largest
#: term (round-off is ~1e-14; a wrong shift direction or speed gives O(1)).
SELF_CHECK_TOL = 1e-8
_CHUNK = 256


class SineSums:
    """Parameters of ``u0(x) = sum_i A_i sin(2 pi k_i x + phi_i)`` for a batch of samples.

    Attributes ``amplitude`` (N, W) float64, ``wavenumber`` (N, W) int64 (cycles per unit length),
    ``phase`` (N, W) float64 radians; ``W = n_waves``.
    """

    def __init__(self, amplitude: np.ndarray, wavenumber: np.ndarray, phase: np.ndarray) -> None:
        self.amplitude = np.asarray(amplitude, dtype=np.float64)
        self.wavenumber = np.asarray(wavenumber, dtype=np.int64)
        self.phase = np.asarray(phase, dtype=np.float64)
        if not (self.amplitude.shape == self.wavenumber.shape == self.phase.shape
                and self.amplitude.ndim == 2):
            raise ValueError("SineSums: amplitude, wavenumber and phase must share a shape (N, W)")

    def __len__(self) -> int:
        return self.amplitude.shape[0]

    def __getitem__(self, idx: slice) -> SineSums:
        return SineSums(self.amplitude[idx], self.wavenumber[idx], self.phase[idx])

    def bound(self) -> np.ndarray:
        """``sum_i |A_i|`` per sample, (N,): an upper bound of ``max |u0|``."""
        return np.abs(self.amplitude).sum(axis=1)

    def evaluate(self, x: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
        """``u0(x - shift)`` for every sample and shift.

        ``x`` (X,); ``shift`` a scalar or (T,). Returns (N, X) for a scalar shift, else (N, T, X),
        float64. The shifted coordinate is reduced modulo 1 first (``u0`` is 1-periodic), so large
        shifts lose no accuracy.
        """
        x = np.asarray(x, dtype=np.float64)
        s = np.asarray(shift, dtype=np.float64)
        xs = np.mod(x[None, :] - s.reshape(-1)[:, None], 1.0)  # (T, X)
        kappa = 2.0 * np.pi * self.wavenumber  # (N, W)
        out = np.zeros((len(self), xs.shape[0], x.size))
        buf = np.empty_like(out)
        for w in range(kappa.shape[1]):  # in place: one temporary for the whole batch
            np.multiply(kappa[:, w, None, None], xs[None], out=buf)
            buf += self.phase[:, w, None, None]
            np.sin(buf, out=buf)
            buf *= self.amplitude[:, w, None, None]
            out += buf
        return out[:, 0] if s.ndim == 0 else out

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"amplitude": self.amplitude, "wavenumber": self.wavenumber, "phase": self.phase}


def sample_sine_sums(n: int, rng: np.random.Generator, n_waves: int = 2,
                     max_wavenumber: int = 8) -> SineSums:
    """Draw ``n`` sine-sum initial conditions (the harness's PDEBench-style law).

    Per sample, one row ``U = rng.random((3, n_waves))`` in order gives ``k_i = 1 +
    floor(max_wavenumber U[0, i])``, ``A_i = U[1, i]``, ``phi_i = 2 pi U[2, i]``; so a smaller ``n``
    with the same generator state gives a prefix of the samples.

    Parameters
    ----------
    n : int
        Number of samples, >= 1.
    rng : numpy.random.Generator
        Source of randomness.
    n_waves : int
        Sines per sample, >= 1 (PDEBench: 2).
    max_wavenumber : int
        Largest integer wavenumber ``k`` (cycles per unit length), >= 1 (default 8).

    Returns
    -------
    SineSums
        Parameters ``(n, n_waves)``; ``max |u0| < n_waves``.
    """
    n = check_int("n_samples", n, 1)
    n_waves = check_int("n_waves", n_waves, 1)
    kmax = check_int("max_wavenumber", max_wavenumber, 1)
    draw = rng.random((n, 3, n_waves))
    k = np.minimum(1 + np.floor(kmax * draw[:, 0]).astype(np.int64), kmax)
    return SineSums(draw[:, 1], k, 2.0 * np.pi * draw[:, 2])


def frame_times(n_frames: int, t_end: float) -> np.ndarray:
    """Equally spaced output times ``linspace(0, t_end, n_frames)``, (T,) float64."""
    return np.linspace(0.0, t_end, n_frames)


def _sinc(z: np.ndarray) -> np.ndarray:
    return np.sinc(z / np.pi)  # numpy's sinc is sin(pi z) / (pi z)


def check_frames(n_frames: int) -> np.ndarray:
    """Interior frames the self-check examines: the first, middle and last interior frame (each
    with its two neighbours for the central time difference), (K,) int, empty for < 3 frames."""
    if n_frames < 3:
        return np.zeros(0, dtype=int)
    return np.unique([1, n_frames // 2, n_frames - 2])


def _residual_chunk(ic: SineSums, u: np.ndarray, x: np.ndarray, t: np.ndarray,
                    beta: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Shared-code residual of exact frames (N, T, X) at the :func:`check_frames`: RMS and
    relative RMS per sample (N,) and the deviation from the closed form (relative to the
    largest term).

    Three interior frames, not all: the closed form costs as much as the solution itself, so
    checking every frame would more than double the generator's time; an error of the shift
    (direction, speed, phase) is systematic and shows on any frame. With two frames only, the
    one-sided difference between them is checked for finiteness.
    """
    import torch

    from pdebench.physics.advection import advection_residual, central_time_derivative
    from pdebench.physics.derivatives import FiniteDifference

    n, nt, nx = u.shape
    h, dt = 1.0 / nx, float(t[1] - t[0])
    ks = check_frames(nt)
    # (N, K, 3, X): each checked frame between its neighbours; just the two frames when T = 2
    slab = u[:, ks[:, None] + np.arange(-1, 2)] if len(ks) else u[:, None]
    k = slab.shape[1]
    d = FiniteDifference([h], bc="periodic")
    ut = torch.from_numpy(np.ascontiguousarray(slab)).reshape(n * k, slab.shape[2], nx)
    u_t = central_time_derivative(ut, dt, dim=1)[:, 1 if len(ks) else 0]  # (N K, X)
    r = advection_residual(u_t, ut[:, 1 if len(ks) else 0], beta, d)
    adv = (r - u_t).numpy().reshape(n, k, nx)  # beta u_x, recovered without a second grad
    u_t, r = u_t.numpy().reshape(n, k, nx), r.numpy().reshape(n, k, nx)
    terms = np.sqrt(np.mean(u_t**2 + adv**2, axis=(1, 2)))
    rms = np.sqrt(np.mean(r**2, axis=(1, 2)))
    rel = rms / np.maximum(terms, np.finfo(float).tiny)
    # closed form on interior frames: each mode A sin(kappa (x - beta t) + phi) leaves
    # A kappa beta cos(.) [sinc(kappa h) - sinc(kappa beta dt)]
    dev = 0.0
    if len(ks):
        kappa = 2.0 * np.pi * ic.wavenumber
        xs = np.mod(x[None, :] - beta * t[ks, None], 1.0)
        pred = np.zeros((n, k, nx))
        for w in range(kappa.shape[1]):
            kw = kappa[:, w, None, None]
            fac = ic.amplitude[:, w, None, None] * kw * beta \
                * (_sinc(kw * h) - _sinc(kw * beta * dt))
            pred += fac * np.cos(kw * xs[None] + ic.phase[:, w, None, None])
        scale = max(float(np.abs(u_t).max()), float(np.abs(adv).max()), 1e-300)
        dev = float(np.abs(r - pred).max()) / scale
    return rms, rel, dev


def generate_advection(n_samples: int, resolution: int = 256, beta: float = 1.0,
                       n_frames: int = 41, t_end: float = 2.0, max_wavenumber: int = 8,
                       seed: int = 0, progress: Callable[[int, int], None] | None = None,
                       n_waves: int = 2) -> dict[str, Any]:
    """Generate ``n_samples`` exact advection trajectories, deterministically from ``seed``.

    The initial conditions come from :func:`sample_sine_sums` with
    ``numpy.random.default_rng(seed)`` (a smaller ``n_samples`` gives a prefix); the frames are
    ``u0(x - beta t)`` evaluated in float64 and stored as float32. The same arguments give
    bitwise-identical arrays.

    Self-check: the shared residual (periodic central differences in ``x``,
    :func:`~pdebench.physics.advection.central_time_derivative` in ``t``) on the first, middle
    and last interior frame (:func:`check_frames`) is reported per sample.
    It is a truncation error, not round-off: relative to the terms about ``(kappa h)^2 / 6 +
    (kappa beta dt)^2 / 6`` for angular wavenumber ``kappa = 2 pi k`` (at the defaults and
    ``k = 8``: ~0.5 from the 41 sparse frames). On interior frames it equals, for each sine,
    ``A kappa beta cos(kappa (x - beta t) + phi) [sinc(kappa h) - sinc(kappa beta dt)]``
    exactly; the check requires the computed residual to match this closed form to
    ``SELF_CHECK_TOL`` relative to the largest term, else ``RuntimeError`` (it needs
    ``n_frames >= 3``; with 2 frames only finiteness is checked). Three frames, not all: the
    closed form costs as much as the solution, and a wrong shift shows on every frame.

    Parameters
    ----------
    n_samples : int
        Number of trajectories, >= 1.
    resolution : int
        Cells ``X`` of the periodic unit interval, >= 3 (PDEBench published 1024; default 256).
    beta : float
        Advection speed, finite and > 0 (PDEBench: 0.1, 0.4, 1, 4).
    n_frames : int
        Output frames ``T`` on ``linspace(0, t_end, T)``, >= 2 (PDEBench: 201; default 41).
    t_end : float
        Final time, > 0 (PDEBench: 2).
    max_wavenumber : int
        Largest integer wavenumber of the initial sines, >= 1 (default 8).
    seed : int
        Seed (>= 0) of ``numpy.random.default_rng``.
    progress : callable, optional
        ``progress(done, total)`` in samples, after each chunk of up to 256 samples.
    n_waves : int
        Sines per initial condition, >= 1 (default 2).

    Returns
    -------
    dict
        ``u`` (N, T, 1, X) float32 (sample, time, channel, space); ``t`` (T,) float64; ``x`` (X,)
        float64 cell centres; ``initial_condition`` (the drawn ``amplitude``, ``wavenumber``,
        ``phase``, each (N, n_waves)); ``residual`` (self-check summary); ``solver`` (method and
        parameters).
    """
    n_samples = check_int("n_samples", n_samples, 1)
    resolution = check_int("resolution", resolution, 3)
    beta = check_real("beta", beta, positive=True)
    n_frames = check_int("n_frames", n_frames, 2)
    t_end = check_real("t_end", t_end, positive=True)
    check_int("max_wavenumber", max_wavenumber, 1)
    check_int("n_waves", n_waves, 1)
    seed = check_seed(seed)

    rng = np.random.default_rng(seed)
    ic = sample_sine_sums(n_samples, rng, n_waves=n_waves, max_wavenumber=max_wavenumber)
    x, t = cell_centres_1d(resolution), frame_times(n_frames, t_end)
    u32 = np.empty((n_samples, n_frames, 1, resolution), dtype=np.float32)
    rms, rel, dev = np.empty(n_samples), np.empty(n_samples), 0.0
    for start in range(0, n_samples, _CHUNK):
        stop = min(n_samples, start + _CHUNK)
        u = ic[start:stop].evaluate(x, beta * t)
        u32[start:stop, :, 0] = u
        rms[start:stop], rel[start:stop], d = _residual_chunk(ic[start:stop], u, x, t, beta)
        dev = max(dev, d)
        if progress is not None:
            progress(stop, n_samples)
    residual = self_check(
        "advection",
        "r = u_t + beta u_x (pdebench.physics.advection, periodic finite differences; u_t by "
        "central_time_derivative between frames) at the first, middle and last interior frame; "
        "rel_rms = RMS_(t,x)(r) / RMS_(t,x)(sqrt(u_t^2 + (beta u_x)^2)) over those frames, per "
        "sample; closed_form_deviation: max |r - its closed form| / the largest term",
        {"frames_checked": check_frames(n_frames), "rms_max": rms.max(),
         "rel_rms_max": rel.max(), "rel_rms_mean": rel.mean(), "closed_form_deviation": dev},
        {"closed_form_deviation": SELF_CHECK_TOL},
        rule="the relative residual of every sample is finite",
        passed=bool(np.isfinite(rel).all()),
        hint="the interior residual must match its closed form: a wrong shift direction or speed",
        expected="discretisation level, ~ (kappa h)^2/6 + (kappa beta dt)^2/6 for the largest "
                 "angular wavenumber kappa; O(1) when the frames under-resolve the motion")
    solver = {
        "method": "exact_shift",
        "description": "u(x, t) = u0(x - beta t) evaluated analytically (shift reduced mod 1)",
        "grid": "cell_centered",
        "resolution": resolution,
        "spacing": 1.0 / resolution,
        "extent": [0.0, 1.0],
        "boundary": "periodic",
        "beta": beta,
        "t_end": t_end,
        "n_frames": n_frames,
        "frame_dt": float(t[1] - t[0]),
        "initial_law": "sine_sums",
        "n_waves": n_waves,
        "max_wavenumber": max_wavenumber,
        "seed": seed,
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
    }
    return {"u": u32, "t": t, "x": x, "initial_condition": ic.as_dict(), "residual": residual,
            "solver": solver}
