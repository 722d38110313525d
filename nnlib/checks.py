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
import re
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
    NaN when either holds a NaN or an infinity: such a comparison must never pass.
    The two must have the same shape: a - n of an (n, 1) and an (n,) array broadcasts to an
    (n, n) matrix, and the difference of two equal gradients comes out near 0.5."""
    analytic, numeric = _real(analytic, "analytic"), _real(numeric, "numeric")
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic has shape {analytic.shape} but numeric {numeric.shape}: compare arrays of "
                         "one shape (e.g. both .reshape(-1, 1)); subtracting these would broadcast them")
    if not (np.all(np.isfinite(analytic)) and np.all(np.isfinite(numeric))):
        return float("nan")
    # scaled by the largest entry, so that gradients of 1e-300 do not underflow to 0 / 0 = "equal"
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(numeric), initial=0.0)))
    if scale == 0.0:
        return 0.0  # both exactly zero: equal
    a, n = analytic / scale, numeric / scale
    return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))


def _real(x, name):
    """x as a float64 array, if it holds real numbers (bool, int or float)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}"
                         + (": take .real only if the imaginary part is 0 by design" if x.dtype.kind == "c" else ""))
    return x.astype(float, copy=False)


def grad_name(key):
    """How the report names the gradient of parameter `key`: dW1 for the course's W1, and
    "the gradient of 'dense_0/bias'" where a d in front would not read as a name."""
    return f"d{key}" if re.fullmatch(r"[A-Za-z]\w*", str(key)) else f"the gradient of {key!r}"


def _check_arrays(params, analytic):
    """One line on parameters or gradients a check cannot compare."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict of arrays, e.g. {'W1': ..., 'b1': ...}")
    for k, v in params.items():
        if not isinstance(v, np.ndarray):
            raise ValueError(f"params[{k!r}] is a {type(v).__name__}, not a NumPy array: use np.array(...)")
    if not isinstance(analytic, dict):
        raise ValueError(f"analytic must be a dict of gradients keyed like params, got {type(analytic).__name__}")
    missing = [k for k in params if k not in analytic]
    if missing:
        hint = " (key each gradient by its parameter's name: 'W1', not 'dW1')" \
            if all(f"d{k}" in analytic for k in missing) else ""
        raise ValueError(f"analytic has no entry for {missing}: its keys are {list(analytic)}, the parameters' "
                         f"{list(params)}{hint}")
    for k, v in params.items():
        g = np.asarray(analytic[k])
        if g.dtype.kind not in "biuf":
            raise ValueError(f"analytic[{k!r}] must hold real numbers, got "
                             + ("None" if analytic[k] is None else f"dtype {g.dtype}"))
        if g.shape != v.shape:
            hint = " (transposed? the gradient has the shape of its parameter)" if g.shape == v.shape[::-1] else ""
            raise ValueError(f"analytic[{k!r}] has shape {g.shape} but params[{k!r}] {v.shape}{hint}")


def check_epsilon(params, epsilon):
    """Refuse an epsilon or a dtype with which the check could only report rounding noise."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating, np.integer)) \
            or not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be a small positive number such as 1e-7, got {epsilon!r}")
    for k, v in params.items():
        dtype = np.asarray(v).dtype
        if dtype != np.float64:
            raise ValueError(f"{k} is {dtype}: a gradient check needs float64. {_why_float64(dtype)} Cast "
                             "parameters and data for the check: {k: v.astype(np.float64) for k, v in "
                             "params.items()}, X.astype(np.float64).")


