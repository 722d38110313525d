"""What a learner's gradient checker may compute, right and wrong.

A checker turns the gradients `a` it is handed and its own numeric gradient `n` into one
number. The comparisons learners write:

    norm ratio          ||a - n|| / (||a|| + ||n||)                      the course's (right)
    max relative error  max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)     CS231n's rel_error (right)
    per parameter       the worst of each parameter's norm ratio         (right)
    mean relative error mean_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)    (right)
    no denominator      ||a - n||                                        (wrong: depends on the size of g)
    no square roots     ||a - n||^2 / (||a||^2 + ||n||^2)                (wrong: squares the difference)
    norm of the sum     ||a - n|| / ||a + n||                            (wrong: blows up when a = -n)

and the numeric gradients, at a step eps, entry i (e_i is 1 at entry i, 0 elsewhere):

    central          (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)   (right)
    one-sided        (J(theta + eps e_i) - J(theta)) / eps
    half             (J(theta + eps e_i) - J(theta)) / (2 eps)   J(theta - eps) evaluated at theta
    plus not reset   theta + eps (e_1 + ... + e_i): theta_plus copied once, before the loop
    minus not reset  theta - eps (e_1 + ... + e_i): theta_minus copied once, before the loop
    c x g            the true gradient g times a constant c (2: divided by eps, not 2 eps; eps^2:
                     (J+ - J-) / 2 * eps; 0: the perturbation never reaches the cost; -1: J- - J+)

The doctor evaluates the cost at the very points a checker's loop would, so a checker that
uses one of these reports, to many digits, what `predict` says it reports (`fits`).
"""

from dataclasses import dataclass

import numpy as np

from .checks import Progress, relative_difference

STEPS = (1e-7, 1e-5)  # the course's epsilon, and CS231n's h: the steps whose fingerprints are taken


def _flat(parts):
    return np.concatenate([np.ravel(p) for p in parts])


def _norm(x):
    return np.linalg.norm(x)  # a NumPy float: x / 0 is inf or nan, as in the learner's code, not an error


def _max_relative(a, n):
    return (np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n)), initial=0.0))


def _mean_relative(a, n):
    return np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n)))


def _quiet(f):
    """Formulas are tried on every hypothesis; 0/0 is a legitimate prediction (NaN), not a warning."""
    def wrapped(a, n):
        with np.errstate(all="ignore"):
            return float(f(a, n))
    return wrapped


FORMULAS = {  # name: (function of the lists of per-parameter arrays, right?)
    "norm ratio": (_quiet(lambda a, n: relative_difference(_flat(a), _flat(n))), True),
    "max relative error": (_quiet(lambda a, n: _max_relative(_flat(a), _flat(n))), True),
    "per parameter": (_quiet(lambda a, n: max(relative_difference(x, y) for x, y in zip(a, n, strict=True))), True),
    "mean relative error": (_quiet(lambda a, n: _mean_relative(_flat(a), _flat(n))), True),
    "no denominator": (_quiet(lambda a, n: _norm(_flat(a) - _flat(n))), False),
    "no square roots": (_quiet(lambda a, n: _norm(_flat(a) - _flat(n)) ** 2
                               / (_norm(_flat(a)) ** 2 + _norm(_flat(n)) ** 2)), False),
    "norm of the sum": (_quiet(lambda a, n: _norm(_flat(a) - _flat(n)) / _norm(_flat(a) + _flat(n))), False),
}
RIGHT_NUMERIC = ("central",)


@dataclass
class Fit:
    numeric: str        # a numeric gradient above ("central", "half", ..., "c x g")
    formula: str        # a comparison above
    predicted: dict     # variant -> what a checker computing these reports
    step: float = None  # its eps, when the fit is to many digits (a fingerprint)
    c: float = None     # the constant, for "c x g"
    pairing: str = ""   # "sorted": gradients flattened in sorted key order, parameters in their own

    @property
    def right(self):
        return self.numeric in RIGHT_NUMERIC and FORMULAS[self.formula][1] and not self.pairing


