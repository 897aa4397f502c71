"""2D incompressible Navier--Stokes in vorticity form, written once against a derivative provider.

specs/PROBLEMS.md, A.5 (the operator-learning benchmark of Li et al., "Fourier Neural Operator
for Parametric PDEs", ICLR 2021): on the periodic unit square ``[0, 1)^2``

    w_t + u . grad(w) = nu lap(w) + f,    u = (psi_y, -psi_x),    -lap(psi) = w,

so ``w = v_x - u_y`` and ``div(u) = 0``. Array axis 1 of a field ``(batch, H, W)`` is the first
coordinate ``x`` (spacing ``1/H``), axis 2 the second coordinate ``y`` (spacing ``1/W``).

:data:`NAVIER_STOKES` registers the system (``DatasetMeta.pde = "navier_stokes"``) for the physics
metrics of :mod:`pdebench.physics.grid`; :func:`vorticity_residual` (the generator's self-check)
sums the same terms, :func:`vorticity_parts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider, FiniteDifference
from pdebench.physics.equations import Component, Equation

__all__ = [
    "EQUATIONS",
    "NAVIER_STOKES",
    "circulation_density",
    "divergence",
    "fno_forcing",
    "velocity_from_stream_function",
    "velocity_from_vorticity",
    "vorticity_curl_terms",
    "vorticity_parts",
    "vorticity_residual",
    "vorticity_terms",
]


def fno_forcing(x: Tensor, y: Tensor, amplitude: float = 0.1) -> Tensor:
    """The FNO paper's forcing ``f = amplitude (sin(2 pi (x + y)) + cos(2 pi (x + y)))``."""
    s = 2.0 * math.pi * (x + y)
    return amplitude * (torch.sin(s) + torch.cos(s))


