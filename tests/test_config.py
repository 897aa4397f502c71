"""Config composition: tiny sizes declared with each dataset and model, applied by debug=fast."""

from __future__ import annotations

import pytest

from pdebench.config import RenamedError, apply_tiny, compose


def test_debug_fast_takes_the_sizes_each_dataset_and_model_declare():
    cfg = compose(["data=burgers", "debug=fast"])
    assert (cfg.data.n_samples, cfg.data.resolution, cfg.data.n_frames) == (10, 64, 5)
    assert cfg.data.loader.batch_size == 8 and cfg.model.hidden_channels == 8
    assert cfg.trainer.max_epochs == 1 and cfg.tiny == "applied"
    assert compose(["data=burgers"]).data.n_samples == 1000  # without debug=fast: the defaults


def test_explicit_overrides_win_over_the_tiny_sizes():
    cfg = compose(["data=burgers", "debug=fast", "data.n_frames=8", "model.n_layers=3"])
    assert cfg.data.n_frames == 8 and cfg.data.n_samples == 10 and cfg.model.n_layers == 3
    named = compose(["+data@datasets.a=darcy", "debug=fast", "datasets.a.resolution=20"])
    assert (named.datasets.a.resolution, named.datasets.a.n_samples) == (20, 40)


def test_applying_twice_changes_nothing():
    cfg = compose(["data=burgers", "debug=fast", "data.n_frames=8"])
    assert apply_tiny(cfg) is cfg and apply_tiny(cfg).data.n_frames == 8


def test_a_renamed_dataset_fails_naming_its_new_name():
    with pytest.raises(RenamedError, match="'natural_convection' was renamed to 'ns_heat'"):
        compose(["data=natural_convection"])
    with pytest.raises(RenamedError, match="renamed to 'va'"):
        compose(["+data@datasets.sim=acoustic_structure"])
