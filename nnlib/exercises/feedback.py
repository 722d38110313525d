"""What every exercise's feedback shares: the Feedback it returns, and calling the learner's
function so that nothing it does (raise, print, exit, return None) escapes as a traceback."""

import contextlib
import inspect
import io
import numbers
import os
import sysconfig
import traceback
import warnings

import numpy as np

from .. import model
from ..checks import METHODS
from ..data import load_mnist

# The exercises, as the notebooks number them: name -> (number, notebook).
EXERCISES = {
    "softmax": ("1.1", "notebook 1"),
    "compute_cost": ("1.2", "notebook 1"),
    "relu_deriv": ("2.1", "notebook 2"),
    "backward_propagation": ("2.2", "notebook 2"),
    "gradient_check_n": ("3.1", "notebook 3"),
    "forward_propagation_with_dropout": ("5.1", "notebook 5"),
    "backward_propagation_with_dropout": ("5.2", "notebook 5"),
}


# How each exercise calls the learner's function: a function that takes other arguments is told this.
SIGNATURES = {
    "softmax": "softmax(Z)",
    "compute_cost": "compute_cost(AL, Y)",
    "relu_deriv": "relu_deriv(Z)",
    "backward_propagation": "backward_propagation(X, Y, cache)",
    "gradient_check_n": "gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7)",
    "forward_propagation_with_dropout": "forward_propagation_with_dropout(X, parameters, keep_prob, rng)",
    "backward_propagation_with_dropout": "backward_propagation_with_dropout(X, Y, cache, keep_prob)",
}

DIGITS = 4000  # the digits data() can hand out: load_mnist's training split


class Feedback:
    """What a feedback function found: `.passed` (bool) and `.lines`; str() joins the lines."""

    def __init__(self, name, passed, lines):
        self.name, self.passed, self.lines = name, bool(passed), list(lines)
        self.number = EXERCISES[name][0]

    def __str__(self):
        return "\n".join(self.lines)

    __repr__ = __str__  # a feedback cell shows the message, not an object


class Stop(Exception):
    """Raised inside a feedback function to return this Feedback at once."""

    def __init__(self, feedback):
        super().__init__(str(feedback))
        self.feedback = feedback


def verdict(name, problems, notes=()):
    number = EXERCISES[name][0]
    if problems:
        head = f"Exercise {number} ({name}): not right yet."
        return Feedback(name, False, [head] + [f"  - {p}" for p in problems] + [f"  ({n})" for n in notes])
    return Feedback(name, True, [f"Exercise {number} ({name}): correct."] + [f"  - {n}" for n in notes])


def fail(name, *problems):
    return Stop(verdict(name, list(problems)))


def not_answered(name, why):
    number, _ = EXERCISES[name]
    return Stop(Feedback(name, False, [
        f"Exercise {number} not answered yet ({why}): write {name} in the cell above "
        f"(replace `raise NotImplementedError` under # YOUR CODE HERE with your code and end with "
        f"`return ...`), run that cell, then run this one again."]))


# numpy's, nnlib's and Python's own files: an error raised in them is reported at the learner's
# line that called them, not at a line of numpy the learner never wrote
_NOT_LEARNER = tuple(os.path.dirname(p) + os.sep for p in (np.__file__, model.__file__)) + (
    sysconfig.get_paths()["stdlib"] + os.sep,)


def learner_frame(exc):
    """The last frame of exc's traceback that is in the learner's code (or the last frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if not os.path.abspath(f.filename).startswith(_NOT_LEARNER)]
    return (mine or frames or [None])[-1]


def quiet(fn, *args, **kwargs):
    """fn(*args) with numpy's warnings off and its prints captured: (result, printed text)."""
    out = io.StringIO()
    with np.errstate(all="ignore"), warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs), out.getvalue()


def call(name, fn, *args, none_ok=False, **kwargs):
    """Call the learner's fn quietly and turn a stub, a None (unless none_ok) or an exception into
    feedback. Returns (result, what it printed)."""
    if not callable(fn):
        raise not_answered(name, f"{name} is {a_kind(fn)}, not a function")
    _takes_the_arguments(name, fn, args, kwargs)
    try:
        result, printed = quiet(fn, *args, **kwargs)
    except NotImplementedError as e:
        frame = learner_frame(e)
        where = frame.name if frame else None
        if where in (getattr(fn, "__name__", name), name, None):
            raise not_answered(name, "it still raises NotImplementedError") from None
        other = EXERCISES.get(where, ("", ""))[0]
        raise fail(name, f"your {name} calls {where}, which is not answered yet"
                         + (f" (exercise {other})" if other else "") + ": answer that first.") from None
    except SystemExit as e:  # exit() in a learner's function must not end the kernel's cell
        raise fail(name, f"your {name} called exit() or sys.exit(){where_raised(e)}, which stops the "
                         "whole program; end the function with `return ...` instead.") from None
    except Exception as e:
        raise fail(name, f"your {name} raised {describe(e)}{where_raised(e)}.") from None
    if result is None and not none_ok:
        if printed.strip():
            raise fail(name, f"your {name} prints {excerpt(printed)} but returns None: end it with "
                             "`return ...`; the feedback, like the code that calls your function, uses "
                             "what it returns, not what it prints.")
        raise not_answered(name, f"{name} returns None")
    return result, printed


