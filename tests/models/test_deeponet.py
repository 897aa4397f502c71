"""DeepONet and the multi-task DeepONet: shapes, evaluation at any points, masks, parameter
branches, time as a trunk coordinate, option checks, conformance and runs through run(cfg)."""

from __future__ import annotations

import math

import pytest
import torch

from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.models.deeponet import build_deeponet, grid_coordinates, supports
from pdebench.models.mt_deeponet import TRANSFER_FREEZE, build_mt_deeponet
from pdebench.run import build_model, run
from pdebench.testing import check_registered_model, tiny_meta, tiny_point_meta
from pdebench.transfer import apply_freeze

TINY = {"branch_layers": [16], "trunk_layers": [16, 16], "latent": 8, "cnn_filters": [4, 8]}
BUILDERS = {"deeponet": build_deeponet, "mt_deeponet": build_mt_deeponet}


def _meta(dims: int, grid: str = "cell_centered", **kw) -> DatasetMeta:
    res = {1: (16,), 2: (8, 6), 3: (6, 4, 4)}[dims]
    extent = ((0.0, 2.0), (-1.0, 1.0), (0.0, 0.5))[:dims]
    kw.setdefault("input_fields", ("a", "b"))
    kw.setdefault("output_fields", ("u", "v", "w"))
    return DatasetMeta(name="t", spatial_dims=dims, resolution=res, extent=extent, grid=grid, **kw)


def _fisher_meta(n_frames: int = 4) -> DatasetMeta:
    """The fisher_kpp layout: [u0, c1..c4] -> n_frames frames of u (16 cells on [0, 1])."""
    times = [(k + 1) / n_frames for k in range(n_frames)]
    return DatasetMeta(
        name="fk", spatial_dims=1, resolution=(16,), extent=((0.0, 1.0),),
        input_fields=("u0", "c1", "c2", "c3", "c4"),
        output_fields=tuple(f"u_t{k + 1}" for k in range(n_frames)),
        extra={"parameter_fields": ["c1", "c2", "c3", "c4"],
               "output_frames": {"fields": ["u"], "times": times}})


def _plate_meta() -> DatasetMeta:
    """The heated_plate layout: [n_holes, position, mask] -> T (3D)."""
    return DatasetMeta(name="hp", spatial_dims=3, resolution=(8, 4, 2),
                       extent=((0.0, 2.0), (0.0, 1.0), (0.0, 0.5)),
                       input_fields=("n_holes", "position", "mask"), output_fields=("T",),
                       masks=("mask",), extra={"parameter_fields": ["n_holes", "position"]})


def _constant_channels(meta: DatasetMeta, values: torch.Tensor) -> torch.Tensor:
    """(batch, n) scalars broadcast to (batch, n, *resolution)."""
    return values[(...,) + (None,) * meta.spatial_dims].expand(*values.shape, *meta.resolution)


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_forward_maps_the_grid_to_the_grid(name, dims):
    meta = _meta(dims)
    model = BUILDERS[name](meta, **TINY)
    out = model(torch.randn(3, 2, *meta.resolution))
    assert out.shape == (3, 3, *meta.resolution)
    # auto: a CNN over 2D/3D fields, an MLP over a 1D one
    assert (model.branch.conv is None) == (dims == 1)


