"""The result.json schema: validation, atomic writes."""

from __future__ import annotations

import json
import math

import pytest

from pdebench import results
from pdebench.results import ResultError


def _record(**kw):
    base = {"schema_version": 1, "status": "ok", "pdebench_version": "0.1.0",
            "config_hash": "abc", "dataset": "darcy", "model": "fno", "system": "operator",
            "seed": 0, "metrics": {"pdebench/nrmse": 0.03}}
    base.update(kw)
    return base


def test_roundtrip(tmp_path):
    path = results.write(_record(), tmp_path / "r" / "result.json")
    assert results.read(path)["metrics"]["pdebench/nrmse"] == 0.03
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # no temp file left


@pytest.mark.parametrize("change,message", [
    ({"seed": "0"}, "'seed' must be int"),
    ({"seed": True}, "'seed' must be int"),
    ({"status": "done"}, "status 'done' is not one of"),
    ({"status": "failed"}, "failed run must carry an 'error'"),
    ({"schema_version": 2}, "schema_version 2 is not supported"),
    ({"metrics": {"x": "high"}}, "metric 'x' must be a number"),
    ({"metrics": {"x": math.nan}}, "metric 'x' is not finite"),
    ({"train_time_s": "slow"}, "'train_time_s' must be"),
])
def test_invalid_records_are_refused_by_name(tmp_path, change, message):
    with pytest.raises(ResultError, match=message):
        results.write(_record(**change), tmp_path / "result.json")
    assert not (tmp_path / "result.json").exists()


def test_missing_key_and_bad_json(tmp_path):
    rec = _record()
    del rec["model"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(rec))
    with pytest.raises(ResultError, match="missing required key 'model'"):
        results.read(path)
    path.write_text("{not json")
    with pytest.raises(ResultError, match="not valid JSON"):
        results.read(path)
    with pytest.raises(ResultError, match="no such file"):
        results.read(tmp_path / "none.json")


def test_failed_record_with_error_is_valid(tmp_path):
    rec = _record(status="failed", error={"type": "ValueError", "message": "boom"}, metrics={})
    assert results.read(results.write(rec, tmp_path / "result.json"))["status"] == "failed"


def test_config_hash_ignores_where_files_live_but_not_which_file():
    from pdebench.results import comparable_config, config_hash

    base = {"seed": 0, "data": {"name": "pdebench_file", "path": "/a/1D_Burgers_Nu0.01.hdf5",
                                "root": "/a/realpdebench", "cache_dir": "/a/converted", "n_t": 20},
            "paths": {"data_dir": "/a"}, "model": {"name": "fno", "n_modes": 8}}
    moved = {**base, "seed": 3, "paths": {"data_dir": "/b"},
             "data": {**base["data"], "path": "/b/x/1D_Burgers_Nu0.01.hdf5",
                      "root": "/b/a/realpdebench", "cache_dir": "/b/converted"}}
    assert config_hash(base) == config_hash(moved)
    assert comparable_config(base) == {
        "data.name": "pdebench_file", "data.path": "1D_Burgers_Nu0.01.hdf5",
        "data.root": "a/realpdebench", "data.n_t": 20, "model.name": "fno", "model.n_modes": 8}
    other_file = {**base, "data": {**base["data"], "path": "/a/1D_Burgers_Nu0.1.hdf5"}}
    assert config_hash(other_file) != config_hash(base)  # another viscosity: another row
    assert config_hash({**base, "data": {**base["data"], "n_t": 10}}) != config_hash(base)
    # folders named alike (The Well: <dataset>/data) keep their parent's name apart
    well = {**base, "data": {"name": "the_well", "path": "/w/shear_flow/data"}}
    other = {**base, "data": {"name": "the_well", "path": "/w/rayleigh_benard/data"}}
    assert config_hash(well) != config_hash(other)
    assert comparable_config(well)["data.path"] == "shear_flow/data"


def test_physics_informed_fields_are_optional_and_checked(tmp_path):
    path = tmp_path / "result.json"
    for extra in ({}, {"instance": None}, {"instance": 3, "track": "physics", "n_data": 0},
                  {"instance": 0, "track": "data_assisted", "n_data": 200}):
        assert results.read(results.write(_record(**extra), path)) == _record(**extra)
    for change, message in [
        ({"instance": "3"}, "key 'instance' must be int or null, got str"),
        ({"instance": True}, "key 'instance' must be int or null, got bool"),
        ({"instance": -1}, "instance=-1 must be >= 0"),
        ({"track": "hybrid"}, r"track 'hybrid' is not one of \('physics', 'data_assisted'\)"),
        ({"n_data": -5}, "n_data=-5 must be >= 0"),
        ({"track": "physics", "n_data": 10}, "track 'physics' uses no observed points, got "
                                             "n_data=10"),
        ({"track": "data_assisted", "n_data": 0}, "track 'data_assisted' needs n_data >= 1"),
        ({"metrics_per_field": {"u": {"x": "low"}}}, r"metrics_per_field\['u'\] metric 'x' must "
                                                     "be a number"),
        ({"metrics_per_field": {"u": 0.1}}, r"metrics_per_field\['u'\] must be an object"),
        ({"metrics_per_field": {"u": {"x": math.inf}}}, r"metrics_per_field\['u'\] metric 'x' "
                                                        "is not finite"),
    ]:
        with pytest.raises(ResultError, match=message):
            results.write(_record(**change), path)


def test_config_hash_ignores_the_instance_like_the_seed():
    from pdebench.results import comparable_config, config_hash

    base = {"seed": 0, "data": {"name": "heat", "regime": 1, "instance": 0}, "model": {"w": 8}}
    other = {"seed": 2, "data": {"name": "heat", "regime": 1, "instance": 4}, "model": {"w": 8}}
    assert config_hash(base) == config_hash(other)
    assert comparable_config(base) == {"data.name": "heat", "data.regime": 1, "model.w": 8}
    named = {"seed": 0, "datasets": {"a": {"name": "heat", "instance": 1}}}
    assert comparable_config(named) == {"datasets.a.name": "heat"}
    regime = {**base, "data": {**base["data"], "regime": 2}}
    assert config_hash(regime) != config_hash(base)  # another regime: another configuration
