"""The gradient-check doctor: nnlib's check and diagnosis, on a learner's own code.

    report = nnlib.check(parameters, cost=J, gradients=grads)                 # any cost
    report = nnlib.check(parameters, forward_propagation=fwd, backward_propagation=bwd, X=X, Y=Y)
    verdict = nnlib.check_checker(my_gradient_check, parameters, cost=J, gradients=grads)
    print(nnlib.triangulate(parameters, forward_propagation=fwd, backward_propagation=bwd,
                            X=X, Y=Y, checker=my_gradient_check))

The learner's arrays are never changed: every check works on copies, compares the
originals bit for bit afterwards, and says so if anything tried to write into them.
"""

import contextlib
import copy
import io
import re
from dataclasses import dataclass, field

import numpy as np

from .checks import EPSILON, THRESHOLD, check_epsilon, check_gradients, numeric_gradient, relative_difference
from .diagnosis import diagnose, uniform_difference
from .threads import one_blas_thread

EXACT_EPSILON = 1e-6  # the doctor's own central differences: rounding ~1e-10, truncation ~1e-12


# -- the learner's names and shapes -----------------------------------------------------------

def match_gradients(parameters, gradients):
    """{parameter key: gradient key}, the way learners name them: dW1 or dw1 for W1, db1 for b1 or B1.
    Other entries of `gradients` (dZ1, dA1, ...) are ignored."""
    if not isinstance(parameters, dict) or not parameters:
        raise ValueError("parameters must be a non-empty dict of arrays, e.g. {'W1': ..., 'b1': ...}")
    if not isinstance(gradients, dict):
        raise ValueError(f"gradients must be a dict such as {{'dW1': ..., 'db1': ...}}, got {type(gradients).__name__}")
    by_lower = {}
    for g in gradients:
        by_lower.setdefault(str(g).lower(), []).append(g)
    matched, missing = {}, []
    for p in parameters:
        exact = "d" + str(p)
        if exact in gradients:
            matched[p] = exact
        elif len(by_lower.get(exact.lower(), [])) == 1:
            matched[p] = by_lower[exact.lower()][0]
        else:
            missing.append(p)
    if missing:
        raise ValueError(f"no gradient for parameter(s) {missing}: the parameters are {list(parameters)} "
                         f"and the gradients {list(gradients)}; name the gradient of W1 dW1 (or dw1), "
                         "of b1 db1")
    for p, g in matched.items():
        P, G = np.shape(parameters[p]), np.shape(gradients[g])
        if P != G:
            hint = " (transposed?)" if G == P[::-1] else ""
            raise ValueError(f"{g} has shape {G} but {p} has shape {P}{hint}: every gradient must have "
                             "the shape of its parameter")
    return matched


def _check_parameters(parameters):
    if not isinstance(parameters, dict) or not parameters:
        raise ValueError("parameters must be a non-empty dict of arrays, e.g. {'W1': ..., 'b1': ...}")
    for k, v in parameters.items():
        if not isinstance(v, np.ndarray):
            raise ValueError(f"parameter {k!r} is of type {type(v).__name__}, not a NumPy array: "
                             "use np.array(...) for every parameter")


def _call(fn, what, *args):
    """Call the learner's function; whatever it raises becomes one line that says where."""
    if not callable(fn):
        raise ValueError(f"{what} must be a function, got {type(fn).__name__}")
    try:
        return fn(*args)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit) as e:  # the learner's code can fail in any way: say which, in one line
        raise ValueError(f"your {what} raised {type(e).__name__}: {e}") from e


def _scalar_cost(value, what):
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        hint = " (a forgotten return?)" if value is None else ""
        raise ValueError(f"{what} must return a number, got {type(value).__name__}{hint}")
    x = np.asarray(value)
    if x.dtype.kind not in "fiu" or x.size != 1:
        raise ValueError(f"{what} must return one real number (the cost), got {x.dtype} of shape {x.shape}")
    if x.dtype.kind == "f" and x.dtype.itemsize < 8:
        raise ValueError(f"{what} returns {x.dtype}: a gradient check needs the cost in float64 (float32's "
                         "rounding alone fails the check). Compute it from float64 arrays.")
    return float(x.reshape(()))


