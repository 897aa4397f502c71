"""system=pinn end to end: every dataset with an equation, the options, and bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch

from pdebench.config import compose
from pdebench.data.collocation import CollocationError
from pdebench.data.instance import InstanceError
from pdebench.run import ConfigError, run
from pdebench.systems.base import NonFiniteLossError
from pdebench.systems.pinn import PINN_METRICS, datasets_with_equations

#: Generated datasets with a registered equation (every one must run under system=pinn).
SOLVABLE = ["darcy", "advection", "burgers", "diffusion_reaction", "navier_stokes", "fisher_kpp",
            "darcy_geometries", "heated_plate", "te_heat", "ns_heat", "e_flow", "mhd", "va",
            "elder", "electrothermal", "cylinder_sim", "cylinder_real"]


def _run(tmp_path, data: str, *overrides: str, model: str = "pinn"):
    cfg = compose([f"data={data}", "system=pinn", f"model={model}", "debug=fast",
                   f"paths.output_dir={tmp_path}", *overrides])
    return run(cfg)


def _record(tmp_path) -> dict:
    return json.loads((tmp_path / "result.json").read_text())


def test_the_solvable_list_is_every_dataset_with_an_equation():
    assert sorted(datasets_with_equations()) == sorted(SOLVABLE)


@pytest.mark.parametrize("data", SOLVABLE)
def test_every_dataset_with_an_equation_is_solved(tmp_path, data):
    result = _run(tmp_path, data)
    rec = result.record
    assert rec["status"] == "ok"
    for name in PINN_METRICS:
        assert math.isfinite(rec["metrics"][name]), name
    assert any(k.startswith("residual_l2/") for k in rec["metrics"])  # physics of the grid
    assert rec["instance"] == 0 and rec["track"] == "physics" and rec["n_data"] == 0
    terms = rec["pinn"]["final_loss_terms"]
    assert any(k.startswith("pde/") for k in terms)
    assert all(math.isfinite(v) for v in terms.values())
    assert (tmp_path / "solution.png").stat().st_size > 0


def test_electrothermal_uses_its_closed_form_and_the_regime(tmp_path):
    rec = _run(tmp_path, "electrothermal", "data.regime=3", model="lstm_pinn").record
    assert rec["pinn"]["closed_form"] is True
    assert rec["config"]["data"]["regime"] == 3
    # five fields scored, each with the pinn family
    assert set(rec["metrics_per_field"]) == {"u", "v", "p", "phi", "T"}
    assert all("pinn/l2re" in d for d in rec["metrics_per_field"].values())
    assert {f"bc/{f}" for f in ("u", "v", "p", "phi", "T")} <= set(rec["pinn"]["terms"])


def test_regime_2_has_no_wall_data_for_p_and_phi(tmp_path):
    rec = _run(tmp_path, "electrothermal", "data.regime=2").record
    terms = set(rec["pinn"]["terms"])
    assert {"bc/u", "bc/v", "bc/T"} <= terms and not {"bc/p", "bc/phi"} & terms
    assert {"gauge/p", "gauge/phi"} <= terms  # mean p = mean phi = 0 instead


def test_space_time_terms_for_burgers(tmp_path):
    rec = _run(tmp_path, "burgers").record
    assert {"pde/burgers", "periodic/u", "ic/u"} <= set(rec["pinn"]["terms"])
    assert rec["pinn"]["closed_form"] is False  # interpolated initial frame


def test_raw_outputs_of_a_physical_scale_diverge_with_a_clear_message(tmp_path):
    """te_heat's temperature is ~300 K and its conductivity Arrhenius in T: an untrained network
    with raw outputs (T ~ 0) overflows it at once; the run stops naming the terms."""
    with pytest.raises(NonFiniteLossError, match=r"diverged at step 0: pde/helmholtz_re = nan"):
        _run(tmp_path, "te_heat", "system.standardize=false")


def test_data_assisted_track(tmp_path):
    rec = _run(tmp_path, "darcy", "system.n_data=20").record
    assert rec["track"] == "data_assisted" and rec["n_data"] == 20
    assert "data" in rec["pinn"]["terms"]


def test_training_choices_run(tmp_path):
    rec = _run(tmp_path, "darcy", "system.lbfgs_steps=2", "system.resample_every=2",
               "system.rar.every=2", "system.rar.candidates=32", "system.rar.add=5",
               "system.balance=grad_norm", "system.balance_every=2", "system.grad_clip=1.0",
               "system.collocation.sampler=LHS", "+system.weights.equations.darcy=2.0").record
    assert rec["status"] == "ok"
    assert rec["pinn"]["n_interior"] > 64  # refinement added points
    assert rec["pinn"]["lbfgs_steps"] == 2
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert int(state["step_counter"]) == 6 + 2
    lam = state["lam"]  # grad-norm weights of the boundary terms moved away from 1
    assert lam.numel() == 1 and float(lam[0]) != 1.0 and math.isfinite(float(lam[0]))


def test_data_scale_balance_needs_observed_points(tmp_path):
    with pytest.raises(ValueError, match="system.balance=data_scale .* system.n_data > 0"):
        _run(tmp_path, "darcy", "system.balance=data_scale")
    assert _record(tmp_path)["status"] == "failed"
    assert _run(tmp_path / "ok", "darcy", "system.balance=data_scale",
                "system.n_data=10").record["status"] == "ok"


# --- bad input ------------------------------------------------------------------------------

def test_dataset_without_equation_is_refused_at_composition(tmp_path, monkeypatch):
    from pdebench.data.meta import DatasetMeta
    from pdebench.datasets.pdebench_suite.sources import DarcySource

    plain = DarcySource.physical_meta.fget

    def no_equation(self):
        return DatasetMeta(**{**plain(self).to_dict(), "pde": None})

    monkeypatch.setattr(DarcySource, "physical_meta", property(no_equation))
    with pytest.raises(ConfigError, match=r"system=pinn needs the dataset's equation.*"
                                          r"datasets with one: .*electrothermal"):
        _run(tmp_path, "darcy")
    rec = _record(tmp_path)
    assert rec["status"] == "failed" and rec["train_time_s"] is None  # before training


def test_instance_out_of_range(tmp_path):
    with pytest.raises(InstanceError, match=r"data.instance=99 is out of range.*valid: 0\.\."):
        _run(tmp_path, "darcy", "data.instance=99")


def test_negative_weight(tmp_path):
    with pytest.raises(ValueError, match=r"system.weights.boundary must be a finite number >= "
                                         r"0, got -1"):
        _run(tmp_path, "darcy", "system.weights.boundary=-1")


def test_unknown_equation_component_weight(tmp_path):
    with pytest.raises(ValueError, match="not components of equation 'darcy'; valid: darcy"):
        _run(tmp_path, "darcy", "+system.weights.equations.heat=1.0")


def test_geometry_without_interior_points(tmp_path):
    with pytest.raises(CollocationError, match="no interior points"):
        _run(tmp_path, "darcy",
             "system.collocation.holes=[{disk: {center: [0.5, 0.5], radius: 2.0}}]")


def test_diverging_loss_names_the_term_and_the_step(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"PINN loss diverged at step \d+: .*(pde|bc)/"):
        _run(tmp_path, "darcy", "system.optimizer.lr=1e30")
    rec = _record(tmp_path)
    assert rec["status"] == "failed" and "diverged at step" in rec["error"]["message"]


def test_unknown_lstm_variant(tmp_path):
    with pytest.raises(ValueError, match=r"model.variant='C': must be one of A, B"):
        _run(tmp_path, "electrothermal", "model.variant=C", model="lstm_pinn")


def test_grid_model_is_refused_for_points(tmp_path):
    with pytest.raises(ConfigError, match="model=fno cannot train on data=darcy"):
        _run(tmp_path, "darcy", model="fno")


# --- resume ---------------------------------------------------------------------------------

def test_restarted_run_resumes_its_step_count(tmp_path):
    first = _run(tmp_path, "darcy", "system.steps=4", "system.eval_every=2").record
    assert first["status"] == "ok"
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert int(ckpt["state_dict"]["step_counter"]) == 4
    # a longer budget in the same run dir continues from step 4 instead of starting again
    again = _run(tmp_path, "darcy", "system.steps=6", "system.eval_every=2",
                 "ckpt_path=" + str(tmp_path / "checkpoints" / "last.ckpt")).record
    assert again["status"] == "ok"
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert int(ckpt["state_dict"]["step_counter"]) == 6
