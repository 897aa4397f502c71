"""Physics-oriented metrics: residuals of the governing equation on a model's grid prediction.

Contract (shared with the data metrics): constructed as ``Cls(meta)``; ``update(pred, target,
inputs)`` with ``pred``/``target`` in physical units, layout ``(batch, channels, *spatial, time)``,
and ``inputs`` the model input in physical units ``(batch, C_in, *spatial)``; ``compute()``
returns a float64 tensor of shape ``(1, 1)`` (one equation, one steady frame). ``target`` is not
used: the residual judges the prediction alone. States are sums with ``dist_reduce_fx="sum"``, so
DDP, ``merge_state`` and batching give the result of one instance that saw every sample.

The residual is evaluated with :func:`pdebench.physics.darcy.darcy_residual` and the
finite-difference provider (:class:`~pdebench.physics.derivatives.FiniteDifference`, ghost cells
for ``u = 0`` on the walls), i.e. exactly the finite-volume scheme of the Darcy generator, on
**every** cell: the boundary condition enters through the wall fluxes, so a prediction that
violates ``u = 0`` at the wall is charged for it here too (``bc_error`` isolates that part). On
the generator's reference solution the value is float32 round-off of the stored field amplified by
the operator (about 1e-4 |beta| at 64^2), on a model prediction it is the discretisation-level
consistency of that prediction with the equation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta
from pdebench.physics.darcy import darcy_residual
from pdebench.physics.derivatives import BOUNDARY_CONDITIONS, FiniteDifference

__all__ = ["FACTORIES", "DarcyResidual", "DarcyResidualRelative"]


class DarcyResidual(Metric):
    """RMS residual of steady Darcy flow on the prediction, mean over samples.

    For sample ``b`` with predicted ``u_b`` (output field ``"u"``, the single frame) and coefficient
    ``a_b`` (input field ``"a"``): ``r_b = -div(a_b grad u_b) - beta`` on every cell (finite
    differences, see the module docstring), ``R_b = sqrt(mean over cells of r_b^2)``; the value is
    ``mean over samples of R_b``. Units: those of ``beta`` (``[a][u] / L^2``). Computed in
    float64. ``beta`` is ``meta.pde_params["beta"]``, the spacing
    ``meta.spacing`` and the wall condition ``meta.boundary_conditions.get("u",
    "dirichlet_zero")``. Not a published definition: the harness's own (specs/METRICS.md,
    physics-oriented metrics).

    Parameters
    ----------
    meta : DatasetMeta
        A cell-centred dataset with ``pde_params["beta"]``, an input field ``"a"`` and an output
        field ``"u"``.
    **kwargs
        Passed to :class:`torchmetrics.Metric`.
    """

    name = "residual_l2/darcy"
    full_state_update = False
    higher_is_better = False
    is_differentiable = False

    def __init__(self, meta: DatasetMeta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"{self.name} on dataset {meta.name!r}"
        if "beta" not in meta.pde_params:
            raise ValueError(f"{where}: meta.pde_params has no 'beta' (got {meta.pde_params})")
        self.beta = float(meta.pde_params["beta"])
        if not torch.isfinite(torch.tensor(self.beta)) or self.beta == 0:
            raise ValueError(f"{where}: beta must be finite and non-zero, got {self.beta}")
        if meta.grid != "cell_centered":
            raise ValueError(f"{where}: needs a cell_centered grid, got {meta.grid!r}")
        if "a" not in meta.input_fields or "u" not in meta.output_fields:
            raise ValueError(f"{where}: needs input field 'a' and output field 'u', got inputs "
                             f"{meta.input_fields} and outputs {meta.output_fields}")
        bc = meta.boundary_conditions.get("u", "dirichlet_zero")
        if bc not in BOUNDARY_CONDITIONS:
            raise ValueError(f"{where}: boundary condition {bc!r} of 'u' is not one of "
                             f"{', '.join(BOUNDARY_CONDITIONS)}")
        self.spatial_dims = meta.spatial_dims
        self.resolution = tuple(meta.resolution)
        self.a_channel = meta.input_fields.index("a")
        self.u_channel = meta.output_fields.index("u")
        self.n_outputs = len(meta.output_fields)
        self.provider = FiniteDifference(meta.spacing, bc=bc)
        self.add_state("total", default=torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def _check(self, pred: Tensor, inputs: Tensor | None) -> tuple[Tensor, Tensor]:
        d = self.spatial_dims
        if inputs is None:
            raise ValueError(f"{self.name}: needs the model inputs (the coefficient a), got None")
        if pred.ndim != d + 3 or pred.shape[-1] != 1 or pred.shape[1] != self.n_outputs:
            raise ValueError(
                f"{self.name}: pred must be (batch, {self.n_outputs}, *{self.resolution}, 1) "
                f"(steady, one frame), got {tuple(pred.shape)}"
            )
        if inputs.ndim != d + 2 or inputs.shape[0] != pred.shape[0] \
                or tuple(inputs.shape[2:]) != tuple(pred.shape[2:-1]):
            raise ValueError(f"{self.name}: inputs {tuple(inputs.shape)} do not match pred "
                             f"{tuple(pred.shape)}; expected (batch, C_in, *spatial)")
        if tuple(pred.shape[2:-1]) != self.resolution:
            raise ValueError(f"{self.name}: grid {tuple(pred.shape[2:-1])} is not the dataset "
                             f"resolution {self.resolution} (the spacing would be wrong)")
        u = pred.detach()[:, self.u_channel, ..., 0].to(torch.float64)
        a = inputs.detach()[:, self.a_channel].to(torch.float64)
        return u, a

    def update(self, pred: Tensor, target: Tensor | None = None, inputs: Tensor | None = None
               ) -> None:
        """Accumulate a batch.

        Parameters
        ----------
        pred : Tensor
            ``(batch, C, *spatial, 1)``, physical units; channel ``"u"`` is used.
        target : Tensor, optional
            Ignored (shared signature).
        inputs : Tensor
            ``(batch, C_in, *spatial)``, physical units; channel ``"a"`` is the coefficient.
        """
        u, a = self._check(pred, inputs)
        r = darcy_residual(u, a, self.beta, self.provider)
        rms = r.square().mean(dim=tuple(range(1, r.ndim))).sqrt()
        self.total = self.total + rms.sum().to(torch.float64)
        self.count = self.count + u.shape[0]

    def _scale(self) -> float:
        return 1.0

    def _wrap_compute(self, compute: Callable[..., Tensor]) -> Callable[..., Tensor]:
        # torchmetrics squeezes a one-element result to 0-d; keep the contract's (1, 1) shape
        wrapped = super()._wrap_compute(compute)

        @functools.wraps(compute)
        def keep_shape(*args: Any, **kwargs: Any) -> Tensor:
            return wrapped(*args, **kwargs).reshape(1, 1)

        return keep_shape

    def compute(self) -> Tensor:
        """Return the metric, shape ``(1, 1)``, float64."""
        if int(self.count) == 0:
            raise ValueError(f"{self.name}: compute() called before any sample was seen")
        return (self.total / self.count / self._scale()).reshape(1, 1)


class DarcyResidualRelative(DarcyResidual):
    """:class:`DarcyResidual` divided by ``|beta|``: dimensionless.

    ``|beta|`` is the residual's natural scale: the prediction ``u = 0`` scores exactly 1, and the
    exact solution of the continuous problem scores the discretisation error (the generator's own
    solution: round-off). Comparable across the published ``beta`` values (0.01 ... 100), unlike the
    absolute value, which scales with ``beta``.
    """

    name = "residual_rel/darcy"

    def _scale(self) -> float:
        return abs(self.beta)


FACTORIES: dict[str, tuple[type[Metric], str]] = {
    "residual_l2/darcy": (
        DarcyResidual,
        "Darcy residual -div(a grad u) - beta of the prediction (finite volumes, all cells): "
        "mean over samples of the RMS over cells, units of beta",
    ),
    "residual_rel/darcy": (
        DarcyResidualRelative,
        "Darcy residual RMS as residual_l2/darcy divided by |beta| (dimensionless; u = 0 scores 1)",
    ),
}
