"""Gradient checking: compare backprop's gradients with central differences.

    numeric_k = (J(theta + eps e_k) - J(theta - eps e_k)) / (2 eps)
    difference = ||g - g_num|| / (||g|| + ||g_num||)          pass if difference < 2e-7

Four ways to get the numeric gradient, all with the same formula:
  loop         every entry, one entry at a time, two full forward passes each (the reference)
  fast         every entry, the same numbers, batched: perturbing W_l[i, j] only moves row i
               of Z_l by eps * A_{l-1}[j, :], so one forward pass per layer row does it
  sampled      k random entries of every parameter, by the loop
  directional  one random direction per parameter (and one over all): two passes each
"""

from dataclasses import dataclass, field

import numpy as np

from . import model

EPSILON = 1e-7
THRESHOLD = 2e-7
METHODS = ("loop", "fast", "sampled", "directional")


def copy_params(params):
    """A deep copy: new arrays, so perturbing the copy cannot touch the caller's."""
    return {k: v.copy() for k, v in params.items()}


def flatten(arrays, keys):
    """Concatenate arrays[k] for k in keys into one flat vector."""
    return np.concatenate([arrays[k].reshape(-1) for k in keys])


def grad_vector(grads, keys):
    """The gradients as one vector, in the same order as the parameters `keys`."""
    return flatten(grads, ["d" + k for k in keys])


def format_difference(d):
    """A difference as people read it: 7 decimals when large (0.3333333), 2 digits when it is
    rounding noise (2.4e-08), whose later digits differ from one CPU to the next."""
    return f"{d:.7f}" if np.isfinite(d) and abs(d) >= 1e-4 else f"{d:.1e}"


