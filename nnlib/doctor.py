"""The gradient-check doctor: nnlib's check and diagnosis, on a learner's own code.

    report = nnlib.check(parameters, cost=J, gradients=grads)                 # any cost
    report = nnlib.check(parameters, forward_propagation=fwd, backward_propagation=bwd, X=X, Y=Y)
    verdict = nnlib.check_checker(my_gradient_check, parameters, cost=J, gradients=grads)
    print(nnlib.triangulate(parameters, forward_propagation=fwd, backward_propagation=bwd,
                            X=X, Y=Y, checker=my_gradient_check))

The doctor measures; learner.py reads the learner's code, formulas.py knows what checkers
compute, diagnosis.py judges. The learner's arrays are never changed: every check works on
copies, compares the originals bit for bit afterwards, and says so if anything tried to
write into them.
"""

import contextlib
import copy
import io
import signal
import time
from dataclasses import dataclass, field

import numpy as np

from . import formulas
from .checks import (
    EPSILON,
    THRESHOLD,
    Progress,
    _finite_or_none,
    check_epsilon,
    check_gradients,
    format_difference,
    numeric_gradient,
)
from .diagnosis import diagnose, judge_checker
from .learner import COURSE_NAMES, call, examples_in, load_file, match_gradients, read_answer, scalar_cost, where
from .threads import one_blas_thread

__all__ = ["check", "check_checker", "triangulate", "CheckerReport", "Triage", "COURSE_NAMES", "load_file",
           "match_gradients"]

EXACT_EPSILON = 1e-6     # the doctor's own central differences: rounding ~1e-10, truncation ~1e-12
LOOP_ENTRIES = 20_000    # method="auto": every entry of a network this size or smaller (784-10-10 has 7,960)
SLOW_SECONDS = 60.0      # ... unless its loop would take longer than this: then a sample, and the report says so
CHECKER_SECONDS = 60.0   # triangulate judges a checker when that takes at most this long (estimated)


class _Cost:
    """The learner's cost as the check calls it. Its first calls get copies of all they are given
    and are watched: a cost that writes into its arguments is seen (and from then on always gets
    copies) instead of looking random. Also times a call, for method="auto"."""
    WATCHED = 4

    def __init__(self, fn, **extra):
        self.fn, self.extra = fn, extra  # extra: X and Y, in the course's form
        self.calls, self.wrote, self.seconds = 0, [], float("inf")

    def __call__(self, params):
        self.calls += 1
        watch = self.calls <= self.WATCHED or bool(self.wrote)
        given = {k: np.array(v, copy=True) for k, v in params.items()} if watch else params
        extra = {k: v.copy(order="K") for k, v in self.extra.items()} if watch else self.extra
        start = time.perf_counter()
        value = self.fn(given, **extra)
        self.seconds = min(self.seconds, time.perf_counter() - start)
        if watch:
            for name, (before, after) in [*((k, (params[k], given[k])) for k in params),
                                          *((k, (self.extra[k], extra[k])) for k in self.extra)]:
                if name not in self.wrote and not (np.shape(before) == np.shape(after)
                                                   and np.array_equal(before, after, equal_nan=True)):
                    self.wrote.append(name)
        return value


def _forward(forward_propagation, X, Y, parameters):
    out = call(forward_propagation, "forward_propagation", X, Y, parameters)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("forward_propagation(X, Y, parameters) must return (cost, cache), got "
                         f"{type(out).__name__}{'' if not isinstance(out, tuple) else f' of length {len(out)}'}")
    return scalar_cost(out[0], "forward_propagation's cost"), out[1]


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


def _check_parameters(parameters):
    if not isinstance(parameters, dict) or not parameters:
        raise ValueError("parameters must be a non-empty dict of arrays, e.g. {'W1': ..., 'b1': ...}")
    for k, v in parameters.items():
        if not isinstance(v, np.ndarray):
            raise ValueError(f"parameter {k!r} is of type {type(v).__name__}, not a NumPy array: "
                             "use np.array(...) for every parameter")


# -- check my backprop ------------------------------------------------------------------------

@one_blas_thread()
def check(parameters, cost=None, gradients=None, *, forward_propagation=None, backward_propagation=None,
          X=None, Y=None, method="auto", epsilon=EPSILON, threshold=THRESHOLD, k=25, rng=None, m=None,
          layout=None, progress=None):
    """Check a learner's gradients against central differences of their cost; return a CheckReport.

    Either cost(params) -> float and gradients (a dict, or a callable params -> dict), or the
    course's shapes: forward_propagation(X, Y, parameters) -> (cost, cache) and
    backward_propagation(X, Y, cache) -> gradients. With the second form the doctor also sees
    a backward that writes into the cache (report.changed_cache_keys), even when the check passes.
    m: the number of examples, so that a uniform ratio of 1/m or m can be named. By default it is
    read from X (also accepted with cost=): its columns or its rows, whichever the first weight
    matrix's shape allows (layout="columns" or "rows" decides when both do).
    method: "auto" (every entry when that takes at most a few seconds, else a sample), "loop"
    (every entry), "sampled" (k per parameter) or "directional".
    """
    _refuse_lab_bugs()
    case = _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m, layout)
    return _check_case(case, method, epsilon, threshold, k, rng, progress)


