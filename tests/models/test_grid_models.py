"""Grid models (``fno``, ``tfno``, ``unet``): shapes on 1-3D grids of any size, gradients,
conformance, option validation, refusal of scattered points, and end-to-end runs."""

from __future__ import annotations

import json
import time

import pytest
import torch
from torch.nn import functional as F

from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.models.fno import build_fno, build_tfno
from pdebench.models.unet import UNet, build_unet
from pdebench.run import ConfigError, run
from pdebench.testing import check_registered_model, tiny_meta

from published_layouts import single_1d, write_pdebench_darcy, write_pt, write_well

GRID_MODELS = ("fno", "tfno", "unet")
BUILDERS = {"fno": build_fno, "tfno": build_tfno, "unet": build_unet}
TINY = {"fno": {"n_modes": 3, "hidden_channels": 4, "n_layers": 1},
        "tfno": {"n_modes": 3, "hidden_channels": 4, "n_layers": 1, "rank": 0.5},
        "unet": {"hidden_channels": 2, "depth": 2}}


def _meta(resolution: tuple[int, ...], c_in: int = 2, c_out: int = 3, **kw) -> DatasetMeta:
    return DatasetMeta(name="odd", spatial_dims=len(resolution), resolution=resolution,
                       input_fields=tuple(f"a{i}" for i in range(c_in)),
                       output_fields=tuple(f"b{i}" for i in range(c_out)), **kw)


# ----------------------------------------------------------------------------------------------
# Shapes, gradients, conformance
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", GRID_MODELS)
@pytest.mark.parametrize("resolution", [(13,), (16,), (9, 6), (5, 7, 6)])
def test_shapes_and_gradients_on_any_grid(name, resolution):
    """Odd and even sizes in 1-3D: (batch, C_in, *s) -> (batch, C_out, *s); every parameter and
    the input receive a gradient."""
    torch.manual_seed(0)
    model = BUILDERS[name](_meta(resolution), **TINY[name])
    x = torch.randn(2, 2, *resolution, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 3, *resolution)
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", GRID_MODELS)
@pytest.mark.parametrize("dims,resolution", [(1, 12), (2, 10), (3, 6)])
def test_conformance(name, dims, resolution):
    meta = tiny_meta(spatial_dims=dims, resolution=resolution, in_channels=2, out_channels=2)
    check_registered_model(name, meta, **TINY[name])


def test_unet_parameter_count_by_hand():
    """1D, width 2, depth 1, no norm (convs then carry a bias), C_in 1, C_out 3:
    encoder 0: conv(1->2, k3) + conv(2->2, k3); encoder 1: conv(2->4) + conv(4->4);
    up: transposed conv(4->2, k2); decoder: conv(4->2) + conv(2->2); head: conv(2->3, k1)."""
    expected = ((1 * 2 * 3 + 2) + (2 * 2 * 3 + 2) + (2 * 4 * 3 + 4) + (4 * 4 * 3 + 4)
                + (4 * 2 * 2 + 2) + (4 * 2 * 3 + 2) + (2 * 2 * 3 + 2) + (2 * 3 + 3))
    model = UNet(1, 1, 3, hidden_channels=2, depth=1, norm="none")
    assert sum(p.numel() for p in model.parameters()) == expected == 169
    # a norm's shift replaces the conv biases: 6 convs lose their bias, 6 norms add 2 per channel
    batch = UNet(1, 1, 3, hidden_channels=2, depth=1, norm="batch")
    n_bias = 2 + 2 + 4 + 4 + 2 + 2
    assert sum(p.numel() for p in batch.parameters()) == expected - n_bias + 2 * n_bias


def test_unet_pads_then_crops_in_place():
    """On a size not divisible by 2**depth the U-Net sees the edge-replicated field, and returns
    the window of the original cells: the same as padding by hand and cropping."""
    torch.manual_seed(0)
    model = UNet(2, 1, 1, hidden_channels=2, depth=2, norm="none").eval()
    x = torch.randn(1, 1, 9, 6)  # -> 12 x 8: 3 extra rows (1 before, 2 after), 2 cols (1, 1)
    by_hand = model(F.pad(x, (1, 1, 1, 2), mode="replicate"))[..., 1:10, 1:7]
    assert torch.allclose(model(x), by_hand, atol=1e-6)


def test_unet_down_and_up_halve_and_double():
    model = UNet(3, 1, 1, hidden_channels=2, depth=2, downsampling="conv")
    sizes = []
    model.down[1].register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[1:])))
    model(torch.randn(1, 1, 8, 8, 12))
    assert sizes == [(4, 2, 2, 3)]  # level 1 (width 4) halved from (4, 4, 6)