def relative_difference(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): 0 when equal, 1 when opposite or one of them is zero."""
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / denominator) if denominator > 0 else 0.0


def check_epsilon(params, epsilon):
    if not (isinstance(epsilon, (int, float)) and 0 < epsilon < 1):
        raise ValueError(f"epsilon must be a small positive number such as 1e-7, got {epsilon!r}")
    for k, v in params.items():
        if v.dtype != np.float64 and epsilon < 1e-3:
            raise ValueError(
                f"{k} is {v.dtype} and epsilon is {epsilon:g}: {v.dtype} keeps only about "
                f"{np.finfo(v.dtype).precision} significant digits, so J(theta+eps) - J(theta-eps) "
                "would be rounding noise. Cast the parameters to float64 "
                "({k: v.astype(np.float64) for k, v in params.items()}) or use epsilon >= 1e-3.")


class CostFunction:
    """J(params) on a fixed batch, with the dropout masks frozen or drawn afresh on each call."""

    def __init__(self, X, Y, keep_prob=1.0, masks=None, rng=None):
        self.X, self.Y, self.keep_prob, self.masks, self.rng = X, Y, keep_prob, masks, rng
        self.calls = 0

    def __call__(self, params):
        self.calls += 1
        cache = model.forward(params, self.X, self.keep_prob, masks=self.masks, rng=self.rng)
        return model.cost(cache[f"A{model.n_layers(params)}"], self.Y)


def numeric_grad_loop(J, params, keys=None, entries=None, epsilon=EPSILON):
    """Central differences, one entry at a time (the algorithm as the course teaches it).

    entries: optional {key: list of index tuples}; default every entry of every parameter.
    Returns ({key: numeric values in entry order}, wrote_into_params: bool).
    """
    keys = keys or model.param_keys(params)
    numeric, wrote = {}, False
    for key in keys:
        idxs = entries[key] if entries is not None else list(np.ndindex(params[key].shape))
        values = np.empty(len(idxs))
        for n, idx in enumerate(idxs):
            plus = copy_params(params)
            plus[key][idx] += epsilon
            J_plus = J(plus)
            minus = copy_params(params)
            minus[key][idx] -= epsilon
            J_minus = J(minus)
            values[n] = (J_plus - J_minus) / (2 * epsilon)
            wrote = wrote or np.shares_memory(plus[key], params[key])
        numeric[key] = values if entries is not None else values.reshape(params[key].shape)
    return numeric, wrote


def _example_losses(Z_L, labels):
    """Cross-entropy of each column of the output pre-activations Z_L (n_L, k):
    -log softmax(z)_y = logsumexp(z) - z_y, computed stably."""
    top = Z_L.max(axis=0)
    return np.log(np.exp(Z_L - top).sum(axis=0)) + top - Z_L[labels, np.arange(Z_L.shape[1])]


def _cost_changes(params, cache, l, i, shifts, labels, base, keep_prob):
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
    changes = _example_losses(Z, labels[e]) - base[e]
    return np.bincount(p, weights=changes, minlength=len(shifts))


def numeric_grad_fast(params, X, Y, keep_prob=1.0, masks=None, epsilon=EPSILON):
    """Every entry's central difference, batched; equal to numeric_grad_loop to ~1e-9.

    W_l[i, j] -> W_l[i, j] + eps moves only row i of Z_l, by eps * A_{l-1}[j, :];
    b_l[i] -> b_l[i] + eps moves row i of Z_l by eps. So for each row i the n_{l-1} + 1
    copies of the network that perturb W_l[i, :] and b_l[i] run as one batch, and
        (J(theta + eps) - J(theta - eps)) / (2 eps) = (change_plus - change_minus) / (2 eps M).
    """
    cache = model.forward(params, X, keep_prob, masks=masks)
    labels, M = Y.argmax(axis=0), X.shape[1]
    base = _example_losses(cache[f"Z{model.n_layers(params)}"], labels)
    numeric = {}
    for l in range(1, model.n_layers(params) + 1):
        n_l = params[f"W{l}"].shape[0]
        shifts = epsilon * np.vstack([cache[f"A{l - 1}"], np.ones((1, M))])  # last row: b_l[i]
        rows = np.empty((n_l, shifts.shape[0]))
        for i in range(n_l):
            plus = _cost_changes(params, cache, l, i, shifts, labels, base, keep_prob)
            minus = _cost_changes(params, cache, l, i, -shifts, labels, base, keep_prob)
            rows[i] = (plus - minus) / (2 * epsilon * M)
        numeric[f"W{l}"], numeric[f"b{l}"] = rows[:, :-1], rows[:, -1:]
    return numeric


@dataclass
class ParamRow:
    name: str
    shape: tuple
    checked: int
    difference: float
    max_abs_error: float
    ratio: float  # analytic / numeric, least squares: (a . n) / (n . n)
    passed: bool


@dataclass
class CheckReport:
    method: str
    epsilon: float
    threshold: float
    batch: int
    keep_prob: float
    masks: str
    bugs: tuple
    difference: float
    passed: bool
    ratio: float  # overall analytic/numeric, least squares; a uniform r gives d = |1-r|/(1+r)
    per_parameter: list
    params_unchanged: bool
    params_written: bool
    changed_cache_keys: list  # cache entries that backward wrote into (in place)
    forward_passes: int
    kinks: int  # hidden pre-activations close enough to 0 for a +-eps step to cross the ReLU kink
    diagnosis: list = field(default_factory=list)

    @property
    def cache_intact(self):
        return not self.changed_cache_keys

    def to_dict(self):
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["cache_intact"] = self.cache_intact
        out["per_parameter"] = [dict(vars(r), shape=list(r.shape)) for r in self.per_parameter]
        out["bugs"] = list(self.bugs)
        return out

    def table(self):
        head = f"{'param':<6} {'shape':<10} {'checked':>7} {'difference':>11} {'max |error|':>11} {'ratio a/n':>10}"
        lines = [head, "-" * len(head)]
        for r in self.per_parameter:
            mark = "ok" if r.passed else "FAIL"
            lines.append(f"{r.name:<6} {str(r.shape):<10} {r.checked:>7} {r.difference:>11.3e} "
                         f"{r.max_abs_error:>11.3e} {r.ratio:>10.6f}  {mark}")
        return "\n".join(lines)

    def __str__(self):
        verdict = "PASS" if self.passed else "FAIL"
        bugs = ", ".join(self.bugs) or "none"
        lines = [f"gradient check ({self.method}, M = {self.batch}, epsilon = {self.epsilon:g}, "
                 f"keep_prob = {self.keep_prob:g}, masks {self.masks}, bugs: {bugs})",
                 f"difference = {format_difference(self.difference)}   threshold {self.threshold:g}   {verdict}",
                 "", self.table(), ""]
        lines += ["diagnosis:"] + [f"  - {d}" for d in self.diagnosis]
        return "\n".join(lines)


def _ratio(a, n):
    """Least-squares r in a ~ r n: the factor by which the analytic gradient is off."""
    nn = float(n @ n)
    return float(a @ n / nn) if nn > 0 else float("nan")


def _param_row(name, shape, a, n, threshold):
    a, n = np.ravel(a), np.ravel(n)
    d = relative_difference(a, n)
    return ParamRow(name, tuple(shape), a.size, d, float(np.max(np.abs(a - n))),
                    _ratio(a, n), d < threshold)


def _cache_changes(cache_after, cache_fresh):
    return [k for k in cache_fresh if not np.array_equal(cache_after[k], cache_fresh[k])]


def gradient_check(params, X, Y, method="fast", epsilon=EPSILON, threshold=THRESHOLD,
                   keep_prob=1.0, masks="frozen", rng=None, k=10):
    """Check backprop's gradients on the batch (X, Y) and return a CheckReport.

    method: "loop", "fast", "sampled" (k entries per parameter) or "directional".
    keep_prob < 1 checks with dropout on. masks="frozen" draws one set of masks from rng
    and reuses it for every forward pass (the right way); masks="fresh" draws new masks on
    every forward pass, to show what that does to a check.
    The caller's params are never changed: the check restores them if a buggy variant did.
    """
    from .bugs import active

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if masks not in ("frozen", "fresh"):
        raise ValueError(f"masks must be 'frozen' or 'fresh', got {masks!r}")
    model.check_inputs(params, X, Y, keep_prob)
    check_epsilon(params, epsilon)
    if keep_prob < 1.0 and rng is None:
        raise ValueError("a check with dropout (keep_prob < 1) needs rng=np.random.default_rng(seed) "
                         "to draw the masks")
    if masks == "fresh" and keep_prob == 1.0:
        raise ValueError("masks='fresh' only means something with dropout on: give keep_prob < 1")
    if masks == "fresh" and method == "fast":
        raise ValueError("the fast check reuses one forward pass, so its masks are always frozen; "
                         "use method 'loop', 'sampled' or 'directional' to see fresh masks")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k (entries sampled per parameter) must be a whole number >= 1, got {k!r}")

    keys = model.param_keys(params)
    # Not copy_params: the snapshot that guards the caller must not be a function a bug can swap.
    snapshot = {key: np.array(value, copy=True) for key, value in params.items()}
    frozen = model.draw_masks(params, X.shape[1], keep_prob, rng) if keep_prob < 1.0 else None
    J = CostFunction(X, Y, keep_prob, masks=frozen if masks == "frozen" else None, rng=rng)

    cache = model.forward(params, X, keep_prob, masks=frozen)
    grads = model.backward(params, cache, Y, keep_prob)
    fresh_cache = model.forward(params, X, keep_prob, masks=frozen)
    changed_cache = _cache_changes(cache, fresh_cache)
    # a step of eps in W_l[i, j] moves Z_l[i, e] by eps * A_{l-1}[j, e]; near 0 it crosses the kink
    kinks = sum(int(np.sum(np.abs(fresh_cache[f"Z{l}"]) <= epsilon * max(1.0, np.abs(fresh_cache[f"A{l - 1}"]).max())))
                for l in range(1, model.n_layers(params)))
    for key in keys:
        if grads.get("d" + key) is None or grads["d" + key].shape != params[key].shape:
            got = None if grads.get("d" + key) is None else grads["d" + key].shape
            raise ValueError(f"backward returned d{key} with shape {got}; it must have the "
                             f"shape of {key}, {params[key].shape}")
    # The analytic gradient, in the order the comparison flattens it, split back per parameter.
    a_vec = grad_vector(grads, keys)
    sizes = np.cumsum([0] + [params[k].size for k in keys])
    analytic = {k: a_vec[lo:hi].reshape(params[k].shape) for k, lo, hi in zip(keys, sizes[:-1], sizes[1:], strict=True)}

    compare = {"loop": _compare_loop, "fast": _compare_fast, "sampled": _compare_sampled,
               "directional": _compare_directional}[method]
    a_all, n_all, rows, wrote, passes = compare(J, params, X, Y, keys, analytic, dict(
        epsilon=epsilon, threshold=threshold, keep_prob=keep_prob, masks=frozen, rng=rng, k=k))
    difference = relative_difference(a_all, n_all)
    unchanged = all(np.array_equal(snapshot[k], params[k]) for k in keys)
    if wrote or not unchanged:
        for k in keys:  # put the caller's values back, whatever the buggy copy left there
            params[k][...] = snapshot[k]
    report = CheckReport(
        method=method, epsilon=epsilon, threshold=threshold, batch=X.shape[1],
        keep_prob=keep_prob, masks=masks if keep_prob < 1.0 else "none (no dropout)",
        bugs=tuple(active()), difference=difference, passed=difference < threshold,
        ratio=_ratio(a_all, n_all), per_parameter=rows, params_unchanged=unchanged, params_written=bool(wrote),
        changed_cache_keys=changed_cache,
        forward_passes=passes, kinks=kinks)
    report.diagnosis = diagnose(report)
    return report


# Each _compare_* returns (analytic values, numeric values, per-parameter rows,
# whether a perturbed copy shared memory with the caller's arrays, forward passes used).

def _compare_loop(J, params, X, Y, keys, analytic, o):
    numeric, wrote = numeric_grad_loop(J, params, keys, epsilon=o["epsilon"])
    rows = [_param_row(k, params[k].shape, analytic[k], numeric[k], o["threshold"]) for k in keys]
    return flatten(analytic, keys), flatten(numeric, keys), rows, wrote, J.calls


def _compare_fast(J, params, X, Y, keys, analytic, o):
    numeric = numeric_grad_fast(params, X, Y, o["keep_prob"], o["masks"], o["epsilon"])
    rows = [_param_row(k, params[k].shape, analytic[k], numeric[k], o["threshold"]) for k in keys]
    # one full forward pass; the perturbed copies rerun only the layers after their row
    return flatten(analytic, keys), flatten(numeric, keys), rows, False, 1


def _compare_sampled(J, params, X, Y, keys, analytic, o):
    entries = {key: [np.unravel_index(i, params[key].shape) for i in rng_choice(o["rng"], params[key].size, o["k"])]
               for key in keys}
    numeric, wrote = numeric_grad_loop(J, params, keys, entries, o["epsilon"])
    picked = {key: np.array([analytic[key][idx] for idx in entries[key]]) for key in keys}
    rows = [_param_row(k, params[k].shape, picked[k], numeric[k], o["threshold"]) for k in keys]
    return flatten(picked, keys), flatten(numeric, keys), rows, wrote, J.calls


def _compare_directional(J, params, X, Y, keys, analytic, o):
    rng = o["rng"] if o["rng"] is not None else np.random.default_rng(0)
    eps, rows = o["epsilon"], []
    for key in keys + [None]:  # one direction per parameter for the table, then one over all
        v = _direction(rng, analytic, keys, keys if key is None else [key])
        a_dir = float(flatten(analytic, keys) @ flatten(v, keys))
        n_dir = (J({kk: params[kk] + eps * v[kk] for kk in keys}) -
                 J({kk: params[kk] - eps * v[kk] for kk in keys})) / (2 * eps)
        if key is not None:
            rows.append(_param_row(key, params[key].shape, a_dir, n_dir, o["threshold"]))
    return np.array([a_dir]), np.array([n_dir]), rows, False, J.calls


def _direction(rng, analytic, keys, support):
    """A unit direction over the parameters in `support` (zero on the others), half along
    the analytic gradient and half random. Along the gradient the directional derivative
    is large next to rounding error; the random half tests the other directions too."""
    g = {k: analytic[k] if k in support else np.zeros_like(analytic[k]) for k in keys}
    u = {k: rng.standard_normal(g[k].shape) * (k in support) for k in keys}
    u_norm, g_norm = np.linalg.norm(flatten(u, keys)), np.linalg.norm(flatten(g, keys))
    v = {k: u[k] / u_norm + (g[k] / g_norm if g_norm > 0 else 0.0) for k in keys}
    v_norm = np.linalg.norm(flatten(v, keys))
    return {k: vv / v_norm for k, vv in v.items()}


def rng_choice(rng, n, k):
    """k distinct flat indices out of n (all of them when k >= n), sorted."""
    if rng is None:
        raise ValueError("the sampled check needs rng=np.random.default_rng(seed) to pick entries")
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _near(x, target, tol=1e-3):
    return np.isfinite(x) and abs(x - target) <= tol * abs(target)


def diagnose(report):
    """Read the numbers of a report the way an experienced person would. Returns sentences."""
    out = []
    d, M = report.difference, report.batch
    if report.params_written:
        out.append("The check WROTE INTO YOUR PARAMETERS: its perturbed copies shared memory with "
                   "your arrays (dict.copy() copies the dict, not the arrays). The values were "
                   "restored" + ("." if report.params_unchanged else ", but they had changed."))
    elif not report.params_unchanged:
        out.append("Your parameters CHANGED during the check; they have been restored.")
    if report.changed_cache_keys:
        out.append(f"backward changed the cache it was given ({', '.join(report.changed_cache_keys)}): "
                   "an in-place operation. The check " + ("passes anyway, because nothing reads that "
                   "entry afterwards, but any later use of the cache gets the damaged values."
                   if report.passed else "fails because later steps read the damaged entry."))
    if report.keep_prob < 1.0 and report.masks == "fresh" and not report.passed:
        out.append("Fresh dropout masks on every forward pass: J(theta+eps) and J(theta-eps) come "
                   "from different networks, so the difference measures the masks, not backprop. "
                   "Freeze the masks (or set keep_prob = 1) while checking.")
        return out
    if report.passed:
        out.append(f"Backprop agrees with the numeric gradient (difference {d:.1e} < {report.threshold:g}).")
        return out
    rows = [r for r in report.per_parameter if np.isfinite(r.ratio)]
    ratios = np.array([r.ratio for r in rows])
    r = report.ratio
    uniform = (len(rows) > 0 and np.isfinite(r) and r > 0 and np.all(np.abs(ratios - r) <= 1e-3 * r)
               and _near(abs(1 - r) / (1 + r), d))
    if uniform:
        known = [(2.0, "the numeric gradient is half the analytic one: J(theta-eps) was evaluated "
                       "at theta, because the +eps perturbation leaked into the parameters (a "
                       "shallow copy)"),
                 (1.0 / M, f"the analytic gradient is 1/M = 1/{M} of the numeric one: an extra 1/M "
                           "(the 1/M belongs once, in dZ of the output layer)"),
                 (float(M), f"the analytic gradient is M = {M} times the numeric one: the 1/M of "
                            "the averaged cost is missing")]
        what = next((text for target, text in known if target != 1.0 and _near(r, target)),
                    "every gradient is off by the same factor: look for a constant factor in backward")
        out.append(f"Every parameter has the same ratio analytic/numeric r = {r:.6f}, and "
                   f"|1-r|/(1+r) = {d:.6f} is the difference: {what}.")
        return out
    if report.kinks:
        out.append(f"{report.kinks} hidden pre-activation(s) lie within epsilon of the ReLU kink at 0: "
                   "there theta+eps and theta-eps fall on different sides, and the central difference "
                   "averages two slopes. The numeric gradient is wrong there, not backprop: try "
                   "another batch or seed.")
        if d < 1e-2:  # a kink explains a difference this small; a real bug usually shows more
            return out
    bad = [row.name for row in rows if not row.passed]
    good = [row.name for row in rows if row.passed]
    if bad:
        out.append(f"Failing: {', '.join(bad)}" + (f"; agreeing: {', '.join(good)}." if good else "."))
    status = {row.name: row.passed for row in rows}
    split = [l for l in range(1, len(rows) // 2 + 1) if status.get(f"W{l}") != status.get(f"b{l}")]
    if split:
        l = split[0]
        out.append(f"W{l} and b{l} disagree although dW{l} and db{l} both come from the same dZ{l}: "
                   f"suspect the step from dZ{l} to d{'W' if not status[f'W{l}'] else 'b'}{l} "
                   f"(the activation it reads), or the check itself lining gradients up with the "
                   "wrong parameters (the order in which both are flattened).")
    elif good and bad:
        out.append("Only part of the network is wrong, so the error enters between the layers "
                   "that agree and those that fail: look at that backward step (ReLU derivative, "
                   "dropout, the cached activation it reads).")
    if report.keep_prob < 1.0 and bad and all(_near(row.ratio, report.keep_prob) for row in rows if not row.passed):
        out.append(f"The failing gradients are keep_prob = {report.keep_prob:g} times too small: "
                   "dropout's backward step has lost its 1/keep_prob.")
    if d < 1e-4:
        out.append("A small failure: look for ReLU kinks (an entry of Z within epsilon of 0) or "
                   "rounding; run an epsilon sweep (a difference that grows as epsilon shrinks "
                   "is rounding).")
    elif not any(row.passed for row in rows) and d > 0.5:
        out.append("The analytic and numeric gradients hardly resemble each other: check that both "
                   "are flattened in the same parameter order and that backward uses this batch.")
    return out


def epsilon_sweep(params, X, Y, epsilons=None, dtype=np.float64, rng=None):
    """Directional-check difference for each epsilon: the V-curve.

    Large epsilon: truncation error ~ eps^2. Small epsilon: rounding ~ machine_eps / eps.
    dtype=np.float32 runs the forward passes in float32 to show where its V bottoms out.
    Returns (epsilons, differences).
    """
    model.check_inputs(params, X, Y)
    epsilons = np.logspace(-1, -12, 23) if epsilons is None else np.asarray(epsilons, float)
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
