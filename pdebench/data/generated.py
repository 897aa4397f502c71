"""Base classes for datasets the harness generates with its own solvers and caches as HDF5."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pdebench import __version__
from pdebench.data.arrays import FieldSpec, H5SampleDataset
from pdebench.data.cache import ensure_cached, resolve_in_memory
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import cache_key, write_store, write_trajectory_store
from pdebench.data.trajectories import StoreTrajectories, TrajectoryWindows, window_fields
from pdebench.progress import progress as progress_counter

Progress = Callable[[int, int], None]

#: What every generated store records beyond its arrays (2: the physics floor and the meta of
#: the equation registry); part of the cache key, so older files are regenerated once.
STORE_VERSION = 2
#: Samples per batch when the physics floor is evaluated at generation time.
FLOOR_BATCH = 256


class GeneratedSource(DataSource):
    """A dataset produced by a generator function and cached under ``data_dir``.

    Subclasses set :attr:`name` and :attr:`version` (bump it when the generator's output changes,
    so old cache entries are not reused), keep their parameters in :attr:`params`, and implement
    :attr:`physical_meta` and :meth:`generate`.
    """

    name: str = ""
    version: int = 1
    unit: str = "sample"

    def __init__(self, params: Mapping[str, Any], data_dir: str | Path,
                 in_memory: bool | str) -> None:
        self.params = dict(params)
        self.data_dir = Path(data_dir)
        self.in_memory = in_memory

    @property
    @abstractmethod
    def physical_meta(self) -> DatasetMeta:
        """What the file holds (for trajectories: the physical fields, with ``time`` set)."""

    @abstractmethod
    def generate(self, progress: Progress) -> dict[str, Any]:
        """Run the generator; return its dict (arrays, ``solver``, ``residual``)."""

    @abstractmethod
    def _write(self, out: dict[str, Any], generator: dict[str, Any]) -> Path:
        """Write the generator's output to :attr:`path`."""

    @property
    def path(self) -> Path:
        key = cache_key({**self.params, "name": self.name, "version": self.version,
                         "store": STORE_VERSION})
        stem = "_".join(f"{k}{v:g}" if isinstance(v, float) else f"{k}{v}"
                        for k, v in self.params.items() if isinstance(v, (int, float, str)))
        return self.data_dir / self.name / f"{self.name}_{stem}_{key}.h5".replace(" ", "")

    def prepare(self) -> None:
        ensure_cached(self.path, self._build, f"{self.name} data {self.path.name}")

    def _build(self) -> Path:
        n = int(self.params.get("n_samples", 0)) or None
        with progress_counter(total=n, desc=f"generating {self.name}", unit=self.unit) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            out = self.generate(progress)
        floor = self.physics_floor(out)
        if floor:
            out = {**out, "residual": {**(out.get("residual") or {}), "physics_floor": floor}}
        generator = {"name": self.name, "params": self.params, "seed": self.params.get("seed"),
                     "solver": out.get("solver", {}), "pdebench_version": __version__,
                     "generator_version": self.version}
        return self._write(out, generator)

    def _in_memory(self) -> bool:
        return resolve_in_memory(self.in_memory, self.path)

    def physics_floor(self, out: dict[str, Any]) -> dict[str, float]:
        """The physics metrics of the generated reference solution, as stored (float32):
        recorded with the data (``residual["physics_floor"]``) as the level a perfect model
        would score. Empty when the dataset names no equation."""
        from pdebench.metrics.physics import reference_floor

        return reference_floor(self.floor_meta, self._floor_batches(out))

    @property
    def floor_meta(self) -> DatasetMeta:
        """The dataset as the physics floor sees it (one-step windows for trajectories)."""
        return self.physical_meta

    def _floor_batches(self, out: dict[str, Any]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError


class GeneratedPairs(GeneratedSource):
    """Steady input -> output pairs; the generator returns ``x`` (N, C_in, *spatial) and ``y``."""

    @property
    def meta(self) -> DatasetMeta:
        return self.physical_meta

    def _write(self, out: dict[str, Any], generator: dict[str, Any]) -> Path:
        return write_store(self.path, out["x"], out["y"], self.physical_meta, generator,
                           out.get("residual"))

    def _floor_batches(self, out: dict[str, Any]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        x, y = out["x"], out["y"]
        for i in range(0, len(y), FLOOR_BATCH):
            yield (np.asarray(y[i:i + FLOOR_BATCH], dtype=np.float32),
                   np.asarray(x[i:i + FLOOR_BATCH], dtype=np.float32))

    def open(self) -> H5SampleDataset:
        return H5SampleDataset(self.path, [FieldSpec("x")], [FieldSpec("y")],
                               in_memory=self._in_memory())


class GeneratedTrajectories(GeneratedSource):
    """Time-dependent data; the generator returns ``u`` (N, T, C, *spatial) and ``t`` (T,), and
    ``constants`` (N, C_const, *spatial) when ``physical_meta.constant_fields`` names
    per-trajectory constant fields.

    The model sees one-step windows: ``history`` frames in (``data.history``) plus the constant
    fields, the next frame out.
    """

    unit = "trajectory"

    def __init__(self, params: Mapping[str, Any], data_dir: str | Path, in_memory: bool | str,
                 history: int = 1, stride: int = 1) -> None:
        super().__init__(params, data_dir, in_memory)
        if history < 1 or stride < 1:
            raise ValueError(f"data.history and data.stride must be >= 1, got {history}, "
                             f"{stride}")
        n_frames = self.params.get("n_frames")
        if n_frames is not None and n_frames < history + 1:
            raise ValueError(f"data.n_frames={n_frames} is too few for data.history={history} "
                             f"(need at least {history + 1})")
        self.history = history
        self.stride = stride

    @property
    def meta(self) -> DatasetMeta:
        phys = self.physical_meta
        return DatasetMeta(**{**phys.to_dict(),
                              "resolution": phys.resolution, "extent": phys.extent,
                              "output_fields": phys.output_fields,
                              "input_fields": window_fields(phys.output_fields, self.history)
                              + phys.constant_fields,
                              "masks": phys.masks,
                              "extra": {**phys.extra, "view": "one_step",
                                        "history": self.history, "stride": self.stride}})

    @property
    def floor_meta(self) -> DatasetMeta:
        phys = self.physical_meta
        return DatasetMeta(**{**phys.to_dict(), "resolution": phys.resolution,
                              "extent": phys.extent, "output_fields": phys.output_fields,
                              "input_fields": window_fields(phys.output_fields, 1)
                              + phys.constant_fields, "masks": phys.masks,
                              "constant_fields": phys.constant_fields})

    def _floor_batches(self, out: dict[str, Any]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every one-step window (history 1) of every trajectory: target frame n + 1, inputs
        frame n and the trajectory's constant fields."""
        u, const = out["u"], out.get("constants")
        per = max(1, FLOOR_BATCH // max(1, u.shape[1] - 1))
        for i in range(0, len(u), per):
            traj = np.asarray(u[i:i + per], dtype=np.float32)
            n, t = traj.shape[:2]
            x = traj[:, :-1]
            if const is not None and len(self.physical_meta.constant_fields):
                c = np.asarray(const[i:i + per], dtype=np.float32)[:, None]
                x = np.concatenate([x, np.broadcast_to(c, (n, t - 1, *c.shape[2:]))], axis=2)
            yield (traj[:, 1:].reshape(n * (t - 1), *traj.shape[2:]),
                   x.reshape(n * (t - 1), *x.shape[2:]))

    def _write(self, out: dict[str, Any], generator: dict[str, Any]) -> Path:
        return write_trajectory_store(self.path, out["u"], out["t"], self.physical_meta,
                                      generator, out.get("residual"), out.get("constants"))

    def open(self) -> TrajectoryWindows:
        reader = StoreTrajectories(self.path, in_memory=self._in_memory())
        return TrajectoryWindows(reader, history=self.history, stride=self.stride)
