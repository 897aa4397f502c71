"""Training throughput of the harness's Lightning path against a plain PyTorch loop and against
neuraloperator's ``Trainer``, all three doing the same work.

Usage: ``python benchmarks/bench_training.py [--steps N] [--warmup W] [--batch-size B]
[--resolution R] [--samples S] [--repeats K] [--threads T] [--data-dir DIR]`` (defaults:
N = 200, W = 20, B = 16, R = 64, S = 512, K = 3, T = torch's own choice; DIR defaults to
``$PDEBENCH_DATA``, else a temporary folder that is removed afterwards; the Darcy data are
generated there on first use, untimed). On a machine busy with other work, pass ``--threads 1``:
torch's intra-op threads then wait on each other behind the other processes and single steps
take seconds instead of a fraction of one, which measures the scheduler, not the training loops.

Compared, on CPU, with one thread count for all three:

* ``harness``: the real training path. The config comes from ``pdebench.config.compose``; data,
  model and system from ``build_data``, ``build_model`` and ``build_system`` of
  ``pdebench.run``; the ``lightning.Trainer`` from ``cfg.trainer`` as ``_build_trainer`` makes it,
  except ``max_steps = W + N``, no validation, no logger, no checkpointing (``_build_trainer``
  always adds a ``ModelCheckpoint`` and cannot be used for that) and no progress bar.
* ``plain``: a hand-written loop over a ``DataLoader`` of the same training samples.
* ``neuralop``: ``neuralop.Trainer(...).train(...)``.

All three train the same FNO (``build_model`` of the composed config, i.e. ``build_fno`` with
``conf/model/fno.yaml``, built after the same ``torch.manual_seed``; the initial weights are
checked to be identical) on the same training split, with batches of B, the harness's per-channel
normalisers, its relative-L2 loss on de-normalised fields, AdamW with the config's lr and weight
decay and its ``cosine_schedule`` stepped every optimiser step over W + N steps. The training
split is rounded down to whole batches so every step of every way is a full batch. Only the N
steps after W warm-up steps are timed; the ways run in rotating order K times and the median
samples/s of each is reported, with the ratio to the plain loop. The mean training loss of the
last steps is compared across the ways as a check that they really did the same work.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import neuralop
import torch
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback
from neuralop.data.transforms.data_processors import DataProcessor
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, Subset

from pdebench.config import compose
from pdebench.data.module import PDEDataModule
from pdebench.data.normalize import ChannelNormalizer
from pdebench.data.splits import split_counts
from pdebench.run import build_data, build_model, build_system, system_class
from pdebench.systems.operator import cosine_schedule, relative_l2_loss

WAYS = ("plain", "harness", "neuralop")
LOSS_WINDOW = 20  # the "final loss" of a run is the mean loss of its last LOSS_WINDOW steps
LOSS_TOLERANCE = 1.25  # largest / smallest final loss above this is reported as a mismatch


@dataclass
class Bench:
    """Everything the three ways share."""

    cfg: DictConfig
    datamodule: PDEDataModule
    train_set: Subset
    init: list[torch.Tensor]  # reference initial parameters
    seed: int
    warmup: int
    steps: int
    batch_size: int
    root: Path  # scratch folder for Lightning's default_root_dir

    @property
    def total(self) -> int:
        return self.warmup + self.steps


@dataclass
class Timing:
    seconds: float
    samples: int
    losses: list[torch.Tensor] = field(default_factory=list)
    same_init: bool = False

    @property
    def rate(self) -> float:
        return self.samples / self.seconds

    @property
    def final_loss(self) -> float:
        tail = self.losses[-LOSS_WINDOW:]
        return float(torch.stack(tail).mean())


def _seeded_model(bench: Bench) -> tuple[nn.Module, bool]:
    """The harness's model after the shared seed, and whether it starts from the reference."""
    torch.manual_seed(bench.seed)
    model = build_model(bench.cfg, bench.datamodule.meta)
    same = all(torch.equal(p.detach(), q) for p, q in zip(model.parameters(), bench.init,
                                                           strict=True))
    return model, same


def _optimizer_and_schedule(bench: Bench, params) -> tuple[torch.optim.Optimizer, object | None]:
    """AdamW and ``cosine_schedule`` written out by hand with the config's numbers."""
    opt_cfg = bench.cfg.system.optimizer
    opt = torch.optim.AdamW(params, lr=float(opt_cfg.lr),
                            weight_decay=float(opt_cfg.get("weight_decay", 0.0)))
    sched_cfg = bench.cfg.system.get("scheduler")
    if sched_cfg is None:
        return opt, None
    kwargs = {k: v for k, v in OmegaConf.to_container(sched_cfg).items() if not k.startswith("_")}
    return opt, cosine_schedule(opt, total_steps=bench.total, **kwargs)


