"""The Well (NeurIPS 2024; specs/PROBLEMS.md section A, "The Well's layout"): the reader of its
published HDF5 files and split folders (:mod:`.files`)."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register this suite's datasets (config ``conf/data/the_well.yaml``)."""
    from pdebench.datasets.the_well import files

    api.register_dataset("the_well", files.TheWellFile,
                         "a published file or split folder of The Well (data.path=...), as "
                         "one-step windows")