def _forward(forward_propagation, X, Y, parameters):
    out = _call(forward_propagation, "forward_propagation", X, Y, parameters)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("forward_propagation(X, Y, parameters) must return (cost, cache), got "
                         f"{type(out).__name__}{'' if not isinstance(out, tuple) else f' of length {len(out)}'}")
    return _scalar_cost(out[0], "forward_propagation's cost"), out[1]


def _snapshot(obj):
    """A deep copy of a cache: nested tuples, lists and dicts of arrays."""
    return copy.deepcopy(obj)


def _changed_entries(before, after, parameters, name="cache"):
    """Names of the cache entries that differ between two snapshots (dict keys, tuple positions).
    An entry that is one of the learner's parameter arrays is named after the parameter."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [n for k in before if k in after
                for n in _changed_entries(before[k], after[k], parameters, str(k))]
    if isinstance(before, (tuple, list)) and isinstance(after, (tuple, list)) and len(before) == len(after):
        return [n for i, (b, a) in enumerate(zip(before, after, strict=True))
                for n in _changed_entries(b, a, parameters, f"{name}[{i}]")]
    if isinstance(before, np.ndarray):
        same = isinstance(after, np.ndarray) and before.shape == after.shape and \
            np.array_equal(before, after, equal_nan=True)
        if not same:
            owner = [k for k, v in parameters.items() if v is after]
            return [f"{name} (= {owner[0]})" if owner else name]
    return []


# -- check my backprop ------------------------------------------------------------------------

@one_blas_thread()
def check(parameters, cost=None, gradients=None, *, forward_propagation=None, backward_propagation=None,
          X=None, Y=None, method="loop", epsilon=EPSILON, threshold=THRESHOLD, k=25, rng=None, m=None,
          progress=None):
    """Check a learner's gradients against central differences of their cost; return a CheckReport.

    Either cost(params) -> float and gradients (a dict, or a callable params -> dict), or the
    course's shapes: forward_propagation(X, Y, parameters) -> (cost, cache) and
    backward_propagation(X, Y, cache) -> gradients. With the second form the doctor also sees
    a backward that writes into the cache (report.changed_cache_keys), even when the check passes.
    m: the number of examples (the columns of X by default), so that a uniform ratio of 1/m or m
    can be named. method: "loop" (every entry), "sampled" (k per parameter) or "directional".
    """
    case = _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m)
    return _check_case(case, method, epsilon, threshold, k, rng, progress)


def _check_case(case, method="loop", epsilon=EPSILON, threshold=THRESHOLD, k=25, rng=None, progress=None):
    if method == "sampled" and rng is None:
        rng = np.random.default_rng(0)
    report = check_gradients(case.cost, case.work, case.analytic, method=method, epsilon=epsilon,
                             threshold=threshold, k=k, rng=rng, batch=case.m, progress=progress)
    report.changed_cache_keys = case.changed_cache
    report.params_unchanged = report.params_unchanged and not case.wrote
    report.diagnosis = diagnose(report)
    return report


@dataclass
class _Case:
    cost: object            # params -> float, the learner's cost
    gradients: dict         # the learner's own gradient dict (keys and order as the learner wrote them)
    analytic: dict          # {parameter key: gradient array}
    work: dict              # a copy of the learner's parameters: nothing the doctor runs sees the originals
    changed_cache: list
    wrote: bool             # the learner's forward, backward or gradient function changed the parameters
    m: int = None


def _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m):
    """Both forms of the call, on copies of the learner's parameters (and X, Y)."""
    _check_parameters(parameters)
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
        raise ValueError(f"m must be the number of examples, a whole number >= 1, got {m!r}")
    work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    course_form = forward_propagation is not None or backward_propagation is not None
    if course_form:
        if cost is not None or gradients is not None:
            raise ValueError("give either cost= and gradients=, or forward_propagation= and "
                             "backward_propagation= (with X= and Y=), not both")
        if forward_propagation is None or backward_propagation is None or X is None or Y is None:
            raise ValueError("the course's form needs forward_propagation=, backward_propagation=, X= and Y=")
        for name, arr in (("X", X), ("Y", Y)):
            if not isinstance(arr, np.ndarray) or arr.size == 0:
                raise ValueError(f"{name} must be a non-empty NumPy array (examples in columns), got "
                                 f"{type(arr).__name__}{'' if not isinstance(arr, np.ndarray) else ' of size 0'}")
        X, Y = X.copy(), Y.copy()  # the learner's forward may write into them: never into the caller's
        if m is None and X.ndim == 2:
            m = int(X.shape[1])
        _, cache = _forward(forward_propagation, X, Y, work)
        before = _snapshot(cache)
        gradients = _call(backward_propagation, "backward_propagation", X, Y, cache)
        changed = _changed_entries(before, cache, work)

        def cost(params):
            return _forward(forward_propagation, X, Y, params)[0]
    else:
        if cost is None or gradients is None:
            raise ValueError("nnlib.check needs cost= (a function params -> float) and gradients= (a dict "
                             "such as {'dW1': ...}), or forward_propagation=, backward_propagation=, X=, Y=")
        if not callable(cost):
            raise ValueError(f"cost must be a function params -> float, got {type(cost).__name__}")
        if callable(gradients):
            gradients = _call(gradients, "gradients function", work)
        learner_cost, changed = cost, []

        def cost(params):
            return _scalar_cost(_call(learner_cost, "cost", params), "cost")
    wrote = not all(np.array_equal(work[k], parameters[k], equal_nan=True) for k in parameters) \
        or set(work) != set(parameters)
    if wrote:  # what the learner's code wrote into them must not be what the check starts from
        work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    matched = match_gradients(work, gradients)
    analytic = {}
    for p, g in matched.items():
        arr = np.asarray(gradients[g])
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"{g} must hold real numbers, got dtype {arr.dtype}")
        analytic[p] = arr.astype(float)
    return _Case(cost, gradients, analytic, work, changed, wrote, m)


