"""Gradient checking for any cost: central differences, the relative difference, the report.

    numeric_k = (J(theta + eps e_k) - J(theta - eps e_k)) / (2 eps)    e_k: 1 at entry k, 0 elsewhere
    difference = ||g - g_num|| / (||g|| + ||g_num||)                  pass if difference < 2e-7

This module knows nothing about networks: `cost(params) -> float` is any function of a dict
of arrays, and `analytic` holds the gradients to judge, one array per parameter. nnlib's own
network (gradcheck.py) and a learner's code (doctor.py) are both callers of `check_gradients`.

Three ways to get the numeric gradient, all from the same formula:
  loop         every entry, one at a time, two cost evaluations each (the course's algorithm)
  sampled      k entries of every parameter, by the loop
  directional  one direction per parameter (and one over all): two cost evaluations each
"""

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

EPSILON = 1e-7
THRESHOLD = 2e-7
METHODS = ("loop", "sampled", "directional")


def copy_params(params):
    """A deep copy: new arrays, so perturbing the copy cannot touch the caller's."""
    return {k: v.copy() for k, v in params.items()}


def flatten(arrays, keys):
    """Concatenate arrays[k] for k in keys into one flat vector."""
    return np.concatenate([np.ravel(arrays[k]) for k in keys]) if keys else np.zeros(0)


def format_difference(d):
    """A difference as people read it: 7 decimals when large (0.3333333), 2 digits when it is
    rounding noise (2.4e-08), whose later digits differ from one CPU to the next."""
    return f"{d:.7f}" if np.isfinite(d) and abs(d) >= 1e-4 else f"{d:.1e}"


def format_ratio(r):
    """A ratio analytic/numeric: 6 decimals, but never '-0.000000' for a tiny one."""
    if not np.isfinite(r):
        return "n/a"
    return f"{r:.6f}" if r == 0 or abs(r) >= 1e-3 else f"{r:.1e}"


def relative_difference(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): 0 when equal, 1 when opposite or one of them is zero.
    NaN when either holds a NaN or an infinity: such a comparison must never pass."""
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    if not (np.all(np.isfinite(analytic)) and np.all(np.isfinite(numeric))):
        return float("nan")
    # scaled by the largest entry, so that gradients of 1e-300 do not underflow to 0 / 0 = "equal"
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(numeric), initial=0.0)))
    if scale == 0.0:
        return 0.0  # both exactly zero: equal
    a, n = analytic / scale, numeric / scale
    return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))


def check_epsilon(params, epsilon):
    """Refuse an epsilon or a dtype with which the check could only report rounding noise."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating, np.integer)) \
            or not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be a small positive number such as 1e-7, got {epsilon!r}")
    for k, v in params.items():
        if np.asarray(v).dtype != np.float64:
            raise ValueError(
                f"{k} is {np.asarray(v).dtype}: a gradient check needs float64. float32 keeps about "
                "7 significant digits, so its rounding alone puts the difference near 1e-6 at any "
                "epsilon (above the 2e-7 threshold) and at 1e-7 makes J(theta+eps) - J(theta-eps) "
                "pure noise. Cast parameters and data for the check: "
                "{k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64).")


@dataclass
class ParamRow:
    name: str
    shape: tuple
    checked: int
    difference: float
    max_abs_error: float
    ratio: float  # analytic / numeric, least squares: (a . n) / (n . n)
    passed: bool
    note: str = ""  # a pattern read off the entries: "transposed", "all zero", "nan" (in the analytic
    #                 gradient), "nan in the cost" (at some theta +- eps), or "rounding" (above the
    #                 threshold, but an error too small to matter next to the whole gradient)
    finite_numeric: int = None  # entries whose numeric gradient is finite (the cost was at theta +- eps)


