"""The point models (pinn, ra_pinn, lstm_pinn A/B): conformance on point metas (twice
differentiable, state dicts), hand-computed outputs and parameter counts, the explicit LSTM against
``nn.LSTM`` and finite differences, option errors, refusal of gridded data, and no global side
effects of DeepXDE."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from pdebench.config import compose
from pdebench.models.lstm_pinn import ExplicitLSTM, LSTMPinnA, LSTMPinnB, build_lstm_pinn
from pdebench.models.pinn import (
    FourierFeatures,
    PointMLP,
    ResidualAttentionPINN,
    build_pinn,
    build_ra_pinn,
    supports,
)
from pdebench.registry import MODELS
from pdebench.run import build_model
from pdebench.testing import (
    ConformanceError,
    check_model,
    check_registered_model,
    tiny_meta,
    tiny_point_meta,
)

FIELDS = ("u", "v", "p", "phi", "T")
POINT_MODELS = ("pinn", "ra_pinn", "lstm_pinn")
SMALL = {
    "pinn": {"hidden": 8, "depth": 2},
    "ra_pinn": {"hidden": 8, "depth": 2},
    "lstm_pinn_A": {"variant": "A", "hidden": 8},
    "lstm_pinn_B": {"variant": "B", "hidden": 8, "embed": 4, "head_width": 6},
}


def _registry_name(key: str) -> str:
    return key.rsplit("_", 1)[0] if key.startswith("lstm_pinn") else key


# ----------------------------------------------------------------------------------------------
# Conformance
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fourier", [0, 3])
@pytest.mark.parametrize("coords", [("x", "y"), ("x", "t"), ("x", "y", "t")])
@pytest.mark.parametrize("key", sorted(SMALL))
def test_point_models_conform(key, coords, fourier):
    meta = tiny_point_meta(coords=coords, out_fields=FIELDS)
    model = check_registered_model(_registry_name(key), meta, fourier_features=fourier,
                                   **SMALL[key])
    assert model(torch.zeros(7, len(coords))).shape == (7, len(FIELDS))


@pytest.mark.parametrize("activation", ["tanh", "sin", "gelu", "silu"])
def test_pinn_activations_conform(activation):
    check_registered_model("pinn", tiny_point_meta(), hidden=8, depth=2, activation=activation)


def test_default_sizes_conform():
    """The config defaults (H = 64, depth 4; LSTM-PINN B at its published 88/24 sizes)."""
    meta = tiny_point_meta(out_fields=FIELDS)
    for name, arch in [("pinn", {}), ("ra_pinn", {}), ("lstm_pinn", {}),
                       ("lstm_pinn", {"variant": "B"})]:
        check_registered_model(name, meta, **arch)


def test_point_conformance_rejects_non_smooth_and_linear_models():
    meta = tiny_point_meta()

    def relu_mlp(meta):
        return nn.Sequential(nn.Linear(meta.in_channels, 8), nn.ReLU(),
                             nn.Linear(8, meta.out_channels))

    def linear(meta):
        return nn.Linear(meta.in_channels, meta.out_channels)

    with pytest.raises(ConformanceError, match=r"exactly zero: the model is piecewise linear"):
        check_model(relu_mlp, meta)
    with pytest.raises(ConformanceError, match=r"output 0: its first derivative in input 0 does "
                                               r"not depend on the inputs"):
        check_model(linear, meta)


def test_point_conformance_checks_output_shape():
    def gridded_output(meta):
        return nn.Sequential(nn.Linear(meta.in_channels, meta.out_channels), nn.Tanh(),
                             nn.Unflatten(1, (meta.out_channels, 1)))

    with pytest.raises(ConformanceError, match=r"expected \(2, 1\) \(batch, C_out\)"):
        check_model(gridded_output, tiny_point_meta())


def test_tiny_point_meta():
    meta = tiny_point_meta(coords=("x", "t"), out_fields=("u", "v"))
    assert (meta.grid, meta.in_channels, meta.out_channels, meta.spatial_dims) == \
        ("points", 2, 2, 1)
    assert tiny_point_meta().input_fields == ("x", "y")


# ----------------------------------------------------------------------------------------------
# Architectures: hand-computed values and parameter counts
# ----------------------------------------------------------------------------------------------

def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _lstm_layer(n_in: int, hidden: int) -> int:
    """Four gates, input and recurrent weights, two bias vectors (PyTorch's layout)."""
    return 4 * hidden * (n_in + hidden) + 8 * hidden


def test_lstm_pinn_b_published_shape_and_parameter_count():
    meta = tiny_point_meta(out_fields=FIELDS)
    model = build_lstm_pinn(meta, variant="B")
    assert isinstance(model, LSTMPinnB)
    head = [m for m in model.head if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in head] == [(90, 88), (88, 88), (88, 5)]
    assert (model.embed.in_features, model.embed.out_features) == (1, 24)
    # 48 + 40 128 + 62 656 + 8 008 + 7 832 + 445
    by_hand = (_linear(1, 24) + _lstm_layer(24, 88) + _lstm_layer(88, 88) + _linear(90, 88)
               + _linear(88, 88) + _linear(88, 5))
    assert by_hand == 119_117
    assert _n_params(model) == by_hand
    assert _n_params(model.lstm) == _n_params(nn.LSTM(24, 88, num_layers=2))


def test_parameter_counts_of_the_other_models():
    meta = tiny_point_meta(out_fields=FIELDS)
    a = build_lstm_pinn(meta)  # variant A, H = 64
    assert _n_params(a) == _linear(2, 64) + 2 * _lstm_layer(64, 64) + _linear(64, 5) == 67_077
    assert _n_params(build_pinn(meta)) == _linear(2, 64) + 3 * _linear(64, 64) + _linear(64, 5) \
        == 12_997
    assert _n_params(build_ra_pinn(meta)) == _linear(2, 64) + 4 * 3 * _linear(64, 64) \
        + _linear(64, 5) == 50_437
    # Fourier features widen only the first layer: D' = 2 + 2 * 4 = 10
    assert _n_params(build_pinn(meta, fourier_features=4)) == 12_997 + 8 * 64


def test_pinn_is_deepxde_fnn_with_glorot_normal_and_zero_bias():
    from pdebench._deepxde import deepxde

    torch.manual_seed(0)
    model = build_pinn(tiny_point_meta(out_fields=FIELDS), hidden=400, depth=2)
    assert isinstance(model, PointMLP) and isinstance(model.net, deepxde().nn.pytorch.FNN)
    assert list(model.state_dict()) == [f"net.linears.{i}.{k}" for i in range(3)
                                        for k in ("weight", "bias")]
    w = model.net.linears[1].weight  # 400 x 400: Glorot normal std = sqrt(2 / (400 + 400))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.02)
    assert all(lin.bias.abs().max().item() == 0 for lin in model.net.linears)


def test_pinn_follows_torch_default_dtype():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = build_pinn(tiny_point_meta(), hidden=4, depth=1, fourier_features=2)
    finally:
        torch.set_default_dtype(old)
    assert {p.dtype for p in model.state_dict().values()} == {torch.float64}


def test_ra_pinn_hand_computed():
    """H = 1, one block, D = C = 1: every weight set by hand."""
    model = ResidualAttentionPINN(1, 1, hidden=1, depth=1)
    values = {"lift": (0.7, 0.1), "gates.0": (-1.3, 0.2), "blocks.0.0": (0.5, -0.4),
              "blocks.0.2": (1.1, 0.3), "head": (2.0, -0.5)}
    with torch.no_grad():
        for name, (w, b) in values.items():
            layer = model.get_submodule(name)
            layer.weight.fill_(w)
            layer.bias.fill_(b)
    x = 0.6
    h0 = math.tanh(0.7 * x + 0.1)
    gate = 1 / (1 + math.exp(-(-1.3 * h0 + 0.2)))
    h1 = h0 + gate * math.tanh(1.1 * math.tanh(0.5 * h0 - 0.4) + 0.3)
    expect = 2.0 * h1 - 0.5
    assert model(torch.tensor([[x]])).item() == pytest.approx(expect, rel=1e-6)


def test_fourier_features_hand_computed_and_fixed():
    ff = FourierFeatures(2, 3, scale=2.0)
    gen = torch.Generator().manual_seed(0)
    b = torch.randn(2, 3, generator=gen, dtype=torch.float64).float() * 2.0
    assert torch.allclose(ff.B, b)
    assert torch.allclose(FourierFeatures(2, 3, scale=1.0).B * 2.0, ff.B)
    x = torch.tensor([[0.25, -0.5]])
    proj = 2 * math.pi * (0.25 * b[0] - 0.5 * b[1])
    assert torch.allclose(ff(x), torch.cat([x[0], proj.sin(), proj.cos()])[None], atol=1e-6)
    assert ff.out_features == 8 and list(ff.state_dict()) == ["B"]
    assert not list(ff.parameters())  # fixed, never trained
    model = build_ra_pinn(tiny_point_meta(), hidden=4, depth=1, fourier_features=3)
    assert "features.B" in model.state_dict()


# ----------------------------------------------------------------------------------------------
# LSTM-PINN: the explicit recurrence
# ----------------------------------------------------------------------------------------------

def _torch_lstm_like(lstm: ExplicitLSTM) -> nn.LSTM:
    """An ``nn.LSTM`` with the weights of ``lstm``."""
    first = lstm.layers[0]
    ref = nn.LSTM(first.ih.in_features, first.hidden_size, num_layers=len(lstm.layers),
                  batch_first=True)
    with torch.no_grad():
        for k, layer in enumerate(lstm.layers):
            getattr(ref, f"weight_ih_l{k}").copy_(layer.ih.weight)
            getattr(ref, f"bias_ih_l{k}").copy_(layer.ih.bias)
            getattr(ref, f"weight_hh_l{k}").copy_(layer.hh.weight)
            getattr(ref, f"bias_hh_l{k}").copy_(layer.hh.bias)
    return ref


def test_explicit_lstm_matches_torch_lstm():
    torch.manual_seed(1)
    lstm = ExplicitLSTM(3, 5, num_layers=2)
    seq = torch.randn(4, 6, 3)
    assert torch.allclose(lstm(seq), _torch_lstm_like(lstm)(seq)[0], atol=1e-6)


@pytest.mark.parametrize("variant", ["A", "B"])
def test_lstm_pinn_wiring_against_torch_lstm(variant):
    """The whole variant, recomputed with ``nn.LSTM`` and the model's own other layers."""
    torch.manual_seed(2)
    model = build_lstm_pinn(tiny_point_meta(out_fields=FIELDS), variant=variant, hidden=6,
                            embed=4 if variant == "B" else None)
    ref = _torch_lstm_like(model.lstm)
    x = torch.rand(9, 2) * 2 - 1
    with torch.no_grad():
        if variant == "A":
            assert isinstance(model, LSTMPinnA)
            z = torch.tanh(model.lift(x))[:, None, :]
            expect = model.head(ref(z)[0][:, -1])
        else:
            seq = torch.tanh(model.embed(x[..., None]))  # (9, 2, 4): x then y
            expect = model.head(torch.cat([ref(seq)[0][:, -1], x], dim=-1))
        assert torch.allclose(model(x), expect, atol=1e-6)


@pytest.mark.parametrize("variant,fourier", [("A", 0), ("B", 0), ("B", 2)])
def test_lstm_second_derivative_matches_finite_difference(variant, fourier):
    """d2 u_c / dx_i dx_j by double autograd against a central difference of the autograd first
    derivative, in float64."""
    torch.manual_seed(3)
    model = build_lstm_pinn(tiny_point_meta(out_fields=("u", "v")), variant=variant, hidden=5,
                            embed=3 if variant == "B" else None,
                            fourier_features=fourier).double()
    x0 = (torch.rand(4, 2, dtype=torch.float64) * 2 - 1)

    def first(x, c, create_graph=False):
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(model(x)[:, c].sum(), x, create_graph=create_graph)
        return x, g

    h = 1e-5
    for c in range(2):
        x, g = first(x0, c, create_graph=True)
        for i in range(2):
            (hess,) = torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)  # (4, 2) over j
            for j in range(2):
                e = torch.zeros(2, dtype=torch.float64)
                e[j] = h
                fd = (first(x0 + e, c)[1][:, i] - first(x0 - e, c)[1][:, i]) / (2 * h)
                assert torch.allclose(hess[:, j], fd, rtol=1e-6, atol=1e-8), (c, i, j)


