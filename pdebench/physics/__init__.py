"""Equations written once against a derivative provider, and their registry (keyed by
``DatasetMeta.pde``). Registered through the entry point ``builtin_equations``."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register the built-in equations (see :mod:`pdebench.physics.catalogue`)."""
