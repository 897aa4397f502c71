"""Every registered dataset passes pdebench.testing.check_dataset (generated ones at their declared
tiny size, readers on tiny files in their published layouts), and plugin datasets that break the
contract are refused with a message naming what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch
from torch.utils.data import Dataset

from pdebench import registry, results
from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.registry import DATASETS, PluginAPI
from pdebench.run import build_data, run
from pdebench.testing import ConformanceError, check_dataset

from published_layouts import (
    darcy_arrays,
    single_1d,
    write_mat_dir,
    write_npy_dir,
    write_npz,
    write_pdebench_darcy,
    write_pt,
    write_real,
    write_well,
)


def _mtdeeponet_mat(tmp_path):
    path = tmp_path / "darcy.mat"
    scipy.io.savemat(path, darcy_arrays(n_train=10, n_test=4))
    return [f"data.path={path}", f"data.cache_dir={tmp_path / 'cache'}"]


#: reader -> callable(tmp_path) -> overrides pointing the reader at a tiny published-layout file
READERS = {
    "pdebench_darcy": lambda d: [f"data.path={write_pdebench_darcy(d / 'darcy.hdf5')}"],
    "pdebench_file": lambda d: [f"data.path={single_1d(d / '1D_Burgers_Sols_Nu0.01.hdf5', n=12)}"],
    "the_well": lambda d: [f"data.path={write_well(d / 'well.hdf5', B=12)}"],
    "realpdebench": lambda d: [f"data.root={write_real(d).parent.parent}", "data.scenario=cylinder",
                               "data.kind=real"],
    "multiphysics_pt": lambda d: [f"data.path={write_pt(d / 'TE_heat_train_128.pt', n=12)}"],
    "multiphysics_npy": lambda d: [f"data.root={write_npy_dir(d / 'npy', n=12)}",
                                   "data.n_inputs=1"],
    "multiphysics_mat": lambda d: [f"data.root={write_mat_dir(d / 'mat', n=10)}",
                                   "data.inputs=[sigma]", "data.outputs=[Ez,T]"],
    "mtdeeponet_npz": lambda d: [f"data.path={write_npz(d / 'fisher.npz', n=12)}",
                                 f"data.cache_dir={d / 'cache'}"],
    "mtdeeponet_mat": _mtdeeponet_mat,
}
GENERATED = sorted(set(DATASETS.names()) - set(READERS))


def test_every_registered_dataset_is_covered():
    assert set(READERS) <= set(DATASETS.names())
    assert all(not str(compose([f"data={n}"]).data.get("path", "")).startswith("???")
               for n in GENERATED)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_datasets_conform(name):
    dm = build_data(compose([f"data={name}", "debug=fast"]))
    check_dataset(dm.source)


@pytest.mark.parametrize("name", sorted(READERS))
def test_readers_conform_on_published_layouts(name, tmp_path):
    dm = build_data(compose([f"data={name}", "debug=fast", *READERS[name](tmp_path)]))
    check_dataset(dm.source)


# --- plugin datasets that break the contract -----------------------------------------------

class _Pairs(Dataset):
    def __init__(self, n: int, c_out: int) -> None:
        self.n, self.c_out = n, c_out

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(i)
        return {"x": torch.rand(1, 8, 8, generator=g), "y": torch.rand(self.c_out, 8, 8,
                                                                         generator=g)}


class PluginSource(DataSource):
    """A plugin's dataset: 8 x 8 pairs of random fields."""

    def __init__(self, pde: str | None = None, c_out: int = 1, n: int = 20) -> None:
        self.pde, self.c_out, self.n = pde, c_out, n

    @property
    def meta(self) -> DatasetMeta:
        return DatasetMeta(name="plugin_pairs", pde=self.pde, spatial_dims=2, resolution=(8, 8),
                           input_fields=("a",), output_fields=("u",),
                           pde_params={"beta": 1.0})

    def open(self) -> Dataset:
        return _Pairs(self.n, self.c_out)


def test_a_conforming_plugin_dataset_passes():
    check_dataset(PluginSource())
    check_dataset(PluginSource(pde="darcy"))  # a registered equation the fields can feed


def test_a_plugin_dataset_whose_samples_do_not_match_its_meta_fails():
    with pytest.raises(ConformanceError, match=r"sample 0 'y' has shape \(2, 8, 8\), meta says "
                                               r"\(1, 8, 8\)"):
        check_dataset(PluginSource(c_out=2))


def test_an_unregistered_equation_is_named_with_the_known_ones(tmp_path):
    with pytest.raises(ConformanceError, match=r"names the equation 'no_such_pde'.*Known "
                                               r"equations: .*darcy"):
        check_dataset(PluginSource(pde="no_such_pde"))
    api = PluginAPI("test_conformance")
    api.register_dataset("plugin_pairs", PluginSource, "test plugin",
                         config={"_target_": f"{__name__}.PluginSource", "pde": "no_such_pde",
                                 "split": {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0,
                                           "mode": "random"},
                                 "loader": {"batch_size": 4}})
    try:
        cfg = compose(["data=plugin_pairs", "debug=fast", f"paths.output_dir={tmp_path}"])
        with pytest.raises(Exception, match="names the equation 'no_such_pde'"):
            run(cfg)
        record = results.read(tmp_path / "result.json")
        assert record["status"] == "failed" and "no_such_pde" in record["error"]["message"]
    finally:
        registry.DATASETS._remove("plugin_pairs")


def test_metric_values_of_the_reference_are_finite_for_a_conforming_dataset():
    ds = check_dataset(PluginSource(pde="darcy"))
    assert np.isfinite(ds[0]["y"].numpy()).all()