def _refuse_lab_bugs():
    """The doctor measures with nnlib's own functions (copy_params, ...): with a bug of the lab switched
    on they would carry it, and its verdicts would be about the lab's bug, not the learner's code."""
    from . import bugs

    on = bugs.on_here()
    if on:
        raise ValueError(f"the bug lab has {', '.join(on)} switched on here, and the doctor's own check would "
                         "carry it: call the doctor outside `with nnlib.bugs.enabled(...)`")


def _auto_method(case, k):
    """(method, why, estimated seconds of the loop) for method="auto". The choice goes by the number
    of entries, the same on every machine and under any load; the clock decides only for a cost so
    slow that the loop would take minutes (far from any ordinary case, so timing noise cannot flip it)."""
    case.cost(case.work)  # one timed call
    seconds = 2 * case.entries * case.cost.seconds
    loop = f"method auto: the loop over every entry ({case.entries:,}; up to {LOOP_ENTRIES:,} are checked one by one)"
    if all(v.size <= k for v in case.work.values()):  # then a sample is the loop
        return "loop", loop, seconds
    if case.entries > LOOP_ENTRIES:
        return "sampled", (f"sampled, not every entry: {case.entries:,} entries, more than the {LOOP_ENTRIES:,} "
                           f"checked one by one by default; the loop would take about {_duration(seconds)} here "
                           "(method='loop' to run it anyway)"), seconds
    if seconds > SLOW_SECONDS:
        return "sampled", (f"sampled, not every entry: your cost takes {case.cost.seconds:.2g} s a call, so the loop "
                           f"over all {case.entries:,} entries would take about {_duration(seconds)} here "
                           "(method='loop' to run it anyway)"), seconds
    return "loop", loop, seconds


def _check_case(case, method="auto", epsilon=EPSILON, threshold=THRESHOLD, k=25, rng=None, progress=None):
    notes = [case.layout] if case.layout else []
    if method == "auto":
        method, why, seconds = _auto_method(case, k)
        if progress is None and seconds > 2:
            progress = True  # the estimate is known now: the bar from the first entry on, not after a few
        notes.append(why)
    start = copy.deepcopy(rng) if rng is not None else np.random.default_rng(0)

    def run(eps):  # the same entries at any epsilon: each run draws from the same generator state
        return check_gradients(case.cost, case.work, case.analytic, method=method, epsilon=eps, threshold=threshold,
                               k=k, rng=copy.deepcopy(start), batch=case.m, progress=progress,
                               desc="nnlib's check of your backprop")

    report = run(epsilon)
    if _epsilon_suspect(report) and not 1e-9 <= epsilon <= 1e-5:
        # the same entries at the course's epsilon: if the failure shrinks there, it was epsilon's;
        # if not, the course's epsilon shows the bug without the rounding (or truncation) on top
        again = run(EPSILON)
        look = {"epsilon": EPSILON, "difference": again.difference, "passed": again.passed}
        if again.passed or again.difference < report.difference / 10:
            report.second_look = look
        else:
            notes.append(f"epsilon = {EPSILON:g}, the course's: at the given {epsilon:g} the difference was "
                         f"{format_difference(report.difference)}, with {_epsilon_error(report)} on top of what is "
                         "shown here")
            again.second_look = {"epsilon": epsilon, "difference": report.difference, "passed": report.passed}
            report = again
    elif _rounding_suspect(report) and epsilon == EPSILON:
        # A bug gives the same difference at any epsilon; rounding of J shrinks as epsilon grows (a
        # kink grows). A cost of 1e3 loses ~1e-13 to rounding, 1e-6 of a gradient at eps = 1e-7.
        again = run(ROUNDING_EPSILON)
        if again.passed and again.difference < report.difference / 10:
            notes.append(f"epsilon = {ROUNDING_EPSILON:g}: at the course's {epsilon:g} the difference was "
                         f"{report.difference:.2g}, above the threshold by rounding alone (J = "
                         f"{report.cost_value:.3g}, whose last digits move each numeric entry by about "
                         f"{_rounding(report):.0e})")
            report = again
    report.changed_cache_keys, report.backward_writes = case.changed_cache, list(case.backward_writes)
    report.params_unchanged = report.params_unchanged and not case.wrote
    if case.m == 1 and report.passed:
        notes.append(ONE_EXAMPLE)
    report.notes, report.cost_writes = notes, list(case.cost.wrote)
    report.diagnosis = diagnose(report)
    return report


# A pass on one example cannot see a misplaced 1/m: 1/m = m = 1 there.
ONE_EXAMPLE = ("m = 1: a 1/m applied twice or left out changes nothing on one example (1/m = 1), so this pass "
               "cannot rule it out; check on m >= 2 examples too")


