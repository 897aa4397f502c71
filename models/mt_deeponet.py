"""The multi-task DeepONet (MT-DeepONet, Neural Networks 2025; specs STUDIES.md section 2).

A :class:`pdebench.models.deeponet.DeepONet` whose output is multiplied by the geometry mask. The
task reaches the branch through the inputs: the source term's polynomial coefficients (and other
scalars: hole count and position) as parameters (``meta.extra["parameter_fields"]``), the 0/1
mask as a field (``mask_in_branch``).

The paper's per-study sizes are presets extending ``conf/model/mt_deeponet.yaml``:

- ``model=mt_deeponet_fisher``: MLP branch [128, 128] + LayerNorm, leaky ReLU, trunk
  [128, 128, 128] on (x, t), p = 300, no bias (the L2 penalty 1e-3 is the optimiser's
  ``weight_decay``);
- ``model=mt_deeponet_darcy``: CNN branch, filters [16, 32, 64, 64], kernel 5, 2x2 average
  pooling, MLP [128, 128] tanh, dropout 0.1, p = 150; trunk [64, 128, 128, 128];
- ``model=mt_deeponet_heated_plate``: MLP branch [32, 64, 128, 128] swish (silu) with residual
  links, dropout 0.1, on (n_holes, position) only (``mask_in_branch: false``, as published);
  trunk of 9 swish layers of 128, p = 200.

Transfer (Darcy, square + disc + triangle -> square with a cross): the paper trains the first
convolution, the three branch MLP layers and the trunk's output layer and freezes the rest, which
is ``freeze: TRANSFER_FREEZE`` (fnmatch patterns over parameter names; the trainable ones are
``branch.conv.0.*``, ``branch.mlp.*`` and ``trunk.out.*``).
"""

from __future__ import annotations

from typing import Any

from pdebench.data.meta import DatasetMeta
from pdebench.models.deeponet import DeepONet, build_deeponet

__all__ = ["TRANSFER_FREEZE", "build_mt_deeponet"]

#: Parameter-name patterns frozen in the MT-DeepONet transfer (``freeze`` of
#: :mod:`pdebench.transfer`) of the ``mt_deeponet_darcy`` preset: all but ``branch.conv.0.*``,
#: ``branch.mlp.*`` and ``trunk.out.*`` (the preset has no LayerNorm and no output bias).
TRANSFER_FREEZE = ("branch.conv.[1-9]*", "trunk.hidden.*")


def build_mt_deeponet(meta: DatasetMeta, **options: Any) -> DeepONet:
    """The multi-task DeepONet (MT-DeepONet, Neural Networks 2025): :func:`build_deeponet`
    with the output multiplied by the geometry mask (the first of ``meta.masks``, when the
    dataset has one). The task reaches the branch through its inputs: the source term's
    polynomial coefficients and other scalars as parameters (``meta.extra
    ["parameter_fields"]``), the mask as a field. The paper's per-study sizes are the presets
    ``conf/model/mt_deeponet_{fisher,darcy,heated_plate}.yaml``."""
    if "mask_output" in options:
        raise ValueError("model.mask_output is not an option of mt_deeponet (it always masks "
                         "the output); use model=deeponet for an unmasked DeepONet")
    return build_deeponet(meta, mask_output=True, **options)