def fingerprints(J, params, keys, eps, single=True, cumulative=False, progress=None):
    """The numeric gradients above at step eps, from J at the very points a checker's loop
    evaluates: {(name, eps): [per-parameter flat arrays]}. single: central, one-sided and half
    (2 evaluations per entry); cumulative: plus and minus not reset (2 more, and the single ones'
    J(theta - eps e_i) and J(theta + eps e_i), so 4 if single is False). J(params) -> float;
    params are never changed."""
    sizes = [np.size(params[k]) for k in keys]
    n = sum(sizes)
    bar = Progress(n * (2 + 2 * cumulative), "your cost where your checker's loop evaluates it", progress, unit="call")
    base = np.concatenate([np.ravel(params[k]) for k in keys])

    def at(theta):
        bar.step()
        out, start = {}, 0
        for k, size in zip(keys, sizes, strict=True):
            out[k] = theta[start:start + size].reshape(np.shape(params[k])).copy()
            start += size
        return J(out)

    out = {}
    try:
        J0 = J({k: np.array(params[k], copy=True) for k in keys})
        plus, minus = np.empty(n), np.empty(n)
        for i in range(n):
            t = base.copy()
            t[i] += eps
            plus[i] = at(t)
            t[i] = base[i] - eps
            minus[i] = at(t)
        if single:
            out[("central", eps)] = (plus - minus) / (2 * eps)
            out[("one-sided", eps)] = (plus - J0) / eps
            out[("half", eps)] = (plus - J0) / (2 * eps)
        if cumulative:
            plus_run, minus_run = base.copy(), base.copy()
            cumulative_plus, cumulative_minus = np.empty(n), np.empty(n)
            for i in range(n):
                plus_run[i] += eps
                cumulative_plus[i] = at(plus_run)
                minus_run[i] -= eps
                cumulative_minus[i] = at(minus_run)
            out[("plus not reset", eps)] = (cumulative_plus - minus) / (2 * eps)
            out[("minus not reset", eps)] = (plus - cumulative_minus) / (2 * eps)
    finally:
        bar.close()
    bounds = np.cumsum([0] + sizes)
    return {key: [v[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)] for key, v in out.items()}


def _close(observed, predicted, rel):
    if isinstance(observed, (bool, np.bool_)) or observed is None:
        return False
    if not np.isfinite(predicted) or not np.isfinite(observed):
        return bool(np.isnan(predicted) and np.isnan(observed)) or observed == predicted
    return abs(observed - predicted) <= rel * abs(predicted) + 1e-300


def _fits_all(answers, predicted, exact_rel, small_exact=False):
    """Every answer as predicted: the variants to 3 digits, the one on exact gradients to
    `exact_rel` (a fingerprint: many digits), or merely small when the prediction is 0."""
    for variant, observed in answers.items():
        p = predicted[variant]
        if variant == "exact" and small_exact:
            ok = not isinstance(observed, (bool, np.bool_)) and observed is not None and 0 <= observed < 1e-3
        else:
            ok = _close(observed, p, exact_rel if variant == "exact" else 1e-3)
        if not ok:
            return False
    return True


def fits(answers, variants, exact, prints, sorted_pairing=None):
    """Every (numeric gradient, formula) that explains all the checker's answers.

    answers: variant -> the number the checker reported; variants: variant -> the gradients
    handed to it (per-parameter flat arrays); exact: the true gradient, per parameter;
    prints: fingerprints(); sorted_pairing: the variants re-flattened in sorted key order, when
    that order differs from the parameters' own.
    """
    out = []
    d = answers.get("exact")
    factors = [1.0, 0.5, 2.0, 0.0, -1.0]
    if isinstance(d, float) and np.isfinite(d) and 0 < d < 1:
        # what the norm ratio's answer says c is: c or 1/c give the same answer, and no slip of a
        # learner's makes the numeric gradient a million times too large, while / 2 * eps makes it
        # eps^2 = 1e-14 times too small
        factors += [c for c in ((1 - d) / (1 + d), (1 + d) / (1 - d)) if c < 1e6]

    for c in factors:
        numeric = [c * g for g in exact]
        for name, (f, _) in FORMULAS.items():
            predicted = {v: f(a, numeric) for v, a in variants.items()}
            # the nominal factors to 5 digits; c = 0 exactly (1 - 2e-14 is c = 1e-14, not 0)
            if _fits_all(answers, predicted, 1e-15 if c == 0 else 1e-5, small_exact=c == 1.0):
                out.append(Fit("central" if c == 1.0 else "c x g", name, predicted, c=c))
    for (numeric_name, eps), numeric in prints.items():
        for name, (f, _) in FORMULAS.items():
            predicted = {v: f(a, numeric) for v, a in variants.items()}
            if _fits_all(answers, predicted, 1e-4):
                out.append(Fit(numeric_name, name, predicted, step=eps))
    if sorted_pairing:
        numeric = [_flat(exact)]
        for name, (f, _) in FORMULAS.items():
            if name == "per parameter":
                continue
            predicted = {v: f([_flat(a)], numeric) for v, a in sorted_pairing.items()}
            if _fits_all(answers, predicted, 1e-3):
                out.append(Fit("central", name, predicted, pairing="sorted"))
    return out


def predict(formula, variants, numeric):
    """What a checker computing `formula` on the numeric gradient `numeric` reports for each variant."""
    f = FORMULAS[formula][0]
    return {v: f(a, numeric) for v, a in variants.items()}