ROUNDING_EPSILON = 1e-5  # a second look at a small failure: rounding error ~ 1/eps, truncation ~ eps^2


def _rounding(report):
    """About how far rounding J to float64 moves a numeric entry: J's last bit, over 2 eps."""
    return float(np.spacing(abs(report.cost_value))) / (2 * report.epsilon)


def _epsilon_error(report):
    """What epsilon alone does to a numeric entry: its rounding limit, or (large eps) the median error."""
    if report.epsilon < EPSILON:
        return f"rounding of J moving each numeric entry by {report.rounding_limit:.1e} (spacing(J)/(2 eps)) or more"
    return f"truncation error (eps^2) of {report.median_error:.1e} per numeric entry (the median)"


def _epsilon_suspect(report):
    """A failure that an epsilon far from the course's may have made (rounding or truncation)."""
    return (not report.passed and report.cost_repeatable and not report.nonfinite and not report.params_written
            and not report.cost_float32 and not report.cost_noisy and not report.kink_only)


def _rounding_suspect(report):
    """A failure small enough that rounding of J may be all of it: never a clean factor or a NaN."""
    return (not report.passed and report.cost_repeatable and not report.nonfinite and not report.params_written
            and np.isfinite(report.difference) and report.difference < 1e-4)


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass
class _Case:
    cost: _Cost             # params -> float, the learner's cost
    gradients: dict         # the learner's own gradient dict (keys and order as the learner wrote them)
    analytic: dict          # {parameter key: gradient array}
    work: dict              # a copy of the learner's parameters: nothing the doctor runs sees the originals
    changed_cache: list
    wrote: bool             # the learner's forward, backward or gradient function changed the parameters
    m: int = None
    layout: str = ""
    backward_writes: list = field(default_factory=list)  # X or Y, which backward wrote into (it got copies)

    @property
    def entries(self):
        return int(sum(v.size for v in self.work.values()))


def _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m, layout=None):
    """Both forms of the call, on copies of the learner's parameters (and X, Y)."""
    _check_parameters(parameters)
    check_epsilon(parameters, EPSILON)  # float64 parameters, said before any of the learner's code runs
    work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    m, how = examples_in(X, parameters, m, layout)
    course_form = forward_propagation is not None or backward_propagation is not None
    if course_form:
        if cost is not None or gradients is not None:
            raise ValueError("give either cost= and gradients=, or forward_propagation= and "
                             "backward_propagation= (with X= and Y=), not both")
        if forward_propagation is None or backward_propagation is None or X is None or Y is None:
            raise ValueError("the course's form needs forward_propagation=, backward_propagation=, X= and Y=")
        for name, arr in (("X", X), ("Y", Y)):
            if not isinstance(arr, np.ndarray) or arr.size == 0:
                raise ValueError(f"{name} must be a non-empty NumPy array, got "
                                 f"{type(arr).__name__}{'' if not isinstance(arr, np.ndarray) else ' of size 0'}")
        # copies (the learner's forward may write into them), in the caller's memory layout: a Fortran-
        # ordered X multiplies in another order than its C copy, and the last digits of J would differ
        # from what the learner's own checker computes
        Xc, Yc = X.copy(order="K"), Y.copy(order="K")
        try:
            _, cache = _forward(forward_propagation, Xc, Yc, work)
        except ValueError as e:
            raise ValueError(f"{e}{'' if 'X.T' in str(e) else _transposed_hint(X, parameters)}") from e
        before, data = _snapshot(cache), {"X": Xc.copy(), "Y": Yc.copy()}
        gradients = call(backward_propagation, "backward_propagation", Xc, Yc, cache)
        changed = _changed_entries(before, cache, work)
        backward_writes = [name for name, arr in (("X", Xc), ("Y", Yc))
                           if not np.array_equal(data[name], arr, equal_nan=True)]
        J = _Cost(lambda p, X, Y: _forward(forward_propagation, X, Y, p)[0], X=X.copy(order="K"),
                  Y=Y.copy(order="K"))
    else:
        if cost is None or gradients is None:
            raise ValueError("nnlib.check needs cost= (a function params -> float) and gradients= (a dict "
                             "such as {'dW1': ...}), or forward_propagation=, backward_propagation=, X=, Y=")
        if not callable(cost):
            raise ValueError(f"cost must be a function params -> float, got {type(cost).__name__}")
        if callable(gradients):
            gradients = call(gradients, "gradients function", work)
        changed, backward_writes = [], []
        J = _Cost(lambda p: scalar_cost(call(cost, "cost", p), "cost"))
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
    return _Case(J, gradients, analytic, work, changed, wrote, m, how, backward_writes)


def _transposed_hint(X, parameters):
    """" (did you pass X.T? ...)" when X fits the first weight matrix in neither layout and X.T does."""
    weights = [v for k, v in parameters.items() if np.ndim(v) == 2 and str(k).lower().startswith("w")]
    if not weights or np.ndim(X) != 2:
        return ""
    (rows, cols), (n_out, n_in) = np.shape(X), np.shape(weights[0])
    fits, fits_transposed = rows == n_in or cols == n_out, cols == n_in or rows == n_out
    return (f" (X is {np.shape(X)} and the first weight matrix {np.shape(weights[0])}: they fit only as X.T. Did you "
            "pass X.T? The course puts examples in columns, X (n_x, m))") if fits_transposed and not fits else ""


