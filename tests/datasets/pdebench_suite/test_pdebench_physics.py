"""Physics metrics of PDEBench's generated datasets: each dataset's own reference solution scores
the physics floor its generator recorded, and perturbed solutions score measurably worse."""

from __future__ import annotations

import math

import pytest
import torch

from pdebench.config import compose
from pdebench.run import build_data
from pdebench.testing import physics_values, recorded_floor


def _tiny(name: str, tmp_path, *overrides: str):
    cfg = compose([f"data={name}", "debug=fast", f"paths.data_dir={tmp_path}", *overrides])
    dm = build_data(cfg)
    dm.prepare_data()
    dm.setup()
    return dm


def _offset(y: torch.Tensor, x: torch.Tensor, amount: float = 0.01) -> torch.Tensor:
    return y + amount


def _bump(y: torch.Tensor, x: torch.Tensor, amount: float = 0.05) -> torch.Tensor:
    """A smooth interior bump, zero on the walls (so it leaves the boundary values alone)."""
    n = y.shape[-1]
    s = torch.sin(math.pi * (torch.arange(n, dtype=y.dtype) + 0.5) / n)
    shape = s[:, None] * s[None, :] if y.ndim == 4 else s
    return y + amount * y.abs().amax() * shape


def test_darcy_reference_scores_its_recorded_floor(tmp_path):
    dm = _tiny("darcy", tmp_path)
    floor = recorded_floor(dm.source)
    assert set(floor) == {"residual_l2/darcy", "residual_rel/darcy", "bc_error/u"}
    got = physics_values(dm.meta, dm.dataset)
    assert got == pytest.approx(floor, rel=1e-9)
    # the generator's own solution solves the equation to float32 round-off
    assert floor["residual_rel/darcy"] < 1e-4


@pytest.mark.parametrize("perturb,metric", [
    (_bump, "residual_l2/darcy"), (_bump, "residual_rel/darcy"), (_offset, "bc_error/u")])
def test_darcy_perturbed_solution_scores_worse(tmp_path, perturb, metric):
    dm = _tiny("darcy", tmp_path)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor + 1e-6, (metric, floor, worse)