@pytest.mark.parametrize("grid", ["cell_centered", "vertex"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_query_at_the_grid_points_equals_the_forward(dims, grid):
    meta = _meta(dims, grid)
    torch.manual_seed(0)
    model = build_deeponet(meta, **TINY).eval()
    x = torch.randn(2, 2, *meta.resolution)
    coords = grid_coordinates(meta, meta.resolution)
    with torch.no_grad():
        grid_out = model(x)
        points = model.query(x, coords)
        # the same points in another order give the same values in that order
        perm = torch.randperm(coords.shape[0])
        shuffled = model.query(x, coords[perm])
    assert points.shape == (2, 3, math.prod(meta.resolution))
    torch.testing.assert_close(points.reshape(grid_out.shape), grid_out)
    torch.testing.assert_close(shuffled, points[..., perm])


def test_grid_coordinates_are_cell_centres_or_vertices():
    meta = _meta(1)  # 16 cells on [0, 2]
    torch.testing.assert_close(grid_coordinates(meta, (4,))[:, 0],
                               torch.tensor([0.25, 0.75, 1.25, 1.75]))
    vertex = _meta(1, "vertex")
    torch.testing.assert_close(grid_coordinates(vertex, (3,))[:, 0], torch.tensor([0.0, 1.0, 2.0]))


def test_output_is_the_sum_of_branch_times_trunk_plus_bias():
    meta = _meta(2)
    model = build_deeponet(meta, **TINY).eval()
    with torch.no_grad():
        model.out_bias.copy_(torch.tensor([0.5, -1.0, 2.0]))
        x = torch.randn(2, 2, *meta.resolution)
        coords = torch.tensor([[0.0, -1.0], [2.0, 1.0], [1.0, 0.0]])
        b = model.branch(x).view(2, 3, 8)
        # the trunk sees coordinates scaled to [-1, 1] over the extent [0, 2] x [-1, 1]
        t = model.trunk(torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]])).view(3, 3, 8)
        expect = torch.stack([b[:, g] @ t[:, g].T + model.out_bias[g] for g in range(3)], 1)
        torch.testing.assert_close(model.query(x, coords), expect)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_finer_grid_prediction_agrees_at_the_shared_points(dims):
    meta = _meta(dims)
    model = build_deeponet(meta, **TINY).eval()
    x = torch.randn(2, 2, *meta.resolution)
    fine = [3 * n for n in meta.resolution]  # cell centre i of the coarse grid = 3 i + 1
    with torch.no_grad():
        out = model.forward_on_grid(x, fine)
        coarse = model(x)
    assert out.shape == (2, 3, *fine)
    shared = out[(..., *[slice(1, None, 3)] * dims)]
    torch.testing.assert_close(shared, coarse)


def test_finer_vertex_grid_shares_every_other_point():
    meta = _meta(2, "vertex")
    model = build_deeponet(meta, **TINY).eval()
    x = torch.randn(1, 2, *meta.resolution)
    with torch.no_grad():
        out = model.forward_on_grid(x, [2 * n - 1 for n in meta.resolution])
        torch.testing.assert_close(out[..., ::2, ::2], model(x))


def test_mt_deeponet_is_zero_outside_the_mask_on_any_grid():
    meta = _meta(2, input_fields=("log_k", "mask"), output_fields=("h",), masks=("mask",))
    model = build_mt_deeponet(meta, **TINY).eval()
    torch.manual_seed(1)
    mask = (torch.rand(2, *meta.resolution) > 0.4).float()
    x = torch.stack([torch.randn(2, *meta.resolution), mask], 1)
    with torch.no_grad():
        out = model(x)[:, 0]
        fine = model.forward_on_grid(x, [3 * n for n in meta.resolution])[:, 0]
    assert (out[mask == 0] == 0).all() and (out[mask == 1] != 0).all()
    # a fine cell takes the mask of the coarse cell it lies in
    coarse_of_fine = mask.repeat_interleave(3, 1).repeat_interleave(3, 2)
    assert (fine[coarse_of_fine == 0] == 0).all() and (fine[coarse_of_fine == 1] != 0).all()
    # model=deeponet leaves the output unmasked
    plain = build_deeponet(meta, **TINY).eval()
    with torch.no_grad():
        assert (plain(x)[:, 0][mask == 0] != 0).all()


def test_coefficients_reach_the_branch_as_scalars():
    meta = _fisher_meta()
    model = build_mt_deeponet(meta, **TINY).eval()
    # branch input: the 4 coefficients (one number each) and u0 on its 16 cells
    assert model.branch.conv is None and model.branch.mlp[0].in_features == 4 + 16
    u0 = torch.rand(1, 1, 16)
    coef = torch.tensor([[0.5, -0.5, 0.0, 0.0]])
    x = torch.cat([u0, _constant_channels(meta, coef)], 1)
    other = torch.cat([u0, _constant_channels(meta, torch.tensor([[0.5, 0.0, -0.5, 0.0]]))], 1)
    with torch.no_grad():
        out, changed = model(x), model(other)
        # a parameter is read as its channel's mean: a pattern with the same mean changes nothing
        wavy = x.clone()
        wavy[:, 2] += torch.cos(2 * math.pi * torch.arange(16) / 16)
        same = model(wavy)
    assert not torch.allclose(out, changed)
    torch.testing.assert_close(same, out)