def _snapshot(obj):
    """A deep copy of a cache: nested tuples, lists and dicts of arrays."""
    return copy.deepcopy(obj)


# -- check my checker -------------------------------------------------------------------------

ALONE = 12  # at most this many parameters get a run of their own, each gradient doubled alone


@dataclass
class CheckerReport:
    correct: object                  # True, False, or None: it could not be judged
    on_exact: float                  # what the checker says for exact gradients
    answers: dict                    # variant -> the difference (or True/False) the checker reported
    numeric_ratio: float = None      # its numeric gradient / the true one, when one factor explains all
    wrote_into_parameters: bool = False  # it writes into the arrays it is given (no bug if it undoes it)
    one_sided: bool = False          # its answers are, to many digits, those of a one-sided difference
    threshold: float = THRESHOLD
    diagnosis: list = field(default_factory=list)
    read_as: str = ""                # where its answer came from: "returned", "printed", ...
    left_changed: dict = field(default_factory=dict)  # array -> how far it moved (of its largest entry), after
    blind_to: list = field(default_factory=list)      # parameters whose gradient, doubled alone, it did not notice
    fits: list = field(default_factory=list)          # formulas.Fit: every formula its answers match
    expected: dict = field(default_factory=dict)      # variant -> what a correct checker says
    central_exact: float = 0.0       # what central differences at eps = 1e-7 say on exact gradients
    on_yours: float = None           # what it says about the learner's own gradients
    right_predictions: dict = field(default_factory=dict)  # right formula -> variant -> what it says
    yours_failed: str = ""           # nnlib's check of the learner's gradients, when it clearly failed
    untested: list = field(default_factory=list)      # parameters whose gradient was not doubled alone
    alone: dict = field(default_factory=dict)         # parameter -> its variant, its gradient doubled alone
    random: tuple = ()               # two different answers it gave for the same exact gradients
    sure: bool = True                # False: its verdict is "likely", not "certain"

    def __str__(self):
        how = f" (read from what it {self.read_as})" if self.read_as else ""
        lines = [f"your gradient checker, fed gradients the doctor knows{how}:"]
        for name, value in self.answers.items():
            want, ok = self._expected(name, value)
            lines.append(f"  {name:<18} it says {_fmt(value):>11}   a correct checker says {want:<20} "
                         + ("ok" if ok else "WRONG"))
        lines.append("  (ok: what a correct checker says, to 3 decimals; later digits are rounding)")
        lines.append(f"verdict: your checker {self.state}")
        lines += [f"  - {d}" for d in self.diagnosis]
        return "\n".join(lines)

    @property
    def state(self):
        return {True: "is right" if self.sure else "is likely right", False: "is WRONG",
                None: "could not be judged"}[self.correct]

    def _expected(self, name, value):
        if isinstance(value, (bool, np.bool_)):
            return str(name == "exact"), bool(value) == (name == "exact")
        if name == "exact":  # at most 3 x what central differences give here, or below the threshold
            limit = max(self.threshold, 3 * self.central_exact)
            want = f"below {self.threshold:g}" if limit == self.threshold else f"about {_fmt(self.central_exact)} here"
            return want, bool(value < limit)
        want = self.expected.get(name, float("nan"))
        m = float(name.split("=")[1]) if name.startswith("divided") else None
        label = ""
        if abs(want - 1 / 3) < 1e-3:
            label = " (1/3)"
        elif m and abs(want - (m - 1) / (m + 1)) < 1e-3:
            label = " ((m-1)/(m+1))"
        return f"{want:.3f}{label}", bool(np.isfinite(value) and abs(value - want) < 1e-3 * max(1.0, want))

    def to_dict(self):
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("fits", "right_predictions")}
        out["diagnosis"] = [str(d) for d in self.diagnosis]
        out["fits"] = [{"numeric": f.numeric, "formula": f.formula, "step": f.step, "c": f.c, "pairing": f.pairing}
                       for f in self.fits]
        return _finite_or_none(out)


def _fmt(x):
    if x is None or isinstance(x, (bool, np.bool_)):
        return str(x)
    return f"{x:.7f}" if np.isfinite(x) and abs(x) >= 1e-4 else f"{x:.1e}"


