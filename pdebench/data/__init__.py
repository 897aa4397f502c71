"""The data contract: metadata, sample dicts, HDF5 store, splits, normalisers, data module."""

from pdebench.data.meta import DatasetMeta

__all__ = ["DatasetMeta"]