def test_parameter_branch_is_an_mlp():
    meta = _plate_meta()
    model = build_mt_deeponet(meta, **TINY)
    assert model.branch.conv is None
    assert model.branch.mlp[0].in_features == 2 + 8 * 4 * 2  # (n_holes, position) + the mask
    paper = build_mt_deeponet(meta, **{**TINY, "mask_in_branch": False})
    assert paper.branch.mlp[0].in_features == 2
    out = paper(torch.cat([_constant_channels(meta, torch.tensor([[3.0, 1.2]])),
                           torch.ones(1, 1, 8, 4, 2)], 1))
    assert out.shape == (1, 1, 8, 4, 2)


def test_frames_become_a_time_coordinate():
    meta = _fisher_meta(n_frames=4)
    model = build_deeponet(meta, **TINY).eval()
    assert model.trunk.hidden[0].in_features == 2  # (x, t)
    assert model.out_bias.shape == (1,)  # one field, u
    x = torch.randn(2, 5, 16)
    xs = grid_coordinates(meta, (16,))
    with torch.no_grad():
        out = model(x)
        for k, t in enumerate([0.25, 0.5, 0.75, 1.0]):  # frame k at t = (k + 1) / 4
            at_t = model.query(x, torch.cat([xs, torch.full((16, 1), t)], 1))
            torch.testing.assert_close(at_t[:, 0], out[:, k])
        # a time between frames is a new prediction of the same shape
        assert model.query(x, torch.cat([xs, torch.full((16, 1), 0.3)], 1)).shape == (2, 1, 16)
    off = build_deeponet(meta, **{**TINY, "frame_time": False})
    assert off.trunk.hidden[0].in_features == 1 and off.out_bias.shape == (4,)


