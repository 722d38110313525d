"""Notebook 3's exercise: 3.1 gradient_check_n, the course's vector-style check.

It is graded by the checker doctor (nnlib.check_checker), which hands it exact and deliberately
wrong gradients, and by a trace of the points where it evaluates J.
"""

import copy
import re

import numpy as np

from .. import course
from .feedback import Feedback, Stop, a_kind, call, excerpt, fail, fmt, indent, near, not_answered, quiet, verdict


def check_gradient_check_n(gradient_check_n):
    """Exercise 3.1: the course's vector-style check, on the course's 4 -> 5 -> 3 -> 1 network.

    gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7) must return the course's
    difference, ||grad - gradapprox|| / (||grad|| + ||gradapprox||). Its helpers are the
    course's: dictionary_to_vector(parameters) -> (theta, keys).
    """
    from ..doctor import check_checker

    name = "gradient_check_n"
    X, Y, parameters = course.test_case()
    _, cache = course.forward_propagation_n(X, Y, parameters)
    gradients = course.backward_propagation_n(X, Y, cache)
    try:
        try:
            result, printed = call(name, gradient_check_n, _copy(parameters), _copy(gradients), X, Y,
                                   none_ok=True)
        except Stop as stop:
            raise _convention_problem(gradient_check_n, parameters, gradients, X, Y) or stop from None
        _check_returned(result, printed)
        trace = _trace_points(gradient_check_n, parameters, gradients, X, Y)
        report, _ = quiet(check_checker, lambda p, g: gradient_check_n(p, g, X, Y), parameters,
                          lambda p: course.forward_propagation_n(X, Y, p)[0], gradients, m=X.shape[1])
    except Stop as stop:
        return stop.feedback
    except ValueError as e:
        return verdict(name, [f"the checker doctor could not run it: {e}"])
    n = _theta(parameters).size
    problems = _trace_problems(trace, n)
    shown = report
    if not report.correct and not problems:
        slip = _arithmetic(report, gradients, n)
        where = ("it evaluates J at the right points (theta + eps e_i and theta - eps e_i, for every entry), so "
                 "the mistake is in turning those values into the difference" if trace is not None else "")
        if slip:
            problems.append((where + ": " if where else "") + slip)
            shown = copy.copy(report)
            shown.diagnosis = []  # the line above names the slip from the numbers: the doctor's causes add nothing
        else:
            problems.append(where + ": see the doctor's report below." if where else "see the doctor's report below.")
    if report.correct and not problems and not _course_formula(report):
        problems.append(_other_formula(report))
    if problems:
        lines = verdict(name, problems).lines + ["", "The checker doctor (nnlib.check_checker):", indent(str(shown))]
        return Feedback(name, False, lines)
    # 4 decimals: the doctor accepts 1/3 and 1 to 1e-3; more digits would show rounding as a mismatch
    return verdict(name, [], [
        "on the gradients the checker doctor handed it, it reports the course's difference: exact "
        f"{fmt(report.on_exact)}, " + ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in report.answers.items()
                                                if k != "exact"),
        f"it evaluates J at theta + eps e_i and at theta - eps e_i for each of the {n} entries"
        + _also_at_theta(trace) if trace is not None else "where it evaluates J was not traced: it does not "
        "call forward_propagation_n by that name for every entry"])


def _check_returned(result, printed):
    """Feedback unless gradient_check_n returned one number (the difference)."""
    name = "gradient_check_n"
    if result is None:
        if _number_in(printed) is None:
            raise not_answered(name, "gradient_check_n returns None and prints no difference")
        raise fail(name, "it prints the difference but returns None: end it with `return difference`; the "
                         "code that calls a check (if difference > 2e-7: ...) uses what it returns.")
    if isinstance(result, (bool, np.bool_)):
        raise fail(name, f"it returns {result}, a verdict, not the difference: return the number "
                         "||grad - gradapprox|| / (||grad|| + ||gradapprox||) itself (and print a verdict if "
                         "you like).")
    if isinstance(result, (str, bytes, tuple, list, dict)):
        raise fail(name, f"it returns {a_kind(result)}, {excerpt(str(result))}: return the difference "
                         "alone, as one number, so that the code after it can compare it with 2e-7.")
    if np.size(result) != 1 or np.asarray(result).dtype.kind not in "fiu":
        raise fail(name, f"it returns {a_kind(result)}; return the difference, one number.")