@dataclass
class CheckReport:
    method: str
    epsilon: float
    threshold: float
    difference: float
    passed: bool
    ratio: float  # overall analytic/numeric, least squares; a uniform r gives d = |1-r|/(1+|r|)
    per_parameter: list
    params_unchanged: bool
    params_written: bool
    forward_passes: int  # cost evaluations
    batch: int = None  # M, the examples in the batch, when the caller knows it
    keep_prob: float = 1.0
    masks: str = "none (no dropout)"
    bugs: tuple = ()
    changed_cache_keys: list = field(default_factory=list)  # cache entries that backward wrote into
    kinks: int = 0  # entries whose +eps and -eps steps straddle a kink (ReLU at 0)
    cost_repeatable: bool = True  # the same parameters gave the same cost twice
    nonfinite: list = field(default_factory=list)  # where a NaN or infinity was found
    diagnosis: list = field(default_factory=list)
    entries: int = None  # entries of all parameters (a sampled check looks at fewer: see `checked`)
    cost_value: float = None  # J at the parameters checked
    notes: list = field(default_factory=list)  # lines under the title: how M was found, why a sample
    cost_writes: list = field(default_factory=list)  # what the cost wrote into (given copies, so harmless here)

    @property
    def checked(self):
        return sum(row.checked for row in self.per_parameter)

    @property
    def cache_intact(self):
        return not self.changed_cache_keys

    def to_dict(self):
        """Plain types only; NaN and infinities become None, so that strict JSON accepts it."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["cache_intact"] = self.cache_intact
        out["checked"] = self.checked
        out["per_parameter"] = [dict(vars(r), shape=list(r.shape)) for r in self.per_parameter]
        out["bugs"] = list(self.bugs)
        return _finite_or_none(out)

    def table(self):
        head = f"{'param':<6} {'shape':<10} {'checked':>7} {'difference':>11} {'max |error|':>11} {'ratio a/n':>10}"
        lines = [head, "-" * len(head)]
        for r in self.per_parameter:
            mark = ("ok" if r.passed else "FAIL") + (f" ({r.note})" if r.note else "")
            lines.append(f"{r.name:<6} {str(r.shape):<10} {r.checked:>7} {r.difference:>11.3e} "
                         f"{r.max_abs_error:>11.3e} {format_ratio(r.ratio):>10}  {mark}")
        return "\n".join(lines)

    def __str__(self):
        verdict = "PASS" if self.passed else "FAIL"
        if not self.cost_repeatable:  # then the numbers below measure the cost's randomness: no verdict
            verdict = "NO VERDICT: the cost is not repeatable"
        elif any(x.startswith("the cost") for x in self.nonfinite):
            verdict = "NO VERDICT: NaN or infinity in the cost"
        method = self.method
        if self.method == "sampled" and self.entries:
            method = f"sampled: {self.checked:,} of {self.entries:,} entries"
        where = [method] + ([f"M = {self.batch}"] if self.batch else []) + [f"epsilon = {self.epsilon:g}"]
        if self.keep_prob != 1.0:
            where.append(f"keep_prob = {self.keep_prob:.10g}, masks {self.masks}")
        if self.bugs:
            where.append(f"bugs: {', '.join(self.bugs)}")
        lines = [f"gradient check ({', '.join(where)})"] + [f"  {note}" for note in self.notes] + [
                 f"difference = {format_difference(self.difference)}   threshold {self.threshold:g}   {verdict}",
                 "", self.table(), ""]
        lines += ["diagnosis:"] + [f"  - {d}" for d in self.diagnosis]
        return "\n".join(lines)


def _finite_or_none(x):
    if isinstance(x, dict):
        return {k: _finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_or_none(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def ratio(a, n):
    """Least-squares r in a ~ r n: the factor by which the analytic gradient is off."""
    a, n = np.ravel(a), np.ravel(n)
    nn = float(n @ n)
    return float(a @ n / nn) if nn > 0 and np.isfinite(nn) else float("nan")


def _note(a, n):
    """A pattern a person would spot in one parameter's entries."""
    if not np.all(np.isfinite(a)):
        return "nan"
    if not np.all(np.isfinite(n)):
        return "nan in the cost"
    if np.ndim(a) == 2 and a.shape[0] == a.shape[1] > 1 and not np.allclose(a, n, rtol=1e-4, atol=1e-10) \
            and np.allclose(a.T, n, rtol=1e-4, atol=1e-10):
        return "transposed"
    if not np.any(a) and np.any(n):
        return "all zero"
    return ""


