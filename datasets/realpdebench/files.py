"""Reader for RealPDEBench's published trajectory files (PROBLEMS D, "Published files to read")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import numpy as np

from pdebench.data.files import (
    FileSetReader,
    check_finite,
    coord_extent,
    in_memory_for,
    plain,
)
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError, open_h5
from pdebench.data.trajectories import TrajectoryWindows, window_fields

KINDS = ("real", "numerical")
TEST_SETS = ("in_dist", "out_dist")
_SIM_ID = re.compile(r"^(?P<a>\d+(?:\.\d+)?)(?P<nh3>NH3)?(?:_(?P<b>-?\d+(?:\.\d+)?))?$")
#: name of the second parameter of a fluid sim_id, by a fragment of the scenario folder's name
SECOND_PARAM = (("control", "control_frequency"), ("fsi", "mass_ratio"),
                ("vib", "mass_ratio"), ("foil", "angle_of_attack"), ("naca", "angle_of_attack"))
FLAME_REAL_FIELD = "oh_intensity"


def parse_sim_id(sim_id: str, scenario: str = "") -> dict[str, float]:
    """Parameters encoded in a RealPDEBench ``sim_id``.

    ``"1800"`` → ``{"Re": 1800}``; ``"1781_0.5"`` → Re and a second parameter named by the
    scenario (control frequency, mass ratio, angle of attack; ``param_1`` when unknown);
    ``"40NH3_1.1"`` → ``{"NH3_fraction": 40, "equivalence_ratio": 1.1}``.

    Raises
    ------
    ValueError
        ``sim_id`` does not have one of these forms.
    """
    m = _SIM_ID.match(sim_id)
    if not m or (m["nh3"] and m["b"] is None):
        raise ValueError(f"sim_id {sim_id!r} is not of the form '<Re>', '<Re>_<p>' or "
                         "'<x>NH3_<phi>'")
    if m["nh3"]:
        return {"NH3_fraction": float(m["a"]), "equivalence_ratio": float(m["b"])}
    out = {"Re": float(m["a"])}
    if m["b"] is not None:
        name = next((n for frag, n in SECOND_PARAM if frag in scenario.lower()), "param_1")
        out[name] = float(m["b"])
    return out


def read_split_file(path: Path) -> list[tuple[float, ...]]:
    """Parameter tuples listed in a split file (``remain_params_real.json`` ...).

    The file holds a JSON list whose entries are sim_id strings (``"1781_0.5"``), single numbers
    (``1800``) or lists of numbers (``[1781, 0.5]``, ``[40, 1.1]``); each becomes the tuple of
    numbers it encodes, which is matched against the sim_ids of the files.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataFileError(f"split file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(f"split file {path} is not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise DataFileError(f"split file {path}: expected a JSON list of sim_ids or parameter "
                            f"lists, got {type(data).__name__}")
    out = []
    for entry in data:
        if isinstance(entry, str):
            try:
                out.append(tuple(parse_sim_id(entry).values()))
            except ValueError as exc:
                raise DataFileError(f"split file {path}: {exc}") from None
        elif isinstance(entry, (int, float)) and not isinstance(entry, bool):
            out.append((float(entry),))
        elif isinstance(entry, list) and entry and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry):
            out.append(tuple(float(v) for v in entry))
        else:
            raise DataFileError(f"split file {path}: entry {entry!r} is neither a sim_id string, "
                                "a number nor a list of numbers")
    return out


def _coord(fh, key: str):
    for where in (key, f"measured_data/{key}"):
        if where in fh and isinstance(fh[where], h5py.Dataset):
            return where, np.asarray(fh[where][...], dtype=np.float64)
    return None, None


