"""One gradient check of the default network on real digits, with bugs switched on by name.

The CLI, the bug-lab widgets and the notebooks' tables all run checks through `run`, so
a number shown anywhere is the number this function computes for that configuration.
"""

from functools import lru_cache

import numpy as np

from . import bugs, gradcheck, model
from .data import load_mnist
from .threads import one_blas_thread

METHODS = ("auto",) + gradcheck.METHODS


@lru_cache(maxsize=8)
def batch_and_params(batch, seed):
    """The first `batch` training digits of the split drawn with `seed`, and He-initialised
    784 -> 10 -> 10 parameters from the same seed. Cached: the widgets call this often."""
    X, Y, _ = load_mnist(np.random.default_rng(seed))["train"]
    params = model.init_params(np.random.default_rng(seed))
    for arr in (X, Y, *params.values()):
        arr.flags.writeable = False  # shared between calls: nobody may change them
    return X[:, :batch], Y[:, :batch], params


def resolve(bug_names=(), method="auto", keep_prob=None, masks="frozen"):
    """Check the bugs against the method and dropout, and fill in defaults; return (method, keep_prob).

    method "auto" is the fast check unless a chosen bug lives only in the loop checker.
    keep_prob None is 1 (no dropout) unless a chosen bug or fresh masks need dropout.
    Raises ValueError naming what cannot be combined and what to choose instead.
    """
    bug_names = bug_list(bug_names)
    twice = sorted({name for name in bug_names if bug_names.count(name) > 1})
    if twice:
        raise ValueError(f"{' and '.join(twice)} {'is' if len(twice) == 1 else 'are'} named twice: give each bug once")
    chosen = [bugs.get(name) for name in bug_names]
    bugs.refuse_clashes(chosen)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if masks not in ("frozen", "fresh"):
        raise ValueError(f"unknown masks {masks!r}; choose frozen or fresh")
    if method == "auto":
        method = "fast" if all("fast" in b.methods for b in chosen) and masks == "frozen" else "loop"
    for b in chosen:
        if method not in b.methods:
            raise ValueError(f"{b.name} lives in {b.where}, which the {method} check does not run; "
                             f"use method {' or '.join(b.methods)}")
    if keep_prob is None:
        keep_prob = min([b.keep_prob for b in chosen] + [0.8 if masks == "fresh" else 1.0])
    for b in chosen:
        if b.keep_prob < 1.0 and keep_prob == 1.0:
            raise ValueError(f"{b.name} only acts with dropout on; give keep_prob < 1 "
                             f"(for example {b.keep_prob:g})")
    # keep_prob's range and the masks/method combinations are checked by gradient_check
    return method, keep_prob


def bug_list(bug_names):
    """The bug names as a tuple, read once: a generator must not be used up by checking it."""
    if bug_names is None:
        return ()
    if isinstance(bug_names, (str, bytes)) or not hasattr(bug_names, "__iter__"):
        raise ValueError(f"bug_names must be a list of bug names, like ['shallow_copy'], got {bug_names!r}")
    names = tuple(bug_names)
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"bug_names must be a list of bug names, like ['shallow_copy'], got {list(names)!r}")
    return names


def check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")


@one_blas_thread()
def run(bug_names=(), batch=64, seed=0, method="auto", keep_prob=None, masks="frozen", k=25, progress=None):
    """Gradient check of the default network on `batch` digits with the named bugs on.
    progress: False for no progress bar (the lab's callbacks have no cell to draw one in)."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not 1 <= batch <= 4000:
        raise ValueError(f"batch must be a whole number from 1 to 4000 (the training split), got {batch!r}")
    check_seed(seed)
    bug_names = bug_list(bug_names)
    method, keep_prob = resolve(bug_names, method, keep_prob, masks)
    X, Y, shared = batch_and_params(int(batch), seed)
    params = {k_: v.copy() for k_, v in shared.items()}
    with bugs.enabled(*bug_names):
        report = gradcheck.gradient_check(params, X, Y, method=method, keep_prob=keep_prob,
                                          masks=masks, rng=np.random.default_rng(seed), k=k, progress=progress)
    report.bugs = bug_names
    return report
