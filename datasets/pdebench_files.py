"""Readers for PDEBench's published HDF5 files (PROBLEMS A, "Published HDF5 layouts")."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pdebench.data.arrays import FieldSpec, H5SampleDataset
from pdebench.data.cache import resolve_in_memory
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError, open_h5


def _extent_from_centres(coords: np.ndarray, n: int, key: str, path: Path) -> tuple[float, float]:
    coords = np.asarray(coords, dtype=np.float64).ravel()
    if coords.size != n:
        raise DataFileError(f"{path}: {key!r} has {coords.size} entries but the fields have "
                            f"{n} points along that axis")
    if n > 1 and not np.all(np.diff(coords) > 0):
        raise DataFileError(f"{path}: {key!r} is not strictly increasing")
    h = (coords[-1] - coords[0]) / (n - 1) if n > 1 else 1.0
    return float(coords[0] - h / 2), float(coords[-1] + h / 2)


class PDEBenchDarcyFile(DataSource):
    """PDEBench's 2D Darcy flow file (``2D_DarcyFlow_beta*_Train.hdf5``), read lazily.

    Layout: ``nu`` (N, H, W) = coefficient a, ``tensor`` (N, 1, H, W) = solution u, optional
    ``x-coordinate`` (W,), ``y-coordinate`` (H,) cell centres, β from the ``beta`` file attribute,
    else from the file name (``beta1.0``), else from ``beta``.

    Parameters
    ----------
    path : path-like
        The ``.hdf5`` file.
    beta : float, optional
        β when neither the file attributes nor its name give it.
    in_memory : bool or "auto"
        Hold in RAM (auto: files under 2 GiB) or read lazily (bounded memory).
    """

    def __init__(self, path: str | Path, beta: float | None = None,
                 in_memory: bool | str = "auto") -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for pdebench_darcy: the path of a PDEBench "
                             "2D_DarcyFlow_beta*_Train.hdf5 file")
        self.path = Path(path).expanduser()
        self.in_memory = in_memory
        self._meta = self._inspect(beta)

    def _inspect(self, beta: float | None) -> DatasetMeta:
        with open_h5(self.path) as fh:
            for key in ("nu", "tensor"):
                if key not in fh:
                    raise DataFileError(
                        f"{self.path}: missing dataset {key!r}; a PDEBench Darcy file has 'nu' "
                        f"(N, H, W) and 'tensor' (N, 1, H, W); this file has {sorted(fh.keys())}")
            nu, ten = fh["nu"].shape, fh["tensor"].shape
            if len(nu) != 3 or len(ten) != 4 or ten[1] != 1 or ten[0] != nu[0] or ten[2:] != nu[1:]:
                raise DataFileError(
                    f"{self.path}: shapes nu={nu}, tensor={ten} do not match the Darcy layout "
                    "nu (N, H, W), tensor (N, 1, H, W)")
            n_h, n_w = nu[1:]
            extent = ((0.0, 1.0), (0.0, 1.0))
            if "x-coordinate" in fh and "y-coordinate" in fh:
                ex = _extent_from_centres(fh["x-coordinate"][...], n_w, "x-coordinate", self.path)
                ey = _extent_from_centres(fh["y-coordinate"][...], n_h, "y-coordinate", self.path)
                extent = (ey, ex)
            file_beta = fh.attrs.get("beta")
        if file_beta is None:
            m = re.search(r"beta([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)", self.path.name)
            file_beta = float(m.group(1)) if m else beta
        if file_beta is None:
            raise DataFileError(f"{self.path}: β is neither a file attribute nor in the file "
                                "name; pass data.beta=<value>")
        return DatasetMeta(
            name="pdebench_darcy", pde="darcy", spatial_dims=2, resolution=(n_h, n_w),
            extent=extent, input_fields=("a",), output_fields=("u",),
            units={"a": "1", "u": "1"}, grid="cell_centered",
            boundary_conditions={"u": "dirichlet_zero"}, pde_params={"beta": float(file_beta)},
            extra={"file": str(self.path)},
        )

    @property
    def meta(self) -> DatasetMeta:
        return self._meta

    def open(self) -> H5SampleDataset:
        return H5SampleDataset(self.path, [FieldSpec("nu", add_channel=True)],
                               [FieldSpec("tensor")],
                               in_memory=resolve_in_memory(self.in_memory, self.path))
