"""Feedback on the notebooks' exercises: run the learner's function, say what is wrong and why.

    from nnlib import exercises
    exercises.check_softmax(softmax)        # prints "Exercise 1.1 (softmax): correct. ..."

One function per exercise. Each calls the learner's function on fixed inputs, compares the
result with what the maths says, and returns a Feedback whose str is the message and whose
`.passed` is a bool. It never raises on the learner's behalf: a stub that still raises
NotImplementedError (or returns None) gets "not answered yet" and where to write the answer,
and any other exception is reported as what it is. The messages describe the mistake from
the numbers; they never show an answer's code (the answers are in solutions/exercises.py).
"""

import contextlib
import io
import traceback
import warnings

import numpy as np

from . import course, model
from .data import load_mnist

# The exercises, as the notebooks number them: (number, function name, notebook).
EXERCISES = {
    "softmax": ("1.1", "notebook 1"),
    "compute_cost": ("1.2", "notebook 1"),
    "relu_deriv": ("2.1", "notebook 2"),
    "backward_propagation": ("2.2", "notebook 2"),
    "gradient_check_n": ("3.1", "notebook 3"),
    "forward_propagation_with_dropout": ("5.1", "notebook 5"),
    "backward_propagation_with_dropout": ("5.2", "notebook 5"),
}
CACHE_NAMES = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2")                 # exercise 2.2
DROPOUT_CACHE_NAMES = ("Z1", "D1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2")   # exercise 5.2
GRADIENT_KEYS = ("dW1", "db1", "dW2", "db2")


class Feedback:
    """What a feedback function found: `.passed` (bool) and `.lines`; str() joins the lines."""

    def __init__(self, name, passed, lines):
        self.name, self.passed, self.lines = name, bool(passed), list(lines)
        self.number = EXERCISES[name][0]

    def __str__(self):
        return "\n".join(self.lines)

    __repr__ = __str__  # a feedback cell shows the message, not an object


class _Stop(Exception):
    """Raised inside a feedback function to return this Feedback at once."""

    def __init__(self, feedback):
        super().__init__(str(feedback))
        self.feedback = feedback


def _verdict(name, problems, notes=()):
    number = EXERCISES[name][0]
    if problems:
        head = f"Exercise {number} ({name}): not right yet."
        return Feedback(name, False, [head] + [f"  - {p}" for p in problems] + [f"  ({n})" for n in notes])
    return Feedback(name, True, [f"Exercise {number} ({name}): correct."] + [f"  - {n}" for n in notes])


def _fail(name, *problems):
    return _Stop(_verdict(name, list(problems)))


def _not_answered(name, why):
    number, where = EXERCISES[name]
    return _Stop(Feedback(name, False, [
        f"Exercise {number} not answered yet ({why}): write {name} in the cell above "
        f"(replace `raise NotImplementedError` under # YOUR CODE HERE with your code and end with "
        f"`return ...`), run that cell, then run this one again."]))


