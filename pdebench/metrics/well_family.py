"""Data metrics of The Well (Ohana et al., NeurIPS 2024), as torchmetrics.

Definitions follow ``specs/METRICS.md``, family ``well``, and reproduce the metric classes of the
``the_well`` package 1.2.0 (``the_well.benchmark.metrics.spatial`` and ``.spectral``):
``tests/metrics/test_well_family.py`` compares every metric here with values those classes
computed (``tests/fixtures/well_metrics/make_fixture.py``). Notation: prediction P, target Y,
error D = P - Y in **physical units**, N spatial points, eps = 1e-7 (:data:`EPS`). Every value is
taken per (sample, field, frame) over space:

- ``well/mse`` = mean_x D^2; ``well/rmse`` = sqrt(mse)
- ``well/mae`` = mean_x |D|; ``well/nmae`` = mae / (mean_x |Y| + eps)
- ``well/nmse`` = mse / (mean_x Y^2 + eps); ``well/nrmse`` = sqrt(nmse)
- ``well/vmse`` = mse / (var_x Y + eps), var with the unbiased 1 / (N - 1); ``well/vrmse`` =
  sqrt(vmse) (predicting the field's spatial mean scores about 1)
- ``well/linf`` = max_x |D|
- ``well/pearson_r`` = cov_x(P, Y) / (std_x P * std_x Y + eps)
- ``well/spectral_mse_bin{0,1,2}`` = sum over the modes k of bin b of |F(D)_k|^2 / N^2
- ``well/spectral_nmse_bin{0,1,2}`` = spectral_mse_bin_b / (sum over bin b of |F(Y)_k|^2 / N^2
  + eps)

``pearson_r`` is exactly The Well's: the covariance is the population one (1 / N) while the
standard deviations are unbiased (1 / (N - 1)), so P = a Y + b (a > 0) scores (N - 1) / N, not 1
(0.9375 on 16 points). The spectral bins: F is the unnormalised DFT over all spatial axes
(``fftn``), the isotropic wavenumber of mode k is ``|k| = sqrt(sum_d (2 pi fftfreq(n_d))^2)``,
the bin edges are ``logspace(log10(2 pi / max_d n_d), log10(pi sqrt(d) + 1e-6), 4)`` with the
first edge replaced by 0, and bin b holds ``edge_b <= |k| < edge_{b+1}``; every mode falls in
one of the three bins, so the three ``spectral_mse`` bins sum to ``mse`` (Parseval). Bin
membership is decided as The Well decides it, in float32 (edges by ``torch.logspace``, wavenumbers
from float32 ``fftfreq``): a mode lying exactly on an edge in exact arithmetic (1D grids of 16 or
128 points, 2D grids whose largest side is 32, the 3D grid 4 x 6 x 5, ...) goes to the bin its
float32 rounding gives, the same as The Well's.

Reduction: per (sample, field, frame) as above, then the **mean over samples** (exact counts over
batches and DDP ranks), giving ``compute()`` -> ``(C, T)`` float64. The Well reports a metric per
field and as the mean over fields, over time as ``T=all`` (the mean over frames) and over
log-spaced windows: :func:`log_windows` and :func:`window_means` compute those from the
``(C, T)`` array. Not reproduced from The Well's trainer: its mean of per-batch means (unequal
batches weigh their samples unequally; here one exact mean over samples), the empty windows and
the dropped last frame of its window boundaries (see :func:`log_windows`). A constant target
field is not an error here (unlike ``pdebench/nrmse``): as in The Well, its eps makes
``nmse``/``vmse`` of such a field ``mse / 1e-7``.

Masked domains (``mask`` True = scored, broadcastable to ``pred``): means, the unbiased variance
(1 / (n_m - 1)), the covariance, the standard deviations and the maximum run over the ``n_m``
masked-in cells only, so each spatial metric equals the unmasked one on those cells. The spectral
bins take F of D (and of Y) zeroed outside the mask and divide by ``N n_m`` instead of ``N^2``,
so the bins still sum to the masked ``mse`` (without a mask, or with a mask True everywhere,
``n_m = N``). A sample with no scored cell in some (field, frame) raises ``ValueError``, as do
``vmse``, ``vrmse`` and ``pearson_r`` on fewer than two cells (the unbiased variance is
undefined; The Well returns NaN there).

Computation in float64; states are sums over samples (``dist_reduce_fx="sum"``), so ``update`` on
the halves of a batch, ``merge_state`` and the DDP reduction give the value of one instance that
saw every sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from pdebench.metrics.pdebench_family import _FrameMetric

__all__ = [
    "EPS",
    "FACTORIES",
    "N_SPECTRAL_BINS",
    "WellLInf",
    "WellMAE",
    "WellMSE",
    "WellNMAE",
    "WellNMSE",
    "WellNRMSE",
    "WellPearsonR",
    "WellRMSE",
    "WellSpectralMSEBin0",
    "WellSpectralMSEBin1",
    "WellSpectralMSEBin2",
    "WellSpectralNMSEBin0",
    "WellSpectralNMSEBin1",
    "WellSpectralNMSEBin2",
    "WellVMSE",
    "WellVRMSE",
    "log_windows",
    "spectral_bins",
    "window_means",
]

_F64 = torch.float64

#: The Well's epsilon in every denominator.
EPS = 1e-7
#: Number of isotropic wavenumber bins of the spectral metrics.
N_SPECTRAL_BINS = 3
#: Most log-spaced window boundaries after 0 (The Well's ``num_time_intervals`` default).
N_WINDOW_POINTS = 5


# --- time windows ------------------------------------------------------------------------------

def _floor_exact(v: float) -> int:
    """``floor(v)``, taking a value within 1e-9 (relative) of an integer as that integer."""
    r = round(v)
    return r if abs(v - r) <= 1e-9 * max(1.0, abs(v)) else math.floor(v)


def log_windows(n_frames: int) -> list[tuple[int, int]]:
    """The Well's log-spaced time windows over ``n_frames`` predicted frames.

    Boundaries ``[0] + floor(exp(linspace(0, ln T, n)))`` with ``n = min(T, 5)`` points (The
    Well's trainer, ``num_time_intervals=5``), duplicates removed; window ``k`` covers the frames
    ``start <= t < stop`` between consecutive boundaries. Differences from The Well's code,
    which computes ``int(np.exp(x))`` in floating point: a boundary that is an integer in exact
    arithmetic (``T`` itself, ``T^(k/4)``) is not rounded down (The Well gives ``7:15`` as the
    last window for T = 16 and never puts frame 15 in a window; here ``8:16``), and a repeated
    boundary gives no empty window (The Well logs NaN for ``T=1:1`` when T = 3).

    Parameters
    ----------
    n_frames : int
        T >= 1, the number of predicted frames.

    Returns
    -------
    list of (start, stop)
        Consecutive, non-empty, covering ``[0, T)``; ``[(0, 1)]`` for T = 1.

    Examples
    --------
    >>> log_windows(10)
    [(0, 1), (1, 3), (3, 5), (5, 10)]
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ValueError(f"log_windows: the number of frames must be an integer >= 1, got "
                         f"{n_frames!r}")
    t = int(n_frames)
    points = min(t, N_WINDOW_POINTS)
    if points == 1:
        bounds = [0, 1]
    else:
        bounds = [0] + [_floor_exact(math.exp(k / (points - 1) * math.log(t)))
                        for k in range(points)]
    bounds[-1] = t
    unique = sorted(set(bounds))
    return list(zip(unique[:-1], unique[1:], strict=True))


def window_means(values: Tensor | np.ndarray, windows: Sequence[tuple[int, int]]
                 ) -> dict[str, Tensor]:
    """Mean over the frames of each window, per field.

    Parameters
    ----------
    values : Tensor or ndarray
        ``(C, T)``: a metric per field and frame (``compute()`` of a metric).
    windows : sequence of (start, stop)
        Frame ranges ``start <= t < stop`` with ``0 <= start < stop <= T``, e.g. from
        :func:`log_windows`.

    Returns
    -------
    dict
        ``{"start:stop": (C,) tensor}`` in the order of ``windows`` (The Well's ``T=start:stop``
        keys without the prefix).
    """
    v = torch.as_tensor(values)
    if v.ndim != 2:
        raise ValueError(f"window_means: values must be (C, T), got shape {tuple(v.shape)}")
    n_frames = v.shape[1]
    out: dict[str, Tensor] = {}
    for window in windows:
        start, stop = (int(i) for i in window)
        if not 0 <= start < stop <= n_frames:
            raise ValueError(f"window_means: window ({start}, {stop}) is not a non-empty range "
                             f"of the {n_frames} frames (need 0 <= start < stop <= {n_frames})")
        out[f"{start}:{stop}"] = v[:, start:stop].mean(1)
    return out


# --- spectral bins -----------------------------------------------------------------------------

@lru_cache(maxsize=32)
def spectral_bins(spatial: tuple[int, ...]) -> Tensor:
    """Bin index of every mode of ``fftn`` over a grid, as The Well 1.2.0 assigns it.

    Parameters
    ----------
    spatial : tuple of int
        Grid shape ``(n_1, ..., n_d)``.

    Returns
    -------
    Tensor
        Long, shape ``spatial``: 0, 1 or 2 for the three bins (3 would be beyond the last edge,
        which no mode reaches). Computed in float32 with The Well's expressions, so that modes on
        an edge fall as in The Well (see the module docstring).
    """
    dims = len(spatial)
    edges = torch.logspace(float(np.log10(2 * np.pi / max(spatial))),
                           float(np.log10(np.pi * np.sqrt(dims) + 1e-6)), N_SPECTRAL_BINS + 1,
                           dtype=torch.float32)
    edges[0] = 0.0
    k2 = torch.zeros(spatial, dtype=torch.float32)
    for axis, n in enumerate(spatial):
        wn = 2 * np.pi * torch.fft.fftfreq(n, d=1.0, dtype=torch.float32)
        k2 = k2 + torch.moveaxis(wn.reshape((n,) + (1,) * (dims - 1)), 0, axis) ** 2
    return torch.bucketize(torch.sqrt(k2), edges, right=True) - 1


def _zero_outside(v: Tensor, mask: Tensor) -> Tensor:
    """``v`` where ``mask`` is 1, exactly 0 elsewhere (also where ``v`` is not finite)."""
    return torch.where(mask > 0, v, torch.zeros((), dtype=v.dtype, device=v.device))


# --- metrics -----------------------------------------------------------------------------------

class _WellMetric(_FrameMetric):
    """Mean over samples of a per-(sample, field, frame) value; state ``total`` ``(C, T)``.

    Constructed like every data metric (``Cls(meta)`` or ``Cls(spatial_dims=d,
    field_names=...)``); subclasses define ``_per_sample``.
    """

    #: fewest scored cells per (sample, field, frame) the definition needs
    min_cells: int = 1

    def _add_states(self) -> None:
        self.add_state("total", default=torch.zeros((), dtype=_F64), dist_reduce_fx="sum")

    def update(self, pred: Tensor, target: Tensor, inputs: Any = None,
               mask: Tensor | None = None) -> None:
        """Accumulate a batch.

        Parameters
        ----------
        pred, target : Tensor
            Shape ``(batch, channels, *spatial, time)``, physical units.
        inputs : Any, optional
            Ignored (the signature is shared with the physics metrics).
        mask : Tensor, optional
            Bool, broadcastable to ``pred`` (typically ``(batch, 1, *spatial, 1)``): the cells
            scored (True). ``None`` scores every cell.
        """
        p, y = self._check(pred, target)
        m = self._mask(mask, p.shape)
        self._accumulate("total", self._per_sample(p, y, m).sum(0))
        self.count = self.count + p.shape[0]

    def _mask(self, mask: Any, shape: torch.Size) -> Tensor | None:
        """``mask`` broadcast to ``shape`` as float64 0/1 (``None`` when not given); refuse a
        (sample, field, frame) with fewer than :attr:`min_cells` scored cells."""
        if mask is None:
            n_points = math.prod(shape[2:-1])
            if n_points < self.min_cells:
                raise ValueError(f"{self.name}: needs at least {self.min_cells} grid points "
                                 f"(unbiased variance), the grid is {tuple(shape[2:-1])}")
            return None
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"{self.name}: mask must be a bool tensor (True = scored), got "
                            f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
        try:
            m = torch.broadcast_to(mask.to(self.total.device), shape)
        except RuntimeError:
            raise ValueError(f"{self.name}: mask shape {tuple(mask.shape)} does not broadcast to "
                             f"the prediction's {tuple(shape)}; pass (batch, 1, *spatial, 1)"
                             ) from None
        cells = m.sum(self._space)  # (B, C, T)
        few = cells < self.min_cells
        if bool(few.any()):
            b, c, t = (int(i) for i in few.nonzero()[0])
            need = "an active cell" if self.min_cells == 1 else f"{self.min_cells} active cells"
            raise ValueError(f"{self.name}: sample {b} of this batch has {int(cells[b, c, t])} "
                             f"scored cells in {self._channel(c)}, frame {t}; it needs {need} "
                             "in its geometry mask")
        return m.to(_F64)

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        """The value per (sample, field, frame), ``(B, C, T)``."""
        raise NotImplementedError

    def compute(self) -> Tensor:
        """Return the metric, shape ``(channels, time)``."""
        self._require_data()
        return self.total / self.count

    # spatial reductions over the scored cells: (B, C, *S, T) -> (B, C, T)
    def _sum(self, v: Tensor, mask: Tensor | None) -> Tensor:
        if mask is None:
            return v.sum(self._space)
        return _zero_outside(v, mask).sum(self._space)

    def _cells(self, v: Tensor, mask: Tensor | None) -> Tensor | float:
        return float(math.prod(v.shape[2:-1])) if mask is None else mask.sum(self._space)

    def _mean(self, v: Tensor, mask: Tensor | None) -> Tensor:
        return self._sum(v, mask) / self._cells(v, mask)

    def _centred(self, v: Tensor, mask: Tensor | None) -> Tensor:
        """``v`` minus its spatial mean over the scored cells."""
        return v - self._mean(v, mask).reshape(
            v.shape[:2] + (1,) * self.spatial_dims + v.shape[-1:])

    def _var(self, v: Tensor, mask: Tensor | None) -> Tensor:
        """Unbiased variance over the scored cells, 1 / (n - 1)."""
        return self._sum(self._centred(v, mask).square(), mask) / (self._cells(v, mask) - 1)

    def _mse(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mean((pred - target).square(), mask)


class WellMSE(_WellMetric):
    """Mean squared error of The Well, ``well/mse`` (``the_well`` ``MSE``).

    ``mse[c, t] = mean_b mean_x D[b, c, x, t]^2``. Reduction: mean over the spatial points (the
    scored ones) per (sample, field, frame), then mean over samples. Units: field units squared.
    """

    name = "well/mse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mse(pred, target, mask)


class WellRMSE(_WellMetric):
    """Root-mean-square error of The Well, ``well/rmse`` (``the_well`` ``RMSE``).

    ``rmse[c, t] = mean_b sqrt(mean_x D^2)``: the square root per (sample, field, frame), then
    the mean over samples. Units: those of the field.
    """

    name = "well/rmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mse(pred, target, mask).sqrt()


class WellMAE(_WellMetric):
    """Mean absolute error of The Well, ``well/mae`` (``the_well`` ``MAE``).

    ``mae[c, t] = mean_b mean_x |D|``. Units: those of the field.
    """

    name = "well/mae"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mean((pred - target).abs(), mask)


class WellNMAE(_WellMetric):
    """Normalised mean absolute error of The Well, ``well/nmae`` (``the_well`` ``NMAE``).

    ``nmae[c, t] = mean_b [ mean_x |D| / (mean_x |Y| + 1e-7) ]``: the ratio per (sample, field,
    frame), then the mean over samples. Dimensionless (for fields of order one; the eps is
    absolute, in field units).
    """

    name = "well/nmae"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mean((pred - target).abs(), mask) / (self._mean(target.abs(), mask) + EPS)


class WellNMSE(_WellMetric):
    """Normalised mean squared error of The Well, ``well/nmse`` (``the_well`` ``NMSE``).

    ``nmse[c, t] = mean_b [ mean_x D^2 / (mean_x Y^2 + 1e-7) ]``. Dimensionless.
    """

    name = "well/nmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mse(pred, target, mask) / (self._mean(target.square(), mask) + EPS)


class WellNRMSE(_WellMetric):
    """Normalised RMSE of The Well, ``well/nrmse`` (``the_well`` ``NRMSE``).

    ``nrmse[c, t] = mean_b sqrt(mean_x D^2 / (mean_x Y^2 + 1e-7))``: the square root per
    (sample, field, frame), then the mean over samples. Dimensionless.
    """

    name = "well/nrmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return (self._mse(pred, target, mask) / (self._mean(target.square(), mask) + EPS)).sqrt()


class WellVMSE(_WellMetric):
    """Variance-scaled mean squared error of The Well, ``well/vmse`` (``the_well`` ``VMSE``).

    ``vmse[c, t] = mean_b [ mean_x D^2 / (var_x Y + 1e-7) ]`` with the unbiased spatial variance
    ``var_x Y = sum_x (Y - mean_x Y)^2 / (N - 1)``. Predicting the spatial mean of Y gives
    ``(N - 1) / N``. Dimensionless. Needs at least two (scored) points.
    """

    name = "well/vmse"
    min_cells = 2

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mse(pred, target, mask) / (self._var(target, mask) + EPS)


class WellVRMSE(_WellMetric):
    """Variance-scaled RMSE of The Well, ``well/vrmse`` (``the_well`` ``VRMSE``), its headline.

    ``vrmse[c, t] = mean_b sqrt(mean_x D^2 / (var_x Y + 1e-7))``, unbiased variance; the square
    root per (sample, field, frame), then the mean over samples. Predicting the spatial mean of Y
    scores ``sqrt((N - 1) / N)``, about 1. Dimensionless. Needs at least two (scored) points.
    """

    name = "well/vrmse"
    min_cells = 2

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return (self._mse(pred, target, mask) / (self._var(target, mask) + EPS)).sqrt()


class WellLInf(_WellMetric):
    """L-infinity error of The Well, ``well/linf`` (``the_well`` ``LInfinity``).

    ``linf[c, t] = mean_b max_x |D|``: the maximum over the (scored) spatial points per (sample,
    field, frame), then the **mean** over samples (unlike ``pdebench/max_error``, a maximum over
    samples). Units: those of the field.
    """

    name = "well/linf"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        err = (pred - target).abs()
        if mask is not None:  # |D| >= 0: zero outside leaves the maximum over the inside
            err = _zero_outside(err, mask)
        return err.amax(self._space)


class WellPearsonR(_WellMetric):
    """Pearson correlation of The Well, ``well/pearson_r`` (``the_well`` ``PearsonR``).

    ``pearson_r[c, t] = mean_b [ cov_x(P, Y) / (std_x P * std_x Y + 1e-7) ]`` with the population
    covariance ``mean_x (P - mean_x P)(Y - mean_x Y)`` and the unbiased standard deviations, as
    The Well computes it: an exact linear relation P = a Y + b (a > 0) scores ``(N - 1) / N``.
    Dimensionless; higher is better. Needs at least two (scored) points.
    """

    name = "well/pearson_r"
    higher_is_better = True
    min_cells = 2

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        cov = self._mean(self._centred(pred, mask) * self._centred(target, mask), mask)
        std = self._var(pred, mask).sqrt() * self._var(target, mask).sqrt()
        return cov / (std + EPS)


class _WellSpectral(_WellMetric):
    """Error energy in one isotropic wavenumber bin (see the module docstring)."""

    bin: int = 0
    normalised: bool = False

    def _bin_energy(self, v: Tensor, mask: Tensor | None, bins: Tensor) -> Tensor:
        """``sum_{k in bin} |F(v M)_k|^2 / (N n_m)``, ``(B, C, T)``."""
        if mask is not None:
            v = _zero_outside(v, mask)
        power = torch.fft.fftn(v, dim=self._space).abs().square()
        power = power.movedim(-1, 2).flatten(3)  # (B, C, T, modes)
        n_points = power.shape[-1]
        return power[..., bins == self.bin].sum(-1) / (n_points * self._cells(v, mask))

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        bins = spectral_bins(tuple(pred.shape[2:-1])).reshape(-1).to(pred.device)
        err = self._bin_energy(pred - target, mask, bins)
        if not self.normalised:
            return err
        return err / (self._bin_energy(target, mask, bins) + EPS)


_SPECTRAL_DOC = """{kind} of The Well in wavenumber bin {bin}, ``well/{name}`` (``the_well``
    ``binned_spectral_mse``, key ``spectral_error_{key}_per_bin_{bin}``).

    ``E_b(V) = sum over the modes k of bin {bin} of |F(V)_k|^2 / N^2`` per (sample, field,
    frame), F the unnormalised ``fftn`` over space; {formula}; then the mean over samples. Bins:
    the module docstring ({bin}: {where}). {units}
    """


def _spectral(bin_: int, normalised: bool) -> type[_WellSpectral]:
    key = "nmse" if normalised else "mse"
    name = f"spectral_{key}_bin{bin_}"
    where = ("the lowest wavenumbers, |k| below the second edge",
             "the middle wavenumbers", "the highest wavenumbers up to pi sqrt(d)")[bin_]
    formula = ("value = E_b(D) / (E_b(Y) + 1e-7)" if normalised
               else "value = E_b(D); the three bins sum to ``well/mse`` (Parseval)")
    units = "Dimensionless." if normalised else "Units: field units squared."
    cls = type(f"WellSpectral{key.upper()}Bin{bin_}", (_WellSpectral,), {
        "__doc__": _SPECTRAL_DOC.format(kind="Normalised spectral MSE" if normalised
                                        else "Spectral MSE", bin=bin_, name=name, key=key,
                                        formula=formula, where=where, units=units),
        "__module__": __name__, "name": f"well/{name}", "bin": bin_, "normalised": normalised,
    })
    return cls


WellSpectralMSEBin0 = _spectral(0, False)
WellSpectralMSEBin1 = _spectral(1, False)
WellSpectralMSEBin2 = _spectral(2, False)
WellSpectralNMSEBin0 = _spectral(0, True)
WellSpectralNMSEBin1 = _spectral(1, True)
WellSpectralNMSEBin2 = _spectral(2, True)

#: Registry name -> (metric class, one-line description), for ``pdebench.metrics.register``.
FACTORIES: dict[str, tuple[type[Metric], str]] = {
    "well/mse": (WellMSE, "The Well MSE: mean over samples of mean_x D^2"),
    "well/rmse": (WellRMSE, "The Well RMSE: mean over samples of sqrt(mean_x D^2)"),
    "well/mae": (WellMAE, "The Well MAE: mean over samples of mean_x |D|"),
    "well/nmae": (WellNMAE, "The Well nMAE: mean_x |D| / (mean_x |Y| + 1e-7), mean over samples"),
    "well/nmse": (WellNMSE, "The Well nMSE: mean_x D^2 / (mean_x Y^2 + 1e-7), mean over samples"),
    "well/nrmse": (WellNRMSE, "The Well nRMSE: sqrt of the nMSE per sample, mean over samples"),
    "well/vmse": (WellVMSE, "The Well VMSE: mean_x D^2 / (unbiased var_x Y + 1e-7)"),
    "well/vrmse": (WellVRMSE, "The Well VRMSE: sqrt(mean_x D^2 / (unbiased var_x Y + 1e-7))"),
    "well/linf": (WellLInf, "The Well L-infinity: mean over samples of max_x |D|"),
    "well/pearson_r": (WellPearsonR, "The Well Pearson r: cov_x(P, Y) / (std P std Y + 1e-7)"),
}
for _cls in (WellSpectralMSEBin0, WellSpectralMSEBin1, WellSpectralMSEBin2,
             WellSpectralNMSEBin0, WellSpectralNMSEBin1, WellSpectralNMSEBin2):
    FACTORIES[_cls.name] = (
        _cls, f"The Well {'normalised ' if _cls.normalised else ''}spectral MSE, isotropic "
              f"wavenumber bin {_cls.bin} of 3")