def _arithmetic(report, gradients, n):
    """The slip that the checker's answers show, when they name one: a flat gradapprox broadcast
    against the column grad, or a numeric gradient epsilon^2 times the true one; else None."""
    answers = report.answers
    factors = {"exact": 1.0, "doubled": 2.0, "sign_flipped": -1.0}
    if not all(isinstance(answers.get(k), (float, np.floating)) for k in factors):
        return None
    g = course.gradients_to_vector(gradients)

    def broadcast(f):  # (n, 1) - (n,) is the (n, n) array of every entry minus every other
        return np.linalg.norm(f * g - np.ravel(g)) / (np.linalg.norm(f * g) + np.linalg.norm(g))
    if all(near(answers[k], broadcast(f), 1e-4) for k, f in factors.items()):
        return (f"its answers are those of grad - gradapprox with one of them a column ({n}, 1) and the other a flat "
                f"({n},) array (exact gradients: {answers['exact']:.4g}). numpy broadcasts that difference to a "
                f"({n}, {n}) array of every entry minus every other. Keep both ({n}, 1): gradapprox = "
                "np.zeros_like(theta) filled entry by entry, or a list made into an array with .reshape(-1, 1).")
    c = report.numeric_ratio
    if c is not None and 0 < c < 1e-6:
        # one digit: the fitted factor moves by a few % between CPUs (J's rounding, over a tiny numeric gradient)
        return (f"its numeric gradient is about {c:.0e} times the true one, epsilon^2 for epsilon = "
                f"{np.sqrt(c):.0e}, so it returns about 1 whatever the gradients. It multiplies J_plus - J_minus by "
                "epsilon / 2 instead of dividing by 2 epsilon: `(J_plus - J_minus) / 2 * epsilon` is "
                "((J_plus - J_minus) / 2) * epsilon in Python. Write `/ (2 * epsilon)`.")
    return None


def _course_formula(report):
    """Whether the doctor read the course's norm ratio of central differences in its answers
    (a report without formula fits, from an older doctor, is taken at its word)."""
    fits = getattr(report, "fits", None)
    return fits is None or any(f.numeric == "central" and f.formula == "norm ratio" for f in fits)


_NAMED = {"max relative error": "CS231n's max relative error, max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)",
          "per parameter": "the largest of the parameters' own differences, one parameter at a time"}


def _other_formula(report):
    names = list(dict.fromkeys(_NAMED.get(f.formula, f.formula) for f in report.fits if f.numeric == "central"))
    said = " or ".join(names) if names else "a formula other than the course's"
    return (f"it tells right gradients from wrong ones, but not with the exercise's formula: its answers are those "
            f"of {said} (exact {fmt(report.on_exact)}). The exercise asks for the course's relative difference, "
            "||grad - gradapprox|| / (||grad|| + ||gradapprox||): the number whose threshold, 2e-7, this "
            "notebook is about (other formulas have other thresholds).")


def _theta(parameters):
    """The course's theta, flattened: W1, b1, ..., b3 in order."""
    return np.concatenate([np.ravel(parameters[key]) for key in course.KEYS])