def _rows(names, shapes, analytic, numeric, threshold):
    """One row per parameter. A row fails when its own difference is above the threshold AND its
    error matters at the scale of the whole gradient: on a handful of tiny entries rounding alone
    can give a row 2.5e-7 while its error is a millionth of the gradient's size."""
    a_all = np.concatenate([np.ravel(analytic[k]) for k in names])
    n_all = np.concatenate([np.ravel(numeric[k]) for k in names])
    scale = np.linalg.norm(a_all) + np.linalg.norm(n_all)
    rows = []
    for k in names:
        a, n = np.asarray(analytic[k], float), np.asarray(numeric[k], float)
        d = relative_difference(a, n)
        err = float(np.max(np.abs(a - n))) if a.size else 0.0
        matters = not np.isfinite(scale) or np.linalg.norm(np.ravel(a - n)) > threshold * scale
        note = _note(a, n) or ("rounding" if np.isfinite(d) and d >= threshold and not matters else "")
        rows.append(ParamRow(k, tuple(shapes[k]), int(a.size), d, err, ratio(a, n),
                             bool(np.isfinite(d) and (d < threshold or not matters)), note,
                             int(np.sum(np.isfinite(n)))))
    return rows


class _Counted:
    def __init__(self, cost):
        self.cost, self.calls = cost, 0

    def __call__(self, params):
        self.calls += 1
        return float(np.squeeze(self.cost(params)))


class Progress:
    """One bar for one phase of a check (a widget in Jupyter, text on stderr elsewhere), shown
    only when the phase will take more than about 2 s. show: True, False, or None to decide from
    the pace of the first steps (at most 0.5 s of them). A bar that starts late is told how many
    steps are done already, so its rate and its estimate count only what it timed itself.
    NNLIB_PROGRESS=0 switches bars off: the tests and the notebook executor do, because a bar's
    timings are not output."""

    def __init__(self, total, desc, show=None, unit="entry"):
        self.total, self.desc, self.show, self.unit = total, desc, show, unit
        self.done, self.bar, self.start = 0, None, time.perf_counter()
        if show:
            self._open()

    def _open(self):
        if os.environ.get("NNLIB_PROGRESS", "1") == "0":
            self.show = False
            return
        from tqdm.auto import tqdm
        self.bar = tqdm(total=self.total, desc=self.desc, unit=self.unit, leave=False, initial=self.done)

    def step(self, n=1):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.show is None:
            elapsed = time.perf_counter() - self.start
            if elapsed > 0.5 or self.done >= 8:
                self.show = elapsed / self.done * (self.total - self.done) > 2.0
                if self.show:
                    self._open()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def numeric_gradient(cost, params, keys=None, entries=None, epsilon=EPSILON, progress=None, J0=None,
                     desc="gradient check"):
    """Central differences, one entry at a time (the algorithm as the course teaches it).

    entries: optional {key: list of index tuples}; default every entry of every parameter.
    progress: True/False, or None for a bar only when the loop will take more than about 2 s;
    desc names the bar. J0: cost(params), if known; with it the loop also counts kinks.
    Returns ({key: numeric values}, wrote_into_params: bool, kinks: int). With `entries` the
    values come as a 1-D array in entry order, without it shaped like the parameter.
    """
    keys = list(keys or params)
    todo = {k: (entries[k] if entries is not None else list(np.ndindex(np.shape(params[k])))) for k in keys}
    bar = Progress(sum(len(v) for v in todo.values()), desc, progress)
    numeric, wrote, kinks = {}, False, 0
    try:
        for key in keys:
            values = np.empty(len(todo[key]))
            for n, idx in enumerate(todo[key]):
                plus = copy_params(params)
                plus[key][idx] += epsilon
                J_plus = cost(plus)
                minus = copy_params(params)
                minus[key][idx] -= epsilon
                J_minus = cost(minus)
                values[n] = (J_plus - J_minus) / (2 * epsilon)
                wrote = wrote or np.shares_memory(plus[key], params[key])
                if J0 is not None and _straddles_kink(J_plus, J0, J_minus):
                    kinks += 1
                bar.step()
            numeric[key] = values if entries is not None else values.reshape(np.shape(params[key]))
    finally:
        bar.close()
    return numeric, wrote, kinks


