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

The thread count also decides the last digits: a product split between two threads sums in
another order, so the same check run with one thread and with two differs in its rounding
noise. The count is one number for the whole process (OpenBLAS's, as numpy's wheels build
it), whichever thread sets it: a widget callback runs on a thread of its own, and it must
compute exactly what the command line computes on the main thread. So the first block to
start, on any thread, sets one thread, and the last to end puts back the count it found.

Entering and leaving cost 10 to 20 microseconds, so it wraps entry points, not the forward pass
that a gradient check calls thousands of times. Nested uses are fine. To give BLAS every core
again (large matrices on an idle machine), set nnlib.threads.ENABLED = False.
"""

import threading
from contextlib import contextmanager
from functools import lru_cache

import numpy as np  # noqa: F401  (loads the BLAS library that the controller finds)
import threadpoolctl
from threadpoolctl import ThreadpoolController

# False: one_blas_thread() does nothing, and BLAS keeps numpy's default (one thread per core).
ENABLED = True

_lock = threading.Lock()
_open = 0          # one_blas_thread blocks running now, on every thread
_limiter = None    # what the first of them found, to put back when the last one ends


@lru_cache(maxsize=1)
def _controller():
    # Finding the loaded BLAS libraries takes ~0.3 ms; do it once, not on every entry.
    return ThreadpoolController()


def _from_this_thread(change):
    """Make a thread-count change take effect whichever thread calls it. threadpoolctl 3.8
    lets only one "controlling" thread change OpenBLAS's process-wide pool and silently
    ignores the others (the thread that first set a limit keeps control unless its limit was
    a `with` block); older versions have no such rule and no clear_controlling_thread."""
    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear:
        clear(force=True)
    result = change()
    if clear:
        clear(force=True)  # nnlib keeps no control: a learner's own threadpool_limits works after
    return result


@contextmanager
def one_blas_thread():
    """Limit BLAS to one thread in the block (or the decorated function), then restore it."""
    global _open, _limiter
    if not ENABLED:
        yield
        return
    with _lock:
        if _open == 0:
            _limiter = _from_this_thread(lambda: _controller().limit(limits=1, user_api="blas"))
        _open += 1
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                _from_this_thread(_limiter.restore_original_limits)


def blas_threads():
    """How many threads the BLAS libraries use right now (the largest, if there are several)."""
    return max((lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"),
               default=1)