def _call_checker(checker, *args):
    """call(), except that a KeyboardInterrupt the checker raises itself is its error, like any
    other: only a Ctrl-C (SIGINT) that arrives while it runs stops the doctor."""
    pressed = []
    try:
        previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum, frame):
            pressed.append(signum)
            if callable(previous):
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not Python's main thread: no handler can be set, and every KeyboardInterrupt stops
        previous = None
    try:
        return call(checker, "checker", *args)
    except KeyboardInterrupt as e:
        if pressed or previous is None:
            raise
        raise ValueError(f"your checker raised KeyboardInterrupt{where(e)} itself, with no Ctrl-C: raise an "
                         "error that says what went wrong, or return the difference") from e
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _moved(before, after):
    """How far an array moved: its largest change over its largest entry (inf: a new shape, or an
    array of zeros that changed)."""
    if np.shape(before) != np.shape(after):
        return float("inf")
    with np.errstate(all="ignore"):
        change = float(np.max(np.abs(np.asarray(after, dtype=float) - before), initial=0.0))
        scale = float(np.max(np.abs(before), initial=0.0))
    return change / scale if scale > 0 else (0.0 if change == 0 else float("inf"))


def _run_checker(checker, parameters, gradients, names=(), read_only=False):
    """Call checker(parameters, gradients) on copies of both; return (answer, how, wrote, {changed key:
    how far}). The gradients are copied too: a checker that writes into them (g["dW1"] *= 0) must change
    neither the caller's arrays nor the next call's."""
    copies = {k: np.array(v, copy=True) for k, v in parameters.items()}
    gradients = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in gradients.items()}
    for v in copies.values():
        v.flags.writeable = not read_only
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            returned = _call_checker(checker, copies, gradients)
    except ValueError as e:
        if read_only and "read-only" in str(e):
            return None, "", True, {}
        raise
    changed = {k: _moved(parameters[k], copies[k]) for k in parameters
               if not np.array_equal(copies[k], parameters[k], equal_nan=True)}
    answer, how = read_answer(returned, out.getvalue(), names)
    return answer, how, False, changed


@one_blas_thread()
def check_checker(checker, parameters, cost, gradients, m=None, progress=None, exact=None, backprop=None):
    """Feed the learner's gradient-check function gradients the doctor knows, and read its answers.

    checker(parameters, gradients) -> difference (returned, printed, or True/False), the way the
    course calls it once X and Y are bound. cost(params) -> float is the learner's cost, from
    which the doctor computes the exact gradient by its own careful central differences, and the
    cost at every point a checker's loop evaluates (formulas.py). gradients is the learner's own
    gradient dict: it gives the key names (and key order), and the checker's answer on it is
    reported too (report.on_yours). The variants: exact, doubled, sign-flipped, divided by m,
    and each parameter's gradient doubled alone (at most ALONE of them, the largest). exact: the
    true gradient {parameter: array}, when known (triangulate passes the learner's own once
    nnlib's check of every entry agrees with it). backprop: nnlib's CheckReport of the learner's
    gradients, if any: a checker that passes gradients it clearly fails is wrong.
    """
    _refuse_lab_bugs()
    if not callable(checker):
        raise ValueError(f"checker must be your gradient-check function, got {type(checker).__name__}")
    if not callable(cost):
        raise ValueError(f"cost must be a function params -> float, got {type(cost).__name__}")
    _check_parameters(parameters)
    check_epsilon(parameters, EPSILON)
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
        raise ValueError(f"m must be the number of examples, a whole number >= 1, got {m!r}")
    J = cost if isinstance(cost, _Cost) else _Cost(lambda p: scalar_cost(call(cost, "cost", p), "cost"))
    work = {k: np.array(v, copy=True) for k, v in parameters.items()}
    if callable(gradients):
        gradients = call(gradients, "gradients function", work)
    matched = match_gradients(parameters, gradients)
    if J(work) != J(work):
        raise ValueError("your cost gave two different values for the same parameters (something random in it, "
                         "or NaN): the doctor cannot make exact gradients to feed your checker. Freeze it first.")
    keys = list(parameters)
    if exact is None:
        exact, _, _ = numeric_gradient(J, work, keys, epsilon=EXACT_EPSILON, progress=progress,
                                       desc="exact gradients for your checker")
    elif not (isinstance(exact, dict) and set(exact) == set(keys)
              and all(np.shape(exact[k]) == np.shape(work[k]) for k in keys)):
        raise ValueError("exact must be the exact gradient as a dict keyed like the parameters "
                         f"({', '.join(map(str, keys))}), each shaped like its parameter; or leave it out and "
                         "the doctor computes it")
    if not all(np.all(np.isfinite(v)) for v in exact.values()):
        raise ValueError("your cost gives NaN or infinity near these parameters, so the doctor cannot make "
                         "exact gradients to feed your checker: fix the cost first (nnlib.check says where)")

    factors = {"exact": 1.0, "doubled": 2.0, "sign_flipped": -1.0}
    if m and m > 1:
        factors[f"divided_by_m={m}"] = 1.0 / m
    scale = {name: {p: f for p in keys} for name, f in factors.items()}
    alone, untested = _alone(exact, keys)
    for p in alone:  # a checker that never looks at p answers here as on exact gradients
        scale[f"only_{matched[p]}_doubled"] = {q: 2.0 if q == p else 1.0 for q in keys}

    def handed(name):
        out = dict(gradients)  # the learner's keys, in the learner's order
        for p, g in matched.items():
            out[g] = exact[p] * scale[name][p]
        return out

    names = [str(k) for k in keys] + [str(g) for g in matched.values()]
    bar = Progress(len(scale) + 2, "running your checker", progress, unit="call")
    try:
        answers, changed, how = {}, {}, ""
        first, first_how, wrote, _ = _run_checker(checker, parameters, handed("exact"), names, read_only=True)
        for name in scale:
            if name == "exact" and not wrote:
                answers[name], how = first, first_how
            else:
                answers[name], how, _, ch = _run_checker(checker, parameters, handed(name), names)
                changed = {k: max(v, changed.get(k, 0.0)) for k, v in {**changed, **ch}.items()}
            bar.step()
        on_yours, _, _, _ = _run_checker(checker, parameters, gradients, names)
        bar.step()
        # a random checker answers the same gradients differently: yours, when they are the exact ones
        yours_exact = all(np.array_equal(np.asarray(gradients[g], dtype=float), exact[p]) for p, g in matched.items())
        again = on_yours if yours_exact else _run_checker(checker, parameters, handed("exact"), names)[0]
        bar.step()
    finally:
        bar.close()
    kinds = {isinstance(v, bool) for v in answers.values()}
    if len(kinds) > 1:
        raise ValueError(f"your checker answered some calls with a number and others with True/False ({answers}): "
                         "return the difference every time")
    variants = {name: [np.ravel(exact[p] * scale[name][p]) for p in keys] for name in scale}
    report = CheckerReport(correct=False, on_exact=answers["exact"], answers=answers, wrote_into_parameters=wrote,
                           read_as=how, left_changed=changed, on_yours=on_yours,
                           untested=[str(p) for p in untested], yours_failed=_clearly_failed(backprop),
                           alone={str(p): f"only_{matched[p]}_doubled" for p in alone})
    if not (again == answers["exact"] or (again != again and answers["exact"] != answers["exact"])):
        report.random = (answers["exact"], again)  # the same gradients, another answer
    if kinds == {False}:
        _read_fits(report, J, work, keys, variants, exact, matched, progress)
    report.correct, report.diagnosis = judge_checker(report)
    report.sure = report.correct is not True or any(
        s.sure == "certain" and s.claim and s.claim[0] == "checker right" for s in report.diagnosis)
    return report