def _copy(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _with_global(fn, name, value, *args):
    """Call fn(*args) quietly with its global `name` replaced by value for that one call."""
    space = fn.__globals__
    real = space[name]
    space[name] = value
    try:
        return quiet(fn, *args)[0]
    finally:
        space[name] = real


def _convention_problem(gradient_check_n, parameters, gradients, X, Y):
    """Feedback when the learner's function fails only because it expects the other return
    convention of dictionary_to_vector (theta alone, or the course's (theta, keys)); else None."""
    space = getattr(gradient_check_n, "__globals__", {})
    given = space.get("dictionary_to_vector")
    if not callable(given):
        return None
    try:
        pair = isinstance(given(_copy(parameters)), tuple)
        other = (lambda p: given(p)[0]) if pair else (lambda p: (given(p), [k for k in course.KEYS
                                                                           for _ in range(p[k].size)]))
        _with_global(gradient_check_n, "dictionary_to_vector", other, _copy(parameters), _copy(gradients), X, Y)
    except (Exception, SystemExit):
        return None  # it fails either way: the feedback on its own error stands
    if pair:
        return fail("gradient_check_n", "dictionary_to_vector returns two things, (theta, keys), as the "
                    "course's does, and your code uses the pair as if it were theta. Write `theta, _ = "
                    "dictionary_to_vector(parameters)`: with that one change your function runs.")
    return fail("gradient_check_n", "the dictionary_to_vector your function calls returns theta alone, and your "
                "code unpacks two things from it (the course's returns (theta, keys)). Use the one this notebook "
                "defines, or write `theta = dictionary_to_vector(parameters)`: with that one change it runs.")


def _number_in(text):
    """The last number printed on a line that mentions a difference, or None."""
    found = [float(x) for line in text.splitlines() if "diff" in line.lower()
             for x in re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", line)]
    return found[-1] if found else None


def _trace_points(gradient_check_n, parameters, gradients, X, Y):
    """The parameter vectors at which gradient_check_n evaluates the cost, minus theta.

    The learner's function calls forward_propagation_n by its global name; for one call it
    is swapped for a recorder that notes theta and then calls the real one. Returns a list of
    vectors, or None when the function does not call it by that name (at least once per entry).
    """
    space = getattr(gradient_check_n, "__globals__", None)
    if space is None or "forward_propagation_n" not in space:
        return None
    real, theta = space["forward_propagation_n"], _theta(parameters)
    points = []

    def recorder(X_, Y_, params):
        points.append(_theta(params) - theta)
        return real(X_, Y_, params)

    try:
        _with_global(gradient_check_n, "forward_propagation_n", recorder, _copy(parameters), _copy(gradients), X, Y)
    except (Exception, SystemExit):
        return None
    # fewer evaluations than entries: it reaches the cost some other way too, so the trace is not the whole story
    return points if len(points) >= _theta(parameters).size else None


def _also_at_theta(points, epsilon=1e-7):
    at_theta = sum(1 for p in points if not np.any(np.abs(p) > epsilon / 2))
    return f" (and {at_theta} time{'s' if at_theta > 1 else ''} at theta itself)" if at_theta else ""


def _single_steps(points, moved, sign):
    """Whether some evaluation moves exactly one entry, by sign ("+" or "-") eps."""
    return any(len(idx) == 1 and (p[idx[0]] > 0) == (sign == "+") for p, idx in zip(points, moved, strict=True))


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
        head = (f"it evaluates J at points where several entries of theta are moved at once: the "
                f"{_ordinal(k + 1)} time it evaluates J, entries {shown} are {'both' if len(idx) == 2 else 'all'} "
                f"moved by {signs}epsilon. A step taken for an earlier entry was never undone, so theta {sign} "
                f"eps e_i is really theta {sign} eps (e_1 + ... + e_i). ")
        if signs in "+-" and _single_steps(points, moved, "-" if signs == "+" else "+"):
            # the other side's steps are clean, so theta itself is intact: only one copy keeps its steps
            copy_name = "thetaplus" if signs == "+" else "thetaminus"
            return [head + f"Its {copy_name} is copied once, before the loop, and keeps every entry's step: copy "
                    f"theta inside the loop, for every entry ({copy_name} = np.copy(theta))."]
        return [head + "Both its copies start from a theta that keeps the steps: `thetaplus = theta` or "
                "`thetaplus = theta[:]` is the same array (or a view of it) under a second name, and writing into "
                "it writes into theta. Make a fresh copy for every entry, inside the loop, for thetaplus and for "
                "thetaminus: np.copy(theta)."]
    at_theta = sum(1 for idx in moved if len(idx) == 0)
    plus = {int(idx[0]) for p, idx in zip(points, moved, strict=True) if len(idx) == 1 and p[idx[0]] > 0}
    minus = {int(idx[0]) for p, idx in zip(points, moved, strict=True) if len(idx) == 1 and p[idx[0]] < 0}
    if at_theta and (not minus or not plus):
        if len(points) <= n + 1:
            return [f"J is evaluated {len(points)} times for {n} entries: once at theta itself and once at "
                    f"theta {'+' if plus else '-'} eps e_i for each entry: a one-sided difference, whose "
                    "error shrinks like eps, not eps^2. Use the central difference: J(theta + eps e_i) and "
                    "J(theta - eps e_i), divided by 2 eps."]
        first, second = ("+", "-") if plus else ("-", "+")
        return [f"{at_theta} of the {len(points)} evaluations of J are at theta itself, where theta {second} eps e_i "
                f"was meant: each time the second step only undid the first. Two ways code does that, and the "
                f"numbers cannot tell them apart: it nudges theta in place and steps back by eps (theta[i] "
                f"{first}= epsilon, J, theta[i] {second}= epsilon, J: the second step lands on theta; step by "
                f"2 * epsilon, or restore theta[i] first); or both copies share theta's memory (thetaplus = theta "
                f"without np.copy), so the {first}eps was still there when the {second}eps step began: make each "
                "a fresh np.copy(theta)."]
    if len(plus) < n or len(minus) < n:
        return [f"J is evaluated at theta + eps e_i for {len(plus)} and at theta - eps e_i for {len(minus)} "
                f"of the {n} entries: every entry needs both."]
    return []