def _raised_in(exc):
    """Name of the function whose line raised exc (the last frame of its traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else None


def _call(name, fn, *args, none_ok=False, **kwargs):
    """Call the learner's fn quietly (no numpy warnings in the notebook) and turn a stub, a None
    (unless none_ok) or an exception into feedback. Returns (result, what it printed)."""
    if not callable(fn):
        raise _not_answered(name, f"{name} is {type(fn).__name__}, not a function")
    out = io.StringIO()
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(), contextlib.redirect_stdout(out):
            warnings.simplefilter("ignore")
            result = fn(*args, **kwargs)
    except NotImplementedError as e:
        where = _raised_in(e)
        if where in (getattr(fn, "__name__", name), name, None):
            raise _not_answered(name, "it still raises NotImplementedError") from None
        other = EXERCISES.get(where, ("", ""))[0]
        raise _fail(name, f"your {name} calls {where}, which is not answered yet"
                          + (f" (exercise {other})" if other else "") + ": answer that first.") from None
    except (Exception, SystemExit) as e:  # SystemExit too: a learner's exit() must not end the kernel's cell
        line = traceback.extract_tb(e.__traceback__)[-1]
        raise _fail(name, f"your {name} raised {type(e).__name__}: {e}  "
                          f"(in {line.name}, at the line `{(line.line or '').strip()}`)") from None
    if result is None and not none_ok:
        raise _not_answered(name, f"{name} returns None")
    return result, out.getvalue()


def _array(name, value, what, shape):
    """value as a float array of the given shape, or feedback that says what it is instead."""
    if value is None:
        raise _fail(name, f"{what} is None; return an array of shape {shape}.")
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise _fail(name, f"{what} is not an array of numbers (got {type(value).__name__}).")
    if arr.shape != shape:
        raise _fail(name, f"{what} has shape {arr.shape}; it must have shape {shape}.")
    return arr.astype(float)


def _changed(before, after):
    """How many entries differ (NaNs compare equal)."""
    return int(np.sum(~((before == after) | (np.isnan(before) & np.isnan(after)))))


def _close(a, b, rtol=1e-7, atol=1e-12):
    return bool(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=rtol, atol=atol))


def _near(x, target, tol=1e-6):
    return bool(np.isfinite(x) and abs(x - target) <= tol * max(abs(target), 1e-300))


def _data(m, seed=0):
    """m real digits and He-initialised 784 -> 10 -> 10 parameters (fresh arrays every call)."""
    X, Y, _ = load_mnist(np.random.default_rng(seed))["train"]
    return X[:, :m].copy(), Y[:, :m].copy(), model.init_params(np.random.default_rng(seed))


# ---- 1.1 softmax -------------------------------------------------------------------------

def check_softmax(softmax):
    """Exercise 1.1: softmax(Z) for Z (n_classes, m), column by column, without overflow."""
    name = "softmax"
    try:
        Z = np.random.default_rng(11).standard_normal((10, 8)) * 3
        Z_before = Z.copy()
        A, _ = _call(name, softmax, Z)
        A = _array(name, A, "your softmax(Z) for Z of shape (10, 8)", Z.shape)
        if _changed(Z_before, Z):
            raise _fail(name, f"your softmax changed its input: {_changed(Z_before, Z)} of the 80 entries "
                              "of Z are different afterwards. `Z -= ...` writes into the caller's array (in "
                              "backprop that is the cache); `Z - ...` makes a new one.")
        expected = model.softmax(Z_before)
        if not _close(A, expected):
            raise _fail(name, _softmax_mistake(A, Z_before, expected))
        # one column of large logits: e^1000 overflows float64 (anything above e^709.8 does)
        big = np.array([[1000.0], [1001.0], [999.0]])
        A_big = _array(name, _call(name, softmax, big)[0], "your softmax of the column (1000, 1001, 999)", (3, 1))
        if not np.all(np.isfinite(A_big)):
            raise _fail(name, f"on the column z = (1000, 1001, 999) your softmax returns {_show(A_big)}: "
                              "e^1000 overflows float64 (whose largest number is about e^709.8), and inf/inf "
                              "is nan. Subtract the column's largest entry from every entry before exp: the "
                              "result is mathematically the same and the largest exponent becomes e^0 = 1.")
        if not _close(A_big, model.softmax(big)):
            raise _fail(name, f"on the column z = (1000, 1001, 999) your softmax returns {_show(A_big)}, "
                              f"not {_show(model.softmax(big))}.")
        # two columns far apart: a max taken over the whole array instead of each column fails here
        apart = np.array([[1000.0, -1000.0], [1001.0, -999.0], [999.0, -1001.0]])
        A_apart = _array(name, _call(name, softmax, apart)[0], "your softmax of a (3, 2) array", (3, 2))
        if not _close(A_apart, model.softmax(apart)):
            raise _fail(name, "with columns (1000, 1001, 999) and (-1000, -999, -1001) your softmax returns "
                              f"{_show(A_apart[:, 0])} and {_show(A_apart[:, 1])}; the second column should "
                              "equal the first. Subtracting the largest entry of the WHOLE array sends the "
                              "second column to e^-2000 = 0, and 0/0 = nan: subtract each column's own max "
                              "(a max over axis 0 that keeps the dimensions).")
    except _Stop as stop:
        return stop.feedback
    return _verdict(name, [], ["each column sums to 1, and columns of logits near 1000 or far apart do not "
                               "overflow"])


def _show(a):
    return "(" + ", ".join(f"{x:.4g}" for x in np.ravel(a)) + ")"


def _softmax_mistake(A, Z, expected):
    """Why A is not the column-wise softmax of Z."""
    if not np.all(np.isfinite(A)):
        return f"your softmax returns {int(np.sum(~np.isfinite(A)))} nan or inf entries for ordinary logits."
    E = np.exp(Z - Z.max())
    if np.allclose(A, E / E.sum(axis=1, keepdims=True)):
        return ("each ROW of your result sums to 1, not each column: the classes of one example are the "
                "rows of its column, so the max and the sum run over axis 0 (keep the dimensions).")
    if np.allclose(A, E / E.sum()):
        return ("your whole array sums to 1 (one sum over all 80 entries); each column (one example) "
                "must sum to 1: sum over axis 0 only, keeping the dimensions.")
    if np.allclose(A.sum(axis=0), 1):
        return (f"each column sums to 1, but the values are not e^z_k / sum_j e^z_j: they differ from it by "
                f"up to {np.max(np.abs(A - expected)):.2e}.")
    if np.allclose(A, np.exp(Z)) or np.allclose(A, np.exp(Z - Z.max(axis=0))):
        return "your result is e^z without the division: divide each column by its sum."
    sums = A.sum(axis=0)
    return (f"the columns of your result sum to {_show(sums[:3])}... instead of 1: "
            "softmax(z)_k = e^z_k / sum_j e^z_j, the sum over the classes of that column.")


# ---- 1.2 compute_cost --------------------------------------------------------------------

def check_compute_cost(compute_cost):
    """Exercise 1.2: the cross-entropy averaged over the m examples, a float."""
    name = "compute_cost"
    try:
        rng = np.random.default_rng(12)
        m, n = 8, 10
        AL = model.softmax(rng.standard_normal((n, m)) * 2)
        Y = np.zeros((n, m))
        Y[rng.integers(0, n, m), np.arange(m)] = 1.0
        AL_before, Y_before = AL.copy(), Y.copy()
        J, _ = _call(name, compute_cost, AL, Y)
        if _changed(AL_before, AL) or _changed(Y_before, Y):
            raise _fail(name, "your compute_cost changed its inputs AL or Y: compute new arrays instead.")
        expected = -np.sum(Y * np.log(AL)) / m
        value = _cost_value(name, J, AL, Y, m)
        if not _near(value, expected, 1e-9):
            raise _fail(name, _cost_mistake(value, expected, AL, Y, m, n))
    except _Stop as stop:
        return stop.feedback
    return _verdict(name, [], [f"J = {expected:.6f} on 8 examples of 10 classes, and a plain number"])


def _cost_value(name, J, AL, Y, m):
    """The learner's cost as a float, or feedback about its type or shape."""
    if isinstance(J, (str, bytes, bool, np.bool_)) or not isinstance(J, (int, float, np.number, np.ndarray)):
        raise _fail(name, f"your compute_cost returned a {type(J).__name__}; return one number (a float).")
    if np.asarray(J).dtype.kind == "f" and np.asarray(J).dtype.itemsize < 8:
        raise _fail(name, f"your compute_cost returned {np.asarray(J).dtype}: compute it in float64 "
                          "(the arrays you are given are float64; something cast them down).")
    try:
        arr = np.asarray(J, dtype=float)
    except (TypeError, ValueError):
        raise _fail(name, f"your compute_cost returned a {type(J).__name__}; return one number.") from None
    if arr.size == 1:
        return float(arr.reshape(()))
    if arr.size == m and np.allclose(np.ravel(arr), -np.sum(Y * np.log(AL), axis=0)):
        raise _fail(name, f"your cost has shape {arr.shape}: one loss per example. The cost is their "
                          "average: sum over the examples too, and divide by m.")
    if arr.size == Y.shape[0]:
        raise _fail(name, f"your cost has shape {arr.shape}: one number per class. Sum over both axes "
                          "(the classes and the examples), then divide by m.")
    raise _fail(name, f"your cost has shape {arr.shape}; the cost is one number.")


