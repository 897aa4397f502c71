"""Tiny files in the layouts the published datasets use, for the readers' tests and the dataset
conformance test. Each writer mirrors what the publication's own code writes (see the readers'
docstrings and specs/PROBLEMS.md) on a few samples of random data."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import torch


def write_pdebench_darcy(path: Path, n: int = 12, res: int = 16, beta: float | None = 1.0,
                         seed: int = 0, coords: bool = True) -> Path:
    """A tiny file in PDEBench's Darcy layout: nu (N, H, W), tensor (N, 1, H, W)."""
    rng = np.random.default_rng(seed)
    nu = np.where(rng.random((n, res, res)) > 0.5, 1.0, 0.1).astype(np.float32)
    x = (np.arange(res) + 0.5) / res
    yy, xx = np.meshgrid(x, x, indexing="ij")
    base = np.sin(np.pi * xx) * np.sin(np.pi * yy)
    u = (base[None] * (1 + 0.1 * rng.standard_normal((n, 1, 1)))).astype(np.float32)
    with h5py.File(path, "w") as fh:
        fh["nu"] = nu
        fh["tensor"] = u[:, None]
        if coords:
            fh["x-coordinate"] = x
            fh["y-coordinate"] = x
        if beta is not None:
            fh.attrs["beta"] = beta
    return path


def single_1d(path, n=4, T=6, X=16, t_extra=True):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as fh:
        fh["tensor"] = rng.random((n, T, X)).astype(np.float32)
        fh["x-coordinate"] = (np.arange(X) + 0.5) / X
        fh["t-coordinate"] = np.linspace(0, 2, T + 1 if t_extra else T)
    return path


def cfd_2d(path, n=3, T=4, H=8, W=8):
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as fh:
        for k in ("density", "pressure", "Vx", "Vy"):
            fh[k] = rng.random((n, T, H, W)).astype(np.float32)
        fh["x-coordinate"] = (np.arange(W) + 0.5) / W
        fh["y-coordinate"] = (np.arange(H) + 0.5) / H
        fh.attrs["M"] = 0.1
        fh.attrs["eta"] = 0.01
    return path


def multi_group(path, n=3, T=5, H=8, W=8, C=2):
    rng = np.random.default_rng(2)
    with h5py.File(path, "w") as fh:
        for i in range(n):
            g = fh.create_group(f"{i:04d}")
            g["data"] = rng.random((T, H, W, C)).astype(np.float32)
            g["grid/x"] = np.linspace(-1 + 1 / W, 1 - 1 / W, W)
            g["grid/y"] = np.linspace(-1 + 1 / H, 1 - 1 / H, H)
            g["grid/t"] = np.linspace(0, 5, T)
    return path


