"""Thread limits for the many small operations of a generator (BLAS under SuperLU, torch)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["single_threaded_blas", "single_threaded_torch"]


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while many small sparse factorisations run.

    SuperLU's dense kernels call BLAS; with OpenBLAS threads on a loaded machine each 64^2
    complex factorisation took 0.35 s instead of 0.02 s (measured on 2 shared cores). Uses
    ``threadpoolctl`` when it is installed (an optional speed-up: without it nothing changes).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional dependency: the solves are correct either way
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def single_threaded_torch() -> Iterator[None]:
    """One torch intra-op thread inside the block, the caller's setting restored after.

    A self-check evaluates the shared equation code on many small tensors: intra-op threads only
    add synchronisation there (on a busy machine they made the Darcy check 10x slower).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