def _cost_mistake(value, expected, AL, Y, m, n):
    r = value / expected
    if not np.isfinite(value):
        return f"your cost is {value}: look for log(0) or a division by zero."
    if _near(r, m, 1e-6):
        return (f"your cost is m = {m} times too large ({value:.6f} instead of {expected:.6f}): "
                "the 1/m is missing. The cost is the AVERAGE over the m examples: divide by m = Y.shape[1].")
    if _near(r, m / n, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: you divided by {n} = Y.shape[0], the "
                f"number of classes; m, the number of examples, is Y.shape[1] = {m}.")
    if _near(r, 1 / m, 1e-6):
        return f"your cost is m = {m} times too small ({value:.6f} instead of {expected:.6f}): divide by m once."
    if _near(r, 1 / n, 1e-6):
        return (f"your cost is {value:.6f}, a tenth of {expected:.6f}: a mean over the whole (10, {m}) array "
                f"divides by 10 x {m}; divide the sum by m = {m} only.")
    if _near(r, -1, 1e-6):
        return (f"your cost is {value:.6f}, negative: log of a probability is <= 0, so the cross-entropy "
                "needs the minus sign in front: J = -(1/m) sum Y log AL, which is >= 0.")
    if _near(r, 1 / np.log(10), 1e-6):
        return f"your cost is {value:.6f}, ln(10) times too small: use the natural log np.log, not np.log10."
    if _near(r, 1 / np.log(2), 1e-6):
        return f"your cost is {value:.6f}, 1/ln(2) times too large: use the natural log np.log, not np.log2."
    binary = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    if _near(value, binary, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: it also counts (1 - Y) log(1 - AL), the "
                "binary cross-entropy of a sigmoid output. With softmax only the log-probability of the "
                "right class counts: J = -(1/m) sum Y log AL.")
    if _near(value, -np.sum(np.log(AL)) / m, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: it adds log AL over all 10 classes. "
                "Multiply by Y first, so that only the probability of each example's right class counts.")
    return f"your cost is {value:.6f}; the averaged cross-entropy of these AL and Y is {expected:.6f}."


# ---- 2.1 relu_deriv ----------------------------------------------------------------------

