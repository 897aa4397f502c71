"""Training throughput of registered grid models in the harness against a plain PyTorch loop.

Usage: ``python benchmarks/bench_zoo_training.py [--models unet,fno,deeponet] [--data darcy]
[--steps N] [--warmup W] [--batch-size B] [--resolution R] [--samples S] [--repeats K]
[--threads T] [--data-dir DIR]`` (defaults: models unet,fno; data darcy; N = 60, W = 5,
B = 16, R = 32, S = 128, K = 3; T = torch's own choice; DIR: ``$PDEBENCH_DATA``, else a temporary
folder removed afterwards, where the data are generated on first use, untimed). On a shared
machine pass ``--threads 1`` (see ``bench_training.py``).

Every model is built through the registry from its own ``conf/model/<name>.yaml`` (``model=<name>``
composed with the harness config), so any registered field-to-field model works without changes
here. For each model the two ways do the same work, as ``bench_training.py`` defines it (its
``run_harness`` and ``run_plain`` are reused unchanged):

* ``harness``: ``build_system`` of ``pdebench.run`` fitted by the ``lightning.Trainer`` of
  ``cfg.trainer`` with ``max_steps = W + N``, no validation, logger or checkpointing;
* ``plain``: a hand-written loop over a ``DataLoader`` of the same training samples with the same
  normalisers, relative-L2 loss on de-normalised fields, AdamW and ``cosine_schedule``.

Both start from the same initial weights (checked). Only the N steps after W warm-up steps are
timed; the two ways alternate K times (order rotated) and the median samples/s of each is
reported with the ratio harness/plain, and the median of the K per-repeat ratios (the two runs of
a repeat are back to back, so that ratio is less exposed to a changing machine load); goal >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import torch
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run
from bench_training import LOSS_TOLERANCE, Bench, Timing, _quiet, run_harness, run_plain
from omegaconf import DictConfig
from torch.utils.data import Subset

from pdebench.config import compose
from pdebench.data.splits import split_counts
from pdebench.registry import MODELS
from pdebench.run import build_data, build_model

WAYS = {"plain": run_plain, "harness": run_harness}


def make_config(model: str, args: argparse.Namespace) -> DictConfig:
    """The harness config of one model: its registry config, the bench's data and schedule."""
    base = compose([f"data={args.data}"])
    split = base.data.split
    n_train, n_val, n_test = split_counts(args.samples, split.train, split.val, split.test,
                                          "benchmark dataset")
    n_train = n_train // args.batch_size * args.batch_size
    if n_train < args.batch_size:
        raise SystemExit(f"--samples {args.samples} leaves fewer than one batch of "
                         f"{args.batch_size} for training")
    return compose([
        f"model={model}", f"data={args.data}", "system=operator", "system.loss=rel_l2",
        "logger=none", f"data.n_samples={args.samples}", f"data.resolution={args.resolution}",
        f"data.loader.batch_size={args.batch_size}", "data.loader.num_workers=0",
        f"data.split.train={n_train}", f"data.split.val={n_val}", f"data.split.test={n_test}",
        "trainer.accelerator=cpu", "trainer.devices=1", "trainer.max_epochs=-1",
        f"++trainer.max_steps={args.warmup + args.steps}", "++trainer.limit_val_batches=0",
        "++trainer.num_sanity_val_steps=0", "++trainer.enable_checkpointing=false",
        "trainer.enable_progress_bar=false",
    ])


