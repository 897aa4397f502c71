"""Lazy HDF5 reading: training speed against in-memory data, and memory on a file larger than 8 GB.

Usage::

    python benchmarks/bench_lazy_reading.py speed [--samples 600] [--resolution 64]
    python benchmarks/bench_lazy_reading.py memory [--gigabytes 8.5] [--dir /tmp]
    python benchmarks/bench_lazy_reading.py formats [--gigabytes 1.5] [--dir DIR]

``speed`` trains the harness's default FNO for one epoch over a generated Darcy store twice — once
with the arrays held in RAM (``in_memory=true``), once read sample by sample from the file
(``in_memory=false``) — and prints the epoch times and their ratio (goal: lazy <= 1.5x).

``memory`` writes a store file of the requested size (random fields at 128², written block by
block, never held in memory), then, in a fresh process, builds the harness's data module on it
(split, normaliser fitted by streaming over the training split) and iterates one epoch of the
training loader. It prints the peak resident memory of that process against the file size. The
file is deleted afterwards.

``formats`` does the same for the two published formats read by ``datasets/mtdeeponet_files.py``:
a compressed ``.npz`` in the multi-task DeepONet's Fisher-KPP layout (converted once to the HDF5
cache, then read from it) and an uncompressed MATLAB v5 ``.mat`` in its Darcy layout
(memory-mapped per access; v5 caps a variable at 2 GiB), each written block by block into
``--dir`` (default: a new temporary folder), then, in a fresh process, builds the source and makes
one shuffled pass over all samples through a DataLoader. It prints the conversion time, the peak
resident memory (``ru_maxrss``) and the peak anonymous memory (sampled each batch: what the
process itself holds), against the file size. Everything is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np


def _epoch_seconds(in_memory: bool, samples: int, resolution: int, data_dir: str) -> float:
    import lightning as L

    from pdebench.config import compose
    from pdebench.run import build_data, build_model, build_system, system_class

    cfg = compose([f"data.n_samples={samples}", f"data.resolution={resolution}",
                   f"data.in_memory={str(in_memory).lower()}", f"paths.data_dir={data_dir}",
                   "paths.output_dir=/tmp/unused"])
    dm = build_data(cfg)
    dm.setup()
    model = build_model(cfg, dm.meta)
    system = build_system(cfg, system_class(cfg), model, {"data": dm.meta})
    system.set_normalizers({"data": dm.stats})
    times: list[float] = []

    class Timer(L.Callback):
        def on_train_epoch_start(self, *a):
            times.append(time.perf_counter())

        def on_train_epoch_end(self, *a):
            times.append(time.perf_counter())

    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
                        callbacks=[Timer()])
    trainer.fit(system, datamodule=dm)
    return times[1] - times[0]


def speed(args: argparse.Namespace) -> None:
    data_dir = tempfile.mkdtemp(prefix="pdebench-bench-")
    _epoch_seconds(True, args.samples, args.resolution, data_dir)  # generate + warm up
    mem = lazy = float("inf")
    for _ in range(args.repeats):  # alternate, keep the best of each
        mem = min(mem, _epoch_seconds(True, args.samples, args.resolution, data_dir))
        lazy = min(lazy, _epoch_seconds(False, args.samples, args.resolution, data_dir))
    print(f"one training epoch, FNO, Darcy {args.resolution}², {args.samples} samples "
          f"(train split), best of {args.repeats}:")
    print(f"  in memory  {mem:7.2f} s")
    print(f"  lazy HDF5  {lazy:7.2f} s")
    print(f"  ratio lazy / in memory: {lazy / mem:.3f}  (goal <= 1.5)")


def _write_big(path: Path, gigabytes: float, res: int) -> int:
    from pdebench.data.meta import DatasetMeta
    from pdebench.data.store import FORMAT, FORMAT_VERSION, atomic_h5

    per_sample = 2 * res * res * 4
    n = int(gigabytes * 2**30 // per_sample)
    meta = DatasetMeta(name="big", spatial_dims=2, resolution=(res, res), input_fields=("a",),
                       output_fields=("u",))
    rng = np.random.default_rng(0)
    block = 2048
    with atomic_h5(path) as fh:
        for key in ("x", "y"):
            ds = fh.create_dataset(key, shape=(n, 1, res, res), dtype=np.float32,
                                   chunks=(1, 1, res, res))
            for start in range(0, n, block):
                stop = min(n, start + block)
                ds[start:stop] = rng.random((stop - start, 1, res, res), dtype=np.float32)
        fh.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, "kind": "pairs",
                         "meta": meta.to_json(), "generator": "{}", "residual": "{}",
                         "complete": True})
    return n


def _child(path: str) -> None:
    """Runs in a fresh process: data module over the big file, one pass of the train loader."""
    from torch.utils.data import Dataset

    from pdebench.data.arrays import FieldSpec, H5SampleDataset
    from pdebench.data.module import PDEDataModule
    from pdebench.data.source import DataSource
    from pdebench.data.store import read_store_info

    meta = read_store_info(path)[0]

    class Big(DataSource):
        @property
        def meta(self):
            return meta

        def open(self) -> Dataset:
            return H5SampleDataset(path, [FieldSpec("x")], [FieldSpec("y")], in_memory=False)

    t0 = time.perf_counter()
    dm = PDEDataModule(Big(), batch_size=64, split={"train": 0.8, "val": 0.1, "test": 0.1})
    dm.setup()
    total = 0.0
    for batch in dm.train_dataloader():
        total += float(batch["y"].sum())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_bytes": peak_kib * 1024, "seconds": time.perf_counter() - t0,
                      "checksum": total}))


def memory(args: argparse.Namespace) -> None:
    path = Path(args.dir) / f"pdebench-big-{os.getpid()}.h5"
    try:
        t0 = time.perf_counter()
        n = _write_big(path, args.gigabytes, args.resolution)
        size = path.stat().st_size
        print(f"wrote {path} ({size / 2**30:.2f} GiB, {n} samples of {args.resolution}²) in "
              f"{time.perf_counter() - t0:.0f} s")
        out = subprocess.run([sys.executable, __file__, "_child", str(path)], check=True,
                             capture_output=True, text=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        peak = res["peak_rss_bytes"]
        print(f"data module set-up (normaliser fitted by streaming) + one training epoch: "
              f"{res['seconds']:.0f} s")
        print(f"peak resident memory {peak / 2**20:.0f} MiB = {100 * peak / size:.2f} % of the "
              f"{size / 2**30:.2f} GiB file")
    finally:
        path.unlink(missing_ok=True)


def _write_npz(path: Path, gigabytes: float, n_x: int = 64, n_t: int = 20) -> int:
    """Fisher-KPP layout, ``inputs`` (n, n_x + 2) and ``outputs`` (n, n_t * n_x) float64, ZIP
    deflate (level 1), streamed member by member in blocks."""
    widths = {"inputs": n_x + 2, "outputs": n_t * n_x}
    n = int(gigabytes * 2**30 // (8 * sum(widths.values())))
    rng, block = np.random.default_rng(0), 4096
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key, width in widths.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array_header_2_0(
                    fh, {"descr": "<f8", "fortran_order": False, "shape": (n, width)})
                for start in range(0, n, block):
                    fh.write(rng.random((min(block, n - start), width)).tobytes())
    return n


def _write_mat(path: Path, gigabytes: float, res: int = 64) -> int:
    """Darcy-geometries layout, MATLAB v5, uncompressed: ``xx``/``yy`` (res, res) meshes and
    ``k_*``, ``u_*``, ``shape_*`` (res, res, N) (MATLAB's sample-last order), written in blocks."""

    def sub(t: int, data: bytes) -> bytes:
        return struct.pack("<II", t, len(data)) + data + bytes(-len(data) % 8)

    def head(name: str, dims: tuple[int, ...]) -> bytes:
        nbytes = 8 * int(np.prod(dims))
        body = (sub(6, struct.pack("<II", 6, 0)) + sub(5, struct.pack(f"<{len(dims)}i", *dims))
                + sub(1, name.encode()))
        tag = struct.pack("<II", 14, len(body) + 8 + nbytes)
        return tag + body + struct.pack("<II", 9, nbytes)  # then the values (a multiple of 8)

    n = int(gigabytes * 2**30 // (3 * 8 * res * res))
    parts = {"train": n - n // 8, "test": n // 8}
    rng, block = np.random.default_rng(0), 2048
    grid = np.linspace(0.0, 1.0, res)
    with open(path, "wb") as fh:
        fh.write(b"MATLAB 5.0 MAT-file, pdebench benchmark".ljust(116) + bytes(8)
                 + struct.pack("<H", 0x0100) + b"IM")
        for name, mesh in (("xx", np.meshgrid(grid, grid)[0]), ("yy", np.meshgrid(grid, grid)[1])):
            fh.write(head(name, (res, res)) + mesh.tobytes(order="F"))
        for part, count in parts.items():
            for var in ("k", "u", "shape"):
                fh.write(head(f"{var}_{part}", (res, res, count)))
                for start in range(0, count, block):
                    fields = rng.random((min(block, count - start), res, res))
                    if var == "shape":
                        fields = (fields > 0.2).astype(np.float64)
                    fh.write(fields.transpose(0, 2, 1).tobytes())  # column-major (res, res, N)
    return n


def _anon_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("RssAnon:"))


def _formats_child(kind: str, path: str, cache_dir: str) -> None:
    """Runs in a fresh process: build the source (converting if needed), one shuffled pass."""
    from torch.utils.data import DataLoader

    from pdebench.datasets.mtdeeponet.files import MTDeepONetDarcyMat, MTDeepONetFisherNpz

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    cls = MTDeepONetFisherNpz if kind == "npz" else MTDeepONetDarcyMat
    src = cls(path, cache_dir=cache_dir)
    build = time.perf_counter() - t0
    anon = _anon_kib()
    ds = src.open()
    t0 = time.perf_counter()
    total = 0.0
    for batch in DataLoader(ds, batch_size=64, shuffle=True):
        total += float(batch["y"].sum())
        anon = max(anon, _anon_kib())
    print(json.dumps({"samples": len(ds), "build_seconds": build,
                      "pass_seconds": time.perf_counter() - t0, "base_rss_kib": base,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "peak_anon_kib": anon, "format": src.meta.extra["format"],
                      "checksum": total}))


def formats(args: argparse.Namespace) -> None:
    own = args.dir is None
    root = Path(tempfile.mkdtemp(prefix="pdebench-formats-") if own else args.dir)
    cache_dir = root / f"converted-{os.getpid()}"
    files = {"npz": root / f"fisher-{os.getpid()}.npz", "mat": root / f"darcy-{os.getpid()}.mat"}
    try:
        for kind, path in files.items():
            t0 = time.perf_counter()
            n = (_write_npz if kind == "npz" else _write_mat)(path, args.gigabytes)
            size = path.stat().st_size
            print(f"{kind}: wrote {path.name} ({size / 2**30:.2f} GiB, {n} samples) in "
                  f"{time.perf_counter() - t0:.0f} s")
            out = subprocess.run([sys.executable, __file__, "_formats", kind, str(path),
                                  str(cache_dir)], check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            base, peak, anon = (r[k] * 2**10 for k in ("base_rss_kib", "peak_rss_kib",
                                                       "peak_anon_kib"))
            print(f"  read as: {r['format']}")
            print(f"  source built in {r['build_seconds']:.1f} s (conversion included); one "
                  f"shuffled pass over {r['samples']} samples in {r['pass_seconds']:.1f} s")
            print(f"  peak RSS {peak / 2**20:.0f} MiB = {100 * peak / size:.1f} % of the file; "
                  f"{(peak - base) / 2**20:.0f} MiB = {100 * (peak - base) / size:.1f} % above "
                  f"the {base / 2**20:.0f} MiB after imports")
            print(f"  peak anonymous memory {anon / 2**20:.0f} MiB = {100 * anon / size:.1f} % "
                  "of the file")
            path.unlink()
            shutil.rmtree(cache_dir, ignore_errors=True)
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)
        shutil.rmtree(root if own else cache_dir, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "_child":
        _child(sys.argv[2])
        return
    if len(sys.argv) == 5 and sys.argv[1] == "_formats":
        _formats_child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--samples", type=int, default=600)
    sp.add_argument("--resolution", type=int, default=64)
    sp.add_argument("--repeats", type=int, default=2)
    mp = sub.add_parser("memory")
    mp.add_argument("--gigabytes", type=float, default=8.5)
    mp.add_argument("--resolution", type=int, default=128)
    mp.add_argument("--dir", default=tempfile.gettempdir())
    fp = sub.add_parser("formats")
    fp.add_argument("--gigabytes", type=float, default=1.5)
    fp.add_argument("--dir", default=None)
    args = parser.parse_args()
    {"speed": speed, "memory": memory, "formats": formats}[args.what](args)


if __name__ == "__main__":
    main()
