"""Seeded train/val/test splits, and the published "first 10% as test" split for parity."""

from __future__ import annotations

import numpy as np

SPLIT_MODES = ("random", "published", "ordered")


def split_counts(n: int, train: float | int, val: float | int, test: float | int,
                 name: str = "dataset") -> tuple[int, int, int]:
    """Turn fractions (floats summing to <= 1) or counts (ints) into sample counts.

    Raises
    ------
    ValueError
        When a split would be empty or the counts exceed ``n``; the message names the dataset,
        its size and the requested split.
    """
    parts = {"train": train, "val": val, "test": test}
    if all(isinstance(v, float) for v in parts.values()):
        if any(v < 0 for v in parts.values()) or sum(parts.values()) > 1 + 1e-9:
            raise ValueError(f"split fractions must be >= 0 and sum to at most 1, got {parts}")
        counts = {k: int(np.floor(v * n + 1e-9)) for k, v in parts.items()}
        # whatever rounding leaves over goes to train when the fractions sum to 1
        if abs(sum(parts.values()) - 1) < 1e-9:
            counts["train"] = n - counts["val"] - counts["test"]
    else:
        counts = {k: int(v) for k, v in parts.items()}
    empty = [k for k, c in counts.items() if c < 1]
    if empty or sum(counts.values()) > n:
        raise ValueError(
            f"{name} has {n} samples, too few for the split train={train}, val={val}, "
            f"test={test} (gives {counts}); every split needs at least one sample: use a "
            "larger dataset (e.g. data.n_samples) or other data.split values")
    return counts["train"], counts["val"], counts["test"]


def make_splits(n: int, train: float | int = 0.8, val: float | int = 0.1,
                test: float | int = 0.1, seed: int = 0, mode: str = "random",
                name: str = "dataset") -> dict[str, np.ndarray]:
    """Indices of each split.

    Parameters
    ----------
    mode : {"random", "published"}
        ``random``: a permutation seeded by ``seed``. ``published``: PDEBench's convention, the
        *first* ``test`` samples are the test set; validation is then drawn (seeded) from the rest,
        which PDEBench itself does not have. ``ordered``: contiguous blocks, test first, then
        validation, then train (for files whose own split folders are stacked in that order).
    """
    if mode not in SPLIT_MODES:
        raise ValueError(f"unknown split mode {mode!r}; valid: {', '.join(SPLIT_MODES)}")
    n_train, n_val, n_test = split_counts(n, train, val, test, name)
    rng = np.random.default_rng(seed)
    if mode == "ordered":
        return {"test": np.arange(n_test), "val": np.arange(n_test, n_test + n_val),
                "train": np.arange(n_test + n_val, n_test + n_val + n_train)}
    if mode == "random":
        perm = rng.permutation(n)
        test_idx = perm[:n_test]
        rest = perm[n_test:]
    else:
        test_idx = np.arange(n_test)
        rest = rng.permutation(np.arange(n_test, n))
    return {
        "train": np.sort(rest[n_val:n_val + n_train]),
        "val": np.sort(rest[:n_val]),
        "test": np.sort(test_idx),
    }
