"""Deliberate bugs, by name, switched on inside a `with` block.

    with bugs.enabled("shallow_copy"):
        report = gradient_check(params, X, Y, method="loop")

Each bug swaps one function (or constant) of nnlib for a buggy one and the `with` block
puts the correct one back whatever happens, so the correct code has no `if bug:` in it.
Bugs combine: enabled("stray_inv_m", "missing_inv_m") applies both. Two bugs that replace the
same function (missing_relu_mask and inplace_relu_deriv both replace relu_deriv) cannot: the
result would depend on which came first, so the combination is refused with the reason.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from . import checks, gradcheck, model


def _relu_deriv_in_place(x):
    x[...] = x > 0  # writes the 0/1 mask over the array it was given: the cache entry
    return x


def _scale_grads(factor_of_M):
    def wrap(backward):
        def scaled(params, cache, Y, keep_prob=1.0):
            factor = factor_of_M(Y.shape[1])
            return {k: g * factor for k, g in backward(params, cache, Y, keep_prob).items()}
        return scaled
    return wrap


def _sorted_grad_vector(grads, keys):
    return np.concatenate([grads[k].reshape(-1) for k in sorted(grads)])


@dataclass(frozen=True)
class Bug:
    name: str
    where: str          # "backprop", "dropout backward" or "the gradient check"
    summary: str        # one line: what the buggy code does
    fingerprint: str    # what the check shows, and why
    patches: tuple      # (module, attribute, function of the current value -> new value)
    methods: tuple = gradcheck.METHODS   # check methods that run the buggy code
    keep_prob: float = 1.0               # the dropout setting that makes it visible
    seen_by_check: bool = True
    wraps: bool = False                  # its patches wrap the current function (so they compose)


REGISTRY = {b.name: b for b in (
    Bug("inplace_relu_deriv", "backprop",
        "relu_deriv writes its 0/1 mask into the array it is given, and backward takes the "
        "derivative on the cached activation A1",
        "A1 becomes a 0/1 mask before dW2 = dZ2 A1^T reads it, so dW2 is wrong while dW1, db1 "
        "and db2 stay right: a difference of a few hundredths (the full check gives 0.044 to 0.112 "
        "at M = 64 over seeds 0-29). That is nnlib's order, every dZ before any dW; in the course's "
        "order (dW2 right after dZ2, then the derivative) the same bug leaves every gradient right "
        "and only damages the cache",
        ((model, "relu_deriv", lambda old: _relu_deriv_in_place),
         (model, "relu_deriv_input", lambda old: lambda cache, l: cache[f"A{l}"]))),
    Bug("inplace_relu_deriv_z", "backprop",
        "the same in-place relu_deriv, but taken on the cached Z1",
        "invisible to the check: nothing reads Z1 after the derivative, so every gradient is "
        "right, yet the cache now holds a 0/1 mask in Z1. The report's cache check sees it.",
        ((model, "relu_deriv", lambda old: _relu_deriv_in_place),),
        seen_by_check=False),
    Bug("shallow_copy", "the loop check's parameter copy",
        "the loop check copies the parameters with dict.copy(), which shares the arrays",
        "theta+eps is written into the caller's array, so the minus copy starts from theta+eps "
        "and J_minus is evaluated at theta: every numeric gradient is half the true one, "
        "r = 2 and the difference is |1-2|/(1+2) = 1/3 exactly",
        ((checks, "copy_params", lambda old: dict.copy),),
        methods=("loop", "sampled")),
    Bug("stray_inv_m", "backprop",
        "every parameter gradient is divided by M once more",
        "analytic = true/M, so r = 1/M and the difference is (1-1/M)/(1+1/M) = (M-1)/(M+1): "
        "7/9 at M = 8, 63/65 at M = 64, and 0 at M = 1, where dividing by 1 changes nothing",
        ((model, "backward", _scale_grads(lambda M: 1.0 / M)),), wraps=True),
    Bug("missing_inv_m", "backprop",
        "the 1/M of the averaged cost is nowhere: dZ of the output layer is A - Y (as the course "
        "writes it) but dW and db do not divide by M either",
        "analytic = M x true, so r = M and the difference is again (M-1)/(M+1); only the "
        "per-parameter ratio (M instead of 1/M) tells it from stray_inv_m. Together the two cancel.",
        ((model, "backward", _scale_grads(lambda M: float(M))),), wraps=True),
    Bug("missing_relu_mask", "backprop",
        "backward forgets the ReLU derivative: dZ1 = dA1",
        "dW1 and db1 also get gradient from units whose ReLU was off; dW2 and db2 stay right",
        ((model, "relu_deriv", lambda old: np.ones_like),)),
    Bug("missing_keep_prob_scale", "dropout backward",
        "dropout's backward applies the mask but forgets the 1/keep_prob the forward pass used",
        "with dropout on, dW1 and db1 come out keep_prob times too small (ratio = keep_prob); "
        "with keep_prob = 1 it does nothing, so a check without dropout cannot see it",
        ((model, "dropout_backward", lambda old: lambda dA, D, keep_prob: dA * D),),
        keep_prob=0.8),
    Bug("key_order_mismatch", "the check's comparison",
        "the check flattens the gradients in sorted key order (dW1, dW2, db1, db2) but the "
        "parameters in network order (W1, b1, W2, b2)",
        "every gradient is right, but entries are compared with the wrong partners: W1 (first in "
        "both orders) and b2 (last in both) line up, b1 and W2 do not, and the difference is large",
        ((gradcheck, "grad_vector", lambda old: _sorted_grad_vector),)),
)}

def refuse_clashes(chosen):
    """Refuse two bugs that replace the same function: the outcome would depend on their order."""
    owners = {}
    for bug in chosen:
        for module, attr, _ in bug.patches:
            owners.setdefault((module.__name__, attr), []).append(bug)
    for (module, attr), clash in owners.items():
        if len(clash) > 1 and not all(b.wraps for b in clash):
            names = " and ".join(b.name for b in clash)
            raise ValueError(f"{names} both replace {module.split('.')[-1]}.{attr}, so together they would "
                             "mean whichever was switched on last; switch one of them off")


def active():
    """Names of the bugs switched on right now, in the order they were switched on."""
    return list(_active)


def on_here():
    """The bugs switched on for the calling thread (inside its `enabled` block), else []."""
    with _lock:
        return list(_active) if _owner == threading.get_ident() else []


def get(name):
    if name not in REGISTRY:
        raise ValueError(f"unknown bug {name!r}; known bugs: {', '.join(REGISTRY)}")
    return REGISTRY[name]


# The correct functions, recorded once: whatever happens inside `enabled`, the outermost block
# ends with exactly these in place. One lock, so that two blocks can never interleave. And a bug is
# on only for the thread that switched it on: JupyterLab runs a widget's callback on a thread of
# its own while a cell may be running, and that cell must keep calling the correct functions. While
# a block is open, each patched name holds a small dispatcher that picks the bugged version for the
# block's thread and the correct one for every other thread.
_ORIGINALS = {(module, attr): getattr(module, attr) for bug in REGISTRY.values() for module, attr, _ in bug.patches}
_lock = threading.RLock()
_depth = 0
_owner = None        # the thread whose `enabled` block is open
_current = {}        # (module, attr) -> what the owner thread calls instead of the original
_active = []


def _dispatcher(key):
    original = _ORIGINALS[key]

    def dispatch(*args, **kwargs):
        chosen = _current.get(key, original) if threading.get_ident() == _owner else original
        return chosen(*args, **kwargs)
    return dispatch


_DISPATCHERS = {key: _dispatcher(key) for key in _ORIGINALS}


def _restore_originals():
    for (module, attr), original in _ORIGINALS.items():
        setattr(module, attr, original)
    _current.clear()


@contextmanager
def enabled(*names):
    """Switch the named bugs on for the body of the `with` block, on this thread only; always
    switch them off after."""
    global _depth, _owner
    with _lock:
        _depth += 1
        _owner = threading.get_ident()
        try:
            with _patched(*names) as chosen:
                yield chosen
        finally:
            _depth -= 1
            if _depth == 0:
                _restore_originals()
                _owner = None


@contextmanager
def _patched(*names):
    if len(names) == 1 and isinstance(names[0], (list, tuple)):
        names = tuple(names[0])
    chosen = [get(n) for n in names]
    if len(set(names)) != len(names):
        raise ValueError(f"a bug is named twice in {list(names)}")
    refuse_clashes(chosen)
    undo = []
    try:
        for bug in chosen:
            for module, attr, make in bug.patches:
                key = (module, attr)
                old = _current.get(key, _ORIGINALS[key])
                undo.append((key, key in _current, old))
                _current[key] = make(old)
                setattr(module, attr, _DISPATCHERS[key])
            _active.append(bug.name)
        yield [b.name for b in chosen]
    finally:
        for key, had, old in reversed(undo):
            if had:
                _current[key] = old
            else:
                _current.pop(key, None)
        for bug in chosen:
            if bug.name in _active:
                _active.remove(bug.name)
