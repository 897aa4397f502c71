"""Import DeepXDE without its global side effects.

DeepXDE chooses its backend from ``DDE_BACKEND`` at first import (:mod:`pdebench` sets it to
``pytorch`` before anything can import it, so a user's ``~/.deepxde`` file never decides), and its
PyTorch backend then makes CUDA (or MPS) torch's *default device* for the whole process. The
harness places every tensor itself (Lightning moves modules and batches), so a silently changed
default device would put data built on the CPU and tensors built later on different devices.
:func:`deepxde` imports it once and restores torch's default device and dtype.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from types import ModuleType

import torch

__all__ = ["deepxde"]


@functools.cache
def deepxde() -> ModuleType:
    """The ``deepxde`` module on the PyTorch backend, torch's defaults left as they were."""
    os.environ["DDE_BACKEND"] = "pytorch"
    device, dtype = torch.get_default_device(), torch.get_default_dtype()
    try:  # its banner ("Using backend: pytorch ...") is noise in a run's log
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepxde as dde
    finally:
        # set_default_device(cpu) would leave a torch-function mode active for the whole
        # process (every later torch call slower); None removes it
        torch.set_default_device(None if device == torch.device("cpu") else device)
        torch.set_default_dtype(dtype)
    if dde.backend.backend_name != "pytorch":
        raise RuntimeError(f"deepxde was imported with the {dde.backend.backend_name!r} backend "
                           "before pdebench could select pytorch; import pdebench first")
    return dde
