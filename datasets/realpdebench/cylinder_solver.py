"""2D incompressible flow past a (optionally rotating) cylinder: pseudo-spectral penalised solver.

Problem (specs/PROBLEMS.md, D; the simulated side of the RealPDEBench stand-in), dimensionless with
the cylinder diameter ``D = 1``, the free-stream speed ``U = 1`` and the density:

    u_t + (u . grad) u = -grad p + (1/Re) lap u + f_sponge + f_body,    div u = 0,

on the box ``x in [0, length)``, ``y in [0, height)``, arrays ``(H, W)`` with axis 0 = ``y`` and
axis 1 = ``x`` (the published ``(T, H, W)`` layout), values at cell centres ``(j + 1/2) h``.

Harness's choices (documented, not the publication's): the box is periodic in both directions.
A *fringe* (sponge) ``f_sponge = sigma(x) ((1, 0) - u)`` in a Gaussian band around ``x = 0.9 length``
relaxes the wake back to the uniform stream before it re-enters at ``x = 0``, which makes it an
inflow/outflow channel in effect (Nordström et al. 1999); periodic in ``y`` means a row of cylinders
``height`` apart (blockage ``1 / height``, 1/6 by default). The cylinder (centre ``(cx, cy)``) is a
Brinkman penalisation ``f_body = (chi / eta) (u_s - u)`` with a smoothed indicator ``chi`` (tanh
edge, one cell wide) and the wall velocity ``u_s`` of a rotational oscillation
``Omega(t) = 2 a sin(2 pi f_c t)`` (surface speed amplitude ``a``, control frequency ``f_c`` in
``U / D``; ``f_c = 0`` is the fixed cylinder).

Scheme: Fourier in both directions with the 2/3 de-aliasing rule, the nonlinear term in rotational
form (``u x omega``; the kinetic-energy gradient goes into the pressure), three-stage SSP
Runge--Kutta (third order) for advection, diffusion and sponge, each stage projected onto
divergence-free fields in Fourier space (exact: the discrete divergence of the state is round-off).
After each step the penalisation is applied implicitly (``u <- (u + dt chi/eta u_s) / (1 + dt
chi/eta)``, unconditionally stable, a first-order split) and the result projected again. The step
``dt`` keeps the CFL number ``dt (max|u|/h_x + max|v|/h_y)`` at ``cfl`` (0.5) and within the
explicit viscous and sponge limits; an explicit ``dt`` above :data:`CFL_LIMIT` (for the free stream)
is refused before any work. Pressure frames solve ``lap(p + |u|^2/2) = div(u x omega + f)`` with
the force ``f`` actually applied in the last step; ``p`` has zero mean and is meaningful outside
the body.

Reynolds number: RealPDEBench's cylinder runs span Re 1800--12000, which a 64 x 128 grid
(``D / h`` = 10.7) cannot resolve. This stand-in keeps ``Re`` as the parameter with a default range
of 100--400 (laminar periodic shedding, resolvable here); a published sim_id ``1800`` maps to the
harness's range by the user's choice of ``re_values`` (no hidden rescaling).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.fft as sfft
import torch

from pdebench.datasets.numerics.validation import (
    check_int,
    check_range,
    check_real,
    check_resolution,
)
from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["CFL_LIMIT", "CylinderSolver", "SpectralDerivatives", "check_setup", "simulate"]

#: Hard CFL limit of an explicit ``dt`` (SSP-RK3 is stable to ~1.7 on the imaginary axis; the
#: 2/3-rule spectrum reaches ``(2/3) pi`` per cell, so 0.8 keeps a margin).
CFL_LIMIT = 0.8
DEFAULT_CFL = 0.5
MIN_CELLS_PER_D = 4.0
BLOWUP_SPEED = 10.0


class SpectralDerivatives(DerivativeProvider):
    """Fourier derivatives on a periodic grid, fields ``(batch, n_0, ..., n_{D-1})``.

    The provider of the solver's own discretisation: with it, the shared
    :func:`pdebench.physics.incompressible.divergence` of the solver's velocity is round-off.
    Nyquist modes get no odd derivative.

    Parameters
    ----------
    spacing : sequence of float
        Grid spacing per dimension; the periods are ``n_k h_k``.
    """

    def __init__(self, spacing: tuple[float, ...]) -> None:
        self.spacing = tuple(float(h) for h in spacing)
        self.ndim = len(self.spacing)

    def _wavenumber(self, n: int, h: float, k: int, like: torch.Tensor) -> torch.Tensor:
        kk = 2.0 * math.pi * torch.fft.fftfreq(n, d=h, dtype=like.dtype, device=like.device)
        if n % 2 == 0:
            kk[n // 2] = 0.0
        shape = [1] * like.ndim
        shape[k + 1] = n
        return kk.reshape(shape)

    def grad(self, u: torch.Tensor) -> tuple[torch.Tensor, ...]:
        uh = torch.fft.fftn(u, dim=tuple(range(1, u.ndim)))
        out = []
        for k, h in enumerate(self.spacing):
            kk = self._wavenumber(u.shape[k + 1], h, k, u)
            out.append(torch.fft.ifftn(1j * kk * uh, dim=tuple(range(1, u.ndim))).real)
        return tuple(out)

    def div(self, v) -> torch.Tensor:
        return sum(self.grad(vk)[k] for k, vk in enumerate(v))


def check_setup(re: float, resolution: tuple[int, int], height: float, length: float,
                cylinder_x: float, control_frequency: float = 0.0,
                control_amplitude: float = 1.0, dt: float | None = None) -> None:
    """Validate parameters before any work; ValueError naming the parameter and what is valid."""
    for name, value in (("re", re), ("height", height), ("length", length)):
        check_real(name, value, positive=True)
    check_range("cylinder_x", cylinder_x, 0.0, length, open_lo=True, open_hi=True,
                why=" (inside the channel)")
    check_real("control_frequency", control_frequency, nonneg=True)
    check_real("control_amplitude", control_amplitude, nonneg=True)
    h, w = check_resolution("resolution", resolution, 2, 8, " (H, W), even", scalar=False)
    if h % 2 or w % 2:
        raise ValueError(f"data.resolution must be 2 ints >= 8 (H, W), even, got {resolution!r}")
    cells = min(h / height, w / length)
    if cells < MIN_CELLS_PER_D:
        raise ValueError(f"grid too coarse for the cylinder: resolution {tuple(resolution)} on a "
                         f"{length} x {height} box gives {cells:.2f} cells per diameter, need >= "
                         f"{MIN_CELLS_PER_D} (more cells or a smaller height/length)")
    if dt is not None:
        dt = check_real("dt", dt, positive=True)
        cfl = dt * (w / length)  # free stream (1, 0)
        if cfl > CFL_LIMIT:
            raise ValueError(f"dt={dt:g} violates the CFL condition: CFL number {cfl:.3g} for the "
                             f"free stream exceeds {CFL_LIMIT}; use dt <= "
                             f"{CFL_LIMIT * length / w:.4g} or dt=None (adaptive)")


class CylinderSolver:
    """State and operators of one run (see the module docstring for the scheme).

    Parameters
    ----------
    re : float
        Reynolds number ``U D / nu``.
    resolution : (int, int)
        ``(H, W)`` cells in ``y`` and ``x``.
    height, length : float
        Box size in diameters (defaults 6 and 12).
    cylinder_x : float
        Centre of the cylinder in ``x`` (the centre in ``y`` is ``height / 2``).
    control_frequency, control_amplitude : float
        Rotational oscillation of the wall (frequency in ``U / D``, surface speed amplitude in
        ``U``); 0 = fixed cylinder.
    eta : float
        Penalisation permeability (smaller = stiffer body).
    sponge : float
        Peak fringe rate ``sigma`` (1 / time).
    """

    def __init__(self, re: float, resolution: tuple[int, int] = (64, 128), height: float = 6.0,
                 length: float = 12.0, cylinder_x: float = 3.0, control_frequency: float = 0.0,
                 control_amplitude: float = 1.0, eta: float = 1e-4, sponge: float = 2.0,
                 body: bool = True) -> None:
        check_setup(re, resolution, height, length, cylinder_x, control_frequency,
                    control_amplitude)
        self.nu = 1.0 / float(re)
        self.shape = (int(resolution[0]), int(resolution[1]))
        self.hy, self.hx = height / self.shape[0], length / self.shape[1]
        self.fc, self.amp, self.eta = float(control_frequency), float(control_amplitude), eta
        self.y = (np.arange(self.shape[0]) + 0.5) * self.hy
        self.x = (np.arange(self.shape[1]) + 0.5) * self.hx
        yy, xx = np.meshgrid(self.y, self.x, indexing="ij")
        self.rx, self.ry = xx - cylinder_x, yy - height / 2
        r = np.hypot(self.rx, self.ry)
        self.chi = 0.5 * (1.0 - np.tanh((r - 0.5) / max(self.hx, self.hy))) if body else 0 * r
        self.chi[self.chi < 1e-12] = 0.0
        dx = (xx - 0.9 * length + length / 2) % length - length / 2
        self.sigma = sponge * np.exp(-((dx / (0.05 * length)) ** 2)) if body else 0 * r
        ky = 2 * np.pi * np.fft.fftfreq(self.shape[0], self.hy)[:, None]
        kx = 2 * np.pi * np.fft.rfftfreq(self.shape[1], self.hx)[None, :]
        self.ky, self.kx = ky + 0 * kx, kx + 0 * ky
        self.k2 = self.kx**2 + self.ky**2
        self.inv_k2 = np.where(self.k2 > 0, 1.0 / np.where(self.k2 > 0, self.k2, 1.0), 0.0)
        iy, ix = np.abs(np.fft.fftfreq(self.shape[0], 1 / self.shape[0])), np.fft.rfftfreq(
            self.shape[1], 1 / self.shape[1])
        self.dealias = ((3 * iy[:, None] < self.shape[0]) & (3 * ix[None, :] < self.shape[1]))
        self.f_body = (np.zeros(self.shape), np.zeros(self.shape))
        # precomputed spectral factors: the curl, the viscous decay, and the Leray projector
        # with the 2/3 rule folded in (P_ij = dealias (delta_ij - k_i k_j / |k|^2))
        self.ikx, self.iky, self.nu_k2 = 1j * self.kx, 1j * self.ky, self.nu * self.k2
        self.pxx = self.dealias * (1.0 - self.kx * self.kx * self.inv_k2)
        self.pxy = self.dealias * (-self.kx * self.ky * self.inv_k2)
        self.pyy = self.dealias * (1.0 - self.ky * self.ky * self.inv_k2)
        self.has_body, self.chi_over_eta = bool(self.chi.any()), self.chi / self.eta
        self.dt_limit = min(2.0 / (self.nu * float(self.k2.max())), 2.0 / max(sponge, 1e-12))

    # -- transforms -----------------------------------------------------------------------------
    def fft(self, a: np.ndarray) -> np.ndarray:
        return sfft.rfft2(a, axes=(-2, -1))

    def ifft(self, a: np.ndarray) -> np.ndarray:
        return sfft.irfft2(a, s=self.shape, axes=(-2, -1))

    def project(self, uh: np.ndarray, vh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Leray projection: remove the gradient part ``k (k . u) / |k|^2`` of a Fourier field."""
        kd = (self.kx * uh + self.ky * vh) * self.inv_k2
        return uh - self.kx * kd, vh - self.ky * kd

    def wall_velocity(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """``u_s = Omega(t) e_z x r`` of the rotational oscillation (zero when ``f_c = 0``)."""
        omega = 2.0 * self.amp * math.sin(2 * math.pi * self.fc * t) if self.fc > 0 else 0.0
        return -omega * self.ry, omega * self.rx

    # -- dynamics -------------------------------------------------------------------------------
    def _lamb(self, uh: np.ndarray, vh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                              np.ndarray]:
        u, v, w = self.ifft(np.stack([uh, vh, self.ikx * vh - self.iky * uh]))  # one batched call
        return u, v, v * w, -u * w

    def _project_dealiased(self, fx: np.ndarray, fy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``P (dealias f)`` of a Fourier vector field: the projector with the 2/3 rule."""
        return self.pxx * fx + self.pxy * fy, self.pxy * fx + self.pyy * fy

    def rhs(self, uh: np.ndarray, vh: np.ndarray, physical: bool = False):
        """Projected right-hand side (advection, diffusion, sponge) in Fourier space.

        With ``physical`` also the physical velocity ``u, v`` it computed on the way (the CFL
        speed of the state comes from them at no extra transform): ``(a, b, u, v)``.
        """
        u, v, lx, ly = self._lamb(uh, vh)
        lx += self.sigma * (1.0 - u)
        ly -= self.sigma * v
        fx, fy = self.fft(np.stack([lx, ly]))
        nx, ny = self._project_dealiased(fx, fy)
        nx -= self.nu_k2 * uh
        ny -= self.nu_k2 * vh
        return (nx, ny, u, v) if physical else (nx, ny)

    def cfl_speed(self, u: np.ndarray, v: np.ndarray) -> float:
        """CFL speed ``max|u| / h_x + max|v| / h_y`` (1 / time) of a physical velocity."""
        return float(np.abs(u).max() / self.hx + np.abs(v).max() / self.hy)

    def step(self, uh: np.ndarray, vh: np.ndarray, t: float, dt: float,
             first: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One SSP-RK3 step from ``t`` to ``t + dt``, then the implicit penalisation.

        ``first``: the right-hand side ``rhs(uh, vh)`` when the caller has it already (it does
        not depend on ``dt``; :func:`simulate` computes it to choose ``dt``).
        """
        a, b = self.rhs(uh, vh) if first is None else first
        u1, v1 = uh + dt * a, vh + dt * b
        a, b = self.rhs(u1, v1)
        u2, v2 = 0.75 * uh + 0.25 * (u1 + dt * a), 0.75 * vh + 0.25 * (v1 + dt * b)
        a, b = self.rhs(u2, v2)
        u3, v3 = uh / 3 + 2 / 3 * (u2 + dt * a), vh / 3 + 2 / 3 * (v2 + dt * b)
        if not self.has_body:
            return u3, v3
        us, vs = self.wall_velocity(t + dt)
        u, v = self.ifft(np.stack([u3, v3]))
        lam = dt * self.chi_over_eta
        inv = 1.0 / (1.0 + lam)
        up, vp = (u + lam * us) * inv, (v + lam * vs) * inv
        self.f_body = ((up - u) / dt, (vp - v) / dt)
        return self._project_dealiased(*self.fft(np.stack([up, vp])))

    def fields(self, uh: np.ndarray, vh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Physical ``u, v, p`` (each ``(H, W)``) of a Fourier state."""
        u, v, lx, ly = self._lamb(uh, vh)
        fx = self.fft(lx + self.sigma * (1.0 - u) + self.f_body[0])
        fy = self.fft(ly - self.sigma * v + self.f_body[1])
        pi_h = -1j * (self.kx * fx + self.ky * fy) * self.inv_k2
        p = self.ifft(pi_h) - 0.5 * (u**2 + v**2)
        return u, v, p - p.mean()

    def speed(self, uh: np.ndarray, vh: np.ndarray) -> float:
        """CFL speed ``max|u| / h_x + max|v| / h_y`` (1 / time) of a Fourier state."""
        return self.cfl_speed(*self.ifft(np.stack([uh, vh])))


def simulate(solver: CylinderSolver, n_frames: int, frame_dt: float, spin_up: float,
             seed: int = 0, cfl: float = DEFAULT_CFL, dt: float | None = None,
             initial: tuple[np.ndarray, np.ndarray] | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run from the free stream (plus a seeded wake perturbation) and record frames.

    Parameters
    ----------
    solver : CylinderSolver
    n_frames : int
        Frames recorded, at ``t = spin_up + k frame_dt``.
    frame_dt, spin_up : float
        Frame interval and time before the first frame (``D / U`` units).
    seed : int
        Sign and amplitude of the initial perturbation (a vortex pair behind the cylinder).
    cfl : float
        Target CFL number of the adaptive step (ignored when ``dt`` is given).
    dt : float, optional
        Fixed step; refused (ValueError) above :data:`CFL_LIMIT` for the free stream.
    initial : (u, v), optional
        Initial velocity ``(H, W)`` each instead of the free stream (projected first).

    Returns
    -------
    dict
        ``u``, ``v``, ``p`` float64 ``(T, H, W)``, ``t`` ``(T,)``, ``x`` ``(W,)``, ``y`` ``(H,)``,
        ``n_steps``, ``dt_min``, ``dt_max`` and ``last_step``: ``(state, state_next, dt, t)`` for
        the step-level self-check.

    Raises
    ------
    ValueError
        Invalid frame settings or a CFL-violating ``dt`` (before any work).
    RuntimeError
        Divergence, naming the step, time and quantity.
    """
    check_int("n_frames", n_frames, 1)
    check_real("frame_dt", frame_dt, positive=True)
    check_real("spin_up", spin_up, nonneg=True)
    check_range("cfl", cfl, 0.0, CFL_LIMIT, open_lo=True)
    if dt is not None:
        dt = check_real("dt", dt, positive=True)
        if dt * (1 / solver.hx) > CFL_LIMIT:
            raise ValueError(f"dt={dt} violates the CFL condition (free-stream CFL number "
                             f"{dt / solver.hx:.3g} > {CFL_LIMIT})")
    if initial is None:
        rng = np.random.default_rng(seed)
        sgn, amp = rng.choice([-1.0, 1.0]), 0.3 + 0.2 * rng.random()
        g = np.exp(-((solver.rx - 1.5) ** 2 + (solver.ry - 0.3 * sgn) ** 2) / 0.5)
        u0, v0 = 1.0 + 0 * g, sgn * amp * g
    else:
        u0, v0 = initial
    uh, vh = solver.project(solver.fft(u0), solver.fft(v0))
    if initial is None:
        uh, vh = uh * solver.dealias, vh * solver.dealias
    times = spin_up + frame_dt * np.arange(int(n_frames))
    frames: dict[str, list] = {"u": [], "v": [], "p": []}
    t, n_steps, dts = 0.0, 0, []
    total = len(times)
    stage = None  # rhs(uh, vh, physical=True) of the current state, reused by its step
    for fi, t_next in enumerate(times):
        while t < t_next - 1e-12:
            if stage is None:
                stage = solver.rhs(uh, vh, physical=True)
            speed = solver.cfl_speed(stage[2], stage[3])
            h = dt if dt is not None else min(cfl / max(speed, 1e-12), solver.dt_limit)
            n_sub = max(1, math.ceil((t_next - t) / h - 1e-9))
            h = (t_next - t) / n_sub if dt is None else min(h, t_next - t)
            uh, vh = solver.step(uh, vh, t, h, first=stage[:2])
            t, n_steps, stage = t + h, n_steps + 1, None
            dts.append(h)
            if n_steps % 20 == 0 or t >= t_next - 1e-12:
                stage = solver.rhs(uh, vh, physical=True)  # also the next step's first stage
                umax = float(np.abs(stage[2]).max())
                if not math.isfinite(umax) or umax > BLOWUP_SPEED:
                    raise RuntimeError(f"cylinder solver diverged at step {n_steps}, t={t:.4g}: "
                                       f"max|u| = {umax:.3g} (> {BLOWUP_SPEED} U)")
                cfl_now = h * solver.cfl_speed(stage[2], stage[3])
                if cfl_now > 2 * CFL_LIMIT:
                    raise RuntimeError(f"cylinder solver: CFL number {cfl_now:.3g} at step "
                                       f"{n_steps}, t={t:.4g} exceeds {2 * CFL_LIMIT}")
        for key, arr in zip("uvp", solver.fields(uh, vh), strict=True):
            frames[key].append(arr)
        if progress is not None:
            progress(fi + 1, total)
    h = dts[-1] if dts else min(cfl / solver.speed(uh, vh), solver.dt_limit)
    f_prev = solver.f_body
    nxt = solver.step(uh, vh, t, h)
    last = ((uh, vh), nxt, h, t, f_prev, solver.f_body)
    return {**{k: np.stack(v) for k, v in frames.items()}, "t": times, "x": solver.x,
            "y": solver.y, "n_steps": n_steps, "dt_min": min(dts, default=h),
            "dt_max": max(dts, default=h), "last_step": last}