def _why_float64(dtype):
    """What goes wrong with this dtype, measured on the course's network (notebook 3's V-curve)."""
    if dtype == np.float16:
        return "float16 keeps about 3 significant digits: J(theta+eps) - J(theta-eps) is all rounding."
    if dtype == np.float32:
        return ("float32 keeps about 7 significant digits, so J(theta+eps) - J(theta-eps) is mostly rounding: "
                "on the course's network it gives a difference near 1 at epsilon = 1e-7 and, at its best epsilon "
                "(about 1e-3), still 1e-4 to 1e-3, far above the 2e-7 threshold.")
    if dtype.kind == "f":  # longdouble: more digits, not fewer
        return (f"{dtype.name} is MORE precise than float64, but the check's arithmetic, its threshold and its "
                "rounding limits are float64's, and numpy's matrix products are slow on it.")
    if dtype.kind in "iub":
        return (f"{dtype.name} holds whole numbers: theta + 1e-7 cannot be stored in it, so every numeric "
                "gradient would be 0.")
    return (f"{dtype.name} holds complex numbers; a cost and its gradient are real." if dtype.kind == "c" else
            f"An array of dtype {dtype} holds Python objects (or text), not numbers the check can nudge.")


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
    kinks: int = 0  # entries whose +eps and -eps steps straddle a kink (loop and sampled checks)


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
    backward_writes: list = field(default_factory=list)  # X or Y, when backward wrote into them
    kinks: int = 0  # entries whose +eps and -eps steps straddle a kink (ReLU at 0)
    cost_repeatable: bool = True  # the same parameters gave the same cost twice
    nonfinite: list = field(default_factory=list)  # where a NaN or infinity was found
    diagnosis: list = field(default_factory=list)
    entries: int = None  # entries of all parameters (a sampled check looks at fewer: see `checked`)
    cost_value: float = None  # J at the parameters checked
    notes: list = field(default_factory=list)  # lines under the title: how M was found, why a sample
    cost_writes: list = field(default_factory=list)  # what the cost wrote into (given copies, so harmless here)
    kink_only: bool = False  # it fails only at kink entries, where backprop gives one of the one-sided slopes
    without_kinks: float = None  # the difference over the entries that straddle no kink
    cost_float32: bool = False  # every cost value returned was a float32 number (see _Counted)
    cost_noise: float = None  # the median |J(theta+eps) - 2 J + J(theta-eps)|: rounding noise at a small eps
    cost_noisy: bool = False  # that noise is far beyond float64's (float32 arrays inside the cost)
    median_error: float = None  # the median |analytic - numeric| over the entries checked
    second_look: dict = None  # the same entries at another epsilon: {"epsilon", "difference", "passed"}

    @property
    def rounding_limit(self):
        """About how far rounding J moves one numeric entry: J's last bit, spacing(J), over 2 eps.
        A numeric entry is no better than this; a cost computed with many terms is several times worse."""
        if self.cost_value is None or not np.isfinite(self.cost_value):
            return float("nan")
        return float(np.spacing(abs(self.cost_value))) / (2 * self.epsilon)

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
        out["rounding_limit"] = self.rounding_limit
        out["per_parameter"] = [dict(vars(r), shape=list(r.shape)) for r in self.per_parameter]
        out["bugs"] = list(self.bugs)
        return _finite_or_none(out)

    def table(self):
        head = f"{'param':<6} {'shape':<10} {'checked':>7} {'difference':>11} {'max |error|':>11} {'ratio a/n':>10}"
        lines = [head, "-" * len(head)]
        for r in self.per_parameter:
            mark = ("ok" if r.passed else "FAIL") + (f" ({r.note})" if r.note else "") \
                + (f" ({r.kinks} at a kink)" if r.kinks and not r.passed else "")
            lines.append(f"{r.name:<6} {str(r.shape):<10} {r.checked:>7} {r.difference:>11.3e} "
                         f"{r.max_abs_error:>11.3e} {format_ratio(r.ratio):>10}  {mark}")
        return "\n".join(lines)

    def __str__(self):
        verdict = "PASS" if self.passed else "FAIL"
        if not self.cost_repeatable:  # then the numbers below measure the cost's randomness: no verdict
            verdict = "NO VERDICT: the cost is not repeatable"
        elif self.cost_float32 or self.cost_noisy:
            verdict = "NO VERDICT: the cost is computed in float32" if self.cost_float32 else \
                "NO VERDICT: the cost is too noisy to check"
        elif self.kink_only:
            verdict = f"FAIL at kinks only (without them: {format_difference(self.without_kinks)})"
        elif any(x.startswith("the cost") for x in self.nonfinite):
            verdict = "NO VERDICT: NaN or infinity in the cost"
        method = self.method
        if self.method == "sampled" and self.entries:
            method = f"sampled: {self.checked:,} of {self.entries:,} entries"
        where = [method] + ([f"M = {self.batch}"] if self.batch is not None else []) + [f"epsilon = {self.epsilon:g}"]
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
    with np.errstate(invalid="ignore", over="ignore"):
        big = float(np.max(np.abs(n), initial=0.0))  # scaled, so that gradients of 1e200 do not overflow n . n
        a, n = (a / big, n / big) if big > 0 and np.isfinite(big) else (a, n)
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