# -- check my checker -------------------------------------------------------------------------

@dataclass
class CheckerReport:
    correct: bool
    on_exact: float                  # what the checker says for exact gradients
    answers: dict                    # variant -> the difference the checker reported
    numeric_ratio: float = None      # its numeric gradient / the true one, when one factor explains all
    wrote_into_parameters: bool = False
    one_sided: bool = False          # its answer is, to many digits, what (J(theta+eps) - J(theta)) / eps gives
    threshold: float = THRESHOLD
    diagnosis: list = field(default_factory=list)

    def __str__(self):
        lines = ["your gradient checker, fed gradients the doctor knows:"]
        expected = {"exact": "below 2e-07", "doubled": "0.3333333 (= 1/3)", "sign_flipped": "1.0000000"}
        for name, value in self.answers.items():
            want = expected.get(name, f"{value_expected(name):.7f}" if name.startswith("divided") else "")
            lines.append(f"  {name:<16} it says {_fmt(value):>11}   a correct checker says {want}")
        lines.append("verdict: " + ("your checker is right" if self.correct else "your checker is WRONG"))
        lines += [f"  - {d}" for d in self.diagnosis]
        return "\n".join(lines)


def value_expected(name):
    """The difference a correct checker reports for gradients divided by m (name 'divided_by_m=8')."""
    m = float(name.split("=")[1])
    return uniform_difference(1 / m)


def _fmt(x):
    return "None" if x is None else (f"{x:.7f}" if np.isfinite(x) and abs(x) >= 1e-4 else f"{x:.1e}")


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf", re.IGNORECASE)


def _read_difference(returned, printed):
    """The checker's difference: what it returned, or the number it printed (after 'difference')."""
    value = returned[0] if isinstance(returned, (tuple, list)) and returned else returned
    if isinstance(value, (bool, np.bool_, str, bytes)):
        value = None  # a verdict or a message, not the difference: read what it printed instead
    if value is not None:
        try:
            x = np.asarray(value, dtype=float)
            if x.size == 1:
                return float(x.reshape(()))
        except (TypeError, ValueError):
            pass
    text = re.sub(r"\x1b\[[0-9;]*m", "", printed)
    after = text.lower().rfind("difference")
    numbers = _NUMBER.findall(text[after:] if after >= 0 else text)
    if not numbers:
        raise ValueError(f"your checker returned {type(returned).__name__} and printed no number: return "
                         f"the difference itself (it printed {text.strip()[:80]!r})")
    return float(numbers[0] if after >= 0 else numbers[-1])