def test_unet_halves_a_thin_dimension_only_while_two_cells_remain():
    """A (20, 16, 3) plate with depth 3: x and y are halved 3 times (padded 20 -> 24), z (3
    cells, padded to 4) once: 2**1 < 3 <= 2**2."""
    model = build_unet(_meta((20, 16, 3), c_in=1, c_out=1), hidden_channels=2, depth=3)
    assert model.halvings == (3, 3, 1)
    sizes = []
    for down in model.down:
        down.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[2:])))
    out = model(torch.randn(2, 1, 20, 16, 3))
    assert sizes == [(12, 8, 2), (6, 4, 2), (3, 2, 2)]
    assert out.shape == (2, 1, 20, 16, 3)


def test_fno_modes_capped_and_tfno_is_smaller():
    meta = _meta((10, 10))
    fno = build_fno(meta, n_modes=50, hidden_channels=8, n_layers=2)
    assert tuple(fno.n_modes) == (6, 6)  # 10 // 2 + 1
    tfno = build_tfno(meta, n_modes=4, hidden_channels=8, n_layers=2, rank=0.1)
    dense = build_fno(meta, n_modes=4, hidden_channels=8, n_layers=2)
    n = [sum(p.numel() for p in m.parameters()) for m in (tfno, dense)]
    assert n[0] < n[1]


@pytest.mark.parametrize("factorization", ["tucker", "cp", "tt"])
def test_tfno_factorizations_train(factorization):
    model = build_tfno(_meta((12,)), n_modes=4, hidden_channels=4, n_layers=1,
                       factorization=factorization, rank=0.5)
    x = torch.randn(2, 2, 12)
    model(x).square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


# ----------------------------------------------------------------------------------------------
# Option validation: every option of every grid model
# ----------------------------------------------------------------------------------------------

ARCH = ("n_modes", "hidden_channels", "n_layers", "lifting_channel_ratio",
        "projection_channel_ratio", "positional_embedding")
FNO_ERRORS = [
    ("n_modes", 0, "an int >= 1 or a list of 2 such ints"),
    ("n_modes", [4, 0], "an int >= 1 or a list of 2 such ints"),
    ("n_modes", [4, 4, 4], "an int >= 1 or a list of 2 such ints (dataset 'odd' has 2 spatial "
                           "dimensions)"),
    ("n_modes", 2.5, "an int >= 1 or a list of 2 such ints"),
    ("hidden_channels", 0, "an int >= 1"), ("hidden_channels", True, "an int >= 1"),
    ("n_layers", 0, "an int >= 1"), ("n_layers", 1.5, "an int >= 1"),
    ("lifting_channel_ratio", 0, "a finite number > 0"),
    ("lifting_channel_ratio", float("inf"), "a finite number > 0"),
    ("projection_channel_ratio", -1, "a finite number > 0"),
    ("positional_embedding", "sine", "one of grid"),
]
TFNO_ERRORS = [
    ("factorization", "dense", "one of tucker, cp, tt"),
    ("factorization", "Tucker", "one of tucker, cp, tt"),
    ("rank", 0, "a number in (0, 1]"), ("rank", 1.5, "a number in (0, 1]"),
    ("rank", "big", "a number in (0, 1]"),
    ("implementation", "fast", "one of factorized, reconstructed"),
]
UNET_ERRORS = [
    ("hidden_channels", 0, "an int >= 1"), ("hidden_channels", "8", "an int >= 1"),
    ("depth", 0, "an int >= 1"),
    ("depth", 4, "an int in [1, 3] for data=odd with resolution (9, 6) (the coarsest level needs "
                 "at least 2 cells along the longest dimension: 2**depth < 9)"),
    ("norm", "layer", "one of batch, instance, group, none"),
    ("activation", "sin", "one of relu, gelu, silu, tanh"),
    ("downsampling", "stride", "one of maxpool, avgpool, conv"),
]
CASES = ([("fno", *c) for c in FNO_ERRORS] + [("tfno", *c) for c in FNO_ERRORS + TFNO_ERRORS]
         + [("unet", *c) for c in UNET_ERRORS])


@pytest.mark.parametrize("name,option,value,valid", CASES,
                         ids=[f"{c[0]}-{c[1]}={c[2]!r}" for c in CASES])
def test_option_errors_name_the_option(name, option, value, valid):
    with pytest.raises(ValueError) as err:
        BUILDERS[name](_meta((9, 6)), **{option: value})
    assert str(err.value) == f"model.{option}={value!r}: must be {valid}"


