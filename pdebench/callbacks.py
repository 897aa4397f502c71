"""Lightning callbacks of the harness."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

import lightning as L
from lightning.pytorch.callbacks import Callback

__all__ = ["EpochLines"]


class EpochLines(Callback):
    """One readable line per epoch, for logs that are not a terminal (CI, ``nohup``, sweeps).

    ``epoch 3/20  train/loss 0.0712  val/loss 0.0804  val/pdebench/nrmse 0.0804  12.9 s``: the last
    training loss, the validation loss and the checkpoint's monitored metric, and the epoch's wall
    time. Printed by rank 0 only.

    Parameters
    ----------
    monitor : str, optional
        The metric model selection watches (shown after the losses).
    file : text stream, optional
        Where to print (default: standard output).
    """

    def __init__(self, monitor: str | None = None, file: IO[str] | None = None) -> None:
        self.monitor = monitor
        self.file = file
        self._t0 = time.monotonic()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or trainer.sanity_checking:
            return
        metrics: dict[str, Any] = trainer.callback_metrics
        keys = [k for k in ("train/loss", "val/loss", self.monitor) if k and k in metrics]
        keys = list(dict.fromkeys(keys))
        shown = "  ".join(f"{k} {float(metrics[k]):.4g}" for k in keys)
        total = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        print(f"epoch {trainer.current_epoch + 1}{total}  {shown}  "
              f"{time.monotonic() - self._t0:.1f} s", file=self.file or sys.stdout, flush=True)