def _run_checker(checker, parameters, gradients, read_only=False):
    """Call checker(parameters, gradients) on copies; return (difference, wrote, changed)."""
    copies = {k: np.array(v, copy=True) for k, v in parameters.items()}
    for v in copies.values():
        v.flags.writeable = not read_only
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            returned = checker(copies, gradients)
    except ValueError as e:
        if read_only and "read-only" in str(e):
            return None, True, False
        raise ValueError(f"your checker raised ValueError: {e}") from e
    except (Exception, SystemExit) as e:  # a learner's checker can fail in any way; say which, in one line
        raise ValueError(f"your checker raised {type(e).__name__}: {e}") from e
    changed = not all(np.array_equal(copies[k], parameters[k]) for k in parameters)
    return _read_difference(returned, out.getvalue()), False, changed


@one_blas_thread()
def check_checker(checker, parameters, cost, gradients, m=None, progress=None):
    """Feed the learner's gradient-check function gradients the doctor knows, and read its answers.

    checker(parameters, gradients) -> difference (or prints 'difference = ...'), the way the course
    calls it once X and Y are bound. cost(params) -> float is the learner's cost, from which the
    doctor computes the exact gradient by its own careful central differences. gradients is the
    learner's own gradient dict: it tells the doctor the learner's key names (and key order).
    The variants: exact, doubled, sign-flipped and (with m) divided by m.
    """
    if not callable(checker):
        raise ValueError(f"checker must be your gradient-check function, got {type(checker).__name__}")
    if not callable(cost):
        raise ValueError(f"cost must be a function params -> float, got {type(cost).__name__}")
    _check_parameters(parameters)
    check_epsilon(parameters, EPSILON)
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
        raise ValueError(f"m must be the number of examples, a whole number >= 1, got {m!r}")
    work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    if callable(gradients):
        gradients = _call(gradients, "gradients function", work)
    matched = match_gradients(parameters, gradients)

    def J(params):
        return _scalar_cost(_call(cost, "cost", params), "cost")

    exact, _, _ = numeric_gradient(J, work, list(parameters), epsilon=EXACT_EPSILON, progress=progress)
    if not all(np.all(np.isfinite(v)) for v in exact.values()):
        raise ValueError("your cost gives NaN or infinity near these parameters, so the doctor cannot make "
                         "exact gradients to feed your checker: fix the cost first (nnlib.check says where)")

    def variant(factor):
        out = dict(gradients)  # the learner's keys, in the learner's order
        for p, g in matched.items():
            out[g] = exact[p] * factor
        return out

    factors = {"exact": 1.0, "doubled": 2.0, "sign_flipped": -1.0}
    if m and m > 1:
        factors[f"divided_by_m={m}"] = 1.0 / m
    answers, wrote, changed = {}, False, False
    on_exact, wrote, _ = _run_checker(checker, parameters, variant(1.0), read_only=True)
    for name, factor in factors.items():
        if name == "exact" and on_exact is not None:
            answers[name] = on_exact
            continue
        answers[name], _, ch = _run_checker(checker, parameters, variant(factor))
        changed = changed or ch
    wrote = wrote or changed
    report = CheckerReport(correct=False, on_exact=answers["exact"], answers=answers, wrote_into_parameters=wrote)
    report.numeric_ratio = _infer_ratio(answers, factors)
    if report.on_exact < 1e-2:
        central, one_sided = _formula_fingerprints(J, parameters, exact)
        report.one_sided = bool(abs(report.on_exact - one_sided) < 1e-6 * one_sided
                                and abs(report.on_exact - central) > 1e-3 * central)
    report.correct = bool(report.on_exact < THRESHOLD and abs(answers["doubled"] - 1 / 3) < 1e-3
                          and abs(answers["sign_flipped"] - 1) < 1e-3 and not wrote and not report.one_sided)
    report.diagnosis = _diagnose_checker(report, parameters, gradients, matched, exact, J)
    return report


