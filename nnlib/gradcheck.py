"""Gradient checks of nnlib's own network: one caller of the general check in checks.py.

    report = gradient_check(params, X, Y, method="fast")

Everything that works for any cost (loop, sampled, directional, the report, the diagnosis)
lives in checks.py and diagnosis.py. This module adds what only nnlib's network allows:

  fast     every entry's central difference, the loop's numbers, batched: perturbing W_l[i, j]
           only moves row i of Z_l by eps * A_{l-1}[j, :], so one batch per layer row does it
  cache    backward's cache is compared with a fresh forward pass (an in-place derivative)
  kinks    hidden pre-activations within eps of the ReLU kink are counted
  dropout  masks frozen for the whole check (or fresh, to show what that does)
"""

import numpy as np

from . import model
from .checks import (  # noqa: F401  (re-exported: the notebooks use them from here)
    EPSILON,
    THRESHOLD,
    CheckReport,
    ParamRow,
    check_epsilon,
    check_gradients,
    copy_params,
    flatten,
    format_difference,
    numeric_gradient,
    relative_difference,
)
from .threads import one_blas_thread

METHODS = ("loop", "fast", "sampled", "directional")


def format_row_difference(d):
    """One parameter's own difference, as the lab and the mysteries print it: 6 decimals, one
    fewer than the overall difference. A row compares only its own entries (as few as 10), so
    its 7th decimal is rounding noise that differs from one CPU to the next (the same row reads
    0.3333333 on one and 0.3333334 on another)."""
    return f"{d:.6f}" if np.isfinite(d) and abs(d) >= 1e-4 else format_difference(d)


def grad_vector(grads, keys):
    """The gradients as one vector, in the same order as the parameters `keys`."""
    return flatten(grads, ["d" + k for k in keys])


class CostFunction:
    """J(params) on a fixed batch, from the logits, with the dropout masks frozen or drawn afresh."""

    def __init__(self, X, Y, keep_prob=1.0, masks=None, rng=None):
        model.cost_from_logits(np.zeros(np.shape(Y)), Y)  # checks Y once, not on every call
        self.X, self.Y, self.keep_prob, self.masks, self.rng = X, np.asarray(Y, dtype=float), keep_prob, masks, rng
        self.calls = 0

    def __call__(self, params):
        self.calls += 1
        cache = model.forward(params, self.X, self.keep_prob, masks=self.masks, rng=self.rng)
        return model.cross_entropy_from_logits(cache[f"Z{model.n_layers(params)}"], self.Y)


def numeric_grad_loop(J, params, keys=None, entries=None, epsilon=EPSILON, progress=None):
    """Central differences, one entry at a time (checks.numeric_gradient).
    Returns ({key: numeric values}, wrote_into_params: bool)."""
    numeric, wrote, _ = numeric_gradient(J, params, keys or model.param_keys(params), entries, epsilon, progress)
    return numeric, wrote


def _cost_changes(params, cache, l, i, shifts, Y, base, keep_prob):
    """M * (J(copy p) - J) for P copies of the network whose row i of Z_l moves by shifts (P, m).
    base: the unperturbed network's loss for each example.

    The cost is a sum over examples, and copy p changes example e only where its shift
    reaches the output, so only those (p, e) pairs are run: each as one column through
    the layers after l. (For W1 on MNIST that is about a tenth of all pairs: most pixels are 0.)
    """
    L = model.n_layers(params)
    if l == L:
        p, e = np.nonzero(shifts)
        Z = cache[f"Z{L}"][:, e]
        Z[i] += shifts[p, e]
    else:
        A_i = model.relu(cache[f"Z{l}"][i] + shifts)
        if keep_prob < 1.0:
            A_i = model.dropout_forward(A_i, cache[f"D{l}"][i], keep_prob)
        dA_i = A_i - cache[f"A{l}"][i]
        p, e = np.nonzero(dA_i)
        # only row i of A_l moved, so Z_{l+1} moves by W_{l+1}[:, i] * dA_i
        Z = cache[f"Z{l + 1}"][:, e] + params[f"W{l + 1}"][:, i, None] * dA_i[p, e]
        for layer in range(l + 1, L):
            A = model.relu(Z)
            if keep_prob < 1.0:
                A = model.dropout_forward(A, cache[f"D{layer}"][:, e], keep_prob)
            Z = params[f"W{layer + 1}"] @ A + params[f"b{layer + 1}"]
    changes = model.example_losses_from_logits(Z, Y[:, e]) - base[e]
    return np.bincount(p, weights=changes, minlength=len(shifts))


