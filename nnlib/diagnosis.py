"""Read a check's numbers the way an experienced person would, and say only what they show.

`diagnose(report)` reads a gradient check (a CheckReport); `judge_checker(report)` reads what a
learner's checker answered (a doctor.CheckerReport). Both are pure functions of the numbers.

Every sentence is a Statement: its text starts with how sure it is, and it carries the claim it
makes (statement.claim) and the numbers it rests on (statement.evidence). "certain:" is used
only when no other cause the doctor knows fits those numbers; where several fit, "likely:"
names each. A fact read straight off the numbers (which rows fail, a ratio) is certain.

Reading a difference: if every analytic gradient is r times the numeric one, then
    d = ||r n - n|| / (|r| ||n|| + ||n||) = |1 - r| / (1 + |r|),
so 1/3 means r = 2 (or 1/2), (M-1)/(M+1) means r = M or 1/M, and 1 means r = -1 or 0.
"""

import re

import numpy as np

from .checks import EPSILON, format_difference, format_ratio, grad_name


class Statement(str):
    """One sentence of a diagnosis ("certain: ..." or "likely: ..."). It is a str, so it prints
    and compares as one; .claim says what it asserts, .evidence the numbers it rests on."""

    def __new__(cls, text, claim=None, **evidence):
        s = super().__new__(cls, text)
        s.claim, s.evidence = claim, evidence
        return s

    def __reduce__(self):  # copies and pickles keep the claim and the evidence
        return (_statement, (str(self), self.claim, self.evidence))

    @property
    def sure(self):
        return self.split(":", 1)[0]


def _statement(text, claim, evidence):
    return Statement(text, claim, **evidence)


def certain(text, claim, **evidence):
    return Statement(f"certain: {text}", claim, **evidence)


def likely(text, claim=None, **evidence):
    return Statement(f"likely: {text}", claim, **evidence)


def conclude(causes, claim_name, lead="", **evidence):
    """The cause the numbers leave: "certain:" when exactly one of `causes` (text, name) fits,
    "likely:" naming each when several do."""
    if not causes:
        return None
    if len(causes) == 1:
        text, name = causes[0]
        return certain(lead + text, (claim_name, name), **evidence)
    listed = "; or ".join(text for text, _ in causes)
    return likely(f"{lead}one of these causes fits the numbers: {listed}",
                  (claim_name, tuple(name for _, name in causes)), **evidence)


def _near(x, target, tol=1e-3):
    return bool(np.isfinite(x) and abs(x - target) <= tol * max(abs(target), 1e-12))


def uniform_difference(r):
    """The difference that every gradient off by the same factor r gives."""
    return abs(1 - r) / (1 + abs(r))


def named_factor(r, m=None):
    """What a clean factor analytic/numeric is, in words, or None."""
    known = [(-1.0, "its analytic gradient has the wrong sign"),
             (2.0, "its analytic gradient is twice the numeric one"),
             (0.5, "its analytic gradient is half the numeric one"),
             (0.0, "its analytic gradient is zero")]
    if m and m > 1:
        known = [(1.0 / m, f"its analytic gradient is 1/m = 1/{m} of the numeric one"),
                 (float(m), f"its analytic gradient is m = {m} times the numeric one")] + known
    for target, text in known:
        if (target == 0.0 and abs(r) < 1e-6) or (target != 0.0 and _near(r, target)):
            return text
    for target in (3.0, 4.0, 1 / 3, 0.25):
        if _near(r, target):
            return f"its analytic gradient is {r:.4g} times the numeric one"
    return None


def _uniform_causes(r, m, report):
    """(text, name) of every cause the doctor knows for all gradients off by the same factor r."""
    if report.params_written and _near(r, 2.0):  # nnlib's own check wrote its +eps into the parameters
        return [("the numeric gradient is half the analytic one: the check's +eps perturbation leaked into the "
                 "parameters (a shallow copy), so J(theta-eps) was evaluated at theta", "check leaked")]
    if m and m > 1 and _near(r, 1 / m):
        return [("the 1/m is applied twice in backprop (say in dZ and again in dW and db; once is right, "
                 "wherever it goes)", "1/m twice"),
                (f"your cost sums over the m = {m} examples where backprop averages (the cost's 1/m is missing)",
                 "cost not averaged")]
    if m and m > 1 and _near(r, m):
        return [("the 1/m of the averaged cost is missing in backprop (it belongs once: in dZ of the output layer, "
                 "or in every dW and db as the course writes it)", "1/m missing"),
                ("your cost divides by m twice", "cost averaged twice")]
    if _near(r, -1.0):
        return [("the sign is flipped in backprop (dZ = Y - A instead of A - Y)", "sign flipped"),
                ("your cost has lost its minus sign (the log-likelihood instead of its negative)", "cost sign")]
    if abs(r) < 1e-6:
        return [("every analytic gradient is zero: never computed, or overwritten with zeros", "all zero")]
    return [(f"backprop multiplies every gradient by {format_ratio(r)}", "backprop factor"),
            (f"your cost is 1/{format_ratio(r)} of what backprop differentiates (a factor in the cost, such "
             "as 1/2 or 1/m, that backprop does not have, or the other way round)", "cost factor")]


def _layer(name):
    """('w', '1') for W1 or w1, ('b', '1') for b1 or B1; None for other names."""
    found = re.fullmatch(r"([wb])(\w*)", str(name).lower())
    return (found.group(1), found.group(2)) if found else None