def _infer_ratio(answers, factors):
    """c such that the checker's numeric gradient is c x the true one, if one c explains every answer."""
    d = answers["exact"]
    candidates = [1.0] if d < 1e-6 else [(1 - d) / (1 + d), (1 + d) / (1 - d) if d < 1 else np.inf, 0.0]
    for c in candidates:
        if not np.isfinite(c):
            continue
        predicted = {name: abs(f - c) / (abs(f) + abs(c)) if abs(f) + abs(c) > 0 else 0.0
                     for name, f in factors.items()}
        if all(abs(predicted[n] - answers[n]) < 1e-3 for n in factors):
            return float(c)
    return None


def _diagnose_checker(report, parameters, gradients, matched, exact, J):
    out, a = [], report.answers
    c = report.numeric_ratio
    if report.wrote_into_parameters:
        out.append("certain: your checker writes into the parameter arrays it is given (given read-only "
                   "copies, it failed at its first write): its perturbed 'copy' shares the arrays with the original "
                   "(dict.copy() or a plain assignment copies the dict, not the arrays). The doctor "
                   "gave it copies, so your own arrays were never touched.")
    if report.one_sided:
        out.append(f"certain: on exact gradients it says {_fmt(a['exact'])}, to many digits what the one-sided "
                   "difference (J(theta+eps) - J(theta)) / eps gives. Its error shrinks only like eps (the "
                   "central difference's like eps^2), so it can pass here and fail on another network: use "
                   "(J(theta+eps) - J(theta-eps)) / (2 eps).")
    if report.correct:
        out.append(f"certain: your checker is right: {_fmt(a['exact'])} on exact gradients, 1/3 on doubled "
                   "ones, 1 on sign-flipped ones.")
        return out
    if c is not None and abs(c - 0.5) < 1e-3:
        out.append(f"certain: on exact gradients your checker says {_fmt(a['exact'])} and on doubled ones "
                   f"{_fmt(a['doubled'])}: its numeric gradient is half the true one. Its +eps leaks into "
                   "the parameters, so J(theta-eps) is evaluated at theta: a shallow copy (dict.copy() "
                   "copies the dict, not its arrays), or an alias such as theta_plus = parameters_values "
                   "or thetaminus = thetaplus without np.copy.")
    elif c is not None and abs(c - 2.0) < 1e-3:
        out.append("certain: its numeric gradient is twice the true one: it divides J(theta+eps) - "
                   "J(theta-eps) by eps instead of 2 eps.")
    elif c is not None and abs(c) < 1e-6:
        out.append("certain: its numeric gradient is zero: J(theta+eps) = J(theta-eps), so the perturbed "
                   "parameters never reach the cost (it evaluates the original parameters, or the same copy twice).")
    elif c is not None and abs(c - 1.0) > 1e-3:
        out.append(f"certain: its numeric gradient is {c:.6f} x the true one (a constant factor in its formula).")
    elif c is None and _no_denominator(a, exact):
        out.append(f"certain: its answers grow with the size of the gradient (doubled: {_fmt(a['doubled'])} = "
                   f"||g||, sign-flipped: {_fmt(a['sign_flipped'])} = 2 ||g||): it reports ||grad - gradapprox|| "
                   "without dividing by ||grad|| + ||gradapprox||.")
    elif c is None:
        order = _sorted_order_difference(parameters, gradients, matched, exact)
        if order is not None and abs(order - a["exact"]) < 1e-3 * max(order, 1e-12):
            out.append(f"certain: on exact gradients it says {_fmt(a['exact'])}, exactly what comparing the "
                       "gradients flattened in sorted key order (dW1, dW2, ..., db1, ...) with the parameters "
                       "in their own order (W1, b1, W2, ...) gives: entries are compared with the wrong "
                       "partners. Flatten both in the same order.")
        else:
            said = ", ".join(f"{n} {_fmt(v)}" for n, v in a.items())
            out.append(f"likely: its answers fit no single factor ({said}): "
                       "it compares entries with the wrong partners, or uses other data (X, Y) than your cost, "
                       "or its numeric gradient is wrong entry by entry.")
    if a["exact"] < THRESHOLD and abs(a["doubled"] - 1 / 3) >= 1e-3:
        out.append(f"certain: it says {_fmt(a['doubled'])} for doubled gradients, where a correct checker says "
                   "1/3: it does not compare your gradients with the numeric ones (check what it reads from "
                   "the gradients dict: the keys it selects, the parameters' order).")
    return out