def write_well(path, B=3, T=5, nx=8, ny=6, seed=0):
    """A tiny Well file: t0 buoyancy (B, T, x, y), t0 obstacle constant in time and sample and
    along y (x,), t1 velocity (B, T, x, y, 2), t2 stress shared by all samples (T, x, y, 2, 2)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as fh:
        fh.attrs.update({"dataset_name": "tiny_well", "n_spatial_dims": 2,
                         "grid_type": "cartesian", "n_trajectories": B, "Ra": 1e6})
        d = fh.create_group("dimensions")
        d.attrs["spatial_dims"] = ["x", "y"]
        d["time"] = np.linspace(0.0, 1.0, T)
        d["x"] = (np.arange(nx) + 0.5) / nx * 2.0
        d["y"] = (np.arange(ny) + 0.5) / ny
        for name, kind, dim in (("x_periodic", "PERIODIC", "x"), ("y_wall", "WALL", "y")):
            g = fh.create_group(f"boundary_conditions/{name}")
            g.attrs.update({"bc_type": kind, "associated_dims": [dim], "sample_varying": False,
                            "time_varying": False})
            g["mask"] = np.zeros(nx if dim == "x" else ny, bool)
            g["values"] = np.zeros(0)
        fh["scalars/Ra"] = 1e6

        def field(key, data, sv=True, tv=True, dv=(True, True)):
            fh[key] = data.astype(np.float32)
            fh[key].attrs.update({"sample_varying": sv, "time_varying": tv,
                                  "dim_varying": np.array(dv)})

        fh.create_group("t0_fields").attrs["field_names"] = ["buoyancy", "obstacle"]
        field("t0_fields/buoyancy", rng.random((B, T, nx, ny)))
        field("t0_fields/obstacle", rng.random(nx), sv=False, tv=False, dv=(True, False))
        fh.create_group("t1_fields").attrs["field_names"] = ["velocity"]
        field("t1_fields/velocity", rng.random((B, T, nx, ny, 2)))
        fh.create_group("t2_fields").attrs["field_names"] = ["stress"]
        field("t2_fields/stress", rng.random((T, nx, ny, 2, 2)), sv=False)
    return path


def write_real(root, scenario="cylinder", kind="real", ids=("1800", "2000", "2200", "2400",
                                                               "2600"), T=6, H=4, W=5,
               splits=None, seed=0):
    """Tiny RealPDEBench scenario: fluid files (u, v [, p]) with x (W,), y (H,) decreasing, t."""
    rng = np.random.default_rng(seed)
    folder = root / scenario / kind
    folder.mkdir(parents=True, exist_ok=True)
    for sid in ids:
        with h5py.File(folder / f"{sid}.h5", "w") as fh:
            for k in ("u", "v", "p") if kind == "numerical" else ("u", "v"):
                fh[f"measured_data/{k}"] = rng.random((T, H, W)).astype(np.float32)
            fh["x"] = np.linspace(0.0, 0.4, W)
            fh["y"] = np.linspace(0.15, 0.0, H)
            fh["t"] = np.arange(T) * 0.01
    splits = splits or {"in_dist_test": [ids[0]], "out_dist_test": [[float(ids[-1])]],
                        "remain": [float(i) for i in ids[1:3]] + [ids[3]]}
    for name, entries in splits.items():
        (root / scenario / f"{name}_params_{kind}.json").write_text(json.dumps(entries))
    return folder


def write_v73(path, arrays):
    """A MATLAB v7.3-style file: HDF5 behind MATLAB's 512-byte header, arrays stored transposed,
    complex arrays as (real, imag) compounds."""
    with h5py.File(path, "w", userblock_size=512) as fh:
        for key, value in arrays.items():
            value = np.asarray(value)
            if np.iscomplexobj(value):
                c = np.empty(value.shape, [("real", "<f8"), ("imag", "<f8")])
                c["real"], c["imag"] = value.real, value.imag
                value = c
            fh[key] = value.T
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, tiny test".ljust(128, b" "))
    return path


def write_pt(path, n=6, cin=2, cout=3, res=8, **extra):
    g = torch.Generator().manual_seed(0)
    data = {"x": torch.rand(n, cin, res, res, generator=g) * 1.8 - 0.9,
            "y": torch.rand(n, cout, res, res, generator=g) * 1.8 - 0.9, **extra}
    torch.save(data, path)
    return path


def write_npy_dir(root, n=5, shape=(6, 8, 4)):
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        np.save(root / f"merge_{i * 5}.npy", rng.random(shape).astype(np.float32))
    return root


def write_mat_dir(root, n=3, shape=(6, 8), v73_last=True):
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        values = {"export_sigma": rng.random(shape),
                  "export_Ez": rng.random(shape) + 1j * rng.random(shape),
                  "export_T": rng.random(shape)}
        if v73_last and i == n - 1:
            write_v73(root / f"sample_{i}.mat", values)
        else:
            scipy.io.savemat(root / f"sample_{i}.mat", values)
    return root


def write_npz(path, n=5, beta=True, n_x=64, n_t=20, **override):
    rng = np.random.default_rng(2)
    arrays = {"inputs": rng.random((n, n_x + (2 if beta else 1))),
              "outputs": rng.random((n, n_t * n_x)), **override}
    np.savez(path, **arrays)
    return path


def darcy_arrays(n_train=5, n_test=3, h=6, w=7, ids=False):
    rng = np.random.default_rng(4)
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 2, w), indexing="ij")
    out = {"xx": xx, "yy": yy}
    for part, n in (("train", n_train), ("test", n_test)):
        out[f"k_{part}"] = rng.random((n, h, w))
        out[f"u_{part}"] = rng.random((n, h, w))
        out[f"shape_{part}"] = (rng.integers(0, 3, (n, 1)).astype(float) if ids
                                else (rng.random((n, h, w)) > 0.3).astype(float))
    return out