def _rows(names, shapes, analytic, numeric, threshold, kinks=None):
    """One row per parameter. A row fails when its own difference is above the threshold AND its
    error matters at the scale of the whole gradient: on a handful of tiny entries rounding alone
    can give a row 2.5e-7 while its error is a millionth of the gradient's size.
    Norms are taken of arrays divided by their largest entry (as in relative_difference), so that
    gradients of 1e290 do not overflow the scale to infinity."""
    a_all = np.concatenate([np.ravel(analytic[k]) for k in names])
    n_all = np.concatenate([np.ravel(numeric[k]) for k in names])
    with np.errstate(invalid="ignore"):
        big = max(float(np.max(np.abs(a_all), initial=0.0)), float(np.max(np.abs(n_all), initial=0.0))) or 1.0
    scale = np.linalg.norm(a_all / big) + np.linalg.norm(n_all / big)
    rows = []
    for k in names:
        a, n = np.asarray(analytic[k], float), np.asarray(numeric[k], float)
        d = relative_difference(a, n)
        err = float(np.max(np.abs(a - n))) if a.size else 0.0
        matters = not np.isfinite(scale) or np.linalg.norm(np.ravel(a - n) / big) > threshold * scale
        note = _note(a, n) or ("rounding" if np.isfinite(d) and d >= threshold and not matters else "")
        rows.append(ParamRow(k, tuple(shapes[k]), int(a.size), d, err, ratio(a, n),
                             bool(np.isfinite(d) and (d < threshold or not matters)), note,
                             int(np.sum(np.isfinite(n))), int(np.sum(kinks[k])) if kinks is not None else 0))
    return rows


class _Counted:
    """The cost as the check calls it: counted, and read as one float. It also notes whether every
    value so far was exactly a float32 number: a float64 computation gives one by chance with odds
    of about 2^-29 (its last 29 bits all zero), so many of them mean a float32 cost behind a float()."""

    def __init__(self, cost):
        self.cost, self.calls, self.float32, self.wide = cost, 0, True, False

    def __call__(self, params):
        self.calls += 1
        value = self.cost(params)
        try:
            if value is None or isinstance(value, (str, bytes, bool, np.bool_, complex, np.complexfloating)):
                raise TypeError
            J = float(np.squeeze(np.asarray(value, dtype=float)))
        except (TypeError, ValueError):
            raise ValueError(_not_a_cost(value)) from None
        if self.float32 and np.isfinite(J):
            self.float32 = float(np.float32(J)) == J
            with np.errstate(over="ignore"):
                self.wide = self.wide or float(np.float16(J)) != J
        return J

    @property
    def in_float32(self):
        """Enough values, all of them float32 numbers, and not only short fractions (0.0, 0.75, an
        accuracy k/4), which are float32 numbers whatever computes them."""
        return self.float32 and self.calls >= 8 and self.wide


def _not_a_cost(value):
    if isinstance(value, tuple):
        return (f"cost must return one number, got a tuple of {len(value)}: return the cost alone "
                "(for a forward pass that returns (cost, cache): cost=lambda p: forward(p)[0])")
    if value is None:
        return "cost must return one number, got None (a forgotten return?)"
    return f"cost must return one real number, got {type(value).__name__} {np.shape(value)}"


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
                     desc="gradient check", record=None):
    """Central differences, one entry at a time (the algorithm as the course teaches it).

    entries: optional {key: list of index tuples}; default every entry of every parameter.
    progress: True/False, or None for a bar only when the loop will take more than about 2 s;
    desc names the bar. J0: cost(params), if known; with it the loop also counts kinks.
    record: a dict that receives {key: (J_plus values, J_minus values)}, entry by entry.
    Returns ({key: numeric values}, wrote_into_params: bool, kinks: int). With `entries` the
    values come as a 1-D array in entry order, without it shaped like the parameter.
    """
    keys = list(keys or params)
    todo = {k: (entries[k] if entries is not None else list(np.ndindex(np.shape(params[k])))) for k in keys}
    bar = Progress(sum(len(v) for v in todo.values()), desc, progress)
    numeric, wrote, kinks = {}, False, 0
    try:
        for key in keys:
            values, J_pluses, J_minuses = np.empty(len(todo[key])), np.empty(len(todo[key])), np.empty(len(todo[key]))
            for n, idx in enumerate(todo[key]):
                plus = copy_params(params)
                _nudge(plus, key, idx, epsilon)
                J_plus = cost(plus)
                minus = copy_params(params)
                _nudge(minus, key, idx, -epsilon)
                J_minus = cost(minus)
                values[n] = (J_plus - J_minus) / (2 * epsilon)
                J_pluses[n], J_minuses[n] = J_plus, J_minus
                wrote = wrote or np.shares_memory(plus[key], params[key])
                if J0 is not None and _straddles_kink(J_plus, J0, J_minus):
                    kinks += 1
                bar.step()
            numeric[key] = values if entries is not None else values.reshape(np.shape(params[key]))
            if record is not None:
                record[key] = (J_pluses, J_minuses)
    finally:
        bar.close()
    return numeric, wrote, kinks