def _no_denominator(answers, exact):
    g = float(np.linalg.norm(np.concatenate([np.ravel(v) for v in exact.values()])))
    return bool(g > 0 and abs(answers["doubled"] - g) < 1e-3 * g and abs(answers["sign_flipped"] - 2 * g) < 2e-3 * g)


def _sorted_order_difference(parameters, gradients, matched, exact):
    keys = list(parameters)
    g_sorted = sorted(matched[p] for p in keys)
    g_in_param_order = [matched[p] for p in keys]
    if g_sorted == g_in_param_order:
        return None
    by_g = {matched[p]: exact[p] for p in keys}
    a = np.concatenate([np.ravel(by_g[g]) for g in g_sorted])
    n = np.concatenate([np.ravel(exact[p]) for p in keys])
    return relative_difference(a, n) if a.size == n.size else None


def _formula_fingerprints(J, parameters, exact):
    """What a central and a one-sided difference at eps = 1e-7 say on exact gradients, computed the
    way a learner's loop computes them. A learner's checker that uses either formula on the same cost
    evaluates the very same J values, so its answer matches one of these to many digits."""
    work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    J0, central, one_sided = J(work), [], []
    for key in work:
        for idx in np.ndindex(work[key].shape):
            old = work[key][idx]
            work[key][idx] = old + EPSILON
            J_plus = J(work)
            work[key][idx] = old - EPSILON
            J_minus = J(work)
            work[key][idx] = old
            central.append((J_plus - J_minus) / (2 * EPSILON))
            one_sided.append((J_plus - J0) / EPSILON)
    g = np.concatenate([np.ravel(exact[k]) for k in work])
    return relative_difference(g, np.array(central)), relative_difference(g, np.array(one_sided))


# -- both at once ---------------------------------------------------------------------------

@dataclass
class Triage:
    backprop: object           # CheckReport
    checker: object = None     # CheckerReport, or None when no checker was given
    on_your_gradients: float = None  # what the learner's checker says about the learner's gradients
    verdict: str = ""
    findings: list = field(default_factory=list)

    def to_dict(self):
        from .checks import _finite_or_none
        checker = None if self.checker is None else {
            k: getattr(self.checker, k) for k in self.checker.__dataclass_fields__}
        return _finite_or_none({"verdict": self.verdict, "findings": self.findings,
                                "on_your_gradients": self.on_your_gradients,
                                "backprop": self.backprop.to_dict(), "checker": checker})

    @property
    def found_a_bug(self):
        return self.verdict != "all good" or bool(self.backprop.changed_cache_keys)

    def __str__(self):
        lines = [f"verdict: {self.verdict}"] + [f"  - {f}" for f in self.findings]
        lines += ["", "backprop, checked by nnlib:", str(self.backprop)]
        if self.checker is not None:
            lines += ["", str(self.checker)]
        return "\n".join(lines)