def diagnose(report):
    """Statements for a CheckReport, most important first."""
    out = []
    d, m = report.difference, report.batch
    if report.nonfinite:
        at_theta = [x for x in report.nonfinite if x.startswith("the cost (J")]
        nearby = [x for x in report.nonfinite if x.startswith("the cost at")]
        grads = [x for x in report.nonfinite if not x.startswith("the cost")]
        if at_theta:
            out.append(certain(f"NaN or infinity in {at_theta[0]} at your parameters: nothing can be checked. Look "
                               "for log(0) (a probability that underflowed: compute the cost from the logits), exp "
                               "overflow, or parameters that blew up (a learning rate too large).", ("cost nan",)))
        elif nearby:
            out.append(certain(f"NaN or infinity in {'; '.join(nearby)}, though it is finite at your parameters: "
                               "those numeric gradients are NaN, so the check cannot pass, whatever your gradients. "
                               "Look at what your cost does on some calls and not others (a counter, a random "
                               "draw, a division that can reach 0).", ("cost nan nearby",)))
        names = {grad_name(row.name): row.name for row in report.per_parameter}
        out += [certain(f"NaN or infinity in your {x} (the cost is finite): backprop produces it.",
                        ("gradient nan", names.get(x, x))) for x in grads]
        return out
    if report.keep_prob < 1.0 and report.masks == "fresh" and not report.passed:
        out.append(certain("fresh dropout masks on every forward pass: J(theta+eps) and J(theta-eps) come from "
                           "different networks, so the difference measures the masks, not backprop. Freeze the "
                           "masks (or set keep_prob = 1) while checking.", ("cost random",)))
        return out
    if not report.cost_repeatable:
        out.append(certain("your cost gave two different values for the same parameters, so no gradient check "
                           "can be read: J(theta+eps) - J(theta-eps) measures what changed between the calls, "
                           "not the gradient. Something random inside it (fresh dropout masks, a reshuffled "
                           "batch, noise) must be frozen while checking: draw it once, outside the cost, and "
                           "reuse it (or set keep_prob = 1).", ("cost random",)))
        return out
    if report.cost_float32:
        out.append(certain(f"every one of the {report.forward_passes} values your cost returned is exactly a float32 "
                           "number, which a float64 computation gives by chance about once in 500 million (its "
                           "last 29 bits all zero): your cost is computed in float32 and then converted (float(), "
                           ".item()). float32 keeps about 7 digits, so J(theta+eps) - J(theta-eps) is rounding "
                           "noise and no gradient check can be read. Compute the cost in float64: cast X, Y and "
                           "the parameters with .astype(np.float64), and drop dtype=np.float32 in the forward pass.",
                           ("cost float32",), calls=report.forward_passes))
        return out
    if report.cost_noisy:
        noise, ulp = report.cost_noise, np.spacing(abs(report.cost_value))
        out.append(certain(f"your cost carries rounding noise far beyond float64's: J(theta+eps) - 2 J + "
                           f"J(theta-eps), eps^2 J'' for a smooth float64 cost (a few times J's last bit, {ulp:.1e}), "
                           f"is typically {noise:.1e} here, {noise / ulp:.1e} times that, so no gradient check can "
                           "be read.", ("cost noisy",), noise=noise))
        out.append(likely("something inside the cost is float32 (X, Y or the parameters cast with "
                          ".astype(np.float32), or dtype=np.float32): compute it in float64 throughout."))
        return out
    if report.params_written:
        out.append(certain("the check WROTE INTO YOUR PARAMETERS: its perturbed copies shared memory with your "
                           "arrays (dict.copy() copies the dict, not the arrays). The values were restored"
                           + ("." if report.params_unchanged else ", but they had changed."), ("check wrote",)))
    elif not report.params_unchanged:
        out.append(certain("your parameters CHANGED during the check (your forward or backward code writes into "
                           "them); they have been restored.", ("params changed",)))
    if report.cost_writes:
        out.append(certain(f"your cost writes into what it is given ({', '.join(report.cost_writes)}): the check "
                           "gave it copies, so its numbers stand, but in training such a cost changes your "
                           "parameters behind your back.", ("cost writes", frozenset(report.cost_writes))))
    if report.backward_writes:
        written = " and ".join(report.backward_writes)
        out.append(certain(f"backward wrote into {written}, the data it was given: an in-place operation (X *= ..., "
                           "or dZ = X and then dZ[...] = 0). The check gave it copies, so its numbers stand, but "
                           f"in your own code {written} {'is' if len(report.backward_writes) == 1 else 'are'} "
                           "different after backward.", ("backward writes", frozenset(report.backward_writes))))
    if report.changed_cache_keys:
        out.append(certain(f"backward changed the cache it was given ({', '.join(report.changed_cache_keys)}): an "
                           "in-place operation. " + (
                               "The check passes anyway, because nothing read that entry after it was damaged, "
                               "but any later use of the cache gets the damaged values." if report.passed else
                               "Whatever reads that entry after the damage gets wrong values."),
                           ("cache changed", frozenset(report.changed_cache_keys))))
    if report.passed:
        out.append(_agrees(report))
        return out
    if report.kink_only:
        out.append(_kinks_only(report))
        return out
    reading = _epsilon_reading(report)
    if reading:  # the errors are epsilon's: no line of backprop is to blame
        out.append(reading)
        return out

    rows = [r for r in report.per_parameter if np.isfinite(r.ratio)]
    r = report.ratio
    uniform = (len(rows) == len(report.per_parameter) and rows and np.isfinite(r)
               and all(_near(row.ratio, r) or (abs(row.ratio) < 1e-9 and abs(r) < 1e-9) for row in rows)
               and _near(uniform_difference(r), d, 1e-3))
    if uniform:
        out.append(certain(f"every parameter has the same ratio analytic/numeric r = {format_ratio(r)}, and "
                           f"|1-r|/(1+|r|) = {uniform_difference(r):.6f} is the difference.",
                           ("uniform ratio", r), ratio=r, difference=d))
        out.append(conclude(_uniform_causes(r, m, report), "cause", ratio=r, m=m))
        if m is None and not named_factor(r):
            out.append(likely("if r is 1/m or m for your number of examples m, the 1/m of the averaged cost is "
                              "applied twice or missing (pass m=... to have this checked)."))
        return out

    bad = [row for row in report.per_parameter if not row.passed]
    good = [row for row in report.per_parameter if row.passed]
    if report.kinks:
        out.append(likely(f"{report.kinks} entr{'y sits' if report.kinks == 1 else 'ies sit'} within epsilon of a "
                          "kink (a ReLU at 0): there theta+eps and theta-eps fall on different sides and the "
                          "central difference averages two slopes, so the numeric gradient is wrong there, not "
                          "backprop. Check another batch or seed: a kink moves, a bug stays.", kinks=report.kinks))
        if d < 1e-2 and not any(row.note for row in bad):
            return out
    if bad:
        out.append(certain(f"failing: {', '.join(row.name for row in bad)}"
                           + (f"; agreeing: {', '.join(row.name for row in good)}." if good else "."),
                           ("failing", frozenset(row.name for row in bad)),
                           rows={row.name: row.difference for row in report.per_parameter}))
    out += _rows_read(bad, good, m, report)
    if d < 1e-4:
        out.append(likely("a small failure: look for kinks (an entry of Z within epsilon of 0) or rounding; an "
                          "epsilon sweep tells (a difference that grows as epsilon shrinks is rounding)."))
    elif not good and d > 0.5:
        out.append(likely("the analytic and numeric gradients hardly resemble each other: check that backward "
                          "uses the same data and the same network as the cost."))
    return out


