"""Every generated dataset end to end on tiny sizes: generate, cache, window, train, record.

(The per-family test files test each generator's numerics; this file is their one end-to-end check
through the harness, parametrised over every registered generated dataset.)"""

from __future__ import annotations

import pytest

from pdebench import results
from pdebench.config import compose
from pdebench.data.store import read_store_info
from pdebench.registry import DATASETS
from pdebench.run import build_data, run

from conftest import TINY

SMALL = {
    "darcy": ["data.n_samples=40", "data.resolution=16"],
    "advection": ["data.n_samples=10", "data.resolution=32", "data.n_frames=5"],
    "burgers": ["data.n_samples=10", "data.resolution=64", "data.n_frames=5", "data.nu=0.1"],
    "diffusion_reaction": ["data.n_samples=10", "data.resolution=16", "data.n_frames=5",
                           "data.t_end=0.5"],
    "navier_stokes": ["data.n_samples=10", "data.resolution=16", "data.n_frames=5",
                      "data.t_end=1.0"],
    "electrothermal": ["data.n_samples=20", "data.resolution=16"],
    "e_flow": ["data.n_samples=20", "data.resolution=16"],
    "te_heat": ["data.n_samples=20", "data.resolution=16", "data.k0=6.0"],
}
_CYL = ["data.n_re=5", "data.resolution=[16,32]", "data.height=2.0", "data.length=4.0",
        "data.n_frames=4", "data.frame_dt=0.25", "data.spin_up=1.0",
        "data.measurement.resolution=[8,16]", "data.measurement.max_shift=2"]
SMALL.update({
    "cylinder_sim": _CYL, "cylinder_real": _CYL,
    "fisher_kpp": ["data.n_samples=24", "data.resolution=16", "data.n_frames=4",
                   "data.max_wavenumber=3"],
    "darcy_geometries": ["data.n_samples=24", "data.resolution=16"],
    "elder": ["data.n_samples=10", "data.resolution=8", "data.t_end=0.02"],
    "ns_heat": ["data.n_samples=10", "data.resolution=17"],
    "mhd": ["data.n_samples=20", "data.resolution=16", "data.ha_max=8.0"],
    "va": ["data.n_samples=20", "data.resolution=16", "data.omega=6.0"],
    "heated_plate": ["data.resolution=[32,16,4]", "data.holes=[2,3]",
                     "data.train_positions=[0.9,1.2,1.6]", "data.n_test_positions=2",
                     "data.hole_radius=0.075"],
})
FILE_BASED = {"pdebench_darcy", "pdebench_file", "the_well", "realpdebench", "multiphysics_pt",
              "multiphysics_npy", "multiphysics_mat", "mtdeeponet_npz", "mtdeeponet_mat"}


def test_every_generated_dataset_has_a_tiny_config():
    assert set(DATASETS.names()) - FILE_BASED == set(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_generated_dataset_trains_end_to_end(name, tmp_path):
    tiny = [o for o in TINY if not o.startswith("data.")]
    cfg = compose([*tiny, f"data={name}", *SMALL[name], "data.loader.batch_size=8",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok" and record["dataset"] == name
    dm = build_data(cfg)
    if hasattr(dm.source, "path"):  # one store file (the cylinder scenario is a folder of
        # per-trajectory files in RealPDEBench's layout, checked in test_cylinder_flow.py)
        meta, generator, residual = read_store_info(dm.source.path)
        assert generator["params"] == {k: v for k, v in dm.source.params.items()}
        assert generator["solver"] and residual and generator["pdebench_version"]
        assert residual.get("passed", True), residual  # the generator's self-check held
        assert meta == dm.source.physical_meta  # the stored card is the source's
    if dm.meta.time is not None:  # trajectories: windows never straddle two splits
        dm.setup()
        groups = [set(dm.dataset.groups[i]) for i in dm.indices.values()]
        assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
        assert dm.meta.input_fields[0].endswith("[t]")


@pytest.mark.parametrize("name,override,message", [
    ("burgers", "data.nu=-0.1", "nu"),
    ("advection", "data.beta=0", "beta"),
    ("navier_stokes", "data.nu=0", "nu"),
    ("diffusion_reaction", "data.n_frames=1", "n_frames"),
])
def test_invalid_parameters_fail_before_generation(name, override, message, tmp_path):
    cfg = compose([f"data={name}", *SMALL[name], override, f"paths.data_dir={tmp_path}",
                   f"paths.output_dir={tmp_path / 'run'}"])
    from hydra.errors import InstantiationException

    with pytest.raises((ValueError, InstantiationException), match=message):
        build_data(cfg).prepare_data()
    assert not list(tmp_path.rglob("*.h5"))
