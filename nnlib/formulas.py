"""What a learner's gradient checker may compute, right and wrong.

A checker turns the gradients `a` it is handed and its own numeric gradient `n` into one
number. The comparisons learners write:

    norm ratio          ||a - n|| / (||a|| + ||n||)                      the course's (right)
    L1 norm ratio       the same with sums of absolute values            (right)
    max relative error  max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)     CS231n's rel_error (right)
    per parameter       the worst of each parameter's norm ratio         (right)
    mean relative error mean_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)    (right)
    relative to numeric ||a - n|| / ||n||                                (right, on another scale)
    relative to yours   ||a - n|| / ||a||                                (right, on another scale)
    no denominator      ||a - n||                                        (wrong: depends on the size of g)
    no square roots     ||a - n||^2 / (||a||^2 + ||n||^2)                (wrong: squares the difference)
    norm of the sum     ||a - n|| / ||a + n||                            (wrong: blows up when a = -n)

and the numeric gradients, at a step eps, entry i (e_i is 1 at entry i, 0 elsewhere):

    central             (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)   (right)
    one-sided           (J(theta + eps e_i) - J(theta)) / eps
    backward one-sided  (J(theta) - J(theta - eps e_i)) / eps
    half                (J(theta + eps e_i) - J(theta)) / (2 eps)   J(theta - eps) evaluated at theta
    half backward       (J(theta) - J(theta - eps e_i)) / (2 eps)   J(theta + eps) evaluated at theta
    plus not reset      theta + eps (e_1 + ... + e_i): theta_plus copied once, before the loop
    minus not reset     theta - eps (e_1 + ... + e_i): theta_minus copied once, before the loop
    c x g               the true gradient g times a constant c (2: divided by eps, not 2 eps; eps^2:
                        (J+ - J-) / 2 * eps; 0: the perturbation never reaches the cost; -1: J- - J+)

Two kinds of fit. A "c x g" fit uses the doctor's exact gradient, not the checker's own
evaluations, so it holds to about 3 digits and cannot tell the numeric gradients above apart
(they differ by about eps). A fingerprint fit uses J at the very points a checker's loop
evaluates (`fingerprints`), so a checker that computes it reports, to many digits, what
`predict` says: when one fingerprint fits far better than another, the numbers rule the other out.
"""

from dataclasses import dataclass

import numpy as np

from .checks import Progress, relative_difference

STEPS = (1e-7, 1e-5)  # the course's epsilon, and CS231n's h: the steps whose fingerprints are taken
SMALL = 1e-3          # a "c x g" fit that predicts 0 accepts any answer below this: the checker's rounding


def _flat(parts):
    return np.concatenate([np.ravel(p) for p in parts])


def _norm(x, order=None):
    return np.linalg.norm(x, ord=order)  # a NumPy float: x / 0 is inf or nan, as in the learner's code


def _elementwise(a, n):
    return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))


def _quiet(f):
    """Formulas are tried on every hypothesis; 0/0 is a legitimate prediction (NaN), not a warning."""
    def wrapped(a, n):
        with np.errstate(all="ignore"):
            return float(f(a, n))
    return wrapped


def _on_flat(f):
    return _quiet(lambda a, n: f(_flat(a), _flat(n)))