def _kinks_only(report):
    rows = [row for row in report.per_parameter if row.kinks]
    where = ", ".join(f"{row.kinks} in {row.name}" for row in rows)
    return likely(f"backprop is right: the check fails only at the {report.kinks} entries that straddle a kink "
                  f"({where}): a ReLU input within epsilon of 0 (exactly 0, say, for an all-zero example with b = 0). "
                  "There theta+eps and theta-eps fall on different sides: the central difference averages the two "
                  "slopes, while backprop takes one of them (ReLU'(0) = 0 by convention), and at each of these "
                  "entries your gradient is one of the two one-sided slopes. Without them the difference is "
                  f"{format_difference(report.without_kinks)}. To confirm, check another batch, seed or set of "
                  "parameters: a kink moves, a bug stays.", ("kinks only",), kinks=report.kinks,
                  without=report.without_kinks)


def _epsilon_reading(report):
    """"likely: rounding" or "likely: truncation" when the errors are what epsilon makes, else None.

    Rounding: J is known to its last bit, spacing(J), so a numeric entry is no better than
    spacing(J) / (2 eps) (a cost of many terms loses a few hundred times that at worst). When the
    median error is at that limit and the worst within 1000 times it, rounding explains them.
    Truncation: the central difference's error grows like eps^2; with a large epsilon and every
    ratio within a few parts in a thousand of 1, no factor bug fits. report.second_look, when there
    is one (nnlib.check runs it), is the same check at another epsilon: the evidence that decides."""
    limit, eps = report.rounding_limit, report.epsilon
    worst = max((row.max_abs_error for row in report.per_parameter), default=0.0)
    at_limit = report.median_error is not None and np.isfinite(limit) and report.median_error <= 3 * limit \
        and worst <= 1000 * limit
    look = report.second_look
    moved = look is not None and (look["passed"] or look["difference"] < report.difference / 10)
    then = (f" At epsilon = {look['epsilon']:g} the same entries give {format_difference(look['difference'])}"
            f" ({'PASS' if look['passed'] else 'FAIL'}).") if look is not None else ""
    if at_limit and (eps <= EPSILON or moved):
        return likely(f"rounding (epsilon = {eps:g} is too small for this cost): J = {report.cost_value:.6g} is "
                      f"known to its last bit, {np.spacing(abs(report.cost_value)):.1e}, which moves each numeric "
                      f"entry by about spacing(J)/(2 eps) = {limit:.1e}; the median error is "
                      f"{report.median_error:.1e}, {'at' if report.median_error > limit / 10 else 'below'} that "
                      f"limit (the largest {worst:.1e}). At this epsilon the "
                      "check can neither find a bug nor clear backprop: use a larger one (1e-7, or 1e-5 for a "
                      f"large cost).{then}", ("epsilon", "rounding"), limit=limit, median=report.median_error)
    ratios = [row.ratio for row in report.per_parameter if np.isfinite(row.ratio)]
    near_one = ratios and all(abs(r - 1) < 1e-2 for r in ratios) and report.difference < 1e-2
    if eps > EPSILON and ((look is not None and moved and look["epsilon"] < eps) or (eps >= 1e-4 and near_one)):
        return likely(f"truncation (epsilon = {eps:g} is large): the central difference's error grows like "
                      f"epsilon^2, and a large step also reaches more ReLU kinks. Every ratio analytic/numeric is "
                      f"within {max(abs(r - 1) for r in ratios):.1e} of 1, which no factor bug gives: check at "
                      f"epsilon = 1e-7.{then}", ("epsilon", "truncation"))
    return None