def _straddles_kink(J_plus, J0, J_minus):
    """Smooth cost: the two one-sided slopes differ by about eps * J'', a tiny fraction of the slope.
    Across a kink they differ by the kink's jump, a sizeable fraction."""
    second = abs((J_plus - J0) - (J0 - J_minus))
    return second > 1e-11 * max(1.0, abs(J0)) and second > 1e-3 * abs(J_plus - J_minus)


def sample_entries(rng, analytic, keys, k):
    """k entries of every parameter (all when it has <= k). Half of them where the analytic
    gradient is not zero, when there are such entries: on a small batch most of dW1 is exactly
    0 (pixels that are 0 in every image), and 25 zeros would test nothing."""
    if rng is None:
        raise ValueError("the sampled check needs rng=np.random.default_rng(seed) to pick entries")
    out = {}
    for key in keys:
        a = np.ravel(analytic[key])
        if a.size <= k:
            flat = np.arange(a.size)
        else:
            nonzero = np.flatnonzero(a)
            first = rng.choice(nonzero, size=min(k // 2, nonzero.size), replace=False) if nonzero.size else []
            rest = np.setdiff1d(np.arange(a.size), first)
            flat = np.sort(np.concatenate([first, rng.choice(rest, size=k - len(first), replace=False)]))
        out[key] = [np.unravel_index(int(i), np.shape(analytic[key])) for i in flat]
    return out


def _direction(rng, analytic, keys, support):
    """A unit direction over the parameters in `support` (zero on the others), half along
    the analytic gradient and half random. Along the gradient the directional derivative
    is large next to rounding error; the random half tests the other directions too."""
    g = {k: analytic[k] if k in support else np.zeros_like(analytic[k]) for k in keys}
    u = {k: rng.standard_normal(np.shape(g[k])) * (k in support) for k in keys}
    u_norm, g_norm = np.linalg.norm(flatten(u, keys)), np.linalg.norm(flatten(g, keys))
    v = {k: u[k] / u_norm + (g[k] / g_norm if g_norm > 0 and np.isfinite(g_norm) else 0.0) for k in keys}
    v_norm = np.linalg.norm(flatten(v, keys))
    if not v_norm > 1e-3:  # one entry: the random half and the gradient half can cancel
        v, v_norm = u, u_norm
    return {k: vv / v_norm for k, vv in v.items()}


def check_gradients(cost, params, analytic, *, method="loop", epsilon=EPSILON, threshold=THRESHOLD,
                    k=25, rng=None, batch=None, numeric=None, progress=None, desc="gradient check"):
    """Compare `analytic` (a dict of arrays shaped like `params`, same keys) with central
    differences of `cost` and return a CheckReport (diagnosis.diagnose reads it).

    method: "loop", "sampled" (k entries per parameter, picked with rng) or "directional".
    numeric: the numeric gradient, when the caller computed it another way (nnlib's fast check);
    then `method` only names it. batch: M, if known, lets the diagnosis name 1/M factors.
    The caller's arrays are never changed: they are compared bit for bit afterwards and put back,
    even when the check is interrupted (Ctrl-C), whatever a buggy copy wrote into them.
    """
    if numeric is None and method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (entries sampled per parameter) must be a whole number >= 1, got {k!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be np.random.default_rng(seed), got {type(rng).__name__}")
    check_epsilon(params, epsilon)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not 0 < threshold < 1e-2:
        raise ValueError(f"threshold must be a small positive number such as 2e-7, got {threshold!r}")
    keys = list(params)
    J = _Counted(cost)
    # Not copy_params: the snapshot that guards the caller must not be a function a bug can swap.
    snapshot = {key: np.array(value, copy=True) for key, value in params.items()}
    wrote, kinks = False, 0
    try:
        # each on its own copy: a cost that writes into its arguments must not look random
        J0, J0_again = J(copy_params(params)), J(copy_params(params))
        repeatable = J0_again == J0 or (np.isnan(J0) and np.isnan(J0_again))
        nonfinite = [] if np.isfinite(J0) else [f"the cost (J = {J0})"]
        nonfinite += [f"d{key}" for key in keys if not np.all(np.isfinite(analytic[key]))]
        if numeric is not None:
            n_vals, a_vals = numeric, analytic
        elif method == "loop":
            n_vals, wrote, kinks = numeric_gradient(J, params, keys, epsilon=epsilon, progress=progress, J0=J0,
                                                    desc=desc)
            a_vals = analytic
        elif method == "sampled":
            chosen = sample_entries(rng, analytic, keys, k)
            n_vals, wrote, kinks = numeric_gradient(J, params, keys, chosen, epsilon, progress, J0, desc)
            a_vals = {key: np.array([analytic[key][idx] for idx in chosen[key]]) for key in keys}
        else:
            n_vals, a_vals = _directional(J, params, analytic, keys, epsilon,
                                          rng if rng is not None else np.random.default_rng(0))
    finally:
        unchanged = all(np.array_equal(snapshot[key], params[key], equal_nan=True) for key in keys)
        if not unchanged or wrote:
            for key in keys:  # put the caller's values back, whatever the buggy copy left there
                params[key][...] = snapshot[key]
    shapes = {key: np.shape(params[key]) for key in keys}
    rows = _rows(keys, shapes, a_vals, n_vals, threshold)
    if np.isfinite(J0):  # finite at theta, but maybe not at every theta +- eps
        nonfinite += [f"the cost at theta +- eps for {row.checked - row.finite_numeric} of the {row.checked} "
                      f"entries of {row.name} checked" for row in rows if row.finite_numeric < row.checked]
    if method == "directional" and numeric is None:
        a_all, n_all = a_vals["(all)"], n_vals["(all)"]
    else:
        a_all, n_all = flatten(a_vals, keys), flatten(n_vals, keys)
    difference = relative_difference(a_all, n_all)
    report = CheckReport(
        method=method, epsilon=float(epsilon), threshold=threshold, difference=difference,
        passed=bool(np.isfinite(difference) and difference < threshold and not nonfinite and repeatable),
        ratio=ratio(a_all, n_all), per_parameter=rows, params_unchanged=unchanged,
        params_written=bool(wrote), forward_passes=J.calls, batch=batch, kinks=kinks,
        cost_repeatable=bool(repeatable), nonfinite=nonfinite,
        entries=int(sum(np.size(params[key]) for key in keys)), cost_value=float(J0))
    return report


def _directional(J, params, analytic, keys, epsilon, rng):
    """One direction per parameter for the table, then one over all of them for the verdict.
    Returns ({key: [numeric]}, {key: [analytic]}) with the overall pair under "(all)"."""
    a_out, n_out = {}, {}
    for key in keys + ["(all)"]:
        v = _direction(rng, analytic, keys, keys if key == "(all)" else [key])
        a_out[key] = np.array([float(flatten(analytic, keys) @ flatten(v, keys))])
        n_out[key] = np.array([(J({kk: params[kk] + epsilon * v[kk] for kk in keys}) -
                                J({kk: params[kk] - epsilon * v[kk] for kk in keys})) / (2 * epsilon)])
    return n_out, a_out