def velocity_from_vorticity(w: Tensor, spacing: Sequence[float]) -> tuple[Tensor, Tensor]:
    """Velocity ``(u, v) = (psi_y, -psi_x)`` with ``-lap(psi) = w``, solved spectrally.

    Exact (to round-off) for the trigonometric interpolant of ``w`` on the periodic grid; the
    mean of ``w`` (which a periodic vorticity cannot have) is ignored, and the Nyquist modes of the
    first derivatives are set to zero.

    Parameters
    ----------
    w : Tensor
        Vorticity ``(batch, H, W)`` on a uniform periodic grid, units ``1 / T``.
    spacing : (float, float)
        Grid spacings ``(h_x, h_y)``; the periods are ``H h_x`` and ``W h_y``. Units ``L``.

    Returns
    -------
    (Tensor, Tensor)
        ``u`` and ``v``, each ``(batch, H, W)``, dtype of ``w``, units ``L / T``.
    """
    if w.ndim != 3:
        raise ValueError(f"velocity_from_vorticity: expected (batch, H, W), got {tuple(w.shape)}")
    n0, n1 = w.shape[-2:]
    h0, h1 = (float(h) for h in spacing)
    k0 = 2.0 * math.pi * torch.fft.fftfreq(n0, d=h0, dtype=w.dtype, device=w.device)
    k1 = 2.0 * math.pi * torch.fft.rfftfreq(n1, d=h1, dtype=w.dtype, device=w.device)
    kk = k0[:, None] ** 2 + k1[None, :] ** 2
    kk[0, 0] = 1.0
    k0d, k1d = k0.clone(), k1.clone()
    if n0 % 2 == 0:
        k0d[n0 // 2] = 0.0  # Nyquist: no odd derivative
    if n1 % 2 == 0:
        k1d[-1] = 0.0
    psi = torch.fft.rfft2(w) / kk
    psi[..., 0, 0] = 0.0
    u = torch.fft.irfft2(1j * k1d[None, :] * psi, s=(n0, n1))
    v = torch.fft.irfft2(-1j * k0d[:, None] * psi, s=(n0, n1))
    return u, v


def velocity_from_stream_function(psi: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """``(u, v) = (psi_y, -psi_x)`` with the provider's gradient (divergence-free under ``d``).

    With the finite-difference provider the discrete divergence of this velocity, ``d.div``, is
    zero to round-off (the central differences along the two axes commute); with ``Autograd`` it is
    the exact derivative of a network's stream function. Shapes follow the provider's layout.
    """
    g = d.grad(psi)
    if len(g) != 2:
        raise ValueError(f"velocity_from_stream_function: needs a 2D provider, got {len(g)} dims")
    return g[1], -g[0]


def divergence(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """Divergence ``u_x + v_y`` of a 2D velocity, shaped like ``u``, units ``1 / T``.

    The quantity behind a ``divergence_l2`` physics metric. With ``FiniteDifference(bc=
    "periodic")`` it is the second-order central difference: zero to round-off for a velocity from
    :func:`velocity_from_stream_function` on the same provider, ``O(h^2)`` (truncation) for the
    spectral velocity of :func:`velocity_from_vorticity`.
    """
    return d.div((u, v))


def vorticity_parts(w_t: Tensor, w: Tensor, nu: Tensor | float, d: DerivativeProvider,
                    forcing: Tensor | float = 0.0,
                    velocity: tuple[Tensor, Tensor] | None = None
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor | float]:
    """The terms ``(w_t, u w_x + v w_y, -nu lap(w), -f)`` of the vorticity equation.

    Their sum is the residual (:func:`vorticity_residual`): time derivative, advection, diffusion
    and forcing, the split of the generator's self-check. Parameters, layouts and units as
    :func:`vorticity_residual` (``-f`` stays a number when ``forcing`` is one).
    """
    if velocity is None:
        if not (isinstance(d, FiniteDifference) and all(b == "periodic" for b in d.bc)):
            raise ValueError("vorticity_residual: velocity=None derives the velocity spectrally "
                             "and needs FiniteDifference(spacing, bc='periodic'); pass "
                             "velocity=(u, v) for other providers")
        velocity = velocity_from_vorticity(w, d.spacing)
    wx, wy = d.grad(w)
    return w_t, velocity[0] * wx + velocity[1] * wy, -nu * d.lap(w), -forcing


def vorticity_residual(w_t: Tensor, w: Tensor, nu: Tensor | float, d: DerivativeProvider,
                       forcing: Tensor | float = 0.0,
                       velocity: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Residual ``r = w_t + u w_x + v w_y - nu lap(w) - f`` of the vorticity equation.

    Parameters
    ----------
    w_t : Tensor
        Time derivative of the vorticity, shaped like ``w`` (for gridded trajectories, e.g. central
        differences between frames). Units ``1 / T^2``.
    w : Tensor
        Vorticity ``(batch, H, W)`` for the finite-difference provider (use ``bc="periodic"``),
        ``(N,)`` or ``(N, 1)`` at collocation points for ``Autograd``. Units ``1 / T``.
    nu : Tensor or float
        Kinematic viscosity, ``L^2 / T`` (FNO: 1e-3, 1e-4, 1e-5); broadcastable.
    d : DerivativeProvider
        Supplies ``grad`` and ``lap``.
    forcing : Tensor or float
        ``f``, broadcastable to ``w`` (e.g. :func:`fno_forcing` of the grid), units ``1 / T^2``.
    velocity : (Tensor, Tensor), optional
        ``(u, v)`` shaped like ``w``. Default: :func:`velocity_from_vorticity` of ``w`` (spectral,
        so only for a :class:`~pdebench.physics.derivatives.FiniteDifference` provider with
        periodic boundaries); a PINN passes :func:`velocity_from_stream_function` of its ``psi``.

    Returns
    -------
    Tensor
        The residual, shaped like ``w``, units ``1 / T^2``: the sum of :func:`vorticity_parts`.
        For a pseudo-spectral solution it holds the provider's spatial truncation error (second
        order: ``(kh)^2 / 6`` relative for a mode of wavenumber ``k`` in the advection term,
        ``(kh)^2 / 12`` in the Laplacian) and the error of ``w_t``.
    """
    return sum(vorticity_parts(w_t, w, nu, d, forcing, velocity))


def _velocity(fields) -> tuple[Tensor, Tensor] | None:
    """The predicted velocity ``(u, v)`` when the fields hold it, else ``None`` (spectral)."""
    return (fields["u"], fields["v"]) if "u" in fields and "v" in fields else None


def vorticity_terms(fields, params, d: DerivativeProvider
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`vorticity_parts` in the equation signature, the forcing :func:`fno_forcing` of the
    coordinates.

    Fields ``vorticity``, ``vorticity_t``, ``x``, ``y`` and, when present, the velocity ``u``,
    ``v`` (a dataset with velocity channels, or a PINN's stream-function velocity); without them
    the velocity is derived spectrally from the vorticity (periodic finite differences only).
    Params ``nu`` and ``forcing_amplitude``. Units ``1 / T^2``.
    """
    f = fno_forcing(fields["x"], fields["y"], float(params["forcing_amplitude"]))
    return vorticity_parts(fields["vorticity_t"], fields["vorticity"], params["nu"], d,
                           forcing=f, velocity=_velocity(fields))


def vorticity_curl_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """The kinematic coupling ``w - (v_x - u_y)`` as terms ``(w, -v_x, u_y)``, units ``1 / T``.

    Fields ``vorticity``, ``u``, ``v``. Zero when the predicted vorticity is the curl of the
    predicted velocity; on a grid the central differences leave their ``O(h^2)`` truncation.
    """
    (_, u_y), (v_x, _) = d.grad(fields["u"]), d.grad(fields["v"])
    return fields["vorticity"], -v_x, u_y


def circulation_density(fields, params, d: DerivativeProvider) -> tuple[Tensor]:
    """The density ``w`` of the circulation ``int w dA``, shaped like ``w`` (units ``1 / T``)."""
    return (fields["vorticity"],)


#: Forced 2D incompressible Navier--Stokes in vorticity form on the periodic unit square (the FNO
#: benchmark, PDEBench A.5): unknowns ``vorticity`` and, when the dataset stores them
#: (``data.fields``), the velocity ``u``, ``v``; ``nu`` and ``forcing_amplitude`` from
#: ``pde_params``, the forcing :func:`fno_forcing` of the cell-centre coordinates. Metrics on a
#: grid (see :mod:`pdebench.physics.grid`):
#:
#: - ``residual_l2/navier_stokes`` and ``residual_rel/navier_stokes``: the vorticity equation at
#:   the midpoint of each step, with the predicted velocity when the dataset has one, else the
#:   spectral velocity of the predicted vorticity; the floor is the second-order truncation of
#:   the central differences on the spectral solution and of the frame spacing;
#: - ``conservation_error/circulation``: ``int w dA`` (zero on a periodic box; the forcing has
#:   zero mean and the solver keeps the mean mode at 0);
#: - with ``u``, ``v``: ``divergence_l2`` (the spectral velocity is solenoidal; the central
#:   differences leave their truncation, ``(k_y sin(k_x h) - k_x sin(k_y h)) / h`` times the
#:   stream function's mode ``k``) and ``coupling_consistency``, the kinematic coupling
#:   ``w = v_x - u_y`` of vorticity and velocity (:func:`vorticity_curl_terms`; floor
#:   ``1 - sinc(k h)`` relative per mode).
#:
#: A dataset stored without the vorticity channel gets ``divergence_l2`` only. Not applicable:
#: ``bc_error`` (periodic, no walls); ``conservation_error`` of the energy or the enstrophy (the
#: forcing and the viscosity change both).
NAVIER_STOKES = Equation(
    name="navier_stokes",
    description="2D incompressible Navier-Stokes, vorticity form, periodic, FNO forcing "
                "(PDEBench A.5)",
    unknowns=("vorticity", "u", "v"), params=("nu", "forcing_amplitude"),
    time_derivatives=("vorticity",),
    components={"navier_stokes": Component(("vorticity", "vorticity_t", "x", "y"),
                                           vorticity_terms, units="1/T^2")},
    velocity=("u", "v"),
    coupled=("vorticity", "u", "v"),
    coupling=Component(("vorticity", "u", "v"), vorticity_curl_terms, units="1/T"),
    conserved={"circulation": Component(("vorticity",), circulation_density, units="L^2/T")},
    grid_bc="periodic", margin=0, grids=("cell_centered",),
)

EQUATIONS = (NAVIER_STOKES,)