def _agrees(report):
    d = f"difference {report.difference:.1e} < {report.threshold:g}"
    if report.epsilon != 1e-7:
        d += f" at epsilon = {report.epsilon:g}"
    unseen = [row for row in report.per_parameter if row.note == "rounding" and row.difference >= 0.1]
    if unseen:  # their own differences are large, but their errors drown in J's rounding: not checked
        names = ", ".join(grad_name(row.name) for row in unseen)
        return likely(f"backprop agrees with the numeric gradient overall ({d}), but not where the check cannot see: "
                      f"{names} {'fails' if len(unseen) == 1 else 'fail'} on {'its' if len(unseen) == 1 else 'their'} "
                      f"own with errors (up to {max(row.max_abs_error for row in unseen):.1e}) far below J's rounding "
                      f"limit, spacing(J)/(2 eps) = {report.rounding_limit:.1e} (J = {report.cost_value:.3g}), and "
                      "next to much larger gradients. Check with parameters and a cost of ordinary size.",
                      ("agrees",), unseen=[row.name for row in unseen])
    if report.method in ("loop", "fast") or (report.method == "sampled" and report.checked == report.entries):
        return certain(f"backprop agrees with the numeric gradient ({d}).", ("agrees",), difference=report.difference)
    if report.method == "sampled":
        return likely(f"backprop agrees on the {report.checked:,} entries checked ({d}), a sample of "
                      f"{report.entries or report.checked:,}: a wrong entry elsewhere would not show. "
                      "method='loop' checks every entry.", ("agrees",), checked=report.checked)
    return likely(f"backprop agrees along the {len(report.per_parameter) + 1} random directions checked ({d}): "
                  "a directional check sums over entries, so errors that cancel would not show.", ("agrees",))


