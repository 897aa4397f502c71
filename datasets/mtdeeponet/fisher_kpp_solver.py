"""Numerics of the multi-task Fisher--KPP dataset (MT-DeepONet, specs/PROBLEMS.md B.1).

Problem: ``u_t = D u_xx + a g(u)`` on the periodic unit interval, ``t in [0, t_end]``, with the
three reaction forms of :mod:`pdebench.physics.fisher_kpp` (``u - u^2``, ``u - u^3``, ``u (1 - u)
exp(-beta (1 - u))``). Published: 64 points x 20 frames on ``t in [0, 1]``, ``a`` in 10 values of
``[0.1, 1]``, ``beta`` in 10 values of ``[0.5, 2]``. Not published, so configurable with the
harness's defaults: ``D = 0.01``, periodic boundaries, the initial-data law (below) and the frame
times (``t_k = k t_end / n_frames``, ``k = 1..n_frames``: the 20 frames after ``t = 0``, the
initial state being an input).

Initial data: ``u0(x) = sigmoid(s w(x))`` with ``w`` a periodic Gaussian random field
``w = sum_{k=1..K} k^-1 (xi_k cos 2 pi k x + eta_k sin 2 pi k x) / sqrt(sum_k k^-2)``, ``xi, eta``
standard normal (so ``w(x) ~ N(0, 1)`` at every ``x``), ``K = max_wavenumber`` (6) and ``s =
init_scale`` (2): smooth, in ``(0, 1)``, typically spanning ~[0.05, 0.95]. It is a function of
continuous ``x`` (so grids are refinements of one another).

Space: ``X`` cells of width ``h = 1/X``, values at the centres ``(j + 1/2) h``; the periodic
three-point Laplacian, second order, which is exactly ``FiniteDifference((h,),
bc="periodic").lap`` (the shared equation code). It is diagonalised by the real FFT (eigenvalue
``-(4/h^2) sin^2(pi m / X)`` of mode ``m``), so the stiff diffusion is integrated exactly.

Time: ETDRK4 (Cox & Matthews 2002; coefficients by the Kassam--Trefethen contour integral of
:mod:`pdebench.datasets.numerics.etdrk4`, shared with the Burgers solver), fourth order, the
reaction explicit and pointwise (no aliasing question: the semi-discrete system is the
finite-difference one). Default step
``t_end / n_frames / 20`` (0.0025): the reaction rate ``|a g'(u)| <= 2`` on ``[0, 1]`` is far below
the explicit bound, the time error (~1e-11) far below the spatial one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pdebench.datasets.numerics.etdrk4 import etdrk4_coefficients
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import (
    check_int,
    check_interval,
    check_real,
    check_seed,
    check_subset,
)
from pdebench.physics.fisher_kpp import FORMS, branch_coefficients

__all__ = [
    "DEFAULT_STEPS_PER_FRAME",
    "SELF_CHECK_TOL",
    "FisherKPPStepper",
    "check_parameters",
    "generate_fisher_kpp",
    "initial_field",
    "sample_tasks",
    "solve_fisher_kpp",
]

#: Solver steps per output frame when ``dt`` is not given.
DEFAULT_STEPS_PER_FRAME = 20
#: Largest relative step-level residual the self-check accepts (measured ~3e-6 at the defaults).
SELF_CHECK_TOL = 1e-3
#: The self-check differentiates in time over steps of ``dt / CHECK_SUBSTEPS``.
CHECK_SUBSTEPS = 4
_MIN_RES = 8
_CHUNK = 256


def _check_forms(forms: Sequence[int]) -> tuple[int, ...]:
    checked = check_subset("forms", forms, FORMS, "Fisher-KPP reaction form")
    if not all(isinstance(f, int | np.integer) for f in checked):  # 1.0 == 1 but is no form
        raise ValueError(f"data.forms must list ints from {sorted(FORMS)}, got {forms!r}")
    return tuple(int(f) for f in checked)


def initial_field(coef: np.ndarray, x: np.ndarray, init_scale: float = 2.0) -> np.ndarray:
    """``u0 = sigmoid(s w(x))`` for GRF coefficients ``coef`` (N, 2, K) at points ``x`` (X,).

    ``coef[:, 0]`` multiply ``cos(2 pi k x)``, ``coef[:, 1]`` ``sin(2 pi k x)``, ``k = 1..K``; the
    amplitudes ``k^-1 / sqrt(sum k^-2)`` are applied here. Returns (N, X) float64 in (0, 1).
    """
    kmax = coef.shape[-1]
    k = np.arange(1, kmax + 1)
    amp = (1.0 / k) / math.sqrt(float(np.sum(1.0 / k**2)))
    phase = 2.0 * math.pi * k[:, None] * np.asarray(x, dtype=np.float64)[None]
    w = (coef[:, 0] * amp) @ np.cos(phase) + (coef[:, 1] * amp) @ np.sin(phase)
    return 1.0 / (1.0 + np.exp(-init_scale * w))


def sample_tasks(n_samples: int, forms: Sequence[int], a_values: np.ndarray,
                 beta_values: np.ndarray, seed: int, max_wavenumber: int
                 ) -> dict[str, np.ndarray]:
    """The task and initial-data draw of every sample, deterministic given ``seed``.

    Sample ``i`` has form ``forms[i % len(forms)]`` (so the per-form counts depend on ``n`` and
    ``forms`` only); its rate ``a`` and, for form 3, ``beta`` are drawn uniformly from the value
    grids, then its GRF coefficients, all from the ``i``-th child of
    ``numpy.random.SeedSequence(seed)`` (a smaller ``n`` gives a prefix).

    Returns ``form`` (N,) int, ``a`` (N,), ``beta`` (N,) (NaN for forms 1 and 2), ``coef`` (N, 2,
    K) and ``branch`` (N, 4), the coefficients of ``u .. u^4``.
    """
    n = check_int("n_samples", n_samples, 1)
    forms = _check_forms(forms)
    form = np.array([forms[i % len(forms)] for i in range(n)], dtype=np.int64)
    a = np.empty(n)
    beta = np.full(n, np.nan)
    coef = np.empty((n, 2, max_wavenumber))
    branch = np.empty((n, 4))
    for i, ss in enumerate(np.random.SeedSequence(seed).spawn(n)):
        rng = np.random.default_rng(ss)
        a[i] = a_values[rng.integers(len(a_values))]
        b = beta_values[rng.integers(len(beta_values))]  # drawn for every form: same stream
        if form[i] == 3:
            beta[i] = b
        coef[i] = rng.standard_normal((2, max_wavenumber))
        branch[i] = branch_coefficients(int(form[i]), a[i], None if form[i] != 3 else b)
    return {"form": form, "a": a, "beta": beta, "coef": coef, "branch": branch}


class FisherKPPStepper:
    """ETDRK4 stepper of ``u_t = D L_h u + a g(u)`` on the real-FFT coefficients of a batch.

    All three forms share the factor ``u (1 - u)``: ``g1 = u (1 - u)``, ``g2 = u (1 - u) (1 + u)``,
    ``g3 = u (1 - u) exp(-beta (1 - u))``. The nonlinear term computes that factor for the whole
    batch and multiplies the form-2 and form-3 rows by their own factor only. Rows of one form
    are contiguous when the batch is sorted by form (as :func:`solve_fisher_kpp` does), so each
    group is a slice (a view), not a gather and scatter.

    Parameters
    ----------
    resolution : int
        Cells ``X`` (>= 8).
    diffusivity : float
        ``D`` (> 0).
    dt : float
        Step (> 0).
    a, form, beta : array-like, shape (B,)
        Per-sample rate, reaction form and (form 3) activation parameter.
    """

    def __init__(self, resolution: int, diffusivity: float, dt: float, a: np.ndarray,
                 form: np.ndarray, beta: np.ndarray) -> None:
        self.n, self.dt = int(resolution), float(dt)
        m = np.arange(self.n // 2 + 1)
        lam = -(4.0 * self.n**2) * np.sin(np.pi * m / self.n) ** 2
        e, e2, q, f1, f2, f3 = etdrk4_coefficients(diffusivity * lam, self.dt)
        self.coeffs = (e, e2, q, f1, 2.0 * f2, f3)  # f2 enters as f2 (2 (na + nb))
        self.a = np.asarray(a, dtype=np.float64)[:, None]
        self.form = np.asarray(form)[:, None]
        self.beta = np.asarray(beta, dtype=np.float64)[:, None]
        self._neg_beta = -np.nan_to_num(self.beta)
        self.order = np.arange(len(self.a))  # rows in the caller's order (see solve_fisher_kpp)
        forms = self.form[:, 0]
        self._groups = []  # (form, rows): a slice for each contiguous run of one form
        bounds = np.flatnonzero(np.diff(forms)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(forms)], strict=True):
            if forms[lo] != 1:
                self._groups.append((int(forms[lo]), slice(int(lo), int(hi))))

    def nonlinear(self, v: np.ndarray) -> np.ndarray:
        """``FFT(a g(u))`` of the coefficients ``v`` (B, X // 2 + 1)."""
        u = np.fft.irfft(v, self.n)
        one_minus = np.subtract(1.0, u)
        g = u * one_minus
        for form, rows in self._groups:
            if form == 2:
                u[rows] += 1.0
                g[rows] *= u[rows]
            else:
                one_minus[rows] *= self._neg_beta[rows]
                g[rows] *= np.exp(one_minus[rows])
        g *= self.a
        return np.fft.rfft(g)

    def step(self, v: np.ndarray) -> np.ndarray:
        """One ETDRK4 step of the coefficients ``v`` (in-place arithmetic on few temporaries)."""
        e, e2, q, f1, f2x2, f3 = self.coeffs
        nv = self.nonlinear(v)
        e2v = e2 * v
        a = q * nv
        a += e2v
        na = self.nonlinear(a)
        b = q * na
        b += e2v
        nb = self.nonlinear(b)
        c = np.multiply(2.0, nb, out=b)
        c -= nv
        c *= q
        c += np.multiply(e2, a, out=e2v)
        nc = self.nonlinear(c)
        out = e * v
        out += np.multiply(f1, nv, out=nv)
        na += nb
        out += np.multiply(f2x2, na, out=na)
        out += np.multiply(f3, nc, out=nc)
        return out


def solve_fisher_kpp(u0: np.ndarray, a: np.ndarray, form: np.ndarray, beta: np.ndarray,
                     diffusivity: float, t_end: float, n_frames: int, steps_per_frame: int,
                     ) -> tuple[np.ndarray, FisherKPPStepper]:
    """Integrate ``u0`` (B, X) and return the frames (B, n_frames + 1, X) float64 and the stepper.

    Frame ``k`` is at ``t = k t_end / n_frames`` (frame 0 is ``u0``); the step is ``t_end /
    (n_frames steps_per_frame)``. RuntimeError if the state becomes non-finite. The batch is
    integrated sorted by form; the frames come back in the caller's order, and
    ``stepper.order`` maps that order to the stepper's rows (``frames[stepper.order]``).
    """
    u0 = np.asarray(u0, dtype=np.float64)
    dt = t_end / (n_frames * steps_per_frame)
    order = np.argsort(np.asarray(form), kind="stable")  # one slice per form in the stepper
    u0, a, form, beta = (np.asarray(arr)[order] for arr in (u0, a, form, beta))
    stepper = FisherKPPStepper(u0.shape[1], diffusivity, dt, a, form, beta)
    out = np.empty((u0.shape[0], n_frames + 1, u0.shape[1]))
    out[:, 0] = u0
    v = np.fft.rfft(u0)
    for k in range(1, n_frames + 1):
        for _ in range(steps_per_frame):
            v = stepper.step(v)
        out[:, k] = np.fft.irfft(v, stepper.n)
        if not np.isfinite(out[:, k]).all():
            raise RuntimeError(f"Fisher-KPP solver produced non-finite values by t = "
                               f"{k * t_end / n_frames:.6g}; reduce dt")
    frames = np.empty_like(out)
    frames[order] = out
    stepper.order = order
    return frames, stepper


def _step_residual(frames: np.ndarray, stepper: FisherKPPStepper, diffusivity: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample max over frames of the relative and absolute RMS residual (shared equation).

    At the first, middle and last frame ``u_t`` is the fourth-order one-sided difference
    ``(-25 u_0 + 48 u_1 - 36 u_2 + 16 u_3 - 3 u_4) / (12 delta)`` over four further steps of the
    solver's scheme with ``delta = dt / CHECK_SUBSTEPS``.
    """
    import torch

    from pdebench.physics.derivatives import FiniteDifference
    from pdebench.physics.fisher_kpp import fisher_kpp_reaction, fisher_kpp_residual

    # the first, middle and last frame of every sample (all frames would cost more than the
    # solve itself; these three cover the initial transient and the late state)
    frames = frames[stepper.order][:, np.unique([0, frames.shape[1] // 2, frames.shape[1] - 1])]
    b, nt, nx = frames.shape
    d = FiniteDifference([1.0 / nx], bc="periodic")
    delta = stepper.dt / CHECK_SUBSTEPS
    rep = FisherKPPStepper(nx, diffusivity, delta, np.repeat(stepper.a[:, 0], nt),
                           np.repeat(stepper.form[:, 0], nt), np.repeat(stepper.beta[:, 0], nt))
    v = np.fft.rfft(frames, axis=-1).reshape(b * nt, -1)
    states = [frames.reshape(b * nt, nx)]
    for _ in range(4):
        v = rep.step(v)
        states.append(np.fft.irfft(v, nx))
    weights = (-25.0, 48.0, -36.0, 16.0, -3.0)
    u_t = torch.from_numpy(sum(w * s for w, s in zip(weights, states, strict=True))
                           / (12.0 * delta))
    u = torch.from_numpy(states[0])
    a = torch.from_numpy(rep.a)
    form = torch.from_numpy(rep.form)
    beta = torch.from_numpy(np.nan_to_num(rep.beta))
    r = fisher_kpp_residual(u_t, u, diffusivity, a, form, beta, d)
    terms = torch.stack([u_t, diffusivity * d.lap(u), a * fisher_kpp_reaction(u, form, beta)])
    scale = terms.square().mean(dim=-1).sqrt().amax(dim=0)  # largest term, per (sample, frame)
    rms = r.square().mean(dim=-1).sqrt()
    rel = rms / scale.clamp_min(1e-300)
    rel_s, rms_s = np.empty(b), np.empty(b)  # back to the caller's order
    rel_s[stepper.order] = rel.reshape(b, nt).amax(dim=1).numpy()
    rms_s[stepper.order] = rms.reshape(b, nt).amax(dim=1).numpy()
    return rel_s, rms_s


def check_parameters(n_samples: int, resolution: int = 64, n_frames: int = 20,
                     t_end: float = 1.0, diffusivity: float = 0.01,
                     forms: Sequence[int] = (1, 2, 3), a_range: Sequence[float] = (0.1, 1.0),
                     n_a: int = 10, beta_range: Sequence[float] = (0.5, 2.0), n_beta: int = 10,
                     max_wavenumber: int = 6, init_scale: float = 2.0, seed: int = 0,
                     dt: float | None = None) -> dict[str, Any]:
    """Validate the arguments of :func:`generate_fisher_kpp` (ValueError naming the offending
    one) and return them normalised (plain ints, floats and lists: JSON-able)."""
    res = check_int("resolution", resolution, _MIN_RES)
    kmax = check_int("max_wavenumber", max_wavenumber, 1)
    if 2 * kmax >= res:
        raise ValueError(f"data.max_wavenumber={kmax} is not resolved by data.resolution={res} "
                         f"(need resolution > 2 max_wavenumber)")
    return {
        "n_samples": check_int("n_samples", n_samples, 1),
        "resolution": res,
        "n_frames": check_int("n_frames", n_frames, 1),
        "t_end": check_real("t_end", t_end, positive=True),
        "diffusivity": check_real("diffusivity", diffusivity, positive=True),
        "forms": list(_check_forms(forms)),
        "a_range": list(check_interval("a_range", a_range, 0.0)),
        "n_a": check_int("n_a", n_a, 1),
        "beta_range": list(check_interval("beta_range", beta_range, 0.0)),
        "n_beta": check_int("n_beta", n_beta, 1),
        "max_wavenumber": kmax,
        "init_scale": check_real("init_scale", init_scale, positive=True),
        "seed": check_seed(seed),
        "dt": None if dt is None else check_real("dt", dt, positive=True),
    }


def generate_fisher_kpp(n_samples: int, resolution: int = 64, n_frames: int = 20,
                        t_end: float = 1.0, diffusivity: float = 0.01,
                        forms: Sequence[int] = (1, 2, 3),
                        a_range: Sequence[float] = (0.1, 1.0), n_a: int = 10,
                        beta_range: Sequence[float] = (0.5, 2.0), n_beta: int = 10,
                        max_wavenumber: int = 6, init_scale: float = 2.0, seed: int = 0,
                        dt: float | None = None,
                        progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate multi-task Fisher--KPP pairs deterministically from ``seed``.

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 1), the forms mixed cyclically (see :func:`sample_tasks`).
    resolution : int
        Cells in ``x`` (>= 8; published 64).
    n_frames : int
        Output frames after ``t = 0`` (>= 1; published 20), at ``k t_end / n_frames``.
    t_end : float
        Final time (> 0; published 1).
    diffusivity : float
        ``D`` (> 0; not published, default 0.01).
    forms : sequence of int
        Reaction forms to mix, from ``{1, 2, 3}``.
    a_range, n_a : (float, float), int
        ``a`` takes ``n_a`` equally spaced values in ``a_range`` (``0 < lo <= hi``; published 10
        values in [0.1, 1]).
    beta_range, n_beta : (float, float), int
        Likewise for ``beta`` of form 3 (``0 < lo <= hi``; published 10 values in [0.5, 2]).
    max_wavenumber, init_scale : int, float
        Initial-data law (module docstring).
    seed : int
        Seed (>= 0).
    dt : float, optional
        Largest solver step (default ``t_end / n_frames / 20``); the step used divides the frame
        interval.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of samples.

    Returns
    -------
    dict
        ``x`` (N, 5, X) float32, channels ``[u0, c1, c2, c3, c4]`` (branch coefficients of ``u ..
        u^4`` broadcast along x); ``y`` (N, n_frames, X) float32, the frames; ``t`` (n_frames,),
        ``grid`` (X,); ``labels`` (``form``, ``a``, ``beta`` per sample); ``residual`` and
        ``solver`` (JSON-able; ``solver["labels"]`` repeats the per-sample labels).
    """
    p = check_parameters(n_samples, resolution, n_frames, t_end, diffusivity, forms, a_range,
                         n_a, beta_range, n_beta, max_wavenumber, init_scale, seed, dt)
    n, res, nf, t_end, diffusivity = (p[k] for k in ("n_samples", "resolution", "n_frames",
                                                     "t_end", "diffusivity"))
    forms, kmax, init_scale, seed = p["forms"], p["max_wavenumber"], p["init_scale"], p["seed"]
    (a_lo, a_hi), (b_lo, b_hi), n_a, n_beta = p["a_range"], p["beta_range"], p["n_a"], p["n_beta"]
    frame_dt = t_end / nf
    steps = DEFAULT_STEPS_PER_FRAME if p["dt"] is None else \
        max(1, math.ceil(frame_dt / p["dt"] * (1.0 - 1e-12)))

    a_values = np.linspace(a_lo, a_hi, n_a)
    beta_values = np.linspace(b_lo, b_hi, n_beta)
    tasks = sample_tasks(n, forms, a_values, beta_values, seed, kmax)
    grid = cell_centres_1d(res)
    x = np.empty((n, 5, res), dtype=np.float32)
    y = np.empty((n, nf, res), dtype=np.float32)
    rel, rms = np.empty(n), np.empty(n)
    umin, umax = np.inf, -np.inf
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        u0 = initial_field(tasks["coef"][sl], grid, init_scale)
        frames, stepper = solve_fisher_kpp(u0, tasks["a"][sl], tasks["form"][sl],
                                           tasks["beta"][sl], diffusivity, t_end, nf, steps)
        x[sl, 0] = u0
        x[sl, 1:] = tasks["branch"][sl, :, None]
        y[sl] = frames[:, 1:]
        umin, umax = min(umin, float(frames.min())), max(umax, float(frames.max()))
        rel[sl], rms[sl] = _step_residual(frames, stepper, diffusivity)
        if progress is not None:
            progress(sl.stop, n)
    residual = self_check(
        "fisher_kpp",
        "r = u_t - D u_xx - a g(u) (pdebench.physics.fisher_kpp, FiniteDifference periodic); at "
        "t = 0, the middle and the last frame, u_t by the fourth-order one-sided difference over "
        "four ETDRK4 steps of dt/4; RMS over x divided by the RMS of the largest term (u_t, D "
        "u_xx or a g), max over frames, per sample",
        {"rel_rms_step_max": rel.max(), "rel_rms_step_mean": rel.mean(),
         "rms_step_max": rms.max(), "u_min": umin, "u_max": umax},
        {"rel_rms_step_max": SELF_CHECK_TOL}, hint="pass a smaller dt",
        expected="O((dt/4)^4) error of the difference quotient: ~3e-6 at the defaults")
    labels = {"form": tasks["form"].tolist(), "a": [round(float(v), 12) for v in tasks["a"]],
              "beta": [None if np.isnan(v) else round(float(v), 12) for v in tasks["beta"]]}
    t = frame_dt * np.arange(1, nf + 1)
    solver = {
        "method": "finite_difference_fft_etdrk4",
        "space": "periodic three-point Laplacian on cell centres (FiniteDifference periodic), "
                 "diagonalised by the real FFT; second order",
        "time": "ETDRK4 (Cox & Matthews 2002), Kassam-Trefethen contour coefficients; fourth "
                "order; reaction explicit, diffusion exact",
        "order_space": 2,
        "order_time": 4,
        "dt": frame_dt / steps,
        "steps_per_frame": steps,
        "resolution": res,
        "grid": "cell_centered",
        "boundary": "periodic",
        "diffusivity": diffusivity,
        "t_end": t_end,
        "frame_times": t.tolist(),
        "forms": {str(f): FORMS[f] for f in forms},
        "a_values": a_values.tolist(),
        "beta_values": beta_values.tolist(),
        "branch_coefficients": "u, u^2, u^3, u^4; form 1: a[1,-1,0,0], form 2: a[1,0,-1,0], "
                               "form 3: a e^-beta [1, beta-1, beta(beta/2-1), -beta^2/2] "
                               "(2nd-order Taylor polynomial of exp(beta u))",
        "initial_law": f"sigmoid({init_scale:g} w), w periodic GRF, amplitudes k^-1 (k <= "
                       f"{kmax}), unit pointwise variance",
        "task_assignment": "sample i has form forms[i % len(forms)]; a, beta uniform on the grids",
        "labels": labels,
        "seed": seed,
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
    }
    return {"x": x, "y": y, "t": t, "grid": grid, "labels": tasks, "residual": residual,
            "solver": solver}
