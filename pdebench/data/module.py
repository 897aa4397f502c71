"""The LightningDataModule: seeded splits, normaliser statistics, loaders."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
from torch.utils.data import DataLoader, Dataset, Subset

from pdebench.data.masks import check_masks, mask_channels
from pdebench.data.meta import DatasetMeta
from pdebench.data.normalize import fit_channel_stats
from pdebench.data.source import DataSource
from pdebench.data.splits import make_splits


class PDEDataModule(L.LightningDataModule):
    """Wraps a :class:`DataSource` into train/val/test loaders.

    :meth:`setup` fits :attr:`stats` (``{"x": (mean, std), "y": (mean, std)}``, training split)
    with the geometry-mask input channels (``DatasetMeta.masks``) at mean 0 and std 1, so a
    :class:`~pdebench.data.normalize.ChannelNormalizer` given these statistics never changes
    them, and refuses a dataset with a sample whose mask has no active cell
    (:func:`pdebench.data.masks.check_masks`, every split).

    Parameters
    ----------
    source : DataSource
    batch_size : int
        Training batch size; evaluation uses ``eval_batch_size`` (default: the same).
    split : dict
        ``train``, ``val``, ``test`` (fractions or counts), ``seed`` and ``mode``
        (``"random"`` or ``"published"``), see :func:`pdebench.data.splits.make_splits`.
    num_workers : int
        DataLoader workers; each opens its own file handle.
    limit : int, optional
        Use only the first ``limit`` samples (for time-dependent data: trajectories) before
        splitting: a quick look at a large file (``data.limit``; ``debug=fast`` on a reader).
    instance : int
        The problem instance a physics-informed run solves (``data.instance``: sample or
        trajectory ``instance`` of the test split); other systems ignore it.
    """

    def __init__(self, source: DataSource, batch_size: int = 16, split: dict | None = None,
                 num_workers: int = 0, eval_batch_size: int | None = None,
                 pin_memory: bool = False, limit: int | None = None, instance: int = 0) -> None:
        super().__init__()
        if isinstance(instance, bool) or int(instance) != instance or instance < 0:
            raise ValueError(f"data.instance must be an int >= 0, got {instance!r}")
        self.instance = int(instance)
        if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 1):
            raise ValueError(f"data.limit must be null or an int >= 1, got {limit!r}")
        self.limit = None if limit is None else int(limit)
        self.source = source
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.split_cfg = dict(split or {})
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.dataset: Dataset | None = None
        self.indices: dict[str, Any] = {}
        self.stats: dict[str, tuple] = {}

    @property
    def meta(self) -> DatasetMeta:
        return self.source.meta

    def prepare_data(self) -> None:
        self.source.prepare()

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        self.source.prepare()  # idempotent; covers callers that skip prepare_data
        self.dataset = self.source.open()
        cfg = dict(self.split_cfg)
        if cfg.get("mode") == "published" and self.source.published_split:
            cfg = {**cfg, **self.source.published_split}
        groups = getattr(self.dataset, "groups", None)
        if groups is None:
            pool = np.arange(min(len(self.dataset), self.limit or len(self.dataset)))
            self.indices = {k: pool[v] for k, v in make_splits(
                len(pool), name=f"dataset {self.meta.name!r}", **cfg).items()}
        else:  # windows of trajectories: split the trajectories, never their windows
            ids = np.unique(groups)[:self.limit]
            by_group = make_splits(len(ids), name=f"dataset {self.meta.name!r} (trajectories)",
                                   **cfg)
            self.indices = {k: np.flatnonzero(np.isin(groups, ids[v]))
                            for k, v in by_group.items()}
        src = f"dataset {self.meta.name!r}"
        # geometry masks: every sample of every split needs an active cell; never normalised
        check_masks(self.dataset, np.concatenate(list(self.indices.values())), self.meta, src)
        # inputs a dataset declares raw (meta.extra["raw_inputs"], e.g. fisher_kpp's branch
        # coefficients, unnormalised as published) are kept as they are, like the masks
        raw = list(self.meta.extra.get("raw_inputs", ()))
        if any(f not in self.meta.input_fields for f in raw):
            raise ValueError(f"{src}: meta.extra['raw_inputs'] = {raw} names channels that are "
                             f"not input fields ({list(self.meta.input_fields)})")
        raw_idx = tuple(self.meta.input_fields.index(f) for f in raw)
        identity = {"x": tuple(dict.fromkeys(mask_channels(self.meta) + raw_idx)), "y": ()}
        self.stats = {
            key: fit_channel_stats(self.dataset, self.indices["train"], key, src,
                                   identity=identity[key])
            for key in ("x", "y")
        }

    @property
    def split_sizes(self) -> dict[str, int]:
        return {k: int(len(v)) for k, v in self.indices.items()}

    def _loader(self, split: str, shuffle: bool, batch_size: int) -> DataLoader:
        assert self.dataset is not None, "call setup() first"
        return DataLoader(Subset(self.dataset, self.indices[split].tolist()),
                          batch_size=batch_size, shuffle=shuffle,
                          num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True, self.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False, self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False, self.eval_batch_size)


class NamedDataModules(L.LightningDataModule):
    """Several named datasets of one run (tasks of a multi-task run, the simulated and real sides
    of a sim-to-real run), iterated together.

    Training batches are dicts ``{name: batch}`` (Lightning's ``CombinedLoader``,
    ``max_size_cycle``: an epoch runs until the longest loader is exhausted, shorter ones cycle);
    validation and test batches come one dataset after the other (``sequential``), with the
    dataset's position in :attr:`names` as ``dataloader_idx``.
    """

    def __init__(self, datamodules: dict[str, PDEDataModule] | Any) -> None:
        super().__init__()
        self.datamodules = dict(datamodules)
        self.names = list(self.datamodules)

    def prepare_data(self) -> None:
        for dm in self.datamodules.values():
            dm.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        for dm in self.datamodules.values():
            dm.setup(stage)

    def _combined(self, which: str, mode: str) -> Any:
        from lightning.pytorch.utilities.combined_loader import CombinedLoader

        return CombinedLoader({n: getattr(dm, which)() for n, dm in self.datamodules.items()},
                              mode=mode)

    def train_dataloader(self) -> Any:
        return self._combined("train_dataloader", "max_size_cycle")

    def val_dataloader(self) -> Any:
        return self._combined("val_dataloader", "sequential")

    def test_dataloader(self) -> Any:
        return self._combined("test_dataloader", "sequential")