def _takes_the_arguments(name, fn, args, kwargs):
    """Feedback when fn cannot be called the way the exercise calls it: Python's TypeError would
    point at the line of nnlib that made the call, not at the learner's `def` line."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or a ufunc: no signature to read, let the call say it
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        own = getattr(fn, "__name__", name)
        raise fail(name, f"your {name} takes the wrong arguments: it is defined as `{own}{signature}`, and the "
                         f"exercise calls it as `{SIGNATURES[name]}` ({e}). Write its first line as "
                         f"`def {SIGNATURES[name]}:`.") from None


def source_of(fn):
    """fn's source text, or "" when Python cannot find it (a builtin, code typed at a prompt)."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def describe(exc):
    """'ValueError: the message', or just 'ValueError' when there is no message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def where_raised(exc):
    frame = learner_frame(exc)
    if frame is None:
        return ""
    return f" (in {frame.name}, at the line `{(frame.line or '').strip()}`)"


def a_kind(value):
    """'a list', 'a NumPy array of shape (2,)', ...: the type of value with its article."""
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def excerpt(text, width=60):
    one = " ".join(text.split())
    return repr(one if len(one) <= width else one[:width] + "...")


def array(name, value, what, shape, any_dtype=False, shape_hint=None):
    """value as a float64 array of the given shape, or feedback that says what it is instead.

    any_dtype: bool, int or float32 are fine too (a 0/1 mask is exact in any of them); otherwise
    whole numbers are refused (a cast dropped the fractions), and so is float32, which keeps 7
    digits where a gradient check needs float64's.
    shape_hint(got, shape) -> a sentence on how the shape `got` comes about, or "" (default: the
    transpose of an array whose examples are its columns).
    """
    if value is None:
        raise fail(name, f"{what} is None; it must be an array of shape {shape}.")
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        raise fail(name, f"{what} is a Python {kind} of {len(value)} items, not a NumPy array"
                         + (": return the array alone." if kind == "tuple" else
                            ": keep it a NumPy array (no .tolist()); the code after it needs .shape, .T and "
                            "array arithmetic."))
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) \
            or np.iscomplexobj(arr):
        raise fail(name, f"{what} is not an array of real numbers (got {type(value).__name__} of {arr.dtype}).")
    if arr.shape != shape:
        hint = (shape_hint or _columns_hint)(arr.shape, shape)
        raise fail(name, f"{what} has shape {arr.shape}; it must have shape {shape}" + (f": {hint}" if hint else "")
                   + ".")
    if not any_dtype and arr.dtype.kind in "biu":
        raise fail(name, f"{what} holds whole numbers ({arr.dtype}): an .astype(int), int() or integer arithmetic "
                         "dropped what comes after the point. Keep float64, the dtype of the arrays you are given.")
    if not any_dtype and arr.dtype.kind == "f" and arr.dtype.itemsize < 8:
        raise fail(name, f"{what} is {arr.dtype}: keep float64, the dtype of the arrays you are given "
                         "(float32 keeps about 7 digits; a gradient check with epsilon = 1e-7 needs float64's 16).")
    return arr.astype(float)


def _columns_hint(got, shape):
    return "the transpose's shape (here the examples are the columns)" if got == shape[::-1] else ""


def changed(before, after):
    """How many entries differ (NaNs compare equal)."""
    return int(np.sum(~((before == after) | (np.isnan(before) & np.isnan(after)))))


def close(a, b, rtol=1e-7, atol=1e-12):
    return bool(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=rtol, atol=atol))


def near(x, target, tol=1e-6):
    return bool(np.isfinite(x) and abs(x - target) <= tol * max(abs(target), 1e-300))


def both(a, b):
    """a and b printed with just enough significant digits (at least 7) to tell them apart."""
    for digits in range(7, 18):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            break
    return f"{a:.{digits}g}", f"{b:.{digits}g}"


def fmt(d):
    return f"{d:.7f}" if np.isfinite(d) and abs(d) >= 1e-4 else f"{d:.1e}"


def show(a):
    return "(" + ", ".join(f"{x:.4g}" for x in np.ravel(a)) + ")"


def indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def examples(m):
    """m, checked: a whole number of examples that data() can hand out, or a ValueError."""
    if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 1 <= m <= DIGITS:
        raise ValueError(f"m must be the number of digits to check on, a whole number from 1 to {DIGITS:,} "
                         f"(the digits this check has), got {m!r}")
    return int(m)


def method_of(method):
    """method, checked: one the doctor's check runs, or a ValueError that lists them all."""
    methods = ("auto",) + tuple(METHODS)
    if not isinstance(method, str) or method not in methods:
        raise ValueError(f"method must be one of {', '.join(repr(x) for x in methods)} (how the doctor checks the "
                         f"gradients: 'loop' every entry), got {method!r}")
    return method


def data(m, seed=0):
    """m real digits and He-initialised 784 -> 10 -> 10 parameters (fresh arrays every call)."""
    X, Y, _ = load_mnist(np.random.default_rng(seed))["train"]
    return X[:, :m].copy(), Y[:, :m].copy(), model.init_params(np.random.default_rng(seed))
