"""One BLAS thread inside nnlib's heavy calls.

NumPy's BLAS starts one thread per core for every matrix product. nnlib's matrices are
small, so extra threads buy little on an idle machine and cost a lot on
a busy one: each product waits for its slowest thread, and a thread that shares its core
with another process makes all of them wait. Measured on a 2-core machine, training
784 -> 64 -> 10 for 5 epochs (medians of many runs) took 0.27 s with numpy's default threads
and 0.31 s with one when the machine was idle, 4.0 s and 0.58 s next to two busy processes.
benchmarks/gradcheck_speed.py measures it on yours.

    with one_blas_thread():        # a block
        ...

    @one_blas_thread()             # a whole function (train, the gradient check)
    def train(...): ...

Entering and leaving cost 10 to 20 microseconds, so it wraps entry points, not the forward pass
that a gradient check calls thousands of times. Nested uses are fine: on the way out
each one puts back the thread count it found. To give BLAS every core again (large
matrices on an idle machine), set nnlib.threads.ENABLED = False.
"""

from contextlib import contextmanager
from functools import lru_cache

import numpy as np  # noqa: F401  (loads the BLAS library that the controller finds)
from threadpoolctl import ThreadpoolController

# False: one_blas_thread() does nothing, and BLAS keeps numpy's default (one thread per core).
ENABLED = True


@lru_cache(maxsize=1)
def _controller():
    # Finding the loaded BLAS libraries takes ~0.3 ms; do it once, not on every entry.
    return ThreadpoolController()


@contextmanager
def one_blas_thread():
    """Limit BLAS to one thread in the block (or the decorated function), then restore it."""
    if not ENABLED:
        yield
        return
    limit = _controller().limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        limit.restore_original_limits()


def blas_threads():
    """How many threads the BLAS libraries use right now (the largest, if there are several)."""
    return max((lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"),
               default=1)