def numeric_grad_fast(params, X, Y, keep_prob=1.0, masks=None, epsilon=EPSILON):
    """Every entry's central difference, batched; equal to numeric_grad_loop to ~1e-9.

    W_l[i, j] -> W_l[i, j] + eps moves only row i of Z_l, by eps * A_{l-1}[j, :];
    b_l[i] -> b_l[i] + eps moves row i of Z_l by eps. So for each row i the n_{l-1} + 1
    copies of the network that perturb W_l[i, :] and b_l[i] run as one batch, and
        (J(theta + eps) - J(theta - eps)) / (2 eps) = (change_plus - change_minus) / (2 eps M).
    """
    cache = model.forward(params, X, keep_prob, masks=masks)
    M = X.shape[1]
    base = model.example_losses_from_logits(cache[f"Z{model.n_layers(params)}"], Y)
    numeric = {}
    for l in range(1, model.n_layers(params) + 1):
        n_l = params[f"W{l}"].shape[0]
        shifts = epsilon * np.vstack([cache[f"A{l - 1}"], np.ones((1, M))])  # last row: b_l[i]
        rows = np.empty((n_l, shifts.shape[0]))
        for i in range(n_l):
            plus = _cost_changes(params, cache, l, i, shifts, Y, base, keep_prob)
            minus = _cost_changes(params, cache, l, i, -shifts, Y, base, keep_prob)
            rows[i] = (plus - minus) / (2 * epsilon * M)
        numeric[f"W{l}"], numeric[f"b{l}"] = rows[:, :-1], rows[:, -1:]
    return numeric


def _cache_changes(cache_after, cache_fresh):
    return [k for k in cache_fresh if not np.array_equal(cache_after[k], cache_fresh[k])]


def _count_kinks(cache, params, epsilon):
    """Hidden pre-activations close enough to 0 for a +-eps step to cross the ReLU kink: a step of
    eps in W_l[i, j] moves Z_l[i, e] by eps * A_{l-1}[j, e]."""
    return sum(int(np.sum(np.abs(cache[f"Z{l}"]) <= epsilon * max(1.0, np.abs(cache[f"A{l - 1}"]).max())))
               for l in range(1, model.n_layers(params)))