FORMULAS = {  # name: (function of the lists of per-parameter arrays, right?)
    "norm ratio": (_on_flat(relative_difference), True),
    "L1 norm ratio": (_on_flat(lambda a, n: _norm(a - n, 1) / (_norm(a, 1) + _norm(n, 1))), True),
    "max relative error": (_on_flat(lambda a, n: np.max(_elementwise(a, n), initial=0.0)), True),
    "per parameter": (_quiet(lambda a, n: max(relative_difference(x, y) for x, y in zip(a, n, strict=True))), True),
    "mean relative error": (_on_flat(lambda a, n: np.mean(_elementwise(a, n))), True),
    "relative to numeric": (_on_flat(lambda a, n: _norm(a - n) / _norm(n)), True),
    "relative to yours": (_on_flat(lambda a, n: _norm(a - n) / _norm(a)), True),
    "no denominator": (_on_flat(lambda a, n: _norm(a - n)), False),
    "no square roots": (_on_flat(lambda a, n: _norm(a - n) ** 2 / (_norm(a) ** 2 + _norm(n) ** 2)), False),
    "norm of the sum": (_on_flat(lambda a, n: _norm(a - n) / _norm(a + n)), False),
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
    misfit: float = 0.0  # the largest relative distance between an answer and its prediction

    @property
    def right(self):
        return self.numeric in RIGHT_NUMERIC and FORMULAS[self.formula][1] and not self.pairing


def fingerprints(J, params, keys, eps, cumulative=False, progress=None):
    """The numeric gradients above at step eps, from J at the very points a checker's loop
    evaluates: {(name, eps): [per-parameter flat arrays]}. Two evaluations per entry (theta +- eps
    e_i) give central, both one-sided and both half differences; cumulative=True adds the two
    that never reset theta (two evaluations more per entry). J(params) -> float; params are
    never changed."""
    sizes = [np.size(params[k]) for k in keys]
    n = sum(sizes)
    bar = Progress(2 * n * (1 + cumulative), "your cost where your checker's loop evaluates it", progress,
                   unit="call")
    base = np.concatenate([np.ravel(params[k]) for k in keys])

    def at(theta):
        bar.step()
        out, start = {}, 0
        for k, size in zip(keys, sizes, strict=True):
            out[k] = np.empty_like(params[k])  # its memory layout too: the last digits of J depend on it
            out[k][...] = theta[start:start + size].reshape(np.shape(params[k]))
            start += size
        return J(out)

    try:
        J0 = J({k: np.array(params[k], copy=True) for k in keys})
        plus, minus = np.empty(n), np.empty(n)
        for i in range(n):
            t = base.copy()
            t[i] += eps
            plus[i] = at(t)
            t[i] = base[i] - eps
            minus[i] = at(t)
        out = {("central", eps): (plus - minus) / (2 * eps), ("one-sided", eps): (plus - J0) / eps,
               ("backward one-sided", eps): (J0 - minus) / eps, ("half", eps): (plus - J0) / (2 * eps),
               ("half backward", eps): (J0 - minus) / (2 * eps)}
        if cumulative:
            plus_run, minus_run = base.copy(), base.copy()
            run_plus, run_minus = np.empty(n), np.empty(n)
            for i in range(n):
                plus_run[i] += eps
                run_plus[i] = at(plus_run)
                minus_run[i] -= eps
                run_minus[i] = at(minus_run)
            out[("plus not reset", eps)] = (run_plus - minus) / (2 * eps)
            out[("minus not reset", eps)] = (plus - run_minus) / (2 * eps)
    finally:
        bar.close()
    bounds = np.cumsum([0] + sizes)
    return {key: [v[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)] for key, v in out.items()}


def _misfit(answers, f, variants, numeric, tolerance):
    """(the largest relative distance between an answer and what formula f predicts for it, the
    predictions), or None as soon as one answer is beyond `tolerance` (variant -> allowed relative
    distance). A prediction of exactly 0 (the checker's numeric gradient equals what it is handed)
    allows any answer below SMALL: the checker's own rounding, which a "c x g" prediction does not
    carry. The answer on exact gradients is tried first: it rules out most formulas at once."""
    worst, predicted = 0.0, {}
    for variant in sorted(answers, key=lambda v: v != "exact"):
        observed, p = answers[variant], f(variants[variant], numeric)
        predicted[variant] = p
        if isinstance(observed, (bool, np.bool_)) or observed is None:
            return None
        if not np.isfinite(p) or not np.isfinite(observed):
            if not (np.isnan(p) and np.isnan(observed)) and observed != p:
                return None
            continue
        if p == 0.0:
            if not abs(observed) < SMALL:
                return None
            continue
        distance = abs(observed - p) / abs(p)
        if distance > tolerance[variant]:
            return None
        worst = max(worst, distance)
    return worst, {v: predicted[v] for v in answers}


def fits(answers, variants, exact, prints, sorted_pairing=None):
    """Every (numeric gradient, formula) that explains all the checker's answers: the fingerprints
    that fit to many digits, else the "c x g" ones that fit to about 3.

    answers: variant -> the number the checker reported; variants: variant -> the gradients
    handed to it (per-parameter flat arrays); exact: the true gradient, per parameter;
    prints: fingerprints(); sorted_pairing: the variants re-flattened in sorted key order, when
    that order differs from the parameters' own.
    """
    tight = []
    for (numeric_name, eps), numeric in prints.items():
        for name, (f, _) in FORMULAS.items():
            found = _misfit(answers, f, variants, numeric, dict.fromkeys(answers, 1e-4))
            if found:
                tight.append(Fit(numeric_name, name, found[1], step=eps, misfit=found[0]))
    if tight:
        # a fingerprint that misses by ten times more than the best one is ruled out by the numbers
        # (the misfit is the worst of all the answers: for the wrong one to come this close on every
        # one of them by chance, it would have to differ from the right one by the rounding alone)
        best = min(f.misfit for f in tight)
        return [f for f in tight if f.misfit <= max(10 * best, 1e-12)]

    out = []
    d = answers.get("exact")
    factors = [1.0, 0.5, 2.0, 0.0, -1.0]
    if isinstance(d, float) and np.isfinite(d) and 0 < d < 1:
        # what the norm ratio's answer says c is: c or 1/c give the same answer, and no slip of a
        # learner's makes the numeric gradient a million times too large, while / 2 * eps makes it
        # eps^2 = 1e-14 times too small
        factors += [c for c in ((1 - d) / (1 + d), (1 + d) / (1 - d))
                    if c < 1e6 and not any(abs(c - f) <= 1e-3 * abs(f) for f in factors)]
    for c in factors:
        numeric = [c * g for g in exact]
        # the variants to 3 digits; the answer on exact gradients to 5 (c = 0 exactly: 1 - 2e-14 is
        # c = 1e-14, not 0)
        tolerance = dict.fromkeys(answers, 1e-3) | {"exact": 1e-15 if c == 0 else 1e-5}
        for name, (f, _) in FORMULAS.items():
            found = _misfit(answers, f, variants, numeric, tolerance)
            if found:
                out.append(Fit("central" if c == 1.0 else "c x g", name, found[1], c=c, misfit=found[0]))
    if sorted_pairing:
        numeric = [_flat(exact)]
        for name, (f, _) in FORMULAS.items():
            if name in ("per parameter", "max relative error"):  # per parameter has no order; a max of
                continue  # entries reaches 1 at any pair of opposite signs, whatever the variant
            found = _misfit(answers, lambda a, n, f=f: f([_flat(a)], n), sorted_pairing, numeric,
                            dict.fromkeys(answers, 1e-3))
            if found:
                out.append(Fit("central", name, found[1], pairing="sorted", misfit=found[0]))
    return out


def predict(formula, variants, numeric):
    """What a checker computing `formula` on the numeric gradient `numeric` reports for each variant."""
    f = FORMULAS[formula][0]
    return {v: f(a, numeric) for v, a in variants.items()}