def _nudge(params, key, idx, step):
    try:
        params[key][idx] += step
    except ValueError as e:  # numpy's bare "assignment destination is read-only"
        if "read-only" not in str(e):
            raise
        raise ValueError(f"{key} is read-only, and the check's perturbed copy shares its memory (a shallow copy, "
                         "such as dict.copy(): the shallow_copy bug), so theta + eps cannot be written: pass "
                         "writable copies, {k: v.copy() for k, v in params.items()}") from None


def _straddles_kink(J_plus, J0, J_minus):
    """Smooth cost: the two one-sided slopes differ by about eps * J'', a tiny fraction of the slope.
    Across a kink they differ by the kink's jump, a sizeable fraction. (Arrays of J's work too.)"""
    second = np.abs((J_plus - J0) - (J0 - J_minus))
    return (second > 1e-11 * max(1.0, abs(J0))) & (second > 1e-3 * np.abs(J_plus - J_minus))


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
    _check_arrays(params, analytic)
    check_epsilon(params, epsilon)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not 0 < threshold < 1e-2:
        raise ValueError(f"threshold must be a small positive number such as 2e-7, got {threshold!r}")
    keys = list(params)
    J = _Counted(cost)
    # Not copy_params: the snapshot that guards the caller must not be a function a bug can swap.
    snapshot = {key: np.array(value, copy=True) for key, value in params.items()}
    wrote, kinks, record, chosen = False, 0, {}, None
    try:
        # each on its own copy: a cost that writes into its arguments must not look random
        J0, J0_again = J(copy_params(params)), J(copy_params(params))
        repeatable = J0_again == J0 or (np.isnan(J0) and np.isnan(J0_again))
        nonfinite = [] if np.isfinite(J0) else [f"the cost (J = {J0})"]
        nonfinite += [grad_name(key) for key in keys if not np.all(np.isfinite(analytic[key]))]
        if numeric is not None:
            n_vals, a_vals = numeric, analytic
        elif method == "loop":
            n_vals, wrote, kinks = numeric_gradient(J, params, keys, epsilon=epsilon, progress=progress, J0=J0,
                                                    desc=desc, record=record)
            a_vals = analytic
        elif method == "sampled":
            chosen = sample_entries(rng, analytic, keys, k)
            n_vals, wrote, kinks = numeric_gradient(J, params, keys, chosen, epsilon, progress, J0, desc, record)
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
    with np.errstate(invalid="ignore"):
        kink = {key: np.ravel(_straddles_kink(J_plus, J0, J_minus)) if np.isfinite(J0) else np.zeros(len(J_plus), bool)
                for key, (J_plus, J_minus) in record.items()}
    rows = _rows(keys, shapes, a_vals, n_vals, threshold, kink if record else None)
    if np.isfinite(J0):  # finite at theta, but maybe not at every theta +- eps
        nonfinite += [f"the cost at theta +- eps for {row.checked - row.finite_numeric} of the {row.checked} "
                      f"entries of {row.name} checked" for row in rows if row.finite_numeric < row.checked]
    if method == "directional" and numeric is None:
        a_all, n_all = a_vals["(all)"], n_vals["(all)"]
    else:
        a_all, n_all = flatten(a_vals, keys), flatten(n_vals, keys)
    difference = relative_difference(a_all, n_all)
    in_float32 = numeric is None and J.in_float32
    noise, noisy = _noise(record, J0) if record and repeatable and not wrote else (None, False)
    if in_float32 or noisy or wrote or not repeatable:
        # then every entry looks like a kink (float32 rounding, a leaked +eps, fresh randomness): none is told
        kinks = 0
        for row in rows:
            row.kinks = 0
    report = CheckReport(
        method=method, epsilon=float(epsilon), threshold=threshold, difference=difference,
        passed=bool(np.isfinite(difference) and difference < threshold and not nonfinite and repeatable
                    and not in_float32 and not noisy),
        ratio=ratio(a_all, n_all), per_parameter=rows, params_unchanged=unchanged,
        params_written=bool(wrote), forward_passes=J.calls, batch=batch, kinks=kinks,
        cost_repeatable=bool(repeatable), nonfinite=nonfinite,
        entries=int(sum(np.size(params[key]) for key in keys)), cost_value=float(J0), cost_float32=in_float32,
        cost_noise=noise, cost_noisy=noisy,
        median_error=float(np.median(np.abs(a_all - n_all))) if a_all.size else 0.0)
    # kinks are rare where they are real; a check whose every entry looks like one (a leaked +eps makes
    # J(theta-eps) = J(theta)) is not failing at kinks
    if record and not report.passed and repeatable and not nonfinite and not in_float32 and not noisy and not wrote \
            and 0 < kinks <= report.checked / 2:
        report.kink_only, report.without_kinks = _kink_only(keys, a_vals, n_vals, record, kink, J0, epsilon, threshold)
    return report