def check_relu_deriv(relu_deriv):
    """Exercise 2.1: ReLU'(Z) as a new 0/1 array, Z left unchanged."""
    name = "relu_deriv"
    try:
        Z = np.random.default_rng(21).standard_normal((10, 16))
        Z[0, :3] = 0.0   # exactly at the kink, where this series takes ReLU'(0) = 0
        Z_before = Z.copy()
        out, _ = _call(name, relu_deriv, Z)
        changed = _changed(Z_before, Z)
        if changed:
            binary = int(np.sum(np.isin(Z, (0.0, 1.0)) & (Z != Z_before)))
            what = "became 0/1" if binary == changed else "changed"
            same = ", and it returned that very array" if out is Z else ""
            raise _fail(name, f"your relu_deriv changed its input: {changed} of the {Z.size} entries of Z "
                              f"{what}{same}. In backprop "
                              "that input is a cache entry (Z1 or A1) that other lines still read. Leave Z "
                              "alone and return a NEW array (`D = Z` is not a copy: it is the same array "
                              "under a second name).")
        D = _array(name, out, "your relu_deriv(Z) for Z of shape (10, 16)", Z.shape)
        expected = (Z > 0).astype(float)
        if not np.array_equal(D, expected):
            raise _fail(name, _relu_mistake(D, Z, expected))
    except _Stop as stop:
        return stop.feedback
    return _verdict(name, [], ["1 where Z > 0, 0 elsewhere (also at Z = 0), and Z is left as it was"])


def _relu_mistake(D, Z, expected):
    if np.array_equal(D, np.maximum(0, Z)):
        return "you returned ReLU(Z) itself, not its derivative: ReLU'(z) is 1 where z > 0 and 0 elsewhere."
    if np.array_equal(D, (Z >= 0).astype(float)):
        return ("at z = 0 you return 1 (3 entries of Z are exactly 0). ReLU has no derivative there; this "
                "series and the course take 0 (z > 0, not z >= 0), and nnlib.backward does too.")
    if np.array_equal(D, (Z < 0).astype(float)) or np.array_equal(D, (Z <= 0).astype(float)):
        return "your 0s and 1s are swapped: the derivative is 1 where z > 0 (the unit is on) and 0 elsewhere."
    wrong = int(np.sum(D != expected))
    return f"{wrong} of the {Z.size} entries differ from ReLU'(Z): 1 where z > 0, 0 elsewhere."


# ---- 2.2 backward_propagation ------------------------------------------------------------

def check_backward_propagation(backward_propagation, forward_propagation, m=16, method="loop"):
    """Exercise 2.2: course-style backward_propagation(X, Y, cache) for 784 -> 10 -> 10.

    forward_propagation(X, Y, parameters) -> (cost, cache) is the one the notebook gives;
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2). Runs the gradient-check doctor (nnlib.check)
    on m real digits, looks at the cache afterwards, and reads the gradient ratios.
    method: the doctor's method; "loop" checks every entry (a few seconds), "sampled" 25 per parameter.
    """
    from .doctor import check

    name = "backward_propagation"
    X, Y, params = _data(m)
    try:
        _check_given_forward(name, forward_propagation, X, Y, params)
        cost, cache = forward_propagation(X, Y, params)
        snapshot = [np.array(c, copy=True) for c in cache]
        grads, _ = _call(name, backward_propagation, X, Y, cache)
        _check_gradient_dict(name, grads, params)
        damaged = _damaged(snapshot, cache, CACHE_NAMES)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check(params, forward_propagation=forward_propagation,
                           backward_propagation=backward_propagation, X=X, Y=Y, m=m, method=method)
    except _Stop as stop:
        return stop.feedback
    except ValueError as e:  # the doctor refused the input; its message says why
        return _verdict(name, [f"the gradient check could not run: {e}"])
    problems = _read_backward_report(report, grads, m, damaged, snapshot, CACHE_NAMES)
    notes = [f"gradient check: difference {_fmt(report.difference)} (threshold {report.threshold:g}) on {m} "
             "digits"]
    if problems:
        lines = _verdict(name, problems).lines
        lines += ["", "The doctor's report (nnlib.check):", _indent(str(report))]
        return Feedback(name, False, lines)
    return _verdict(name, [], notes + ["the cache is unchanged after your backward_propagation"])


def _check_given_forward(name, forward_propagation, X, Y, params):
    try:
        out = forward_propagation(X, Y, params)
        cost, cache = out
        ok = _near(float(cost), model.cost(model.forward(params, X)["A2"], Y), 1e-9) and len(cache) == 8
    except Exception:
        ok = False
    if not ok:
        raise _fail(name, "forward_propagation (given in the notebook, not part of the exercise) does not "
                          "return (cost, cache) for this network any more: re-run the cell that defines it.")


def _check_gradient_dict(name, grads, params):
    if not isinstance(grads, dict):
        raise _fail(name, f"your {name} returned a {type(grads).__name__}; return a dict of gradients "
                          "{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...} (dZ2, dA1, dZ1 may be in it too).")
    for key in GRADIENT_KEYS:
        if key not in grads:
            raise _fail(name, f"the gradients have no '{key}' (keys: {', '.join(map(str, grads)) or 'none'}).")
        if np.shape(grads[key]) != params[key[1:]].shape:
            raise _fail(name, f"{key} has shape {np.shape(grads[key])}; it must have the shape of {key[1:]}, "
                              f"{params[key[1:]].shape}.")


