"""Manufactured solutions of the five-field electrothermal operator (LSTM-PINN family).

Each sample is a set of closed-form fields on the unit square, with random parameters drawn from
``numpy.random.default_rng(seed)`` (per sample, in order, so a smaller ``n_samples`` gives a
prefix):

- stream function ``psi = A sin(pi k1 x + a1) sin(pi k2 y + a2) + B exp(-|x - c|^2 / w^2)``, and
  ``u = psi_y``, ``v = -psi_x`` (exactly divergence-free, so ``s_c = 0`` to round-off);
- pressure ``p = A_p cos(pi m1 x + b1) sin(pi m2 y + b2) + B_p exp(-|x - c_p|^2 / w_p^2)``;
- potential ``phi = A_f sin(pi n1 x + d1) cos(pi n2 y + d2) + F tanh(s_f (n_f . x - e_f))``;
- temperature ``T = t0 + A_T tanh(s_T (n_T . x - e_T)) + B_T exp(-|x - c_T|^2 / w_T^2)``, with
  front steepness ``s_T`` in ``[10, 20]`` (regimes 1, 2, 4) or ``[20, 28]`` (regime 3, steep
  fronts) and a milder potential front ``s_f`` in ``[10, 14]``.

The source terms are *not* typed by hand: the shared operator
:func:`pdebench.physics.electrothermal.electrothermal_operator` is applied to the closed forms
with the :class:`~pdebench.physics.derivatives.Autograd` provider at the grid's cell centres, so the
stored pair (sources, fields) is exact. In regime 2 the gridded ``p`` and ``phi`` are shifted to
zero cell mean (the gauge; the operator sees their gradients only, so the sources are unchanged).
Velocities come from ``psi`` by a first autograd pass (third derivatives of ``psi`` enter).

The self-check evaluates the same operator with the
:class:`~pdebench.physics.derivatives.FiniteDifference` provider on the gridded exact fields,
minus the stored sources, on interior cells (one cell from the wall excluded: the provider's ghost
cells assume homogeneous data): a second-order truncation error, ``O(h^2)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.threads import single_threaded_torch
from pdebench.datasets.numerics.validation import check_int, check_seed
from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.electrothermal import (
    COMPONENTS,
    FIELDS,
    ElectrothermalParams,
    electrothermal_operator,
    electrothermal_residual,
    interior,
)

__all__ = ["MIN_RESOLUTION", "closed_form_at", "closed_form_fields", "generate_electrothermal",
           "relative_residuals", "sample_parameters"]

MIN_RESOLUTION = 16
#: Self-check tolerance on the relative interior residual is ``SELF_CHECK_C * h^2``.
SELF_CHECK_C = 500.0
#: Parameter names of one sample, in draw order (each a column of :func:`sample_parameters`).
_NAMES = ("A", "k1", "a1", "k2", "a2", "B", "cx", "cy", "w",
          "Ap", "m1", "b1", "m2", "b2", "Bp", "cpx", "cpy", "wp",
          "Af", "n1", "d1", "n2", "d2", "F", "sf", "thf", "ef",
          "AT", "sT", "thT", "eT", "BT", "ctx", "cty", "wT")


def sample_parameters(n: int, rng: np.random.Generator, steep: bool) -> np.ndarray:
    """Random closed-form parameters, ``(n, len(_NAMES))`` float64, drawn sample by sample."""
    two_pi = 2.0 * math.pi
    out = np.empty((n, len(_NAMES)))
    s_lo, s_hi = (20.0, 28.0) if steep else (10.0, 20.0)
    for i in range(n):
        u = rng.random
        out[i] = [
            0.05 + 0.07 * u(), 1 + 1.5 * u(), two_pi * u(), 1 + 1.5 * u(), two_pi * u(),
            0.1 * (u() - 0.5), 0.25 + 0.5 * u(), 0.25 + 0.5 * u(), 0.15 + 0.15 * u(),
            0.2 + 0.4 * u(), 1 + 1.5 * u(), two_pi * u(), 1 + 1.5 * u(), two_pi * u(),
            0.4 * (u() - 0.5), 0.25 + 0.5 * u(), 0.25 + 0.5 * u(), 0.1 + 0.2 * u(),
            0.3 + 0.4 * u(), 1 + 1.5 * u(), two_pi * u(), 1 + 1.5 * u(), two_pi * u(),
            0.05 + 0.1 * u(), 10 + 4 * u(), two_pi * u(), 0.3 + 0.4 * u(),
            0.2 + 0.3 * u(), s_lo + (s_hi - s_lo) * u(), two_pi * u(), 0.3 + 0.4 * u(),
            0.3 * (u() - 0.5), 0.25 + 0.5 * u(), 0.25 + 0.5 * u(), 0.1 + 0.15 * u(),
        ]
    return out


def _front(x: Tensor, y: Tensor, theta: Tensor, offset: Tensor) -> Tensor:
    """Signed distance-like coordinate ``(x - 1/2) cos th + (y - 1/2) sin th + 1/2 - offset``."""
    return (x - 0.5) * torch.cos(theta) + (y - 0.5) * torch.sin(theta) + 0.5 - offset


def closed_form_fields(xy: Tensor, prm: Tensor, t0: float) -> tuple[Tensor, ...]:
    """The five closed-form fields at points ``xy``.

    Parameters
    ----------
    xy : Tensor
        ``(B, P, 2)`` coordinates (any ``requires_grad``); sample ``b`` uses ``prm[b]``.
    prm : Tensor
        ``(B, len(_NAMES))`` parameters from :func:`sample_parameters`.
    t0 : float
        Reference temperature (the mean level of ``T``).

    Returns
    -------
    tuple of Tensor
        ``(u, v, p, phi, T)``, each ``(B, P)``; ``u, v`` carry the graph of ``psi``'s gradient.
    """
    q = {k: prm[:, i:i + 1] for i, k in enumerate(_NAMES)}
    x, y = xy[..., 0], xy[..., 1]
    pi = math.pi

    def bump(amp: Tensor, cx: Tensor, cy: Tensor, w: Tensor) -> Tensor:
        return amp * torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (w * w))

    psi = q["A"] * torch.sin(pi * q["k1"] * x + q["a1"]) * torch.sin(pi * q["k2"] * y + q["a2"]) \
        + bump(q["B"], q["cx"], q["cy"], q["w"])
    (g,) = torch.autograd.grad(psi.sum(), xy, create_graph=True)
    u, v = g[..., 1], -g[..., 0]
    p = q["Ap"] * torch.cos(pi * q["m1"] * x + q["b1"]) * torch.sin(pi * q["m2"] * y + q["b2"]) \
        + bump(q["Bp"], q["cpx"], q["cpy"], q["wp"])
    phi = q["Af"] * torch.sin(pi * q["n1"] * x + q["d1"]) * torch.cos(pi * q["n2"] * y + q["d2"]) \
        + q["F"] * torch.tanh(q["sf"] * _front(x, y, q["thf"], q["ef"]))
    temp = t0 + q["AT"] * torch.tanh(q["sT"] * _front(x, y, q["thT"], q["eT"])) \
        + bump(q["BT"], q["ctx"], q["cty"], q["wT"])
    return u, v, p, phi, temp


def _cell_centres(n: int) -> Tensor:
    """Cell centres of the unit square as points ``(n*n, 2)`` (axis 0 = x), float64."""
    return torch.from_numpy(np.stack(cell_centres((n, n)), axis=-1).reshape(-1, 2))


def _evaluate(prm: np.ndarray, n: int, params: ElectrothermalParams) -> tuple[Tensor, Tensor]:
    """Fields and sources of a chunk: two ``(B, 5, n, n)`` float64 tensors."""
    b = prm.shape[0]
    pts = _cell_centres(n)
    coords = pts.repeat(b, 1).requires_grad_(True)  # (B*P, 2), entry i depends on row i only
    fields = closed_form_fields(coords.view(b, n * n, 2), torch.from_numpy(prm), params.t0)
    flat = tuple(f.reshape(-1) for f in fields)
    sources = electrothermal_operator(*flat, Autograd(coords), params)
    f = torch.stack([t.detach().reshape(b, n, n) for t in flat], dim=1)
    s = torch.stack([t.detach().reshape(b, n, n) for t in sources], dim=1)
    if params.regime == 2:  # gauge: zero cell mean of p and phi
        f[:, 2:4] -= f[:, 2:4].mean(dim=(2, 3), keepdim=True)
    return f, s


def closed_form_at(index: int, seed: int, params: ElectrothermalParams, resolution: int
                   ) -> Callable[[Tensor], dict[str, Tensor]]:
    """Sample ``index`` of :func:`generate_electrothermal` (same ``seed`` and ``params``) at
    arbitrary points: ``at(points (N, 2)) -> {field or source name: (N,)}``, float64, exact.

    In regime 2 ``p`` and ``phi`` carry the gauge shift of the stored grid (its cell mean at
    ``resolution``), so the values agree with the stored fields at the cell centres.
    """
    prm = torch.from_numpy(sample_parameters(index + 1, np.random.default_rng(seed),
                                             steep=params.regime == 3)[index:index + 1])
    names = (*FIELDS, "s_c", "s_x", "s_y", "s_T", "s_phi")

    def exact(points: Tensor) -> dict[str, Tensor]:
        with torch.enable_grad():
            xy = points[:, :2].detach().to(torch.float64).requires_grad_(True)
            fields = closed_form_fields(xy.view(1, -1, 2), prm, params.t0)
            flat = tuple(f.reshape(-1) for f in fields)
            sources = electrothermal_operator(*flat, Autograd(xy), params)
        return {n: t.detach() for n, t in zip(names, (*flat, *sources), strict=True)}

    shift = {}
    if params.regime == 2:
        grid = exact(_cell_centres(resolution))
        shift = {"p": grid["p"].mean(), "phi": grid["phi"].mean()}

    def at(points: Tensor) -> dict[str, Tensor]:
        out = exact(points)
        for k, v in shift.items():
            out[k] = out[k] - v
        return out

    return at


def relative_residuals(fields: np.ndarray, sources: np.ndarray, params: ElectrothermalParams
                       ) -> np.ndarray:
    """Relative interior residual per sample and equation, ``(N, 5)``.

    ``rms_interior(L_FD(fields) - sources) / rms(sources)`` where ``rms(sources)`` pools the five
    source fields of the sample (``s_c`` is zero). Arrays are ``(N, 5, H, W)``.
    """
    n = fields.shape[-1]
    d = FiniteDifference((1.0 / fields.shape[-2], 1.0 / n))
    f = torch.from_numpy(np.asarray(fields, dtype=np.float64))
    s = torch.from_numpy(np.asarray(sources, dtype=np.float64))
    res = electrothermal_residual(tuple(f[:, k] for k in range(5)),
                                  tuple(s[:, k] for k in range(5)), d, params)
    scale = s.square().mean(dim=(1, 2, 3)).sqrt()
    rms = torch.stack([interior(r).square().mean(dim=(1, 2)).sqrt() for r in res], dim=1)
    return (rms / scale[:, None]).numpy()


def generate_electrothermal(n_samples: int, resolution: int = 64,
                            params: ElectrothermalParams | None = None, seed: int = 0,
                            progress: Callable[[int, int], None] | None = None,
                            chunk: int = 16) -> dict[str, Any]:
    """Generate ``n_samples`` manufactured (sources, fields) pairs on a ``resolution^2`` grid.

    Parameters
    ----------
    n_samples : int
        Number of samples, >= 1.
    resolution : int
        Cells per side, >= :data:`MIN_RESOLUTION`; values at cell centres ``(k + 1/2) / n``.
    params : ElectrothermalParams, optional
        Operator coefficients and regime (default: regime 1, the specs' constants).
    seed : int
        Seed (>= 0) of ``numpy.random.default_rng``.
    progress : callable, optional
        ``progress(done, total)`` after each chunk.
    chunk : int
        Samples per autograd evaluation (memory / speed trade-off; results do not depend on it).

    Returns
    -------
    dict
        ``sources`` (N, 5, H, W) float32 in the order ``s_c, s_x, s_y, s_T, s_phi``; ``fields``
        (N, 5, H, W) float32 in the order ``u, v, p, phi, T``; ``residual`` (self-check summary);
        ``solver`` (method, grid, regime, parameters).
    """
    n = check_int("n_samples", n_samples, 1)
    res = check_int("resolution", resolution, MIN_RESOLUTION,
                    " (the grid is too coarse for the tanh fronts below that)")
    seed = check_seed(seed)
    params = params or ElectrothermalParams()
    prm = sample_parameters(n, np.random.default_rng(seed), steep=params.regime == 3)
    fields = np.empty((n, 5, res, res), dtype=np.float32)
    sources = np.empty_like(fields)
    rel64 = np.empty((n, 5))
    with single_threaded_torch():  # many small ops: threads only add synchronisation
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            f, s = _evaluate(prm[start:stop], res, params)
            if not (torch.isfinite(f).all() and torch.isfinite(s).all()):
                raise RuntimeError(f"electrothermal: non-finite field or source in samples "
                                   f"{start}..{stop - 1}")
            rel64[start:stop] = relative_residuals(f.numpy(), s.numpy(), params)
            fields[start:stop], sources[start:stop] = f.numpy(), s.numpy()
            if progress is not None:
                progress(stop, n)
        rel32 = relative_residuals(fields, sources, params)
    worst = rel64.max(axis=0)
    residual = self_check(
        "electrothermal",
        "RMS over interior cells (one from the wall excluded) of the shared operator "
        "(pdebench.physics.electrothermal, finite-difference provider) on the exact gridded "
        "fields minus the stored sources, divided by the RMS of the sample's five source fields; "
        "max over samples, per equation",
        {"rel_rms_max": dict(zip(COMPONENTS, worst, strict=True)), "rel_rms_mean": rel64.mean(),
         "rel_rms_max_float32": rel32.max()},
        {"rel_rms_max": SELF_CHECK_C / res**2},
        hint=f"second-order truncation at {res}^2 exceeds {SELF_CHECK_C:g} h^2")
    solver = {
        "method": "manufactured solutions; sources = shared operator applied with autograd",
        "grid": "cell_centered", "resolution": [res, res], "regime": params.regime,
        "fields": list(FIELDS), "sources": [f"s_{e}" for e in ("c", "x", "y", "T", "phi")],
        "operator": params.to_dict(), "seed": seed, "torch": torch.__version__,
    }
    return {"sources": sources, "fields": fields, "residual": residual, "solver": solver}
