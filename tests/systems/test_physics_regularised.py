"""Physics-regularised operator training (``system.physics_weight``): the loss is the data loss
plus W x each component's mean-square finite-difference residual rescaled to the data loss's
magnitude (Multiphysics Bench's "PINN" track), on any grid model and any dataset with an
equation."""

from __future__ import annotations

import dataclasses
import functools
import math
import re

import pytest
import torch
from torch import nn

from pdebench import results
from pdebench.config import compose
from pdebench.metrics.physics import equation_for
from pdebench.physics.grid import GridPhysics
from pdebench.run import run
from pdebench.systems.base import NonFiniteLossError
from pdebench.systems.operator import OperatorSystem, relative_l2_loss
from pdebench.testing import tiny_datamodule

W = 0.001


class ConvNet(nn.Module):
    """A two-layer convolution of the dataset's dimension: any grid model will do."""

    def __init__(self, dims: int, c_in: int, c_out: int, scale: float = 1.0) -> None:
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        self.net = nn.Sequential(conv(c_in, 8, 3, padding=1), nn.GELU(),
                                 conv(8, c_out, 3, padding=1))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.net(x)


@functools.cache
def _dm(name: str):
    return tiny_datamodule(name)


def _batch(name: str, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    batch = next(iter(_dm(name).test_dataloader()))
    return {"x": batch["x"].to(dtype), "y": batch["y"].to(dtype)}


def _system(name: str, weight: float = W, loss: str = "rel_l2", scale: float = 1.0,
            meta=None) -> OperatorSystem:
    dm = _dm(name)
    meta = meta or dm.meta
    torch.manual_seed(0)
    model = ConvNet(meta.spatial_dims, meta.in_channels, meta.out_channels, scale)
    system = OperatorSystem(model=model, metas={name: meta}, metrics={name: {}},
                            optimizer=functools.partial(torch.optim.Adam, lr=1e-3), loss=loss,
                            physics_weight=weight)
    system.set_normalizers({name: dm.stats})
    return system


@pytest.mark.parametrize("loss", ["rel_l2", "mse"])
def test_weight_zero_is_exactly_the_data_loss(loss):
    system = _system("darcy", weight=0.0, loss=loss)
    batch = _batch("darcy")
    total, parts = system.training_losses(batch)
    assert system.physics is None and list(parts) == ["data"]
    out = system.model(system.x_norm.encode(batch["x"]))
    old = relative_l2_loss(system.y_norm.decode(out), batch["y"]) if loss == "rel_l2" else \
        torch.mean((out - system.y_norm.encode(batch["y"])) ** 2)
    assert torch.equal(total, old) and torch.equal(parts["data"], old)


@pytest.mark.parametrize("name,components", [
    ("darcy", ["darcy"]),                    # steady, one component
    ("burgers", ["burgers"]),                # time-dependent: midpoint after the input frame
    ("diffusion_reaction", ["u", "v"]),      # two coupled components
])
def test_each_rescaled_residual_weighs_as_much_as_the_data_loss(name, components):
    system = _system(name).double()
    batch = _batch(name, torch.float64)
    total, parts = system.training_losses(batch)
    total, parts = total.detach(), {k: v.detach() for k, v in parts.items()}
    assert list(parts) == ["data", *(f"physics/{c}" for c in components)]
    raw = {k: v.detach() for k, v in
           system.physics.residual_losses(system(batch["x"]), batch["x"]).items()}
    for c in components:
        assert float(parts[f"physics/{c}"]) > 0
        assert float(parts[f"physics/{c}"]) == pytest.approx(float(raw[c]), rel=1e-12)
    data = float(parts["data"])
    # sum_c R_c * (data / R_c) = n * data
    assert float(total) == pytest.approx(data * (1 + W * len(components)), rel=1e-12)
    assert (float(total) - data) / W == pytest.approx(len(components) * data, rel=1e-9)


def test_the_residual_gradient_reaches_the_model_scaled_by_data_over_residual():
    system = _system("darcy").double()
    total, parts = system.training_losses(_batch("darcy", torch.float64))
    params = list(system.model.parameters())
    g_total = torch.autograd.grad(total, params, retain_graph=True)
    g_data = torch.autograd.grad(parts["data"], params, retain_graph=True)
    g_res = torch.autograd.grad(parts["physics/darcy"], params)
    # d/dθ [W R (D / R)|detached] = W (D / R) dR/dθ
    factor = W * parts["data"].item() / parts["physics/darcy"].item()
    for gt, gd, gr in zip(g_total, g_data, g_res, strict=True):
        assert float(gr.abs().sum()) > 0  # the residual depends on every parameter
        torch.testing.assert_close(gt, gd + factor * gr, rtol=1e-10, atol=0)
    assert any(not torch.equal(gt, gd) for gt, gd in zip(g_total, g_data, strict=True))


@pytest.mark.parametrize("name", ["darcy", "burgers", "darcy_geometries"])
def test_residual_losses_are_the_squared_residual_metric(name):
    """Same stencils, scored cells (masked domain for darcy_geometries) and midpoint rule as
    ``residual_l2``: per sample its square, then the batch mean."""
    batch = _batch(name, torch.float64)
    physics = _system(name).physics
    y, x = batch["y"], batch["x"]
    losses = physics.residual_losses(y, x)
    values = physics.evaluate(y[..., None], y[..., None], x)
    assert list(losses) == list(physics.components)
    for c, value in losses.items():
        expect = (values[physics.residual_name(c)] ** 2).mean()
        assert float(value) == pytest.approx(float(expect), rel=1e-12)


def test_reference_sits_at_the_physics_floor_and_a_perturbation_raises_it():
    batch = _batch("darcy")  # float32, as training sees it
    physics = _system("darcy").physics
    ref = float(physics.residual_losses(batch["y"], batch["x"])["darcy"])
    torch.manual_seed(1)
    noisy = batch["y"] * (1 + 0.01 * torch.randn_like(batch["y"]))
    perturbed = float(physics.residual_losses(noisy, batch["x"])["darcy"])
    # the generator's finite volumes: the reference is at round-off of the source beta = 1
    assert ref < 1e-9
    assert perturbed > 1e-3 and perturbed > 1e6 * ref


def test_several_frames_average_the_one_step_losses():
    """``(batch, C, X, T)``: frame k is taken after frame k - 1 (the first after the input)."""
    batch = _batch("burgers", torch.float64)
    physics = _system("burgers").physics
    x, y = batch["x"], batch["y"]
    y2 = y + 0.1 * torch.sin(torch.linspace(0, 2 * math.pi, y.shape[-1], dtype=y.dtype))
    both = physics.residual_losses(torch.stack([y, y2], dim=-1), x)["burgers"]
    first = physics.residual_losses(y, x)["burgers"]
    second = physics.residual_losses(y2, y)["burgers"]  # inputs are ("u[t]",): prev = y
    assert x.shape[1] == 1 and physics.meta.input_fields == ("u[t]",)
    assert float(both) == pytest.approx(0.5 * float(first + second), rel=1e-12)


def test_training_step_logs_total_and_raw_physics(monkeypatch):
    system = _system("diffusion_reaction")
    logged: dict[str, float] = {}
    monkeypatch.setattr(system, "log", lambda name, value, **_: logged.__setitem__(
        name, float(value)))
    batch = _batch("diffusion_reaction")
    loss = system.training_step(batch, 0)
    total, parts = system.training_losses(batch)
    assert set(logged) == {"train/loss", "train/data", "train/physics", "train/physics/u",
                           "train/physics/v"}
    assert logged["train/loss"] == pytest.approx(loss.item()) == pytest.approx(total.item())
    assert logged["train/physics"] == pytest.approx(
        (parts["physics/u"] + parts["physics/v"]).item())  # raw, neither weighted nor rescaled


def test_a_nonfinite_term_is_named():
    bad = _batch("darcy")
    bad["y"][0, 0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteLossError,
                       match=r"the data loss \(system.loss=rel_l2\) is not finite"):
        _system("darcy").training_step(bad, 0)
    # a finite but enormous prediction: its rel_l2 is finite, its squared residual overflows
    huge = _system("darcy", scale=1e18)
    _, parts = huge.training_losses(_batch("darcy"))
    assert math.isfinite(parts["data"].item()) and math.isinf(parts["physics/darcy"].item())
    with pytest.raises(NonFiniteLossError,
                       match=r"the physics residual of component 'darcy' of equation 'darcy' "
                             r"\(mean square, system.physics_weight=0.001\) is not finite"):
        huge.training_step(_batch("darcy"), 0)


@pytest.mark.parametrize("name", ["darcy", "burgers"])
def test_run_trains_with_the_physics_term(name, tmp_path):
    cfg = compose([f"data={name}", "debug=fast", "trainer.accelerator=cpu",
                   f"paths.output_dir={tmp_path / 'run'}", "system.physics_weight=0.001"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok" and record["config"]["system"]["physics_weight"] == 0.001
    assert f"residual_l2/{name}" in record["metrics"]
    assert all(math.isfinite(v) for v in record["metrics"].values()), record["metrics"]


def test_a_negative_weight_is_refused(tmp_path):
    with pytest.raises(ValueError, match=re.escape("system.physics_weight must be >= 0, got -1")):
        _system("darcy", weight=-1)
    cfg = compose(["data=darcy", "debug=fast", "trainer.accelerator=cpu",
                   f"paths.output_dir={tmp_path / 'run'}", "system.physics_weight=-1"])
    with pytest.raises(ValueError, match=re.escape("system.physics_weight must be >= 0, got -1")):
        run(cfg)
    with pytest.raises(ValueError, match="system.physics_weight must be finite"):
        _system("darcy", weight=float("inf"))


def test_a_dataset_without_equation_is_refused_naming_it():
    meta = dataclasses.replace(_dm("darcy").meta, pde=None)
    with pytest.raises(ValueError) as info:
        _system("darcy", meta=meta)
    message = str(info.value)
    assert message.startswith(
        "system.physics_weight=0.001 adds the PDE residual of the dataset's equation, but "
        "dataset 'darcy' names none (its DatasetMeta.pde is None); use a dataset whose "
        "DatasetMeta.pde is a registered equation (")
    assert "burgers, darcy," in message and "`python -m pdebench list equations`" in message
    assert message.endswith("or system.physics_weight=0")
    _system("darcy", weight=0.0, meta=meta)  # without the physics term: fine


def test_a_dataset_whose_fields_feed_no_component_is_refused():
    meta = dataclasses.replace(_dm("darcy").meta, output_fields=("w",))
    assert not GridPhysics(equation_for(meta), meta).components
    with pytest.raises(ValueError, match=re.escape(
            "system.physics_weight=0.001: none of the components of equation 'darcy' can be "
            "evaluated from the fields of dataset 'darcy' (outputs ('w',), inputs ('a',))")):
        _system("darcy", meta=meta)