def _damaged(snapshot, cache, names):
    """The cache entries that differ from before, with how many entries changed and how."""
    out = []
    for key, before, after in zip(names, snapshot, cache, strict=False):
        after = np.asarray(after)
        if after.shape != before.shape or _changed(before, after):
            n = _changed(before, after) if after.shape == before.shape else after.size
            binary = after.shape == before.shape and bool(np.isin(after, (0.0, 1.0)).all())
            out.append((key, n, binary))
    return out


def _mask_problems(grads, D1):
    """Where the learner's dA1 (after the mask) disagrees with the cache's mask D1."""
    dA1 = grads.get("dA1")
    if dA1 is None or np.shape(dA1) != D1.shape:
        return []
    dA1 = np.asarray(dA1)
    dropped_but_nonzero = int(np.sum((dA1 != 0) & (D1 == 0)))
    kept_but_zero = int(np.sum((dA1 == 0) & (D1 == 1)))
    if dropped_but_nonzero and kept_but_zero:
        return [f"your dA1 is non-zero at {dropped_but_nonzero} entries where D1 = 0 and zero at "
                f"{kept_but_zero} where D1 = 1: it was masked with another mask than the forward pass's. "
                "Use the D1 from the cache."]
    return []


def _fmt(d):
    return f"{d:.7f}" if np.isfinite(d) and abs(d) >= 1e-4 else f"{d:.1e}"


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def _read_backward_report(report, grads, m, damaged, snapshot, names, keep_prob=None):
    """Problems a person would name, from the doctor's report and the learner's gradients."""
    problems = []
    for key, n, binary in damaged:
        what = "became 0/1 (a derivative written over it)" if binary else "were changed"
        size = snapshot[names.index(key)].size
        problems.append(f"your backward changed the cache: {n} of the {size} entries of {key} {what}. "
                        + ("The check passes all the same, because nothing read it afterwards; the next "
                           "code that trusts the cache does. " if report.passed else "")
                        + "Compute the derivative into a new array.")
    if report.passed:
        return problems
    rows = {row.name: row for row in report.per_parameter}
    ratios = np.array([rows[k].ratio for k in ("W1", "b1", "W2", "b2") if k in rows])
    r = float(np.median(ratios)) if ratios.size else float("nan")
    uniform = ratios.size == 4 and all(_near(x, r, 1e-4) for x in ratios)
    if uniform and _near(r, 1 / m, 1e-4):
        problems.append(f"every entry of your gradients is 1/m = 1/{m} of the true one: the 1/m is applied "
                        "twice. It belongs once: either in dZ2 = (A2 - Y)/m, or (the course's way) in every "
                        "dW and db, not both.")
    elif uniform and _near(r, m, 1e-4):
        problems.append(f"every entry of your gradients is m = {m} times too large: the 1/m of the averaged "
                        "cost is missing (dZ2 = A2 - Y needs 1/m in every dW and db, or put it in dZ2).")
    elif uniform and _near(r, -1, 1e-4):
        problems.append("every gradient has the wrong sign: dZ2 is A2 - Y (prediction minus label), not Y - A2.")
    elif uniform and np.isfinite(r):
        problems.append(f"every gradient is {r:.6g} times the true one: a constant factor in your code.")
    elif keep_prob is not None and all(_near(rows[k].ratio, keep_prob, 1e-4) for k in ("W1", "b1")) \
            and rows["W2"].passed:
        problems.append(f"dW1 and db1 are keep_prob = {keep_prob:g} times the true ones: after applying D1 "
                        "to dA1, divide by keep_prob, as the forward pass did.")
    elif keep_prob is not None and all(_near(rows[k].ratio, 1 / keep_prob, 1e-4) for k in ("W1", "b1")) \
            and rows["W2"].passed:
        problems.append(f"dW1 and db1 are 1/keep_prob = {1 / keep_prob:g} times too large: divide dA1 by "
                        "keep_prob once.")
    elif rows["W2"].note == "transposed":
        problems.append("your dW2 is the transpose of the right one: W2 is square (10, 10), so the shapes "
                        "matched anyway. dW2 = (1/m) dZ2 A1^T: dZ2 first, then A1 transposed.")
    elif rows["b2"].passed and not rows["W2"].passed:
        problems.append("db2 is right but dW2 is not, although both come from dZ2: the A1 that dW2 = dZ2 A1^T "
                        "read was wrong" + (" (the cache's A1 was damaged before dW2 read it)." if any(
                            k == "A1" for k, _, _ in damaged) else "."))
    elif rows["W2"].passed and rows["b2"].passed:
        problems.append("dW2 and db2 are right, dW1 and db1 are not: the error is in the step from dZ2 to "
                        "dZ1 (dA1 = W2^T dZ2, the ReLU derivative" + (", the dropout mask" if keep_prob else "")
                        + ").")
        dZ1 = grads.get("dZ1")
        Z1 = snapshot[names.index("Z1")]
        if dZ1 is not None and np.shape(dZ1) == Z1.shape:
            off = int(np.sum((np.asarray(dZ1) != 0) & (Z1 <= 0)))
            if off:
                problems.append(f"your dZ1 is non-zero at {off} entries where Z1 <= 0 (units that were off): "
                                "multiply dA1 by ReLU'(Z1).")
        if keep_prob is not None:
            problems += _mask_problems(grads, snapshot[names.index("D1")])
    if not problems:
        problems.append("the gradients do not match the numeric ones; see the doctor's report below.")
    return problems


