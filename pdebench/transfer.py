"""Transfer for any system: start from another run's model weights (``init_from``) and keep some
parameters fixed (``freeze``).

``init_from`` names a pdebench Lightning checkpoint, or a run directory (then its best
checkpoint ``checkpoints/best-*.ckpt``, else ``checkpoints/last.ckpt``). Only the **model**
weights are taken: the entries under ``model.`` of the checkpoint's state dict (parameters and
buffers such as batch-norm statistics). The optimiser state, the schedule and the normalisers'
statistics are not: the new run fits its normalisers on its own training split (the target
data of a transfer study), and its optimiser starts afresh.

``freeze`` is a list of :func:`fnmatch.fnmatchcase` patterns over the model's parameter names
(``model.named_parameters()``, e.g. ``"branch.cnn.*"``); matching parameters get
``requires_grad=False``. They then receive no gradient, and every torch optimiser skips a
parameter whose ``grad`` is ``None`` (AdamW's decoupled weight decay included), so frozen
weights stay bit-identical. Buffers (batch-norm running statistics) are not parameters and keep
updating in training mode.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["TransferError", "apply_freeze", "load_model_weights", "resolve_checkpoint"]

#: Names shown in an error message that lists parameters or layers.
SHOW = 6


class TransferError(ValueError):
    """``init_from`` or ``freeze`` cannot be applied (run.py raises it as a ConfigError)."""


def resolve_checkpoint(path: str | Path) -> Path:
    """The checkpoint file ``init_from`` names: the file itself, or the best (else last)
    checkpoint of a run directory (or of its ``checkpoints/`` folder).

    Raises
    ------
    TransferError
        No such file or directory, or a directory with no checkpoint.
    """
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.exists():
        raise TransferError(f"init_from={path}: no such file or directory (a pdebench "
                            "checkpoint .ckpt, or a run directory with checkpoints/)")
    folder = p / "checkpoints" if (p / "checkpoints").is_dir() else p
    best = sorted(folder.glob("best-*.ckpt"), key=lambda f: f.stat().st_mtime)
    if best:
        return best[-1]
    if (folder / "last.ckpt").is_file():
        return folder / "last.ckpt"
    raise TransferError(f"init_from={path}: a directory without checkpoints (looked for "
                        f"{folder}/best-*.ckpt and {folder}/last.ckpt)")


def _read(path: Path, key: str) -> dict[str, Any]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TransferError(f"{key}={path}: not a readable checkpoint ({exc})") from None
    if not isinstance(ckpt, dict) or not ckpt.get("pdebench") or "state_dict" not in ckpt:
        raise TransferError(f"{key}={path}: not a pdebench checkpoint (no 'pdebench' identity "
                            "or no 'state_dict'); pass a checkpoint written by a pdebench run")
    return ckpt


def load_model_weights(model: nn.Module, path: str | Path, key: str = "init_from"
                       ) -> dict[str, Any]:
    """Load the ``model.`` entries of a pdebench checkpoint into ``model`` (strictly).

    Parameters
    ----------
    model : nn.Module
        The run's model (the system's ``model`` attribute).
    path : str or Path
        A checkpoint file or a run directory (:func:`resolve_checkpoint`).
    key : str
        The config key named in messages.

    Returns
    -------
    dict
        ``{"path": checkpoint file, "identity": the checkpoint's pdebench identity}``.

    Raises
    ------
    TransferError
        Missing file, not a pdebench checkpoint, or the checkpoint's model layers do not match
        ``model``'s (names missing on either side, or shapes; the first few of each are named).
    """
    file = resolve_checkpoint(path)
    ckpt = _read(file, key)
    theirs = {k.removeprefix("model."): v for k, v in ckpt["state_dict"].items()
              if k.startswith("model.")}
    ours = model.state_dict()
    origin = ckpt["pdebench"].get("model", "?")
    where = f"{key}={file} (model {origin!r})"
    if not theirs:
        raise TransferError(f"{where}: the checkpoint holds no model weights (no 'model.' "
                            "entries in its state_dict)")
    missing = [k for k in ours if k not in theirs]
    unexpected = [k for k in theirs if k not in ours]
    shapes = [f"{k}: checkpoint {tuple(theirs[k].shape)} vs model {tuple(v.shape)}"
              for k, v in ours.items() if k in theirs and tuple(theirs[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append(f"{len(shapes)} layer(s) differ in shape ({'; '.join(shapes[:SHOW])})")
        if missing:
            parts.append(f"{len(missing)} in the model but not in the checkpoint "
                         f"({', '.join(missing[:SHOW])})")
        if unexpected:
            parts.append(f"{len(unexpected)} in the checkpoint but not in the model "
                         f"({', '.join(unexpected[:SHOW])})")
        raise TransferError(f"{where}: its layers do not match this model: "
                            f"{'; '.join(parts)}. Use a checkpoint of the same model with the "
                            "same options and data channels")
    model.load_state_dict(theirs, strict=True)
    return {"path": str(file), "identity": dict(ckpt["pdebench"])}


def apply_freeze(model: nn.Module, patterns: Sequence[str], key: str = "freeze"
                 ) -> dict[str, Any]:
    """Set ``requires_grad=False`` on the parameters whose names match any of ``patterns``.

    Returns
    -------
    dict
        ``{"patterns": [...], "n_tensors": frozen parameter tensors, "n_parameters": frozen
        scalar parameters}`` (all zero for an empty list).

    Raises
    ------
    TransferError
        ``patterns`` not a list of strings; a pattern that matches no parameter (a few names
        are listed); patterns that freeze every trainable parameter.
    """
    if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) for p in patterns):
        raise TransferError(f"{key} must be a list of parameter-name patterns (e.g. "
                            f"{key}=[branch.cnn.*]), got {patterns!r}")
    patterns = list(patterns)
    named = dict(model.named_parameters())
    names = list(named)
    chosen: set[str] = set()
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits and not names:
            raise TransferError(f"{key}: pattern {pattern!r} given, but the model has no "
                                "parameters")
        if not hits:
            tops = list(dict.fromkeys(n.split(".")[0] for n in names))
            counts = ", ".join(f"{t}.* ({sum(n.split('.')[0] == t for n in names)})"
                               for t in tops)
            raise TransferError(
                f"{key}: pattern {pattern!r} matches no parameter of the model; its "
                f"{len(names)} parameters are named like {', '.join(names[:SHOW])}"
                f"{', ...' if len(names) > SHOW else ''}; by top-level module: {counts} "
                "(fnmatch patterns over these names)")
        chosen.update(hits)
    trainable = {n for n, p in named.items() if p.requires_grad}
    if patterns and trainable and trainable <= chosen:
        raise TransferError(f"{key}={patterns} freezes every parameter of the model: nothing "
                            "would be trained; leave some layers out of the patterns")
    for n in chosen:
        named[n].requires_grad_(False)
    return {"patterns": patterns, "n_tensors": len(chosen),
            "n_parameters": int(sum(named[n].numel() for n in chosen))}