# ----------------------------------------------------------------------------------------------
# Options and refusals
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("builder", [build_pinn, build_ra_pinn, build_lstm_pinn])
@pytest.mark.parametrize("option,value,valid", [
    ("hidden", 0, "an int >= 1"), ("hidden", 2.5, "an int >= 1"), ("hidden", True, "an int >= 1"),
    ("fourier_features", -1, "an int >= 0"), ("fourier_scale", 0, "a finite number > 0"),
    ("fourier_scale", float("nan"), "a finite number > 0"),
])
def test_shared_option_errors(builder, option, value, valid):
    with pytest.raises(ValueError) as err:
        builder(tiny_point_meta(), **{option: value})
    assert str(err.value) == f"model.{option}={value!r}: must be {valid}"


@pytest.mark.parametrize("builder,kwargs,message", [
    (build_pinn, {"depth": 0}, "model.depth=0: must be an int >= 1"),
    (build_ra_pinn, {"depth": 0}, "model.depth=0: must be an int >= 1"),
    (build_pinn, {"activation": "relu"},
     "model.activation='relu': must be one of gelu, silu, sin, tanh"),
    (build_lstm_pinn, {"variant": "C"}, "model.variant='C': must be one of A, B"),
    (build_lstm_pinn, {"variant": "b"}, "model.variant='b': must be one of A, B"),
    (build_lstm_pinn, {"lstm_layers": 0}, "model.lstm_layers=0: must be an int >= 1"),
    (build_lstm_pinn, {"variant": "B", "embed": 0},
     "model.embed=0: must be an int >= 1"),
    (build_lstm_pinn, {"variant": "B", "head_width": 0},
     "model.head_width=0: must be an int >= 1"),
    (build_lstm_pinn, {"variant": "A", "embed": 24},
     "model.embed=24 applies to model.variant=B only; valid for variant A: null"),
])
def test_model_specific_option_errors(builder, kwargs, message):
    with pytest.raises(ValueError) as err:
        builder(tiny_point_meta(), **kwargs)
    assert str(err.value) == message