# ---- 3.1 gradient_check_n ----------------------------------------------------------------

def check_gradient_check_n(gradient_check_n):
    """Exercise 3.1: the course's vector-style check, on the course's 4 -> 5 -> 3 -> 1 network.

    gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7) must return (or print) the
    difference. It is graded by the checker doctor (nnlib.check_checker), which hands it exact
    and deliberately wrong gradients, and by a trace of the points where it evaluates J.
    """
    from .doctor import check_checker

    name = "gradient_check_n"
    X, Y, parameters = course.test_case()
    _, cache = course.forward_propagation_n(X, Y, parameters)
    gradients = course.backward_propagation_n(X, Y, cache)
    try:
        result, printed = _call(name, gradient_check_n, _copy(parameters), _copy(gradients), X, Y, none_ok=True)
        if result is None and _number_in(printed) is None:
            raise _not_answered(name, "gradient_check_n returns None and prints no difference")
        trace = _trace_points(gradient_check_n, parameters, gradients, X, Y)
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_checker(lambda p, g: gradient_check_n(p, g, X, Y), parameters,
                                   lambda p: course.forward_propagation_n(X, Y, p)[0], gradients, m=X.shape[1])
    except _Stop as stop:
        return stop.feedback
    except ValueError as e:
        return _verdict(name, [f"the checker doctor could not run it: {e}"])
    problems = _trace_problems(trace, course.dictionary_to_vector(parameters).size)
    if not report.correct and not problems:
        problems.append(_formula_problem(report, course.gradients_to_vector(gradients), trace is not None))
    if problems or not report.correct:
        lines = _verdict(name, problems).lines + ["", "The checker doctor (nnlib.check_checker):", _indent(str(report))]
        return Feedback(name, False, lines)
    return _verdict(name, [], [
        f"on the exact gradients it reports {_fmt(report.on_exact)} (below 2e-7); on wrong ones "
        + ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in report.answers.items() if k != "exact"),
        "it evaluates J at theta + eps e_i and theta - eps e_i, two fresh copies per entry"])


def _formula_problem(report, grad, traced):
    """What is wrong when J is evaluated at the right points but the answers are wrong."""
    a, g = report.answers, float(np.linalg.norm(grad))
    where = ("it evaluates J at the right points (theta + eps e_i and theta - eps e_i, fresh copies), so "
             "the mistake is in turning those values into the difference" if traced else
             "its answers are wrong")
    if _near(a["doubled"], g, 1e-3) and _near(a["sign_flipped"], 2 * g, 1e-3):
        return (f"{where}: it reports ||grad - gradapprox|| alone ({a['doubled']:.4f} for doubled "
                "gradients), a distance that depends on the gradient's size. Divide it by "
                "||grad|| + ||gradapprox||.")
    return f"{where}: see the doctor's report below."