def _alone(exact, keys):
    """(parameters whose gradient is doubled alone, the others): each parameter whose gradient is
    large enough for the course's difference to notice it doubled (1e-4 of the whole), the
    largest ALONE of them."""
    norms = {p: float(np.linalg.norm(exact[p])) for p in keys}
    total = float(np.linalg.norm(list(norms.values())))
    visible = sorted((p for p in keys if norms[p] > 1e-4 * total), key=norms.get, reverse=True)[:ALONE]
    return [p for p in keys if p in visible], [p for p in keys if p not in visible]


def _clearly_failed(backprop):
    """What nnlib's check says of the learner's gradients, when it fails them beyond doubt (no
    kink, 100 times the threshold); else ''."""
    if backprop is None or backprop.passed or backprop.kinks or not np.isfinite(backprop.difference) \
            or backprop.difference < 100 * backprop.threshold:
        return ""
    failing = [row.name for row in backprop.per_parameter if not row.passed]
    return f"difference {_fmt(backprop.difference)}, failing: {', '.join(map(str, failing))}"


def _read_fits(report, J, work, keys, variants, exact, matched, progress):
    """Which parameters the checker never looks at, which formulas explain its answers on the
    others, and what a correct checker says for each variant."""
    g = [np.ravel(exact[p]) for p in keys]
    prints = formulas.fingerprints(J, work, keys, formulas.STEPS[0], progress=progress)  # the course's loop
    central = prints[("central", formulas.STEPS[0])]
    report.right_predictions = {name: formulas.predict(name, variants, central)
                                for name, (_, right) in formulas.FORMULAS.items() if right}
    report.blind_to = _blind(report.answers, report.right_predictions, keys, matched)
    seen = [i for i, p in enumerate(keys) if str(p) not in report.blind_to]

    def part(arrays):
        return [arrays[i] for i in seen]
    looked = {name: part(v) for name, v in variants.items()}
    order = sorted(seen, key=lambda i: str(matched[keys[i]]))
    pairing = None if order == seen else {  # a checker that flattens the gradients in sorted key order
        name: [np.concatenate([v[i] for i in order])] for name, v in variants.items()}
    report.fits = formulas.fits(report.answers, looked, part(g), {k: part(v) for k, v in prints.items()},
                                pairing) if seen else []
    if seen and not any(f.step for f in report.fits):  # no fingerprint at 1e-7: CS231n's step
        prints.update(formulas.fingerprints(J, work, keys, formulas.STEPS[1], progress=progress))
        report.fits = formulas.fits(report.answers, looked, part(g), {k: part(v) for k, v in prints.items()}, pairing)
    if not report.fits and seen:  # the loops that never reset theta
        cumulative = formulas.fingerprints(J, work, keys, formulas.STEPS[0], cumulative=True, progress=progress)
        report.fits = formulas.fits(report.answers, looked, part(g), {k: part(v) for k, v in cumulative.items()})
    right = [f.formula for f in report.fits if f.right]
    formula = right[0] if right else "norm ratio"
    report.expected = report.right_predictions[formula]
    report.central_exact = max(float(formulas.predict(formula, {"exact": variants["exact"]}, v)["exact"])
                               for (numeric, _), v in prints.items() if numeric == "central")
    ratios = {f.c if f.c is not None else None if f.pairing else _PRINT_RATIOS.get(f.numeric)
              for f in report.fits} - {None}
    report.numeric_ratio = ratios.pop() if len(ratios) == 1 else None
    report.one_sided = any(f.numeric in ("one-sided", "backward one-sided") for f in report.fits) and not right