def bench_model(model: str, args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    """Time one model both ways; print and return the median rates and their ratio."""
    cfg = make_config(model, args)
    seed = int(cfg.seed)
    datamodule = build_data(cfg)
    datamodule.prepare_data()  # generates the data on first use (not timed)
    datamodule.setup("fit")
    torch.manual_seed(seed)
    init = [p.detach().clone() for p in build_model(cfg, datamodule.meta).parameters()]
    bench = Bench(cfg=cfg, datamodule=datamodule,
                  train_set=Subset(datamodule.dataset, datamodule.indices["train"].tolist()),
                  init=init, seed=seed, warmup=args.warmup, steps=args.steps,
                  batch_size=args.batch_size, root=scratch)
    res = "x".join(str(r) for r in datamodule.meta.resolution)
    print(f"model={model}: {sum(p.numel() for p in init):,} parameters, data={args.data} {res}, "
          f"train split {datamodule.split_sizes['train']}, batch {args.batch_size}, "
          f"{args.steps} timed steps after {args.warmup} warm-up", flush=True)
    results: dict[str, list[Timing]] = {w: [] for w in WAYS}
    names = list(WAYS)
    for r in range(args.repeats):
        order = names[r % 2:] + names[:r % 2]
        for way in order:
            results[way].append(WAYS[way](bench))
        print(f"  repeat {r + 1}/{args.repeats} (samples/s, in run order): "
              + "  ".join(f"{w} {results[w][-1].rate:8.1f}" for w in order), flush=True)
    rate = {w: statistics.median(t.rate for t in ts) for w, ts in results.items()}
    final = {w: statistics.median(t.final_loss for t in ts) for w, ts in results.items()}
    same_init = all(t.same_init for ts in results.values() for t in ts)
    spread = max(final.values()) / min(final.values())
    ratio = rate["harness"] / rate["plain"]
    # each repeat runs the two ways back to back, so their ratio sees (nearly) the same load
    paired = statistics.median(h.rate / p.rate for h, p in zip(results["harness"],
                                                                 results["plain"], strict=True))
    print(f"  median samples/s: plain {rate['plain']:.1f}, harness {rate['harness']:.1f}; "
          f"ratio harness/plain {ratio:.2f}, median of the per-repeat ratios {paired:.2f} "
          "(goal >= 0.9)")
    print(f"  same initial weights: {'yes' if same_init else 'NO'}; final training loss plain "
          f"{final['plain']:.4f}, harness {final['harness']:.4f} "
          f"({'consistent' if spread <= LOSS_TOLERANCE else 'MISMATCH, check the benchmark'})")
    print(flush=True)
    return {"plain": rate["plain"], "harness": rate["harness"], "ratio": ratio, "paired": paired}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="unet,fno",
                        help="comma-separated registered model names")
    parser.add_argument("--data", default="darcy", help="a generated gridded dataset")
    parser.add_argument("--steps", type=int, default=60, help="timed optimiser steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--samples", type=int, default=128, help="samples generated")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the two ways")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for both ways (default: torch's choice)")
    parser.add_argument("--data-dir", default=None,
                        help="data cache (default: $PDEBENCH_DATA, else a temporary folder)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.repeats < 1 or args.batch_size < 1:
        parser.error("need --steps >= 1, --warmup >= 0, --repeats >= 1, --batch-size >= 1")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if not models or unknown:
        parser.error(f"--models {args.models!r}: unknown {unknown}; registered: "
                     f"{', '.join(MODELS.names())}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    _quiet()
    load = os.getloadavg()
    print(f"Training throughput, harness (Lightning) vs plain PyTorch loop: torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, {available_cpus()} CPUs, "
          f"load average {load[0]:.2f}; median of {args.repeats} repeats")
    print()
    with tempfile.TemporaryDirectory(prefix="pdebench-bench-") as scratch:
        data_dir = args.data_dir or os.environ.get("PDEBENCH_DATA") or str(Path(scratch) / "data")
        os.environ["PDEBENCH_DATA"] = data_dir  # paths.data_dir of the harness config
        out = {m: bench_model(m, args, Path(scratch)) for m in models}
    print(f"{'model':<12}{'plain':>10}{'harness':>10}{'harness/plain':>15}{'paired ratio':>14}")
    for m, r in out.items():
        print(f"{m:<12}{r['plain']:>10.1f}{r['harness']:>10.1f}{r['ratio']:>15.2f}"
              f"{r['paired']:>14.2f}")
    return out


if __name__ == "__main__":
    main()
