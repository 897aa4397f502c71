"""The figure of a rollout run: error versus step, and one trajectory's rollout."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pdebench.data.meta import DatasetMeta
from pdebench.plots import _save

#: Metrics drawn on the error-versus-step panel, when the run measured them (else the first
#: three of the curve).
CURVE_METRICS = ("pdebench/nrmse", "rel_l2", "pdebench/rmse")
#: Steps of a 2D trajectory shown as images.
N_SNAPSHOTS = 4


def plot_rollout(curve: Mapping[str, Any], reference: torch.Tensor, prediction: torch.Tensor,
                 meta: DatasetMeta, path: str | Path, title: str = "") -> Path:
    """Save ``rollout.png``.

    Parameters
    ----------
    curve : mapping
        ``rollout_curve`` of the record: ``"step"`` and per metric its value per step.
    reference, prediction : Tensor (C, *spatial, T)
        One test trajectory's predicted frames and the rollout, physical units.
    meta : DatasetMeta
        Field names and dimensions (1D: space-time images; 2D: a few steps; otherwise the
        curve alone).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fields = meta.output_fields
    n_t = reference.shape[-1]
    dims = meta.spatial_dims
    if dims == 1:
        cols = 3
    elif dims == 2:
        steps = sorted({int(round(s)) for s in torch.linspace(0, n_t - 1, N_SNAPSHOTS).tolist()})
        cols = len(steps)
    else:
        cols = 1
    rows = 1 + (len(fields) * (1 if dims == 1 else 3) if dims in (1, 2) else 0)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    ax = axes[0, 0]
    names = [n for n in CURVE_METRICS if n in curve] or \
        [n for n in curve if n != "step"][:len(CURVE_METRICS)]
    for name in names:
        ax.plot(curve["step"], curve[name], marker=".", label=name)
    if names and all(v > 0 for n in names for v in curve[n]):
        ax.set_yscale("log")
    ax.set_xlabel("rollout step")
    ax.set_ylabel("test metric")
    if names:
        ax.legend(fontsize=7)
    for extra in axes[0, 1:]:
        extra.axis("off")
    ref, pred = reference.float(), prediction.float()
    for c, field in enumerate(fields):
        if dims == 1:
            row = axes[1 + c]
            lo, hi = float(ref[c].min()), float(ref[c].max())
            for a, img, label in ((row[0], ref[c], "reference"), (row[1], pred[c], "prediction"),
                                  (row[2], (pred[c] - ref[c]).abs(), "|error|")):
                kw = {"vmin": lo, "vmax": hi} if label != "|error|" else {}
                im = a.imshow(img.T, origin="lower", aspect="auto",
                              extent=(0, img.shape[0], 0.5, n_t + 0.5), **kw)
                a.set_title(f"{field}: {label}", fontsize=8)
                a.set_xlabel("x")
                a.set_ylabel("step")
                fig.colorbar(im, ax=a)
        elif dims == 2:
            for j, s in enumerate(steps):
                lo, hi = float(ref[c, ..., s].min()), float(ref[c, ..., s].max())
                for k, (img, label) in enumerate(((ref[c, ..., s], "reference"),
                                                  (pred[c, ..., s], "prediction"),
                                                  ((pred[c, ..., s] - ref[c, ..., s]).abs(),
                                                   "|error|"))):
                    a = axes[1 + 3 * c + k, j]
                    kw = {"vmin": lo, "vmax": hi} if label != "|error|" else {}
                    im = a.imshow(img.T, origin="lower", **kw)
                    a.set_title(f"{field} step {s + 1}: {label}", fontsize=8)
                    a.set_xticks([])
                    a.set_yticks([])
                    fig.colorbar(im, ax=a)
    return _save(fig, path, title)