_PRINT_RATIOS = {"central": 1.0, "half": 0.5, "half backward": 0.5}  # a fingerprint's numeric / the true gradient


def _blind(answers, right_predictions, keys, matched):
    """The parameters whose gradient, doubled alone, left the checker's answer where it was on
    exact gradients, though every right formula moves by a visible amount, and the checker's
    answer moves when every gradient is doubled (one that never moves, say with a numeric
    gradient of 0, is blind to nothing in particular)."""
    def unmoved(name):
        moves = [abs(p[name] - p["exact"]) for p in right_predictions.values() if np.isfinite(p[name] - p["exact"])]
        return bool(moves) and min(moves) > 0 and abs(answers[name] - answers["exact"]) <= 0.01 * min(moves)

    if unmoved("doubled") or not np.isfinite(answers["doubled"] - answers["exact"]):
        return []
    return [str(p) for p in keys if f"only_{matched[p]}_doubled" in answers and unmoved(f"only_{matched[p]}_doubled")]


# -- both at once ---------------------------------------------------------------------------

@dataclass
class Triage:
    backprop: object           # CheckReport
    checker: object = None     # CheckerReport, or None when no checker was given or it could not be judged
    on_your_gradients: float = None  # what the learner's checker says about the learner's gradients
    verdict: str = ""
    findings: list = field(default_factory=list)
    checker_error: str = ""    # why the checker was not judged (it raised, it is too slow, ...)
    all_good: bool = False     # backprop right and the checker right (or none given), nothing else found

    def to_dict(self):
        return _finite_or_none({"verdict": self.verdict, "all_good": self.all_good,
                                "findings": [str(f) for f in self.findings],
                                "on_your_gradients": self.on_your_gradients, "checker_error": self.checker_error,
                                "backprop": dict(self.backprop.to_dict(),
                                                 diagnosis=[str(d) for d in self.backprop.diagnosis]),
                                "checker": None if self.checker is None else self.checker.to_dict()})

    def __str__(self):
        lines = [f"verdict: {self.verdict}"] + [f"  - {f}" for f in self.findings]
        lines += ["", "backprop, checked by nnlib:", str(self.backprop)]
        if self.checker is not None:
            lines += ["", str(self.checker)]
        return "\n".join(lines)


@one_blas_thread()
def triangulate(parameters, cost=None, gradients=None, checker=None, *, forward_propagation=None,
                backward_propagation=None, X=None, Y=None, m=None, layout=None, method="auto", progress=None,
                checker_seconds=CHECKER_SECONDS, on_backprop=None):
    """Run nnlib's check on the learner's backprop and check the learner's checker; say where the bug is:
    in backprop, in the checker, in both, or nowhere. A checker whose judging would take more than
    checker_seconds (estimated from the cost's speed: it loops over every entry, several times) is
    not run; nor is one when the cost itself cannot be checked (random, NaN, float32).
    on_backprop: called with the Triage once backprop is judged, before the checker runs (the CLI
    keeps that much in case the checker never returns)."""
    if isinstance(checker_seconds, bool) or not isinstance(checker_seconds, (int, float, np.integer, np.floating)) \
            or not checker_seconds > 0:
        raise ValueError(f"checker_seconds must be a number of seconds > 0, such as 60, got {checker_seconds!r}")
    if checker is not None and not callable(checker):
        raise ValueError(f"checker must be your gradient-check function, got {type(checker).__name__}")
    _refuse_lab_bugs()
    case = _resolve(parameters, cost, gradients, forward_propagation, backward_propagation, X, Y, m, layout)
    backprop = _check_case(case, method, progress=progress)
    triage = Triage(backprop)
    unreadable = _unreadable(backprop)
    if unreadable:
        triage.findings.append(f"backprop cannot be judged: the cost itself {unreadable}.")
        triage.findings += backprop.diagnosis
    else:
        sampled = backprop.method in ("sampled", "directional")
        state = ("likely right" if sampled or backprop.kink_only else "right") \
            if backprop.passed or backprop.kink_only else "WRONG"
        triage.findings.append(f"backprop is {state}: nnlib's check gives {_fmt(backprop.difference)} "
                               f"(threshold {backprop.threshold:g})"
                               + (f" on {backprop.checked:,} of {backprop.entries:,} entries" if sampled else "")
                               + (f", all of it at {backprop.kinks} entries on a kink (without them "
                                  f"{_fmt(backprop.without_kinks)})." if backprop.kink_only else "."))
        triage.findings += [d for d in backprop.diagnosis if d.claim != ("agrees",)][:4]
        triage.findings += [note for note in backprop.notes if note == ONE_EXAMPLE]
    if on_backprop is not None:
        on_backprop(triage)
    if checker is not None:
        _judge(triage, case, checker, unreadable, checker_seconds, progress)
    triage.verdict, triage.all_good = _verdict(triage, unreadable)
    return triage


