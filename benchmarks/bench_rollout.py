"""Rollout evaluation throughput of ``system=rollout``'s test loop against a plain PyTorch loop
doing the same rollout with the same model and data (goal: harness / plain >= 0.9).

Usage: ``python benchmarks/bench_rollout.py [--trajectories N] [--resolution R] [--frames T]
[--batch-size B] [--history H] [--n-out K] [--repeats K] [--threads T] [--data-dir DIR]``
(defaults: N = 32 test trajectories, R = 256, T = 41, B = 16, H = 1, K = 1, 3 repeats,
1 thread; DIR defaults to ``$PDEBENCH_DATA``, else a temporary folder removed afterwards; the
Burgers data are generated there on first use, untimed).

Compared, on CPU:

* ``harness``: ``trainer.test`` of the :class:`~pdebench.systems.rollout.RolloutSystem` built
  through the run's own path (``compose`` -> ``build_datasets`` -> ``model_meta`` ->
  ``build_model`` -> ``build_system`` -> ``system.datamodule``), on a ``lightning.Trainer``
  without logger, checkpointing or progress bar: every test trajectory rolled out from its
  first ``H`` frames to its last frame, the per-frame metric accumulated
  (``metrics.names=[pdebench/nrmse] metrics.physics=false``, so that both ways do the same
  scoring work), the per-window and per-step tables computed at the end.
* ``plain``: a hand-written loop over a ``DataLoader`` of the same whole-trajectory samples:
  normalise the window with the same per-field statistics, call the same model ``ceil((T - H) /
  K)`` times feeding its outputs back, de-normalise, accumulate nRMSE per (field, frame).

Both run under ``torch.no_grad`` (Lightning's test loop uses ``inference_mode``) from the same
untrained weights (an FNO of ``conf/model/fno.yaml``); the two nRMSE values are compared as a
check that they did the same work. The ways alternate K times after one untimed warm-up each;
the median of each is reported as trajectories/s and frames/s, with the ratio.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from pdebench.config import compose
from pdebench.run import build_datasets, build_model, build_system, system_class


def build(args: argparse.Namespace, data_dir: str):
    """The system and its rollout data module, built as ``run(cfg)`` builds them."""
    n = args.trajectories
    total = 2 * n + 4  # train: n, val: 4, test: n (counts)
    cfg = compose([
        "data=burgers", "model=fno", "system=rollout", "logger=none",
        f"data.n_samples={total}", f"data.resolution={args.resolution}",
        f"data.n_frames={args.frames}", f"data.history={args.history}",
        f"system.n_out={args.n_out}", f"data.loader.batch_size={args.batch_size}",
        f"data.split.train={n}", "data.split.val=4", f"data.split.test={n}",
        f"paths.data_dir={data_dir}", "metrics.names=[pdebench/nrmse]", "metrics.physics=false",
    ])
    cls = system_class(cfg)
    datamodules = build_datasets(cfg)
    metas = {k: dm.meta for k, dm in datamodules.items()}
    node = {k: v for k, v in cfg.system.items() if k not in ("name", "tiny")}
    torch.manual_seed(0)
    model = build_model(cfg, cls.model_meta(metas, node=node))
    system = build_system(cfg, cls, model, metas)
    dm = system.datamodule(datamodules)
    dm.prepare_data()
    dm.setup("test")
    system.set_normalizers({k: d.stats for k, d in datamodules.items()})
    system.eval()
    return system, dm


def harness(system, dm) -> tuple[float, float]:
    """Seconds of ``trainer.test`` and the test nRMSE."""
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    t0 = time.perf_counter()
    trainer.test(system, datamodule=dm, verbose=False)
    dt = time.perf_counter() - t0
    return dt, system.test_results["metrics"]["pdebench/nrmse"]


def plain(system, dm) -> tuple[float, float]:
    """Seconds of a hand-written rollout loop over the same test trajectories, and its nRMSE."""
    model = system.model
    h, k = system.history, system.n_out
    c = len(system.fields)
    mean = system.frame_norm.mean.view(1, 1, c, 1)
    std = system.frame_norm.std.clamp_min(system.frame_norm.eps).view(1, 1, c, 1)
    total = None
    count = 0
    t0 = time.perf_counter()
    loader = DataLoader(dm.sets["test"], batch_size=dm.inner.eval_batch_size, shuffle=False)
    with torch.no_grad():
        for batch in loader:
            x, y = batch["x"], batch["y"]  # (B, h C, X), (B, C, X, T)
            b, n_t = x.shape[0], y.shape[-1]
            window = (x.reshape(b, h, c, -1) - mean) / std
            outs = []
            for _ in range(-(-n_t // k)):
                out = model(window.flatten(1, 2)).reshape(b, k, c, -1)
                outs.append(out)
                window = torch.cat([window, out], 1)[:, -h:]
            pred = (torch.cat(outs, 1)[:, :n_t] * std + mean).permute(0, 2, 3, 1)
            num = (pred.double() - y.double()).square().mean(2).sqrt()
            den = y.double().square().mean(2).sqrt()
            per = (num / den).sum(0)  # (C, T)
            total = per if total is None else total + per
            count += b
    dt = time.perf_counter() - t0
    return dt, float((total / count).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trajectories", type=int, default=32)
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--frames", type=int, default=41)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--history", type=int, default=1)
    p.add_argument("--n-out", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=os.environ.get("PDEBENCH_DATA"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        system, dm = build(args, args.data_dir or str(Path(tmp) / "data"))
        n_traj = len(dm.sets["test"])
        n_frames = n_traj * (args.frames - args.history)
        print(f"rollout evaluation: burgers {n_traj} test trajectories x "
              f"{args.frames - args.history} predicted frames at {args.resolution} points, "
              f"history {args.history}, n_out {args.n_out}, batch {args.batch_size}, "
              f"{args.threads} thread(s), median of {args.repeats}; load average "
              f"{os.getloadavg()[0]:.2f}", flush=True)
        harness(system, dm)  # warm-up, untimed
        plain(system, dm)
        times: dict[str, list[float]] = {"harness": [], "plain": []}
        scores = {}
        for _ in range(args.repeats):
            for name, way in (("harness", harness), ("plain", plain)):
                dt, score = way(system, dm)
                times[name].append(dt)
                scores[name] = score
        med = {k: statistics.median(v) for k, v in times.items()}
        for name in ("harness", "plain"):
            print(f"  {name:8s} {med[name]:8.3f} s  {n_traj / med[name]:8.2f} trajectories/s  "
                  f"{n_frames / med[name]:9.1f} frames/s  nRMSE {scores[name]:.6g}  "
                  f"(runs: {', '.join(f'{t:.3f}' for t in times[name])})")
        ratio = med["plain"] / med["harness"]
        print(f"  throughput harness / plain: {ratio:.2f} (goal >= 0.9); nRMSE agree to "
              f"{abs(scores['harness'] - scores['plain']) / abs(scores['plain']):.1e} "
              f"(relative); load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