def _listed(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _rows_read(bad, good, m, report):
    """What the failing rows say, gradient by gradient, and about a layer only where both of its
    gradients say the same."""
    out, explained = [], set()
    for row in bad:
        if row.note == "transposed":
            out.append(certain(f"{grad_name(row.name)} is the transpose of the right gradient (it is square, so the "
                               "shapes still matched): swap the factors, e.g. dZ A_prev^T, not A_prev dZ^T.",
                               ("transposed", row.name)))
            explained.add(row.name)
        elif row.note == "all zero":
            out.append(certain(f"{grad_name(row.name)} is all zeros while the numeric gradient is not: it is never "
                               "computed, or overwritten with zeros.", ("all zero", row.name)))
            explained.add(row.name)
    layers = {}
    for row in report.per_parameter:
        if _layer(row.name):
            layers.setdefault(_layer(row.name)[1], {})[_layer(row.name)[0]] = row
    alone = []  # failing with a named factor, on their own (their layer's other gradient agrees)
    for row in bad:
        what = named_factor(row.ratio, m)
        if row.name in explained or not what or not good:
            continue
        kind_layer = _layer(row.name)
        partner = layers.get(kind_layer[1], {}).get("b" if kind_layer[0] == "w" else "w") if kind_layer else None
        if partner is not None and not partner.passed and _near(partner.ratio, row.ratio):
            continue  # said once for the layer, below
        same = next((group for group in alone if _near(group[0].ratio, row.ratio)), None)
        alone.append([row]) if same is None else same.append(row)
        explained.add(row.name)
    for group in alone:
        r, what = group[0].ratio, named_factor(group[0].ratio, m)
        if len(group) == 1:
            row = group[0]
            out.append(certain(f"{row.name} has ratio {format_ratio(r)} ({what}), for {row.name} only: look at "
                               f"the line that computes {grad_name(row.name)}.", ("ratio", row.name, r)))
            continue
        names = [row.name for row in group]
        kinds = {(_layer(n) or ("?",))[0] for n in names}
        kind = kinds.pop() if len(kinds) == 1 else "?"
        every = kind != "?" and len(group) == sum((_layer(row.name) or ("?",))[0] == kind
                                                  for row in report.per_parameter)
        which = f"every d{'W' if kind == 'w' else 'b'}" if every else "these gradients, all"
        each = what.replace("its ", "each ")
        out.append(certain(f"{_listed(names)} {'both' if len(names) == 2 else 'all'} have ratio {format_ratio(r)} "
                           f"({each}).", ("same ratio", frozenset(names), r), ratio=r))
        out.append(likely(f"one line they share: {which} off by the same factor points to a step they have in "
                          "common (a helper that computes them, such as linear_backward, or the same slip written in "
                          "each layer), not to one layer's own line."))
    for number, pair in layers.items():
        W, b = pair.get("w"), pair.get("b")
        if W is None or b is None or W.passed == b.passed or {W.name, b.name} & explained:
            continue
        wrong, right = (W, b) if not W.passed else (b, W)
        out.append(likely(f"{grad_name(wrong.name)} fails while {grad_name(right.name)}, computed from the same "
                          f"dZ{number}, agrees: the error is in the line that computes {grad_name(wrong.name)} (what "
                          f"it reads, a stray factor, a sum over the wrong axis), not in dZ{number}; or "
                          f"{grad_name(wrong.name)} is paired with the wrong "
                          "parameter (filed under another name, or flattened in another order than the parameters)"
                          + (f"; or no error at all, only its {wrong.kinks} entr{'y' if wrong.kinks == 1 else 'ies'} "
                             "on a kink." if wrong.kinks else ".")))
    failing_layers = [n for n, pair in layers.items() if len(pair) == 2 and not any(x.passed for x in pair.values())]
    for number in failing_layers:
        W, b = layers[number]["w"], layers[number]["b"]
        if _near(W.ratio, b.ratio):
            what = f" ({named_factor(W.ratio, m)})" if named_factor(W.ratio, m) else ""
            out.append(certain(f"{W.name} and {b.name} both have ratio {format_ratio(W.ratio)}{what}.",
                               ("ratio", W.name, W.ratio)))
            out.append(likely(f"dZ{number} is off by that factor (both come from it), or the same stray factor "
                              f"stands in both lines."))
        elif all(_layer(row.name) and _layer(row.name)[1] in failing_layers for row in bad) and good:
            out.append(likely(f"both gradients of layer {number} fail, with different ratios: the error is likely "
                              f"in dZ{number} or before it (the activation's derivative, dropout, the cached "
                              "activation it reads), not in one line of its own."))
    if report.keep_prob < 1.0 and bad and all(_near(row.ratio, report.keep_prob) for row in bad):
        out.append(likely(f"the failing gradients are keep_prob = {report.keep_prob:g} times the true ones: dropout's "
                          "backward step has lost its 1/keep_prob."))
    return out


# -- a learner's gradient checker ---------------------------------------------------------------

ROUNDING = 1e-14  # an array that moved by at most this much of its largest entry moved by rounding


def _classify(fit):
    """The name of the numeric gradient one Fit says the checker computes."""
    numeric, c = fit.numeric, fit.c
    if numeric == "c x g":
        if _near(c, 1.0):
            numeric = "central"
        elif _near(c, 0.5):
            numeric = "half"
        elif _near(c, 2.0):
            numeric = "double"
        elif _near(c, -1.0):
            numeric = "sign"
        elif c == 0.0:
            numeric = "zero"
        elif 0 < c < 1e-6:
            numeric = "eps squared"
        else:
            numeric = "factor"
    return numeric


_HALF_FORWARD = [("the +eps stays in the parameter vector: an alias or a view such as thetaplus = theta, theta[:], or "
                  "thetaminus = thetaplus without np.copy", "alias"),
                 ("a one-sided difference J(theta+eps) - J(theta) divided by 2 eps", "one-sided over 2 eps")]
_HALF_WROTE = [("its +eps write is still in the arrays when it steps to theta - eps: a shallow copy (dict.copy() or a "
                "plain assignment copies the dict, not the arrays) shares them with the original", "shallow copy"),
               ("it nudges an entry in place and steps back by eps instead of to theta - eps (x[i] += eps ... "
                "x[i] -= eps, not x[i] = old - eps)", "in-place step back")]
_HALF_BACKWARD = [("its +eps never reaches the array: thetaplus[i] + epsilon without the = (an expression whose value "
                   "is thrown away), so J(theta+eps) is J(theta)", "plus never written"),
                  ("a one-sided difference J(theta) - J(theta-eps) divided by 2 eps", "backward one-sided over 2 eps")]


def _numeric_causes(numeric, fit, wrote):
    """(a fact about its numeric gradient or None, [(cause, name)]) for a wrong numeric gradient."""
    eps = f" (eps = {fit.step:g})" if fit.step else ""
    if numeric == "half" and fit.step:
        return (f"its answers fit, to many digits, (J(theta+eps) - J(theta)) / (2 eps){eps}, half the true gradient: "
                "its J(theta-eps) is evaluated at theta", _HALF_WROTE if wrote else _HALF_FORWARD)
    if numeric == "half backward":
        return (f"its answers fit, to many digits, (J(theta) - J(theta-eps)) / (2 eps){eps}, half the true gradient: "
                "its J(theta+eps) is evaluated at theta", _HALF_BACKWARD)
    if numeric == "half":
        return ("its numeric gradient is half the true one (to 3 digits: the doctor could not match its numbers to "
                "its own evaluations of your cost, so it cannot say whether J(theta+eps) or J(theta-eps) was "
                "evaluated at theta)", _HALF_FORWARD + _HALF_BACKWARD + (_HALF_WROTE if wrote else []))
    if numeric == "double":
        return ("its numeric gradient is twice the true one",
                [("it divides J(theta+eps) - J(theta-eps) by eps instead of 2 eps", "over eps")])
    if numeric == "sign":
        return ("its numeric gradient has the wrong sign",
                [("it computes (J(theta-eps) - J(theta+eps)) / (2 eps): the two costs swapped", "swapped")])
    if numeric == "zero":
        return ("its numeric gradient is exactly zero: J(theta+eps) = J(theta-eps) for every entry",
                [("the perturbed parameters never reach the cost (it evaluates the original parameters, or the "
                  "same copy twice)", "never reaches the cost"),
                 ("its gradapprox is never filled in (it stays np.zeros)", "never filled")])
    if numeric == "eps squared":
        step = float(np.sqrt(fit.c))
        return (f"its numeric gradient is {fit.c:.2g} times the true one, eps^2 for eps = {step:.2g}",
                [("it computes (J_plus - J_minus) / 2 * epsilon, which multiplies by eps/2 instead of dividing "
                  "by 2 eps: write / (2 * epsilon)", "times eps")])
    if numeric == "factor":
        return (f"its numeric gradient is {fit.c:.6g} times the true one",
                [("a constant factor in its formula for gradapprox", "factor")])
    one_sided = {"one-sided": ("(J(theta+eps) - J(theta)) / eps", "one-sided"),
                 "backward one-sided": ("(J(theta) - J(theta-eps)) / eps", "backward one-sided")}
    if numeric in one_sided:
        formula, name = one_sided[numeric]
        return (None, [(f"its numeric gradient is the one-sided difference {formula}{eps}: its error shrinks only "
                        "like eps (the central difference's like eps^2), so it can pass here and fail on another "
                        "network: use (J(theta+eps) - J(theta-eps)) / (2 eps)", name)])
    if numeric in ("plus not reset", "minus not reset"):
        sign = "+" if numeric.startswith("plus") else "-"
        return (None, [(f"its theta_{numeric.split()[0]} is never reset between entries{eps}: it is copied once, "
                        f"before the loop, so J(theta{sign}eps) for entry i also moves every earlier entry by "
                        f"{sign}eps. Copy theta inside the loop.", numeric)])
    return None, []


FORMULA_CAUSES = {
    "no denominator": ("it reports ||grad - gradapprox|| without dividing by ||grad|| + ||gradapprox||: a "
                       "distance that grows with the size of the gradient"),
    "no square roots": ("it compares squared norms, ||grad - gradapprox||^2 / (||grad||^2 + ||gradapprox||^2): "
                        "the square roots are missing (np.linalg.norm, or np.sqrt of each sum)"),
    "norm of the sum": ("its denominator is ||grad + gradapprox||, not ||grad|| + ||gradapprox||: it divides by "
                        "0 when the two are opposite"),
}
FORMULA_NAMES = {"norm ratio": "the course's ||a - n|| / (||a|| + ||n||)",
                 "L1 norm ratio": "the L1 norm ratio sum|a - n| / (sum|a| + sum|n|)",
                 # the floor against 0/0 is not named: the numbers cannot tell 1e-8 (CS231n's) from 1e-12
                 "max relative error": "CS231n's max relative error, the largest |a - n| / (|a| + |n|) (with a "
                                       "floor under the denominator)",
                 "per parameter": "a relative difference per parameter (the worst one)",
                 "mean relative error": "the mean element-wise relative error |a - n| / (|a| + |n|)",
                 "relative to numeric": "||a - n|| / ||n||, the error relative to the numeric gradient",
                 "relative to yours": "||a - n|| / ||a||, the error relative to your gradient"}
_ONE_SIDED_SCALE = (" Dividing by one of the two norms is a judgement call, not a slip: it is 0 when they agree and "
                    "does not depend on the gradients' size, as the course's does, but it is about twice the course's "
                    "number for small differences and has no upper bound, so the course's threshold 2e-7 reads "
                    "about 4e-7 on its scale.")
FORMULA_NOTES = {"relative to numeric": _ONE_SIDED_SCALE, "relative to yours": _ONE_SIDED_SCALE}
ENTRY_BLIND = ("max relative error",)  # its answers show its worst entry only, not whether it looks at every one


def judge_checker(report):
    """(correct, statements) for a doctor.CheckerReport: correct is True (right), False (WRONG) or
    None (its numbers cannot tell), and the statements say what its answers show."""
    if report.read_as == "returned True/False":
        return _judge_pass_fail(report)
    out = _what_it_did_to_the_arrays(report)
    missed = _missed(report)
    if missed:
        out.append(missed)
    verdict, statements = _read(report, _said(report.answers))
    statements = ([_blind_statement(report)] if report.blind_to else []) + statements
    if report.random:  # what it compares, and how, on the entries it drew: no longer a fact
        first, second = report.random
        out.append(certain(f"it gave two different answers for the same gradients ({_fmt(first)}, then "
                           f"{_fmt(second)}): something in it changes from call to call, such as entries drawn at "
                           "random (CS231n's grad_check_sparse). A sample misses a wrong entry it does not draw.",
                           ("checker random",)))
        statements = [likely(s.split(": ", 1)[1], s.claim) if s.sure == "certain" else s for s in statements]
    out += statements
    if (report.blind_to and not report.random) or missed or _moved_beyond_rounding(report):
        verdict = False
    return verdict, out


def _said(answers):
    return ", ".join(f"{n.replace('_', ' ')} {_fmt(v)}" for n, v in answers.items())


def _moved_beyond_rounding(report):
    return {k: v for k, v in report.left_changed.items() if not v <= ROUNDING}


def _what_it_did_to_the_arrays(report):
    out = []
    if report.wrote_into_parameters:
        out.append(certain("your checker writes into the parameter arrays it is given (it failed on read-only "
                           "copies). That alone is no bug, if every write is undone before the next cost and "
                           "before it returns; the doctor gave it copies, so your own arrays were never touched.",
                           ("checker writes",)))
    moved = _moved_beyond_rounding(report)
    if moved:
        out.append(certain("after your checker returned, the arrays it was given had changed ("
                           + ", ".join(f"{k} by up to {v:.2g} of its largest entry" for k, v in moved.items())
                           + "): a checker must leave your parameters as they were.", ("checker left changed",)))
    elif report.left_changed:
        worst = max(report.left_changed.values())
        out.append(certain(f"after your checker returned, {', '.join(report.left_changed)} had moved by rounding only "
                           f"(by at most {worst:.1g} of the largest entry, a few units in the last digit): far too "
                           "little to change what it computes, but your parameters are not bit for bit what they "
                           "were.", ("checker rounding",), moved=dict(report.left_changed)))
        out.append(likely("it undoes its in-place nudge by arithmetic (x += h, then x -= h) instead of putting the "
                          "old value back (x[ix] = old), and floating-point rounding leaves such traces."))
    return out


def _blind_statement(report):
    names = ", ".join(f"d{p}" for p in report.blind_to)
    answers = ", ".join(f"{report.alone[p].replace('_', ' ')} {_fmt(report.answers[report.alone[p]])}"
                        for p in report.blind_to)
    return certain(f"doubling only {names} leaves its answer where it was on exact gradients ({answers}; exact "
                   f"{_fmt(report.answers['exact'])}), though every right formula moves: it does not compare "
                   f"{names} (or not {', '.join(report.blind_to)}).", ("checker blind", tuple(report.blind_to)),
                   answers=report.answers)


def _passes(report, value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return value is not None and np.isfinite(value) and value < max(report.threshold, 3 * report.central_exact)


def _missed(report):
    """A certain statement when the checker passes the learner's gradients that nnlib's check fails."""
    if not report.yours_failed or not _passes(report, report.on_yours):
        return None
    return certain(f"on your own gradients it says {_fmt(report.on_yours)}, a pass, where nnlib's check of the very "
                   f"same gradients fails them ({report.yours_failed}): a checker must catch them.",
                   ("checker passes wrong",), on_yours=report.on_yours)


def _read(report, said):
    """(verdict, statements) from the formulas that fit its answers (report.fits)."""
    right = [f for f in report.fits if f.right]
    if report.fits and len(right) == len(report.fits):
        return _right(report, right, said)
    if report.fits:
        return _wrong(report, right, said)
    return _unexplained(report, said)


def _right(report, right, said):
    names = list(dict.fromkeys(f.formula for f in right))
    text = " or ".join(FORMULA_NAMES[n] for n in names)
    note = "".join(dict.fromkeys(FORMULA_NOTES.get(n, "") for n in names))
    over = f" over every parameter but {', '.join(report.blind_to)}" if report.blind_to else ""
    untested = (f" The gradients of {', '.join(report.untested)} were not doubled alone (too small to notice, or "
                f"more parameters than the doctor runs it for), so it is not known whether it looks at them."
                if report.untested else "")
    if all(f.step for f in right):
        steps = sorted({f.step for f in right})
        sentence = (f"it computes {text} of central differences at eps = {' or '.join(f'{s:g}' for s in steps)}"
                    f"{over}, to many digits ({said})")
        if len(names) == 1 and len(steps) == 1 and over:
            return True, [certain(sentence + ".", ("checker formula", names[0], steps[0]))]
        if len(names) == 1 and len(steps) == 1 and names[0] in ENTRY_BLIND and not untested:
            return True, [certain(sentence + ".", ("checker formula", names[0], steps[0])),
                          likely("your checker is right as far as a maximum can show: each parameter's gradient "
                                 "doubled alone moves it, and its worst entry is the worst of all entries, but whether "
                                 "it looks at every entry or at a sample of them (CS231n's grad_check_sparse), a "
                                 "maximum cannot tell.", ("checker right",))]
        if len(names) == 1 and len(steps) == 1 and not untested:
            return True, [certain(f"your checker is right: {sentence}.{note}", ("checker right", names[0], steps[0]),
                                  answers=report.answers)]
        return True, [likely(f"your checker is right: {sentence}" + (": the numbers do not tell which" if
                             len(names) > 1 or len(steps) > 1 else "") + f".{note}{untested}", ("checker right",))]
    a = report.answers
    sentence = (f"its answers fit {text} of a numeric gradient as accurate as central differences{over}, to 3 digits "
                f"({said})")
    if over:
        return True, [likely(sentence + ".")]
    if a["exact"] < max(report.threshold, 3 * report.central_exact):
        return True, [likely(f"your checker is right: {sentence}. Its numbers match no step the doctor tried "
                             f"(eps = 1e-7, 1e-5) to many digits (another step, a sample of the entries, or rounding "
                             "of its own), so the doctor could not take the fingerprint of its numeric gradient: a "
                             f"one-sided difference at a smaller step is not ruled out.{note}{untested}",
                             ("checker right",))]
    return False, [likely(f"it compares the right way ({text}), but on exact gradients it says {_fmt(a['exact'])} "
                          f"where central differences give {_fmt(report.central_exact)}: its numeric gradient is "
                          "less accurate (a large or tiny eps, float32 arithmetic, or a formula that is not quite "
                          "the central difference).", ("checker inaccurate",), answers=a)]


def _wrong(report, right, said):
    """(verdict, statements) when a wrong checker's formula fits its answers (a right one may too)."""
    causes, facts, out = [], [], []
    for fit in report.fits:
        numeric = _classify(fit)
        if fit in right:
            continue
        found = [[]]  # the causes this fit allows: one of its numeric gradient's, with its formula's
        if numeric != "central":
            fact, alternatives = _numeric_causes(numeric, fit, report.wrote_into_parameters)
            if fact and (fact, numeric) not in facts:
                facts.append((fact, numeric))
            found = [[cause] for cause in alternatives]
        extra = [(FORMULA_CAUSES[fit.formula], fit.formula)] if fit.formula in FORMULA_CAUSES else []
        if fit.pairing:
            extra.append(("it pairs your gradients flattened in sorted key order (dW1, dW2, ..., db1, ...) with "
                          "the parameters in their own order (W1, b1, W2, ...): entries meet the wrong partners. "
                          "Flatten both in the same order", "sorted pairing"))
        causes += [option + extra for option in found if option + extra not in causes and option + extra]
    a = report.answers
    if len(facts) == 1 and not right:
        out.append(certain(f"{facts[0][0]} ({said}).", ("checker numeric", facts[0][1]), answers=a))
    elif facts and not right and {n for _, n in facts} <= {"half", "half backward"}:
        out.append(certain(f"its numeric gradient is half the true one ({said}).", ("checker numeric", "half"),
                           answers=a))
        readings = {"half": "(J(theta+eps) - J(theta)) / (2 eps), its J(theta-eps) evaluated at theta",
                    "half backward": "(J(theta) - J(theta-eps)) / (2 eps), its J(theta+eps) evaluated at theta"}
        out.append(likely("it computes " + "; or ".join(readings[n] for _, n in facts) + ": these differ in digits "
                          "that its answers do not give, or that its own rounding moves."))
    elif facts:  # two readings of its numeric gradient fit: say each, sure of neither
        out.append(likely(f"its answers ({said}) fit more than one numeric gradient: "
                          + "; or ".join(text for text, _ in facts) + "."))
    if right:  # a right reading and a wrong one both fit: the numbers cannot tell
        causes.append([("it is right: a correct checker gives the same numbers here", "right")])
        out += _conclude_checker(causes, a)
        out.append(likely("its formula is unknown: its answers fit a right checker and a wrong one alike.",
                          ("checker unknown",)))
        return None, out
    return False, out + _conclude_checker(causes, a)


def _conclude_checker(options, answers):
    """Each option is a list of causes that together explain every answer. A cause in every option
    is certain; of the rest, nothing is said when some option needs none of it (the numbers do not
    ask for more), else "likely:" names each."""
    common = [cause for cause in options[0] if all(cause in option for option in options)]
    rest = [[cause for cause in option if cause not in common] for option in options]
    out = [certain(text, ("checker cause", name), answers=answers) for text, name in common]
    if any(not r for r in rest) and common:
        return out
    joined = [(", and ".join(t for t, _ in r), " + ".join(n for _, n in r)) for r in rest if r]
    if joined:
        out.append(conclude(joined, "checker cause", answers=answers))
    return out


def _unexplained(report, said):
    """(verdict, statements) when no formula the doctor knows fits: None when it answers every
    uniform variant as a correct checker does (a formula the doctor does not know, or a sample),
    else False with the answer no right formula gives."""
    a = report.answers
    uniform = [v for v in a if v != "exact" and not v.startswith("only_")]
    consistent = [n for n, p in report.right_predictions.items()
                  if all(np.isfinite(a[v]) and abs(a[v] - p[v]) < 1e-3 * max(1.0, abs(p[v])) for v in uniform)]
    limit = max(report.threshold, 3 * report.central_exact)
    guess = ("it may compare entries with the wrong partners or only some of them, use other data (X, Y) than your "
             "cost, compute its numeric gradient wrongly entry by entry, or use a formula the doctor does not know.")
    if consistent and a["exact"] < limit and not report.blind_to:
        return None, [certain(f"its formula is unknown: on exact, doubled, sign-flipped and divided-by-m gradients it "
                              f"answers as a correct checker does, but its answers when one gradient alone is "
                              f"doubled fit no formula the doctor knows ({said}). It may compare a random sample of "
                              "the entries (then a wrong entry outside the sample goes unseen), or use a formula the "
                              "doctor does not know: whether it is right, these numbers cannot tell.",
                              ("checker unknown",), answers=a)]
    out = []
    says = {v: sorted({round(float(p[v]), 3) for p in report.right_predictions.values() if np.isfinite(p[v])})
            for v in uniform}
    off = [v for v in uniform if not (np.isfinite(a[v]) and any(abs(a[v] - s) < 1e-3 * max(1.0, s) for s in says[v]))]
    if off:  # an answer that no right formula gives for its variant: name that variant, not another
        v = off[0]
        out.append(certain(f"it says {_fmt(a[v])} for {v.replace('_', ' ')} gradients, where every right formula "
                           f"the doctor knows says {' or '.join(f'{s:.3f}' for s in says[v])}.", ("checker wrong",),
                           answers=a))
    elif not consistent:  # each answer is some right formula's, but no one formula gives them all
        out.append(certain(f"each of its answers on doubled, sign-flipped and divided-by-m gradients is one that some "
                           f"right formula gives, but no one formula the doctor knows gives them all ({said}).",
                           ("checker wrong",), answers=a))
    elif not a["exact"] < limit:
        out.append(certain(f"on exact gradients it says {_fmt(a['exact'])}, where a correct checker says at most "
                           f"{_fmt(limit)}.", ("checker wrong",), answers=a))
    out.append(likely(f"its answers ({said}) fit none of the formulas the doctor knows: {guess}"))
    return False, out


def _judge_pass_fail(report):
    a = report.answers
    out = _what_it_did_to_the_arrays(report)
    missed = _missed(report)
    out += [missed] if missed else []
    wrong = [n for n, v in a.items() if bool(v) != (n == "exact")]
    said = ", ".join(f"{n.replace('_', ' ')} {v}" for n, v in a.items())
    if not wrong:
        alone = ", each parameter's doubled alone among them" if any(n.startswith("only_") for n in a) else ""
        out.append(certain(f"your checker answers pass/fail (True/False), and it is right on its own terms: True "
                           f"for exact gradients, False for each wrong set{alone} ({said}).",
                           ("checker right", ("pass/fail",), None), answers=a))
        return not missed and not _moved_beyond_rounding(report), out
    if "exact" in wrong:
        out.append(certain(f"it says False for exact gradients ({said}): its tolerance is too tight for a numeric "
                           "gradient, or it compares the wrong things.", ("checker wrong",), answers=a))
        return False, out
    uniform = [n.replace("_", " ") for n in wrong if not n.startswith("only_")]
    if uniform:
        out.append(certain(f"it says True for {', '.join(uniform)} gradients, wrong in every entry ({said}): its "
                           "tolerance is too loose to catch a wrong gradient.", ("checker wrong",), answers=a))
        return False, out
    alone = [n for n in wrong if n.startswith("only_")]
    grads = ", ".join(n[len("only_"):-len("_doubled")] for n in alone)
    out.append(certain(f"it says True when only {grads} is doubled ({said}): it passes gradients that are wrong.",
                       ("checker wrong",), answers=a))
    out.append(likely(f"it never compares {grads}, or its tolerance is too loose for their entries (an absolute "
                      "tolerance, atol, above their size)."))
    return False, out


def _fmt(x):
    if x is None or isinstance(x, (bool, np.bool_)):
        return str(x)
    return format_difference(x)
