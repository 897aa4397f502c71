"""Build a throw-away plugin distribution on disk, visible to importlib.metadata via sys.path."""

from __future__ import annotations

import textwrap
from pathlib import Path

GOOD = '''
"""A third-party model for pdebench, registered through the pdebench.plugins entry point."""
from torch import nn


class TinyConv(nn.Module):
    def __init__(self, in_channels, out_channels, width, dims):
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        self.net = nn.Sequential(conv(in_channels, width, 3, padding=1), nn.GELU(),
                                 conv(width, out_channels, 3, padding=1))

    def forward(self, x):
        return self.net(x)


def build(meta, width=8):
    return TinyConv(meta.in_channels, meta.out_channels, width, meta.spatial_dims)


def register(api):
    api.register_model("tiny_conv", build, "two 3x3 convolutions (test plugin)",
                       config={"_target_": "tinyplug.build", "width": 8})
'''

BROKEN = '''
def register(api):
    raise RuntimeError("the broken plugin's own bug")
'''


def make_plugin(root: Path, name: str = "tinyplug", code: str = GOOD) -> Path:
    """Write package ``name`` and its ``.dist-info`` with an entry point into ``root``."""
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(code))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[pdebench.plugins]\n{name} = {name}:register\n")
    return root