@one_blas_thread()
def gradient_check(params, X, Y, method="fast", epsilon=EPSILON, threshold=THRESHOLD,
                   keep_prob=1.0, masks="frozen", rng=None, k=10, progress=None):
    """Check nnlib's backprop on the batch (X, Y) and return a CheckReport.

    method: "loop", "fast", "sampled" (k entries per parameter) or "directional".
    keep_prob < 1 checks with dropout on. masks="frozen" draws one set of masks from rng
    and reuses it for every forward pass (the right way); masks="fresh" draws new masks on
    every forward pass, to show what that does to a check.
    The caller's params are never changed: the check restores them if a buggy variant did.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not isinstance(masks, str) or masks not in ("frozen", "fresh"):
        got = repr(masks) if isinstance(masks, str) else f"a {type(masks).__name__}"
        raise ValueError(f"masks must be 'frozen' or 'fresh', got {got}")
    model.check_inputs(params, X, Y, keep_prob)
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)  # lists are fine once checked
    check_epsilon(params, epsilon)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be np.random.default_rng(seed), got {type(rng).__name__}")
    if keep_prob < 1.0 and rng is None:
        raise ValueError("a check with dropout (keep_prob < 1) needs rng=np.random.default_rng(seed) "
                         "to draw the masks")
    if masks == "fresh" and keep_prob == 1.0:
        raise ValueError("masks='fresh' only means something with dropout on: give keep_prob < 1")
    if masks == "fresh" and method == "fast":
        raise ValueError("the fast check reuses one forward pass, so its masks are always frozen; "
                         "use method 'loop', 'sampled' or 'directional' to see fresh masks")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (entries sampled per parameter) must be a whole number >= 1, got {k!r}")
    if method == "sampled" and rng is None:
        raise ValueError("the sampled check needs rng=np.random.default_rng(seed) to pick entries")

    keys = model.param_keys(params)
    frozen = model.draw_masks(params, X.shape[1], keep_prob, rng) if keep_prob < 1.0 else None
    J = CostFunction(X, Y, keep_prob, masks=frozen if masks == "frozen" else None, rng=rng)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # reported as NaN below
        cache = model.forward(params, X, keep_prob, masks=frozen)
        grads = model.backward(params, cache, Y, keep_prob)
        fresh_cache = model.forward(params, X, keep_prob, masks=frozen)
    for key in keys:
        if grads.get("d" + key) is None or np.shape(grads["d" + key]) != params[key].shape:
            got = None if grads.get("d" + key) is None else np.shape(grads["d" + key])
            raise ValueError(f"backward returned d{key} with shape {got}; it must have the "
                             f"shape of {key}, {params[key].shape}")
    # The analytic gradient, in the order the comparison flattens it, split back per parameter.
    a_vec = grad_vector(grads, keys)
    sizes = np.cumsum([0] + [params[k].size for k in keys])
    analytic = {k: a_vec[lo:hi].reshape(params[k].shape) for k, lo, hi in zip(keys, sizes[:-1], sizes[1:], strict=True)}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        numeric = numeric_grad_fast(params, X, Y, keep_prob, frozen, epsilon) if method == "fast" else None
        report = check_gradients(J, {k: params[k] for k in keys}, analytic, method=method, epsilon=epsilon,
                                 threshold=threshold, k=k, rng=rng, batch=X.shape[1], numeric=numeric,
                                 progress=progress)
    from .diagnosis import diagnose

    report.keep_prob = keep_prob
    report.masks = masks if keep_prob < 1.0 else "none (no dropout)"
    report.changed_cache_keys = _cache_changes(cache, fresh_cache)
    report.kinks = _count_kinks(fresh_cache, params, epsilon)
    if method == "fast":
        report.forward_passes += 1  # one full pass; the perturbed copies rerun only the layers after their row
    report.diagnosis = diagnose(report)
    return report


@one_blas_thread()
def epsilon_sweep(params, X, Y, epsilons=None, dtype=np.float64, rng=None):
    """Directional-check difference for each epsilon: the V-curve.

    Large epsilon: truncation error ~ eps^2. Small epsilon: rounding ~ machine_eps / eps.
    dtype=np.float32 runs the forward passes in float32 to show where its V bottoms out.
    Returns (epsilons, differences).
    """
    model.check_inputs(params, X, Y)
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    try:
        epsilons = np.logspace(-1, -12, 23) if epsilons is None else np.asarray(epsilons, float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"epsilons must be positive numbers such as 1e-7, got {epsilons!r}") from None
    if epsilons.size == 0 or not np.all(np.isfinite(epsilons) & (epsilons > 0) & (epsilons < 1)):
        raise ValueError(f"epsilons must be positive numbers below 1, such as 1e-7, got {epsilons.tolist()}")
    try:
        kind = None if dtype is None else np.dtype(dtype).type  # float, "f8", np.dtype("float64"): np.float64
    except TypeError:
        kind = None
    if kind not in (np.float64, np.float32):
        raise ValueError(f"dtype must be np.float64 (or float) or np.float32, got {dtype!r}")
    dtype = kind
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be np.random.default_rng(seed), got {type(rng).__name__}")
    rng = rng if rng is not None else np.random.default_rng(0)
    keys = model.param_keys(params)
    p = {k: v.astype(dtype) for k, v in params.items()}
    Xd, Yd = X.astype(dtype), Y.astype(dtype)
    grads = model.backward(p, model.forward(p, Xd), Yd)
    v = {k: rng.standard_normal(p[k].shape) for k in keys}
    scale = np.linalg.norm(flatten(v, keys))
    v = {k: (vv / scale) for k, vv in v.items()}
    analytic = float(grad_vector(grads, keys).astype(np.float64) @ flatten(v, keys))
    J = CostFunction(Xd, Yd)
    diffs = []
    for eps in epsilons:
        plus = {k: (p[k] + eps * v[k]).astype(dtype) for k in keys}
        minus = {k: (p[k] - eps * v[k]).astype(dtype) for k in keys}
        numeric = (J(plus) - J(minus)) / (2 * eps)
        diffs.append(relative_difference(np.array([analytic]), np.array([numeric])))
    return epsilons, np.array(diffs)