REFUSAL = ("a PINN model maps coordinates to fields; train it with system=pinn (which feeds "
           "collocation points), not on gridded fields")


@pytest.mark.parametrize("name", POINT_MODELS)
def test_point_models_refuse_gridded_data(name):
    gridded = tiny_meta(spatial_dims=2, in_channels=2, out_channels=5)
    entry = MODELS.get(name)
    assert entry.extra["supports"](gridded) == REFUSAL
    assert entry.extra["supports"](tiny_point_meta()) is None
    with pytest.raises(ValueError, match="maps coordinates to fields"):
        entry.target(meta=gridded)
    with pytest.raises(ConformanceError, match=f"model '{name}' refuses the test meta"):
        check_registered_model(name, gridded)
    assert supports(gridded) == REFUSAL


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,overrides,cls,n_params", [
    # tiny: hidden 16, depth 2
    ("pinn", [], PointMLP, _linear(2, 16) + _linear(16, 16) + _linear(16, 5)),
    ("ra_pinn", [], ResidualAttentionPINN, _linear(2, 16) + 2 * 3 * _linear(16, 16)
     + _linear(16, 5)),
    # tiny: hidden 8, one LSTM layer; B keeps embed 24 and head width = hidden
    ("lstm_pinn", [], LSTMPinnA, _linear(2, 8) + _lstm_layer(8, 8) + _linear(8, 5)),
    ("lstm_pinn", ["model.variant=B"], LSTMPinnB, _linear(1, 24) + _lstm_layer(24, 8)
     + _linear(10, 8) + _linear(8, 8) + _linear(8, 5)),
])
def test_configs_build_at_tiny_size(name, overrides, cls, n_params):
    cfg = compose([f"model={name}", "debug=fast", *overrides])
    model = build_model(cfg, tiny_point_meta(out_fields=FIELDS))
    assert isinstance(model, cls)
    assert model(torch.zeros(3, 2)).shape == (3, 5)
    assert _n_params(model) == n_params