def _noise(record, J0):
    """(noise, noisy?): the median |J(theta+eps) - 2 J + J(theta-eps)| over the entries, and whether it
    is far beyond float64's. For a smooth cost it is eps^2 J'', a few of J's last bits at eps = 1e-7
    (measured: 0 to 200 of them on 60 learner programs in float64); float32 arrays inside the cost
    make it about 1e8 of them, and a large fraction of J(theta+eps) - J(theta-eps) itself."""
    if not np.isfinite(J0):
        return None, False
    second = np.concatenate([np.abs(plus - 2 * J0 + minus) for plus, minus in record.values()])
    first = np.concatenate([np.abs(plus - minus) for plus, minus in record.values()])
    if not second.size or not np.all(np.isfinite(second)):
        return None, False
    noise = float(np.median(second))
    return noise, bool(noise > 1e5 * np.spacing(abs(J0)) and noise > 1e-2 * float(np.median(first)))


def _kink_only(keys, a_vals, n_vals, record, kink, J0, epsilon, threshold):
    """(does the check fail only at kink entries?, the difference over the other entries).

    At a kink the central difference averages the slopes on either side, while backprop takes
    one of them (ReLU'(0) is 0 by convention, or 1): a right backprop fails there. So: the
    entries without a kink must pass, and at each kink entry the analytic gradient must lie
    between the two one-sided slopes (J(theta+eps) - J)/eps and (J - J(theta-eps))/eps. A bug
    there (a factor m, a sign) puts it outside."""
    a = {key: np.ravel(a_vals[key]) for key in keys}
    n = {key: np.ravel(n_vals[key]) for key in keys}
    rest_a, rest_n = ({key: x[key][~kink[key]] for key in keys} for x in (a, n))
    without = relative_difference(flatten(rest_a, keys), flatten(rest_n, keys))
    rest_rows = _rows(keys, {key: rest_a[key].shape for key in keys}, rest_a, rest_n, threshold)
    on_a_slope = True
    for key in keys:
        J_plus, J_minus = (v[kink[key]] for v in record[key])
        right, left = (J_plus - J0) / epsilon, (J0 - J_minus) / epsilon
        # slack: a twentieth of the jump, and the one-sided slopes' own rounding (J's last bits over eps)
        slack = 0.05 * np.abs(right - left) + 100 * np.spacing(abs(J0)) / epsilon
        low, high = np.minimum(left, right) - slack, np.maximum(left, right) + slack
        on_a_slope = on_a_slope and bool(np.all((a[key][kink[key]] >= low) & (a[key][kink[key]] <= high)))
    return bool(without < threshold and all(row.passed for row in rest_rows) and on_a_slope), float(without)


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