def inspect_file(path: Path) -> dict:
    """Layout of one trajectory file: ``layout``, ``keys``, ``fields``, ``shape`` (T, H, W),
    ``extent`` (or None without coordinates), ``t`` (or None)."""
    with open_h5(path) as fh:
        md = fh.get("measured_data")
        if isinstance(md, h5py.Group):
            missing = [k for k in ("u", "v") if k not in md]
            if missing:
                raise DataFileError(f"{path}: missing 'measured_data/{missing[0]}' (fluid files "
                                    f"hold measured_data/u, v [, p]; it has {sorted(md)})")
            fields = tuple(k for k in ("u", "v", "p") if k in md)
            keys = tuple(f"measured_data/{k}" for k in fields)
            shapes = {k: fh[k].shape for k in keys}
            if len(set(shapes.values())) != 1 or len(shapes[keys[0]]) != 3:
                raise DataFileError(f"{path}: fields have shapes {shapes}, expected one shared "
                                    "(T, H, W)")
            layout, shape = "fluid", shapes[keys[0]]
        elif isinstance(md, h5py.Dataset):
            if md.ndim != 4:
                raise DataFileError(f"{path}: 'measured_data' has shape {md.shape}, expected "
                                    "(T, H, W, C) (simulated flame)")
            names = fh["channel_names"][...] if "channel_names" in fh else \
                md.attrs.get("channel_names", fh.attrs.get("channel_names"))
            if names is None:
                raise DataFileError(f"{path}: missing 'channel_names' for the {md.shape[-1]} "
                                    "channels of 'measured_data'")
            fields = tuple(str(plain(n)) for n in np.ravel(names))
            if len(fields) != md.shape[-1]:
                raise DataFileError(f"{path}: 'channel_names' lists {len(fields)} names but "
                                    f"'measured_data' has {md.shape[-1]} channels")
            layout, keys, shape = "flame_numerical", ("measured_data",), md.shape[:3]
        elif "trajectory" in fh:
            if fh["trajectory"].ndim != 3:
                raise DataFileError(f"{path}: 'trajectory' has shape {fh['trajectory'].shape}, "
                                    "expected (T, H, W) (real flame)")
            layout, keys, fields = "flame_real", ("trajectory",), (FLAME_REAL_FIELD,)
            shape = fh["trajectory"].shape
        else:
            raise DataFileError(f"{path}: neither 'measured_data' (fluid group or simulated "
                                f"flame array) nor 'trajectory' (real flame); the file has "
                                f"{sorted(fh.keys())}")
        n_t, n_h, n_w = shape
        (kx, x), (ky, y) = _coord(fh, "x"), _coord(fh, "y")
        extent = None
        if (x is None) != (y is None):
            raise DataFileError(f"{path}: has only one of the coordinates 'x', 'y'")
        if x is not None:
            if x.ndim == 2:
                x = x[0] if x.shape == (n_h, n_w) else x.ravel()
            if y.ndim == 2:
                y = y[:, 0] if y.shape == (n_h, n_w) else y.ravel()
            extent = (coord_extent(y, n_h, ky, path), coord_extent(x, n_w, kx, path))
        kt, t = _coord(fh, "t")
        if t is not None and t.size != n_t:
            raise DataFileError(f"{path}: {kt!r} has {t.size} entries but the fields have "
                                f"{n_t} frames")
    return {"layout": layout, "keys": keys, "fields": fields, "shape": tuple(shape),
            "extent": extent, "t": None if t is None else t.ravel()}


class RealPDEBenchReader(FileSetReader):
    """One trajectory per file, ``(T, C, H, W)``."""

    def __init__(self, root: Path, files: list[Path], info: dict, in_memory: bool) -> None:
        super().__init__(root, files, [1] * len(files), in_memory)
        self.layout, self.keys, self.fields = info["layout"], info["keys"], info["fields"]
        self.n_frames, self.n_channels = info["shape"][0], len(self.fields)

    def _read(self, index: int, frames: slice) -> np.ndarray:
        fh, path = self.file_handle(index), self.files[index]
        parts = []
        for key in self.keys:
            arr = np.asarray(fh[key][frames], dtype=np.float32)
            parts.append(check_finite(arr, path, key, f"frames {frames.start or 0}.."
                                      f"{frames.stop if frames.stop is not None else 'end'}"))
        if self.layout == "flame_numerical":
            return np.moveaxis(parts[0], -1, 1)
        return np.stack(parts, axis=1)


