"""The Well's reader refuses a file missing one of the layout's root groups, naming the file, the
group and the groups a Well file has; empty groups are fine."""

from __future__ import annotations

import h5py
import pytest

from pdebench.data.store import DataFileError
from pdebench.datasets.the_well.files import REQUIRED_GROUPS, TheWellFile

from published_layouts import write_well

GROUPS = ("dimensions", "boundary_conditions", "scalars", "t0_fields", "t1_fields", "t2_fields")


def test_required_groups_are_the_layouts() -> None:
    assert REQUIRED_GROUPS == GROUPS


@pytest.mark.parametrize("group", GROUPS)
def test_missing_group_is_named_with_the_required_ones(tmp_path, group) -> None:
    path = write_well(tmp_path / "tiny.hdf5")
    with h5py.File(path, "a") as fh:
        del fh[group]
    with pytest.raises(DataFileError) as info:
        TheWellFile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: missing group '{group}' of The Well's layout")
    assert "dimensions, boundary_conditions, scalars, t0_fields, t1_fields, t2_fields" in message
    present = sorted(g for g in GROUPS if g != group)
    assert f"this file has {present}" in message


def test_several_missing_groups_and_a_dataset_in_place_of_a_group(tmp_path) -> None:
    path = write_well(tmp_path / "tiny.hdf5")
    with h5py.File(path, "a") as fh:
        del fh["scalars"], fh["t2_fields"], fh["boundary_conditions"]
        fh["boundary_conditions"] = [1.0, 2.0]  # a dataset is not the group
    with pytest.raises(DataFileError, match="missing groups 'boundary_conditions', 'scalars', "
                                            "'t2_fields' of The Well's layout"):
        TheWellFile(path)


def test_empty_groups_are_read(tmp_path) -> None:
    path = write_well(tmp_path / "tiny.hdf5")
    with h5py.File(path, "a") as fh:
        for group in ("t2_fields", "boundary_conditions", "scalars"):
            del fh[group]
            fh.create_group(group)
        fh["t2_fields"].attrs["field_names"] = []
    meta = TheWellFile(path).meta
    assert meta.output_fields == ("buoyancy", "velocity_x", "velocity_y")
    assert meta.boundary_conditions == {}