def test_every_option_is_covered():
    """Each keyword of the builders (and so each key of their configs) has an error case."""
    import inspect

    for name, cases in (("fno", FNO_ERRORS), ("tfno", FNO_ERRORS + TFNO_ERRORS),
                        ("unet", UNET_ERRORS)):
        params = inspect.signature(BUILDERS[name]).parameters
        options = {p for p, v in params.items()
                   if p != "meta" and v.kind is v.POSITIONAL_OR_KEYWORD}
        assert options == {c[0] for c in cases}, name


# ----------------------------------------------------------------------------------------------
# Through run(): refusals before training, option errors, end-to-end
# ----------------------------------------------------------------------------------------------

def _run(tmp_path, data: str, model: str, *overrides: str):
    cfg = compose([f"data={data}", f"model={model}", "debug=fast",
                   f"paths.output_dir={tmp_path}", *overrides])
    return run(cfg)


def test_unet_refused_on_scattered_points_before_training(tmp_path):
    with pytest.raises(ConfigError) as err:
        _run(tmp_path, "darcy", "unet", "system=pinn")
    msg = str(err.value)
    assert msg.startswith("model=unet cannot train on data=darcy: a U-Net convolves fields on a "
                          "regular grid, but this dataset has scattered points")
    assert "model=deeponet" in msg  # what would work
    assert not (tmp_path / "checkpoints").exists()  # nothing was trained


def test_zero_hidden_channels_is_named_through_run(tmp_path):
    """The issue's case: ``model.hidden_channels=0`` used to end in ZeroDivisionError."""
    with pytest.raises(ValueError, match=r"^model\.hidden_channels=0: must be an int >= 1$"):
        _run(tmp_path, "darcy", "fno", "model.hidden_channels=0")
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["status"] == "failed"
    assert "model.hidden_channels=0: must be an int >= 1" in record["error"]["message"]


def _end_to_end(tmp_path, model: str, data: str) -> float:
    t0 = time.perf_counter()
    result = _run(tmp_path, data, model)
    seconds = time.perf_counter() - t0
    record = result.record
    assert record["status"] == "ok" and record["model"] == model
    assert record["n_parameters"] > 0
    assert all(v == v for v in record["metrics"].values())  # no NaN metric
    return seconds


@pytest.mark.parametrize("model", GRID_MODELS)
@pytest.mark.parametrize("data", ["burgers", "darcy", "heated_plate"])
def test_end_to_end_one_dataset_per_dimension(tmp_path, model, data):
    """1D burgers, 2D darcy, 3D heated_plate (masked voxels) with debug=fast."""
    _end_to_end(tmp_path, model, data)


#: Every generated gridded dataset (``python -m pdebench list datasets``; the published-file
#: readers need files; electrothermal is gridded under system=operator).
GENERATED_GRIDS = ("advection", "burgers", "darcy", "diffusion_reaction", "navier_stokes",
                   "darcy_geometries", "fisher_kpp", "heated_plate", "e_flow", "elder", "mhd",
                   "ns_heat", "te_heat", "va", "electrothermal", "cylinder_real", "cylinder_sim")


@pytest.mark.slow
@pytest.mark.parametrize("model", GRID_MODELS)
@pytest.mark.parametrize("data", GENERATED_GRIDS)
def test_end_to_end_every_generated_grid(tmp_path, model, data):
    _end_to_end(tmp_path, model, data)


#: Readers of published files that tests/published_layouts.py writes tiny fixtures for:
#: data name -> (writer of the file under a folder, extra overrides).
PUBLISHED = {
    "pdebench_darcy": (lambda d: write_pdebench_darcy(d / "2D_DarcyFlow_beta1.0_Train.hdf5"), []),
    "pdebench_file": (lambda d: single_1d(d / "1D_Burgers_Sols_Nu0.01.hdf5", n=10, T=6, X=32),
                      ["data.history=2"]),
    "the_well": (lambda d: write_well(d / "tiny.hdf5", B=6, T=4, nx=8, ny=8),
                 ["data.split.train=4", "data.split.val=1", "data.split.test=1"]),
    "multiphysics_pt": (lambda d: write_pt(d / "p_train_128.pt", n=6, res=16),
                        ["data.split.train=4", "data.split.val=1", "data.split.test=1"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("model", GRID_MODELS)
@pytest.mark.parametrize("data", sorted(PUBLISHED))
def test_end_to_end_published_files(tmp_path, model, data):
    write, overrides = PUBLISHED[data]
    path = write(tmp_path)
    result = _run(tmp_path / "run", data, model, f"data.path={path}", *overrides)
    assert result.record["status"] == "ok"