class RealPDEBenchFiles(DataSource):
    """RealPDEBench (ICLR 2026): published trajectories of one scenario and kind, read lazily as
    one-step windows (``history`` frames in, the next frame out).

    Layout: ``{root}/{scenario}/{kind}/{sim_id}.h5``, one trajectory per file. Fluid scenarios:
    ``measured_data/u``, ``measured_data/v`` (and ``measured_data/p`` in simulations), each
    (T, H, W), coordinates ``x``, ``y`` ((W,), (H,) or (H, W) grids; at the root or in
    ``measured_data``), optional ``t`` (T,). Flame: real ``trajectory`` (T, H, W) (OH*
    intensity, channel ``oh_intensity``); simulated ``measured_data`` (T, H, W, 15) with
    ``channel_names``. The sim_id gives the parameters (``1800`` → Re; ``1781_0.5`` → Re and the
    scenario's second parameter; ``40NH3_1.1`` → NH₃ fraction, equivalence ratio), recorded per
    trajectory in ``extra["trajectories"]``. All trajectories of one kind must share the shape and
    channels (checked, naming both files); shapes are read from the files.

    Split files ``{root}/{scenario}/{in_dist_test,out_dist_test,remain}_params_{kind}.json``: a
    JSON list of sim_id strings, numbers or lists of numbers (see :func:`read_split_file`). The
    trajectories of ``remain`` and of the chosen ``test_set`` are read (the other test set is
    left out), test ones first, and ``published_split`` makes them the test set while ``remain``
    is split into train and validation (a fraction ``val_fraction``, seeded) when
    ``data.split.mode=published`` (the config's default); ``mode=random`` ignores the files.

    Unmeasured channels (*harness choice*): fields are exposed as found (real fluid: u, v; no
    zero p channel is invented); ``extra["measured"]`` lists them and ``extra["unmeasured"]`` the
    channels the simulations have but the measurements lack (``p``), for sim-to-real pairing.
    A NaN anywhere in a window read raises DataFileError naming file, key and frames (PIV holes
    are not filled silently). No equation is attached (``pde=None``).

    Parameters
    ----------
    root : path-like
        The dataset root (holding the scenario folders).
    scenario : str
        Folder name (e.g. ``cylinder``, ``controlled_cylinder``, ``fsi``, ``foil``, ``combustion``).
    kind : {"real", "numerical"}
    test_set : {"in_dist", "out_dist"}
    history, stride : int
    val_fraction : float
        Share of the ``remain`` trajectories held out for validation (at least one).
    in_memory : bool or "auto"
    """

    def __init__(self, root: str | Path, scenario: str, kind: str = "real",
                 test_set: str = "in_dist", history: int = 1, stride: int = 1,
                 val_fraction: float = 0.1, in_memory: bool | str = "auto") -> None:
        if root in (None, "", "???") or scenario in (None, "", "???"):
            raise ValueError("data.root and data.scenario are required for realpdebench: "
                             "{root}/{scenario}/{real|numerical}/{sim_id}.h5")
        if kind not in KINDS:
            raise ValueError(f"data.kind must be one of {KINDS}, got {kind!r}")
        if test_set not in TEST_SETS:
            raise ValueError(f"data.test_set must be one of {TEST_SETS}, got {test_set!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        if history < 1 or stride < 1:
            raise ValueError(f"data.history and data.stride must be >= 1, got {history}, {stride}")
        self.root, self.scenario, self.kind = Path(root).expanduser(), scenario, kind
        self.test_set, self.history, self.stride = test_set, history, stride
        folder = self.root / scenario / kind
        if not folder.is_dir():
            raise DataFileError(f"{folder} is not a folder of RealPDEBench trajectories")
        by_params: dict[tuple[float, ...], Path] = {}
        for p in sorted(folder.glob("*.h5")):
            try:
                by_params[tuple(parse_sim_id(p.stem, scenario).values())] = p
            except ValueError as exc:
                raise DataFileError(f"{p}: malformed file name: {exc}") from None
        if not by_params:
            raise DataFileError(f"{folder}: no {{sim_id}}.h5 files")
        split_dir = self.root / scenario
        test = self._match(split_dir / f"{test_set}_test_params_{kind}.json", by_params)
        remain = self._match(split_dir / f"remain_params_{kind}.json", by_params)
        clash = set(test) & set(remain)
        if clash:
            raise DataFileError(f"{split_dir}: {sorted(p.name for p in clash)} listed both in "
                                f"the {test_set} test set and in remain_params_{kind}.json")
        if len(remain) < 2:
            raise DataFileError(f"{split_dir / f'remain_params_{kind}.json'}: lists "
                                f"{len(remain)} trajectories; train and validation need two")
        self.files = test + remain
        infos = [inspect_file(p) for p in self.files]
        for p, info in zip(self.files[1:], infos[1:], strict=True):
            for key in ("layout", "fields", "shape"):
                if info[key] != infos[0][key]:
                    raise DataFileError(f"{p}: {key} {info[key]} differs from {self.files[0]}'s "
                                        f"{infos[0][key]}; trajectories of one kind must agree")
        self.info = infos[0]
        if self.info["shape"][0] < history + 1:
            raise DataFileError(f"{self.files[0]}: {self.info['shape'][0]} frames are too few "
                                f"for data.history={history}")
        n_val = max(1, round(val_fraction * len(remain)))
        if n_val >= len(remain):
            n_val = len(remain) - 1
        self.published_split = {"train": len(remain) - n_val, "val": n_val, "test": len(test),
                                "mode": "published"}
        self.reader = RealPDEBenchReader(folder, self.files, self.info,
                                         in_memory_for(in_memory, self.files))

    @staticmethod
    def _match(split_file: Path, by_params: dict[tuple[float, ...], Path]) -> list[Path]:
        out = []
        for entry in read_split_file(split_file):
            hit = next((p for k, p in by_params.items()
                        if len(k) == len(entry) and np.allclose(k, entry, rtol=1e-9, atol=1e-9)),
                       None)
            if hit is None:
                raise DataFileError(f"split file {split_file}: entry {entry} matches no sim_id "
                                    f"file in the {split_file.parent.name} folder "
                                    f"({sorted(p.stem for p in by_params.values())[:10]}...)")
            out.append(hit)
        return out

    @property
    def meta(self) -> DatasetMeta:
        info = self.info
        _, n_h, n_w = info["shape"]
        time = {"n_frames": info["shape"][0]}
        if info["t"] is not None:
            t = info["t"]
            time.update({"t_start": float(t[0]), "t_end": float(t[-1])})
            if len(t) > 1:
                time["dt"] = float(t[1] - t[0])
        fields = info["fields"]
        unmeasured = ("p",) if info["layout"] == "fluid" and "p" not in fields else ()
        n_test = self.published_split["test"]
        return DatasetMeta(
            name="realpdebench", pde=None, spatial_dims=2, resolution=(n_h, n_w),
            extent=info["extent"] or ((0.0, 1.0), (0.0, 1.0)),
            input_fields=window_fields(fields, self.history), output_fields=fields,
            grid="cell_centered", time=time,
            extra={"root": str(self.root), "scenario": self.scenario, "kind": self.kind,
                   "layout": info["layout"], "test_set": self.test_set,
                   "measured": list(fields), "unmeasured": list(unmeasured),
                   "coordinates": "from files" if info["extent"] else "absent; (0,1)^2 assumed",
                   "trajectories": {p.stem: {"split": "test" if i < n_test else "remain",
                                             **parse_sim_id(p.stem, self.scenario)}
                                    for i, p in enumerate(self.files)},
                   "view": "one_step", "history": self.history, "stride": self.stride},
        )

    def open(self) -> TrajectoryWindows:
        return TrajectoryWindows(self.reader, history=self.history, stride=self.stride)