@one_blas_thread()
def triangulate(parameters, cost=None, gradients=None, checker=None, *, forward_propagation=None,
                backward_propagation=None, X=None, Y=None, m=None, method="loop", progress=None):
    """Run nnlib's check on the learner's backprop and check the learner's checker; say where the bug is:
    in backprop, in the checker, in both, or nowhere."""
    case = _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m)
    backprop, changed = _check_case(case, method, progress=progress), case.changed_cache
    triage = Triage(backprop)
    verdict_bp = "right" if backprop.passed else "WRONG"
    triage.findings.append(f"backprop is {verdict_bp}: nnlib's check gives {_fmt(backprop.difference)} "
                           f"(threshold {backprop.threshold:g}).")
    if not backprop.passed:
        triage.findings += [d for d in backprop.diagnosis if "agrees" not in d][:3]
    if changed:
        triage.findings.append(f"backward writes into the cache ({', '.join(changed)}): "
                               + ("harmless here, since nothing reads it afterwards, but dangerous anywhere "
                                  "the cache is read again" if backprop.passed else
                                  "and a later step reads the damaged entry") + ".")
    if checker is not None and backprop.nonfinite:
        triage.findings.append("your checker was not judged: with a NaN or infinite cost the doctor cannot "
                               "make exact gradients to feed it. Fix the cost first.")
    elif checker is not None:
        triage.checker = check_checker(checker, case.work, case.cost, case.gradients, m=case.m, progress=progress)
        triage.on_your_gradients, _, _ = _run_checker(checker, case.work, case.gradients)
        triage.findings.append(f"your checker is {'right' if triage.checker.correct else 'WRONG'}: on exact "
                               f"gradients it says {_fmt(triage.checker.on_exact)}; on your gradients it says "
                               f"{_fmt(triage.on_your_gradients)}.")
        triage.findings += [d for d in triage.checker.diagnosis if not d.startswith("certain: your checker is right")]
    checker_ok = triage.checker is None or triage.checker.correct
    triage.verdict = {(True, True): "all good", (False, True): "bug in backprop",
                      (True, False): "bug in the checker", (False, False): "bugs in both"}[
        (backprop.passed, checker_ok)]
    if changed and triage.verdict == "all good":
        triage.verdict = "gradients right, but backward writes into its cache"
    return triage


# -- a learner's file, for `python -m nnlib check my_network.py` ------------------------------

COURSE_NAMES = {
    "forward": ("forward_propagation_n", "forward_propagation"),
    "backward": ("backward_propagation_n", "backward_propagation"),
    "checker": ("gradient_check_n", "gradient_check"),
    "data": ("gradient_check_n_test_case", "gradient_check_test_case", "test_case"),
}


def load_learner_file(path, forward=None, backward=None, checker=None, data=None):
    """Import a learner's .py file and find its functions by the course's names (or the names given).

    Returns keyword arguments for triangulate(). Raises ValueError with one line on anything
    unusable: a missing file or function, an import error, a data function that does not return
    (X, Y, parameters).
    """
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise ValueError(f"{path}: no such Python file")
    spec = importlib.util.spec_from_file_location(f"learner_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # the learner's own helper modules, next to it
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # whatever the learner's file raises on import, in one line
        raise ValueError(f"could not import {path.name}: {type(e).__name__}: {e}") from e
    finally:
        sys.path.remove(str(path.resolve().parent))
    given = {"forward": forward, "backward": backward, "checker": checker, "data": data}
    found = {}
    for role, names in COURSE_NAMES.items():
        candidates = [given[role]] if given[role] else list(names)
        hit = next((n for n in candidates if callable(getattr(module, n, None))), None)
        if hit is None and role != "checker":
            raise ValueError(f"{path.name} has no function {' or '.join(candidates)} (name it with "
                             f"--{role} NAME)")
        found[role] = getattr(module, hit) if hit else None
    with contextlib.redirect_stdout(io.StringIO()):
        data = _call(found["data"], f"{found['data'].__name__}()")
    if not (isinstance(data, tuple) and len(data) == 3):
        raise ValueError(f"{found['data'].__name__}() must return (X, Y, parameters), got {type(data).__name__}")
    X, Y, parameters = data
    if not isinstance(parameters, dict):
        raise ValueError(f"{found['data'].__name__}() must return (X, Y, parameters) with parameters a dict, "
                         f"got {type(parameters).__name__}")
    kwargs = dict(parameters=parameters, forward_propagation=found["forward"],
                  backward_propagation=found["backward"], X=X, Y=Y)
    if found["checker"] is not None:
        learner_checker = found["checker"]
        kwargs["checker"] = lambda p, g: learner_checker(p, g, X, Y)
    return kwargs