def _normalizers(bench: Bench) -> tuple[ChannelNormalizer, ChannelNormalizer]:
    meta, stats = bench.datamodule.meta, bench.datamodule.stats
    x_norm, y_norm = ChannelNormalizer(meta.in_channels), ChannelNormalizer(meta.out_channels)
    x_norm.set_stats(*stats["x"])
    y_norm.set_stats(*stats["y"])
    return x_norm, y_norm


# -- harness ----------------------------------------------------------------------------------

class _SteadyStateTimer(Callback):
    """Clock from the start of optimiser step ``warmup`` (its batch already fetched, as Lightning
    calls ``on_train_batch_start``) to ``on_train_end``; also records every step's loss."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.t0: float | None = None
        self.t1: float | None = None
        self.samples = 0
        self.losses: list[torch.Tensor] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.t0 is None and trainer.global_step == self.warmup:
            self.t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(outputs["loss"].detach())
        if self.t0 is not None:
            self.samples += int(batch["x"].shape[0])

    def on_train_end(self, trainer, pl_module) -> None:
        self.t1 = time.perf_counter()


def run_harness(bench: Bench) -> Timing:
    model, same = _seeded_model(bench)
    # as run() does before fit: the system from its class and config, each dataset's statistics
    system = build_system(bench.cfg, system_class(bench.cfg), model,
                          {"data": bench.datamodule.meta})
    system.set_normalizers({"data": bench.datamodule.stats})
    timer = _SteadyStateTimer(bench.warmup)
    # _build_trainer's call with our callback, no logger and no ModelCheckpoint; max_steps,
    # validation, checkpointing and progress bar are set in cfg.trainer by make_config.
    trainer = instantiate(bench.cfg.trainer, callbacks=[timer], logger=False,
                          default_root_dir=str(bench.root))
    trainer.fit(system, datamodule=bench.datamodule)
    if trainer.global_step != bench.total or timer.t0 is None or timer.t1 is None:
        raise RuntimeError(f"harness ran {trainer.global_step} steps, expected {bench.total}")
    return Timing(timer.t1 - timer.t0, timer.samples, timer.losses, same)


# -- plain PyTorch ----------------------------------------------------------------------------

def run_plain(bench: Bench) -> Timing:
    model, same = _seeded_model(bench)
    x_norm, y_norm = _normalizers(bench)
    opt, sched = _optimizer_and_schedule(bench, model.parameters())
    loader = DataLoader(bench.train_set, batch_size=bench.batch_size, shuffle=True)
    model.train()
    losses: list[torch.Tensor] = []
    step, samples, t0 = 0, 0, None
    while step < bench.total:  # epochs, as Lightning does, until the step budget is spent
        for batch in loader:
            if step == bench.warmup:  # batch already fetched, as for the Lightning callback
                t0 = time.perf_counter()
            x, y = batch["x"], batch["y"]
            loss = relative_l2_loss(y_norm.decode(model(x_norm.encode(x))), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(loss.detach())
            step += 1
            if t0 is not None:
                samples += int(x.shape[0])
            if step == bench.total:
                break
    t1 = time.perf_counter()
    assert t0 is not None
    return Timing(t1 - t0, samples, losses, same)


# -- neuraloperator's Trainer -----------------------------------------------------------------

class _HarnessNormalization(DataProcessor):
    """neuralop data processor applying the harness's normalisation: the model sees normalised
    ``x``; its output is de-normalised before the loss, which compares it with physical ``y``."""

    def __init__(self, x_norm: ChannelNormalizer, y_norm: ChannelNormalizer) -> None:
        super().__init__()
        self.x_norm = x_norm
        self.y_norm = y_norm
        self.model = None

    def to(self, device):
        return nn.Module.to(self, device)

    def preprocess(self, sample: dict) -> dict:
        return {"x": self.x_norm.encode(sample["x"]), "y": sample["y"]}

    def postprocess(self, out: torch.Tensor, sample: dict) -> tuple[torch.Tensor, dict]:
        return self.y_norm.decode(out), sample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.y_norm.decode(self.model(self.x_norm.encode(x)))


class _NoEpochStep:
    """Stands in for the scheduler neuralop steps once per *epoch*: the real one is stepped
    after every optimiser step by a hook, as Lightning does for ``interval="step"``."""

    def step(self, *args) -> None:
        pass


def run_neuralop(bench: Bench) -> Timing:
    model, same = _seeded_model(bench)
    x_norm, y_norm = _normalizers(bench)
    opt, sched = _optimizer_and_schedule(bench, model.parameters())
    if sched is not None:
        opt.register_step_post_hook(lambda *_: sched.step())
    losses: list[torch.Tensor] = []

    def training_loss(out: torch.Tensor, y: torch.Tensor, **_) -> torch.Tensor:
        loss = relative_l2_loss(out, y)  # mean over the batch, as the harness (neuralop: sum)
        losses.append(loss.detach())
        return loss

    def loader(n_batches: int) -> DataLoader:
        # One epoch of exactly n_batches full batches: RandomSampler chains fresh permutations
        # of the training split, so every sample is drawn as often as with shuffled epochs.
        sampler = RandomSampler(bench.train_set, num_samples=n_batches * bench.batch_size)
        return DataLoader(bench.train_set, batch_size=bench.batch_size, sampler=sampler)

    trainer = neuralop.Trainer(model=model, n_epochs=1, device="cpu", verbose=False,
                               data_processor=_HarnessNormalization(x_norm, y_norm))
    with warnings.catch_warnings():
        # The Trainer calls model(**sample), so the FNO also receives y, ignores it and warns.
        warnings.filterwarnings("ignore", message=r"FNO\.forward\(\) received unexpected")
        if bench.warmup:  # a first, untimed .train() call runs the W warm-up steps
            trainer.train(loader(bench.warmup), {}, opt, _NoEpochStep(),
                          training_loss=training_loss)
        # Timed: the whole second .train() call, N steps in one epoch; beyond the others' timed
        # region it includes fetching the first batch and the Trainer's per-call set-up and
        # end-of-epoch work (no evaluation: no test loaders).
        train_loader = loader(bench.steps)
        t0 = time.perf_counter()
        trainer.train(train_loader, {}, opt, _NoEpochStep(), training_loss=training_loss)
        t1 = time.perf_counter()
    if len(losses) != bench.total:
        raise RuntimeError(f"neuralop ran {len(losses)} steps, expected {bench.total}")
    return Timing(t1 - t0, bench.steps * bench.batch_size, losses, same)


RUNNERS: dict[str, Callable[[Bench], Timing]] = {
    "plain": run_plain, "harness": run_harness, "neuralop": run_neuralop}


# -- setup and report -------------------------------------------------------------------------

def make_config(args: argparse.Namespace) -> DictConfig:
    """The harness config for this benchmark; the training split is whole batches."""
    base = compose([])
    split = base.data.split
    n_train, n_val, n_test = split_counts(args.samples, split.train, split.val, split.test,
                                          "benchmark dataset")
    n_train = n_train // args.batch_size * args.batch_size
    if n_train < args.batch_size:
        raise SystemExit(f"--samples {args.samples} leaves fewer than one batch of "
                         f"{args.batch_size} for training")
    return compose([
        "model=fno", "data=darcy", "system=operator", "system.loss=rel_l2", "logger=none",
        f"data.n_samples={args.samples}", f"data.resolution={args.resolution}",
        f"data.loader.batch_size={args.batch_size}", "data.loader.num_workers=0",
        f"data.split.train={n_train}", f"data.split.val={n_val}", f"data.split.test={n_test}",
        "trainer.accelerator=cpu", "trainer.devices=1", "trainer.max_epochs=-1",
        f"++trainer.max_steps={args.warmup + args.steps}", "++trainer.limit_val_batches=0",
        "++trainer.num_sanity_val_steps=0", "++trainer.enable_checkpointing=false",
        "trainer.enable_progress_bar=false",
    ])


def _quiet() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    logging.getLogger("lightning.fabric").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed optimiser steps")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps before them")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--samples", type=int, default=512, help="Darcy samples generated")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the three ways")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for all three ways (default: torch's choice)")
    parser.add_argument("--data-dir", default=None,
                        help="Darcy cache (default: $PDEBENCH_DATA, else a temporary folder)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.repeats < 1 or args.batch_size < 1:
        parser.error("need --steps >= 1, --warmup >= 0, --repeats >= 1, --batch-size >= 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    _quiet()

    with tempfile.TemporaryDirectory(prefix="pdebench-bench-") as scratch:
        data_dir = args.data_dir or os.environ.get("PDEBENCH_DATA") or str(Path(scratch) / "data")
        os.environ["PDEBENCH_DATA"] = data_dir  # paths.data_dir of the harness config
        cfg = make_config(args)
        seed = int(cfg.seed)
        datamodule = build_data(cfg)
        datamodule.prepare_data()  # generates the data on first use (not timed)
        datamodule.setup("fit")
        torch.manual_seed(seed)
        init = [p.detach().clone() for p in build_model(cfg, datamodule.meta).parameters()]
        bench = Bench(cfg=cfg, datamodule=datamodule,
                      train_set=Subset(datamodule.dataset, datamodule.indices["train"].tolist()),
                      init=init, seed=seed, warmup=args.warmup, steps=args.steps,
                      batch_size=args.batch_size, root=Path(scratch))
        return _measure_and_report(args, bench)


def _measure_and_report(args: argparse.Namespace, bench: Bench) -> dict[str, float]:
    meta, cfg = bench.datamodule.meta, bench.cfg
    n_params = sum(p.numel() for p in bench.init)
    res = "x".join(str(r) for r in meta.resolution)
    sizes = bench.datamodule.split_sizes
    cpus = available_cpus()
    loadavg = os.getloadavg() if hasattr(os, "getloadavg") else None
    load = " ".join(f"{v:.2f}" for v in loadavg) if loadavg else "n/a"
    opt = cfg.system.optimizer
    sched = cfg.system.get("scheduler")
    print("Training throughput: harness (Lightning) vs plain PyTorch loop vs neuralop.Trainer")
    print(f"  data      Darcy {res}, {args.samples} samples generated, train split "
          f"{sizes['train']} (whole batches of {bench.batch_size})")
    print(f"  model     FNO (conf/model/fno.yaml: n_modes {cfg.model.n_modes}, hidden "
          f"{cfg.model.hidden_channels}, {cfg.model.n_layers} layers), {n_params:,} parameters, "
          f"init seed {bench.seed}")
    print(f"  training  AdamW lr {opt.lr:g} wd {opt.get('weight_decay', 0.0):g}, "
          f"{'cosine_schedule' if sched is not None else 'no scheduler'}, "
          f"loss {cfg.system.loss} on de-normalised fields, batch {bench.batch_size}")
    print(f"  steps     {bench.steps} timed after {bench.warmup} warm-up "
          f"({bench.steps * bench.batch_size} samples timed per run), {args.repeats} repeats, "
          "median reported")
    print(f"  machine   CPU, torch {torch.__version__} (threads: {torch.get_num_threads()}), "
          f"lightning {L.__version__}, neuralop {neuralop.__version__}; {cpus} CPUs, "
          f"load average {load}")
    if loadavg and cpus and loadavg[0] > 0.5 * cpus:
        print(f"  warning   the machine is busy (load {loadavg[0]:.2f} on {cpus} CPUs): timings "
              "include other processes' work; expect noise")
    print()

    results: dict[str, list[Timing]] = {w: [] for w in WAYS}
    for r in range(args.repeats):
        order = WAYS[r % len(WAYS):] + WAYS[:r % len(WAYS)]
        for way in order:
            results[way].append(RUNNERS[way](bench))
        line = "  ".join(f"{w} {results[w][-1].rate:7.1f}" for w in order)
        print(f"  repeat {r + 1}/{args.repeats} (samples/s, in run order): {line}", flush=True)
    print()

    rate = {w: statistics.median(t.rate for t in results[w]) for w in WAYS}
    print(f"{'way':<10}{'samples/s':>11}{'ratio to plain':>17}")
    for w in WAYS:
        print(f"{w:<10}{rate[w]:>11.1f}{rate[w] / rate['plain']:>17.2f}")
    overhead = 100.0 * (rate["plain"] / rate["harness"] - 1.0)
    print(f"harness overhead vs plain loop: {overhead:.1f}%  (positive = slower; time per sample)")
    print()

    same_init = all(t.same_init for ts in results.values() for t in ts)
    print(f"initial weights identical in every run: {'yes' if same_init else 'NO'}")
    final = {w: statistics.median(t.final_loss for t in results[w]) for w in WAYS}
    spread = max(final.values()) / min(final.values())
    verdict = "consistent" if spread <= LOSS_TOLERANCE else "MISMATCH, check the benchmark"
    print(f"final training loss (mean of the last {min(LOSS_WINDOW, bench.total)} steps, "
          "median over repeats): "
          + ", ".join(f"{w} {final[w]:.4f}" for w in WAYS)
          + f"; largest/smallest {spread:.3f}: {verdict}")
    print("note: neuralop's Trainer steps its scheduler once per epoch, so the cosine schedule is "
          "stepped by an optimiser hook instead; it calls loss.item() twice per step and passes "
          "y to the FNO (ignored); its timed region is the whole .train() call.")
    return {**{f"{w}_samples_per_s": rate[w] for w in WAYS}, "harness_overhead_pct": overhead,
            **{f"{w}_final_loss": final[w] for w in WAYS}}


if __name__ == "__main__":
    main()