def test_lstm_pinn_config_defaults_are_the_published_sizes():
    cfg = compose(["model=lstm_pinn", "model.variant=B"])
    model = build_model(cfg, tiny_point_meta(out_fields=FIELDS))
    assert _n_params(model) == 119_117


# ----------------------------------------------------------------------------------------------
# No global side effects
# ----------------------------------------------------------------------------------------------

_SIDE_EFFECTS = r"""
import json, torch
torch.cuda.is_available = lambda: True  # DeepXDE then makes CUDA torch's default device
calls, setter = [], torch.set_default_device
torch.set_default_device = lambda d: (calls.append(str(d)), setter(d))[1]
before = [str(torch.get_default_device()), str(torch.get_default_dtype())]
import pdebench.models.lstm_pinn, pdebench.models.pinn
from pdebench.registry import MODELS
from pdebench.testing import tiny_point_meta
after_import = [str(torch.get_default_device()), str(torch.get_default_dtype())]
devices = set()
for name in ("pinn", "ra_pinn", "lstm_pinn"):
    model = MODELS.get(name).target(meta=tiny_point_meta(), hidden=4)
    model(torch.zeros(2, 2))
    devices |= {str(t.device) for t in model.state_dict().values()}
print(json.dumps({"before": before, "after_import": after_import, "calls": calls,
                  "after_build": [str(torch.get_default_device()),
                                  str(torch.get_default_dtype())],
                  "devices": sorted(devices)}))
"""


def test_models_leave_torch_default_device_unchanged():
    """In a fresh interpreter (DeepXDE imports once per process), with CUDA reported available:
    importing the models and building each (the MLP-PINN imports DeepXDE) keeps torch's default
    device and dtype, and every tensor of the models is on the CPU."""
    done = subprocess.run([sys.executable, "-c", _SIDE_EFFECTS], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["before"] == got["after_import"] == got["after_build"] == ["cpu", "torch.float32"]
    assert got["devices"] == ["cpu"]
    # DeepXDE's switch was undone: back to the CPU default without a device context (None)
    assert not got["calls"] or got["calls"][-1] in ("cpu", "None")