def _copy(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _number_in(text):
    """The last number printed on a line that mentions a difference, or None."""
    import re

    found = [float(x) for line in text.splitlines() if "diff" in line.lower()
             for x in re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", line)]
    return found[-1] if found else None


def _trace_points(gradient_check_n, parameters, gradients, X, Y):
    """The parameter vectors at which gradient_check_n evaluates the cost, minus theta.

    The learner's function calls forward_propagation_n by its global name; for one call it
    is swapped for a recorder that notes theta and then calls the real one. Returns a list of
    vectors, or None when the function does not call it by that name.
    """
    space = getattr(gradient_check_n, "__globals__", None)
    if space is None or "forward_propagation_n" not in space:
        return None
    real, theta = space["forward_propagation_n"], course.dictionary_to_vector(parameters)
    points = []

    def recorder(X_, Y_, params):
        points.append(course.dictionary_to_vector(params).ravel() - theta.ravel())
        return real(X_, Y_, params)

    space["forward_propagation_n"] = recorder
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gradient_check_n(_copy(parameters), _copy(gradients), X, Y)
    except Exception:
        return None
    finally:
        space["forward_propagation_n"] = real
    return points


def _ordinal(k):
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def _trace_problems(points, n, epsilon=1e-7):
    """What is wrong with where J was evaluated (empty when it is theta +- eps e_i for each i)."""
    if points is None:
        return []
    moved = [np.flatnonzero(np.abs(p) > epsilon / 2) for p in points]
    several = [(k, idx) for k, idx in enumerate(moved) if len(idx) > 1]
    if several:
        k, idx = several[0]
        signs = "+" if np.all(points[k][idx] > 0) else "-" if np.all(points[k][idx] < 0) else "+ or -"
        shown = (" and ".join(str(i + 1) for i in idx) if len(idx) == 2 else
                 ", ".join(str(i + 1) for i in idx[:6]) + (", ..." if len(idx) > 6 else ""))
        sign = signs if signs in "+-" else "+-"
        return [f"it evaluates J at points where several entries of theta are moved at once: the "
                f"{_ordinal(k + 1)} time it evaluates J, entries {shown} are {'both' if len(idx) == 2 else 'all'} "
                f"moved by {signs}epsilon. A step taken for an earlier entry was never undone, so theta {sign} "
                f"eps e_i is really theta {sign} eps (e_1 + ... + e_i). "
                "Make a fresh copy of the vector for every entry, inside the loop, for thetaplus and for "
                "thetaminus (np.copy). `thetaplus = parameters_values` or `parameters_values[:]` is the same "
                "array (or a view of it) under a second name: writing into it writes into theta."]
    at_theta = sum(1 for idx in moved if len(idx) == 0)
    plus = {int(idx[0]) for p, idx in zip(points, moved, strict=True) if len(idx) == 1 and p[idx[0]] > 0}
    minus = {int(idx[0]) for p, idx in zip(points, moved, strict=True) if len(idx) == 1 and p[idx[0]] < 0}
    if at_theta and (not minus or not plus):
        if len(points) <= n + 1:
            return [f"J is evaluated {len(points)} times for {n} entries: once at theta itself and once at "
                    f"theta {'+' if plus else '-'} eps e_i for each entry: a one-sided difference, whose "
                    "error shrinks like eps, not eps^2. Use the central difference: J(theta + eps e_i) and "
                    "J(theta - eps e_i), divided by 2 eps."]
        return [f"{at_theta} of the {len(points)} evaluations of J are at theta itself, where theta "
                f"{'-' if plus else '+'} eps e_i was meant: the {'+' if plus else '-'}eps written into one copy "
                "was still in the array the other copy started from, so the second step only undid it. The "
                "two copies must not share memory with theta: np.copy."]
    if len(plus) < n or len(minus) < n:
        return [f"J is evaluated at theta + eps e_i for {len(plus)} and at theta - eps e_i for {len(minus)} "
                f"of the {n} entries: every entry needs both."]
    return []


# ---- 5.1 and 5.2 dropout -----------------------------------------------------------------

def check_dropout_forward(forward_propagation_with_dropout, keep_prob=0.8, m=256):
    """Exercise 5.1: forward_propagation_with_dropout(X, parameters, keep_prob, rng) -> (A2, cache)."""
    name = "forward_propagation_with_dropout"
    X, _, params = _data(m)
    fn = forward_propagation_with_dropout
    try:
        out, _ = _call(name, fn, X, params, keep_prob, np.random.default_rng(51))
        A2, cache = _dropout_output(name, out, m)
        Z1, D1, A1, W1, b1, Z2, A2_cache, W2, b2 = cache
        Z1 = _array(name, Z1, "Z1 in your cache", (10, m))
        D1 = _array(name, D1, "D1 in your cache", (10, m))
        A1 = _array(name, A1, "A1 in your cache", (10, m))
        if not _close(Z1, params["W1"] @ X + params["b1"]):
            raise _fail(name, "Z1 in your cache is not W1 X + b1.")
        if not np.isin(D1, (0.0, 1.0)).all():
            raise _fail(name, "D1 must hold only 0s and 1s (1 = keep the unit); compare the uniform draw "
                              "with keep_prob to get them.")
        kept = float(D1.mean())
        if abs(kept - keep_prob) > 0.05:
            if abs(kept - (1 - keep_prob)) < 0.05:
                raise _fail(name, f"your mask keeps {kept:.0%} of the units with keep_prob = {keep_prob}: it "
                                  "keeps the dropped ones. keep_prob is the probability of KEEPING a unit: "
                                  "D1 is 1 where the uniform draw is below keep_prob.")
            raise _fail(name, f"your mask keeps {kept:.0%} of the units; with keep_prob = {keep_prob} it should "
                              f"keep about {keep_prob:.0%}.")
        relu = np.maximum(0, Z1)
        if not _close(A1, relu * D1 / keep_prob):
            raise _fail(name, _dropout_forward_mistake(A1, relu, D1, keep_prob))
        for what, value in (("the A2 you return", A2), ("A2 in your cache", A2_cache)):
            arr = _array(name, value, what, (10, m))
            if not _close(arr, model.softmax(params["W2"] @ A1 + params["b2"])):
                raise _fail(name, f"{what} is not softmax(W2 A1 + b2) of the dropped-out A1 in your cache.")
        D1_again = _dropout_output(name, _call(name, fn, X, params, keep_prob, np.random.default_rng(51))[0], m)[1][1]
        if not np.array_equal(np.asarray(D1_again, float), D1):
            raise _fail(name, "two calls with the same rng (same seed) drew different masks: draw D1 from "
                              "the rng you are given (rng.random(shape)), not from np.random, so that a run "
                              "can be repeated and a gradient check can freeze the mask.")
        D1_other = _dropout_output(name, _call(name, fn, X, params, keep_prob, np.random.default_rng(52))[0], m)[1][1]
        if np.array_equal(np.asarray(D1_other, float), D1):
            raise _fail(name, "a different rng gave the same mask: draw D1 from the rng argument.")
        A2_off = _dropout_output(name, _call(name, fn, X, params, 1.0, np.random.default_rng(51))[0], m)[0]
        if not _close(np.asarray(A2_off, float), model.forward(params, X)["A2"]):
            raise _fail(name, "with keep_prob = 1 (nothing dropped) your A2 differs from the network without "
                              "dropout.")
    except _Stop as stop:
        return stop.feedback
    return _verdict(name, [], [f"D1 keeps {kept:.1%} of the units (keep_prob = {keep_prob}), the kept ones are "
                               "divided by keep_prob, the mask comes from rng, and keep_prob = 1 changes nothing"])


def _dropout_output(name, out, m):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise _fail(name, f"your {name} returned {type(out).__name__}; return the pair (A2, cache).")
    A2, cache = out
    if not (isinstance(cache, tuple) and len(cache) == len(DROPOUT_CACHE_NAMES)):
        raise _fail(name, "the cache must be the tuple (Z1, D1, A1, W1, b1, Z2, A2, W2, b2), in that order.")
    return A2, cache


def _dropout_forward_mistake(A1, relu, D1, keep_prob):
    if _close(A1, relu * D1):
        return ("A1 is ReLU(Z1) * D1: the kept units are not divided by keep_prob, so the expected "
                f"activation shrinks to keep_prob = {keep_prob} of what the network sees at test time. "
                "Inverted dropout divides by keep_prob.")
    if _close(A1, relu * D1 * keep_prob):
        return "A1 is multiplied by keep_prob; inverted dropout DIVIDES the kept units by keep_prob."
    if _close(A1, relu):
        return "A1 is ReLU(Z1) unchanged: multiply it by the mask D1 (and divide by keep_prob)."
    if _close(A1, relu / keep_prob):
        return "A1 is divided by keep_prob but not multiplied by the mask D1."
    return "A1 in your cache is not ReLU(Z1) * D1 / keep_prob, computed with the D1 in your cache."


def check_dropout_backward(backward_propagation_with_dropout, keep_prob=0.8, m=16, method="loop"):
    """Exercise 5.2: backward_propagation_with_dropout(X, Y, cache, keep_prob) -> gradients.

    Checked by the doctor (nnlib.check) with the mask frozen: every forward pass of the check
    draws D1 from the same seed, so J(theta + eps) and J(theta - eps) drop the same units.
    """
    from .doctor import check

    name = "backward_propagation_with_dropout"
    X, Y, params = _data(m)
    D1 = model.draw_masks(params, m, keep_prob, np.random.default_rng(53))["D1"]

    def forward_frozen(X_, Y_, parameters):
        """The forward pass with the one mask D1, in every call: J(theta + eps) and J(theta - eps)
        drop the same units. Each cache gets its own copy, so a backward that writes into it
        cannot change the next call's mask."""
        c = model.forward(parameters, X_, keep_prob, masks={"D1": D1.copy()})
        cache = (c["Z1"], c["D1"], c["A1"], parameters["W1"], parameters["b1"], c["Z2"], c["A2"],
                 parameters["W2"], parameters["b2"])
        return model.cost(c["A2"], Y_), cache

    def backward(X_, Y_, cache):
        return backward_propagation_with_dropout(X_, Y_, cache, keep_prob)

    try:
        _, cache = forward_frozen(X, Y, params)
        snapshot = [np.array(c, copy=True) for c in cache]
        grads, _ = _call(name, backward_propagation_with_dropout, X, Y, cache, keep_prob)
        _check_gradient_dict(name, grads, params)
        damaged = _damaged(snapshot, cache, DROPOUT_CACHE_NAMES)
        again, _ = _call(name, backward_propagation_with_dropout, X, Y, forward_frozen(X, Y, params)[1], keep_prob)
        if any(not np.array_equal(np.asarray(grads[k]), np.asarray(again[k])) for k in GRADIENT_KEYS):
            raise _fail(name, "two calls on the same cache gave different gradients: your backward draws a new "
                              "mask. It must use the D1 that the forward pass used, from the cache.")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check(params, forward_propagation=forward_frozen, backward_propagation=backward, X=X, Y=Y, m=m,
                           method=method)
    except _Stop as stop:
        return stop.feedback
    except ValueError as e:
        return _verdict(name, [f"the gradient check could not run: {e}"])
    problems = _read_backward_report(report, grads, m, damaged, snapshot, DROPOUT_CACHE_NAMES,
                                     keep_prob=keep_prob)
    if problems:
        lines = _verdict(name, problems).lines + ["", "The doctor's report (nnlib.check, masks frozen):",
                                                  _indent(str(report))]
        return Feedback(name, False, lines)
    return _verdict(name, [], [f"gradient check with the mask frozen: difference {_fmt(report.difference)} "
                               f"(threshold {report.threshold:g}) on {m} digits, keep_prob = {keep_prob}",
                               "the cache is unchanged after your backward"])