def test_transfer_freeze_leaves_the_published_layers_trainable():
    cfg = compose(["model=mt_deeponet_darcy", "data=darcy_geometries"])
    meta = DatasetMeta(name="darcy_geometries", spatial_dims=2, resolution=(64, 64),
                       extent=((0.0, 1.0), (0.0, 1.0)), input_fields=("log_k", "mask"),
                       output_fields=("h",), masks=("mask",))
    model = build_model(cfg, meta)
    assert [c.out_channels for c in model.branch.conv] == [16, 32, 64, 64]
    assert [m.out_features for m in model.branch.mlp] == [128, 128, 150]
    assert [m.out_features for m in model.trunk.hidden] == [64, 128, 128, 128]
    assert model.out_bias is None and model.mask_channel == 1
    frozen = apply_freeze(model, list(TRANSFER_FREEZE))  # every pattern matches something
    assert frozen["n_tensors"] == 2 * (3 + 4)  # weight and bias of conv 1-3 and trunk 0-3
    trainable = {n.rsplit(".", 1)[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"branch.conv.0", "branch.mlp.0", "branch.mlp.1", "branch.mlp.2",
                         "trunk.out"}


def test_presets_build_the_published_sizes():
    fisher = build_model(compose(["model=mt_deeponet_fisher", "data=fisher_kpp"]), _fisher_meta())
    assert [m.out_features for m in fisher.branch.mlp] == [128, 128, 300]
    assert fisher.branch.norm is not None and fisher.trunk.hidden[0].in_features == 2
    plate = build_model(compose(["model=mt_deeponet_heated_plate", "data=heated_plate"]),
                        _plate_meta())
    assert [m.out_features for m in plate.branch.mlp] == [32, 64, 128, 128, 200]
    assert plate.branch.mlp[0].in_features == 2 and len(plate.trunk.hidden) + 1 == 9


@pytest.mark.parametrize("option,value,match", [
    ("branch", "rnn", r"model\.branch='rnn': must be one of auto, mlp, cnn"),
    ("latent", 0, r"model\.latent=0: must be an int >= 1"),
    ("branch_layers", [16, 0], r"model\.branch_layers=\[16, 0\]"),
    ("trunk_layers", [], r"model\.trunk_layers=\[\]"),
    ("cnn_filters", [4, -1], r"model\.cnn_filters="),
    ("kernel_size", 4, r"model\.kernel_size=4: must be an odd int"),
    ("dropout", 1.0, r"model\.dropout=1\.0: must be a number in \[0, 1\)"),
    ("activation", "sin", r"model\.activation='sin': must be one of relu"),
    ("trunk_activation", "swish", r"model\.trunk_activation='swish'"),
    ("layer_norm", "yes", r"model\.layer_norm='yes': must be true or false"),
    ("frame_time", "maybe", r"model\.frame_time='maybe': must be auto, true or false"),
    ("frame_time", True, r"model\.frame_time=True: must be auto or false: dataset 't'"),
    ("parameter_fields", ["nope"], r"model\.parameter_fields=\['nope'\]: must be input"),
    ("parameter_fields", "a", r"model\.parameter_fields='a': must be a list"),
])
def test_bad_options_name_the_option(option, value, match):
    meta = _meta(2)
    with pytest.raises(ValueError, match=match):
        build_deeponet(meta, **{**TINY, option: value})


def test_bad_pairings_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"model\.branch='cnn': must be mlp or auto: .* no field"):
        build_deeponet(_plate_meta(), branch="cnn", mask_in_branch=False)
    with pytest.raises(ValueError, match=r"model\.parameter_fields=\['mask'\]"):
        build_deeponet(_plate_meta(), parameter_fields=["mask"])
    with pytest.raises(ValueError, match="mask_output is not an option of mt_deeponet"):
        build_mt_deeponet(_meta(1), mask_output=False)
    assert "scattered points" in supports(tiny_point_meta())
    with pytest.raises(ValueError, match="scattered points"):
        build_deeponet(tiny_point_meta())
    model = build_deeponet(_meta(2), **TINY)
    with pytest.raises(ValueError, match="on its training grid"):
        model(torch.randn(1, 2, 16, 16))
    with pytest.raises(ValueError, match=r"coords must be \(n_points, 2\)"):
        model.query(torch.randn(1, 2, 8, 6), torch.zeros(5, 3))


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize("meta", [tiny_meta(1, in_channels=2, out_channels=3),
                                  tiny_meta(3, resolution=8), _fisher_meta(), _plate_meta()],
                         ids=["1d", "3d", "fisher", "plate"])
def test_conformance(name, meta):
    check_registered_model(name, meta, **TINY)


E2E = [("mt_deeponet", "darcy_geometries"), ("mt_deeponet", "heated_plate")]
E2E_SLOW = [("deeponet", "fisher_kpp"), ("deeponet", "darcy_geometries"),
            ("deeponet", "heated_plate"), ("deeponet", "darcy"), ("deeponet", "burgers")]


def _run(tmp_path, model, data):
    cfg = compose([f"model={model}", f"data={data}", "debug=fast", "trainer.accelerator=cpu",
                   f"paths.output_dir={tmp_path / 'run'}"])
    result = run(cfg)
    record = result.record
    assert record["status"] == "ok" and record["model"] == model
    assert math.isfinite(record["metrics"]["rel_l2"]) and record["n_parameters"] > 0
    return result


def test_fisher_coefficients_and_masks_stay_raw(tmp_path):
    """fisher_kpp's branch coefficients (meta.extra["raw_inputs"]) are not normalised, as in
    the paper; u0 is."""
    record = _run(tmp_path, "mt_deeponet", "fisher_kpp").record
    state = torch.load(record["checkpoint"], map_location="cpu", weights_only=False)["state_dict"]
    mean, std = state["x_norm.mean"], state["x_norm.std"]
    torch.testing.assert_close(mean[1:], torch.zeros(4))
    torch.testing.assert_close(std[1:], torch.ones(4))
    assert 0.2 < mean[0] < 0.8 and std[0] < 0.5  # u0 in (0, 1), z-scored


@pytest.mark.parametrize("model,data", E2E)
def test_runs_end_to_end(tmp_path, model, data):
    _run(tmp_path, model, data)


@pytest.mark.slow
@pytest.mark.parametrize("model,data", E2E_SLOW)
def test_runs_end_to_end_slow(tmp_path, model, data):
    _run(tmp_path, model, data)