def _unreadable(report):
    """Why no gradient check of this cost can be read ("" when one can)."""
    if not report.cost_repeatable:
        return "is not repeatable"
    if any(x.startswith("the cost") for x in report.nonfinite):
        return "gives NaN or infinity"
    if report.cost_float32:
        return "is computed in float32"
    if report.cost_noisy:
        return "is too noisy to check (float32 inside it)"
    return ""


def _judge(triage, case, checker, unreadable, seconds_allowed, progress):
    if unreadable:
        triage.checker_error = (f"not judged: with a cost that {unreadable} the doctor cannot make exact gradients")
        triage.findings.append(f"your checker was {triage.checker_error}. Fix the cost first.")
        return
    n = case.entries
    runs = 7 + min(len(case.work), ALONE)  # its loop on each variant, on yours, again; each parameter doubled alone
    seconds = case.cost.seconds * n * (2 * runs + 6)  # and the doctor's exact gradient and fingerprints
    if seconds > seconds_allowed:
        triage.checker_error = (f"not run: judging it runs its loop over all {n:,} entries about {runs} times, some "
                                f"{_duration(seconds)} here; judge it on a small network (the course's test case), or "
                                "raise checker_seconds (--checker-seconds)")
        triage.findings.append(f"your checker was {triage.checker_error}.")
        return
    try:
        # gradients that agree with every entry of nnlib's check are exact enough to feed the checker
        exact = case.analytic if triage.backprop.passed and triage.backprop.method == "loop" else None
        triage.checker = check_checker(checker, case.work, case.cost, case.gradients, m=case.m, progress=progress,
                                       exact=exact, backprop=triage.backprop)
    except ValueError as e:
        triage.checker_error = str(e)
        triage.findings.append(f"your checker could not be judged: {e}")
        return
    triage.on_your_gradients = triage.checker.on_yours
    ck = triage.checker
    triage.findings.append(f"your checker {ck.state}: on exact gradients it says "
                           f"{_fmt(ck.on_exact)}; on your gradients it says {_fmt(ck.on_yours)}.")
    if ck.correct is None:
        triage.checker_error = "could not be judged: " + next(
            (d.split(": ", 1)[1] for d in ck.diagnosis if d.claim and d.claim[0] == "checker unknown"), "")
    triage.findings += [d for d in ck.diagnosis if not (d.claim and d.claim[0] == "checker right" and ck.sure)]


def _verdict(triage, unreadable):
    """(verdict, all good?) from what was judged."""
    bp = triage.backprop
    if unreadable:
        return f"no verdict: your cost {unreadable}", False
    sampled = bp.method in ("sampled", "directional")
    right = bp.passed or bp.kink_only  # failing only at kinks, where backprop takes one of the two slopes
    if triage.checker_error:
        part = ("backprop likely right" if sampled or bp.kink_only else "backprop right") if right \
            else "bug in backprop"
        why = "was not run" if triage.checker_error.startswith("not run") else "could not be judged"
        return f"{part}; your checker {why}", False
    checker_ok = triage.checker is None or triage.checker.correct
    verdict = {(True, True): "all good", (False, True): "bug in backprop",
               (True, False): "bug in the checker", (False, False): "bugs in both"}[(right, checker_ok)]
    if verdict == "all good" and bp.changed_cache_keys:
        return "gradients right, but backward writes into its cache", False
    if verdict == "all good" and bp.backward_writes:
        return f"gradients right, but backward writes into {' and '.join(bp.backward_writes)}", False
    if verdict == "all good" and (bp.cost_writes or not bp.params_unchanged):
        return "gradients right, but your code writes into its parameters", False
    if verdict == "all good" and sampled:
        return f"likely all good: {bp.checked:,} of {bp.entries:,} entries checked", True
    if verdict == "all good" and triage.checker is not None and not triage.checker.sure:
        return "likely all good: backprop right, your checker likely right", True
    if verdict == "all good" and bp.kink_only:
        return f"likely all good: the check fails only at {bp.kinks} entries on a ReLU kink", True
    return verdict, verdict == "all good"


def load_learner_file(path, forward=None, backward=None, checker=None, data=None, notes=None):
    """Keyword arguments for triangulate() from a learner's file (learner.load_file); notes, a list,
    receives what failed in it that the doctor could go on without (a notebook's test cell)."""
    return load_file(path, forward, backward, checker, data, notes)
