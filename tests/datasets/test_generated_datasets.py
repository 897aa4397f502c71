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

FILE_BASED = {"pdebench_darcy", "pdebench_file", "the_well", "realpdebench", "multiphysics_pt",
              "multiphysics_npy", "multiphysics_mat", "mtdeeponet_npz", "mtdeeponet_mat"}


GENERATED = sorted(set(DATASETS.names()) - FILE_BASED)


@pytest.mark.parametrize("name", GENERATED)
def test_every_dataset_declares_its_tiny_size(name):
    """debug=fast and the tests take the sizes the dataset's config declares (data.tiny)."""
    cfg = compose([f"data={name}"])
    assert cfg.data.tiny, f"conf/data/{name}.yaml declares no tiny size"
    assert compose([f"data={name}", "debug=fast"]).data != cfg.data


@pytest.mark.parametrize("name", GENERATED)
def test_generated_dataset_trains_end_to_end(name, tmp_path):
    cfg = compose([f"data={name}", "debug=fast", "trainer.accelerator=cpu",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok" and record["dataset"] == name
    # every generated dataset names an equation: its physics metrics are in the record
    assert any(k.startswith("residual_l2/") for k in record["metrics"]), sorted(record["metrics"])
    dm = build_data(cfg)
    if hasattr(dm.source, "path"):  # one store file (the cylinder scenario is a folder of
        # per-trajectory files in RealPDEBench's layout, checked in test_cylinder_generation.py)
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
    cfg = compose([f"data={name}", "debug=fast", override, f"paths.data_dir={tmp_path}",
                   f"paths.output_dir={tmp_path / 'run'}"])
    from hydra.errors import InstantiationException

    with pytest.raises((ValueError, InstantiationException), match=message):
        build_data(cfg).prepare_data()
    assert not list(tmp_path.rglob("*.h5"))
