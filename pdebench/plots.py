"""Figures a researcher looks at after a run: inputs, targets, predictions and errors."""

from __future__ import annotations

from pathlib import Path

import torch

from pdebench.data.meta import DatasetMeta


def _save(fig, path: str | Path, title: str) -> Path:
    """Title, lay out and write ``fig`` as a PNG through a temporary file (atomic)."""
    import matplotlib.pyplot as plt

    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_predictions(x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor, meta: DatasetMeta,
                     path: str | Path, title: str = "") -> Path | None:
    """Save a grid of panels for a few test samples: each input field, then per output field the
    target, the prediction and the absolute error (shared colour scale for target/prediction).

    Parameters
    ----------
    x : (n, C_in, H, W), y, pred : (n, C_out, H, W)
        Physical units; ``n`` samples (rows).
    path : where the PNG goes; written through a temporary file and renamed.

    Returns the path, or ``None`` for data that is not 2D (nothing is written).
    """
    if meta.spatial_dims != 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, pred = (t.detach().float().cpu().numpy() for t in (x, y, pred))
    n = x.shape[0]
    cols = [(f"input {f}", x[:, i], "viridis") for i, f in enumerate(meta.input_fields)]
    for i, f in enumerate(meta.output_fields):
        cols += [(f"target {f}", y[:, i], "viridis"), (f"predicted {f}", pred[:, i], "viridis"),
                 (f"|error| {f}", abs(pred[:, i] - y[:, i]), "magma")]
    fig, axes = plt.subplots(n, len(cols), figsize=(2.4 * len(cols), 2.3 * n), squeeze=False)
    for c, (label, data, cmap) in enumerate(cols):
        for r in range(n):
            lim = {}
            if label.startswith(("target", "predicted")):
                field = label.split(" ", 1)[1]
                k = meta.output_fields.index(field)
                lim = {"vmin": float(y[r, k].min()), "vmax": float(y[r, k].max())}
            im = axes[r, c].imshow(data[r], origin="lower", cmap=cmap, **lim)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            fig.colorbar(im, ax=axes[r, c], fraction=0.046, pad=0.04)
            if r == 0:
                axes[r, c].set_title(label, fontsize=9)
    return _save(fig, path, title)


def plot_instance(reference: torch.Tensor, prediction: torch.Tensor, fields: tuple[str, ...],
                  time_dependent: bool, path: str | Path, title: str = "") -> Path | None:
    """One row per field: reference, prediction (shared colour scale) and absolute error of a
    solved problem instance.

    Parameters
    ----------
    reference, prediction : (C, *spatial) or (C, *spatial, T)
        Physical units. 2D fields are drawn as images (x across, y up); 1D fields in time as
        space-time images (x across, t up); 2D and 3D fields in time by their last frame; 3D
        fields by their middle slice along the last axis.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref, pred = (t.detach().float().cpu() for t in (reference, prediction))
    if time_dependent and ref.ndim > 3:  # 2D in time: the last frame ((C, X, T) stays an image)
        ref, pred = ref[..., -1], pred[..., -1]
    if ref.ndim == 4:  # 3D: middle slice
        ref, pred = ref[..., ref.shape[-1] // 2], pred[..., pred.shape[-1] // 2]
    if ref.ndim != 3:
        return None
    n = ref.shape[0]
    fig, axes = plt.subplots(n, 3, figsize=(8.2, 2.4 * n), squeeze=False)
    for i, f in enumerate(fields):
        lim = {"vmin": float(ref[i].min()), "vmax": float(ref[i].max())}
        for j, (label, data, cmap, kw) in enumerate((
                (f"reference {f}", ref[i], "viridis", lim),
                (f"prediction {f}", pred[i], "viridis", lim),
                (f"|error| {f}", (pred[i] - ref[i]).abs(), "magma", {}))):
            im = axes[i, j].imshow(data.T.numpy(), origin="lower", cmap=cmap, aspect="auto", **kw)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            axes[i, j].set_title(label, fontsize=9)
            fig.colorbar(im, ax=axes[i, j], fraction=0.046, pad=0.04)
    return _save(fig, path, title)
