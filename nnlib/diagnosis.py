"""Read a gradient-check report the way an experienced person would: from its numbers only.

`diagnose(report)` is a pure function of the report's numbers. It assumes nothing about where
the learner put the 1/m (nnlib puts it in dZ of the output layer, the course in dW and db):
a uniform ratio r = 1/M says "the 1/m is applied twice", wherever that happened.

Each sentence starts with how sure it is: "certain:" when the numbers leave no other reading,
"likely:" when they point one way but another cause could look the same.

Reading a difference: if every analytic gradient is r times the numeric one, then
    d = ||r n - n|| / (|r| ||n|| + ||n||) = |1 - r| / (1 + |r|),
so 1/3 means r = 2 (or 1/2), (M-1)/(M+1) means r = M or 1/M, and 1 means r = -1 or 0.
"""

import numpy as np

from .checks import format_ratio


def _near(x, target, tol=1e-3):
    return bool(np.isfinite(x) and abs(x - target) <= tol * max(abs(target), 1e-12))


def uniform_difference(r):
    """The difference that every gradient off by the same factor r gives."""
    return abs(1 - r) / (1 + abs(r))


def named_factor(r, m=None):
    """What a clean factor analytic/numeric usually means, or None."""
    known = [(-1.0, "the sign is flipped (dZ = Y - A instead of A - Y, or a lost minus in the cost)"),
             (2.0, "its analytic gradient is twice the numeric one"),
             (0.5, "its analytic gradient is half the numeric one"),
             (0.0, "its analytic gradient is zero")]
    if m and m > 1:
        known = [(1.0 / m, f"the analytic gradient is 1/m = 1/{m} of the true one: the 1/m is applied "
                           "twice (say in dZ and again in dW and db; once is right, wherever it goes)"),
                 (float(m), f"the analytic gradient is m = {m} times the true one: the 1/m of the "
                            "averaged cost is missing (it belongs once: in dZ of the output layer, "
                            "or in every dW and db as the course writes it)")] + known
    for target, text in known:
        if (target == 0.0 and abs(r) < 1e-6) or (target != 0.0 and _near(r, target)):
            return text
    for target in (3.0, 4.0, 1 / 3, 0.25):
        if _near(r, target):
            return f"its analytic gradient is {r:.4g} times the numeric one"
    return None


def diagnose(report):
    """Sentences for a CheckReport, most important first."""
    out = []
    d, m = report.difference, report.batch
    if report.nonfinite:
        out.append(f"certain: NaN or infinity in {', '.join(report.nonfinite)}: the check cannot pass. "
                   "Look for log(0) (a probability that underflowed: compute the cost from the logits), "
                   "exp overflow, or parameters that blew up (a learning rate too large).")
        return out
    if report.keep_prob < 1.0 and report.masks == "fresh" and not report.passed:
        out.append("certain: fresh dropout masks on every forward pass: J(theta+eps) and J(theta-eps) come "
                   "from different networks, so the difference measures the masks, not backprop. "
                   "Freeze the masks (or set keep_prob = 1) while checking.")
        return out
    if not report.cost_repeatable:
        out.append("certain: your cost gave two different values for the same parameters: something random "
                   "inside it (fresh dropout masks, a reshuffled batch) changes between calls, so "
                   "J(theta+eps) - J(theta-eps) measures that randomness, not the gradient. Freeze it "
                   "while checking: draw the masks once and reuse them, or set keep_prob = 1.")
        return out
    if report.params_written:
        out.append("certain: the check WROTE INTO YOUR PARAMETERS: its perturbed copies shared memory with "
                   "your arrays (dict.copy() copies the dict, not the arrays). The values were "
                   "restored" + ("." if report.params_unchanged else ", but they had changed."))
    elif not report.params_unchanged:
        out.append("certain: your parameters CHANGED during the check (the cost or the gradient code "
                   "writes into them); they have been restored.")
    if report.changed_cache_keys:
        out.append(f"certain: backward changed the cache it was given ({', '.join(report.changed_cache_keys)}): "
                   "an in-place operation. " + (
                       "The check passes anyway, because nothing read that entry after it was damaged, "
                       "but any later use of the cache gets the damaged values." if report.passed else
                       "Whatever reads that entry after the damage gets wrong values."))
    if report.passed:
        out.append(f"certain: backprop agrees with the numeric gradient (difference {d:.1e} < {report.threshold:g}).")
        return out

    rows = [r for r in report.per_parameter if np.isfinite(r.ratio)]
    r = report.ratio
    uniform = (len(rows) == len(report.per_parameter) and rows and np.isfinite(r)
               and all(_near(row.ratio, r) or (abs(row.ratio) < 1e-9 and abs(r) < 1e-9) for row in rows)
               and _near(uniform_difference(r), d, 1e-3))
    if uniform:
        what = named_factor(r, m) or "every gradient is off by the same factor: look for a constant factor"
        if _near(r, 2.0):
            what = ("the numeric gradient is half the analytic one: either the check's +eps perturbation "
                    "leaked into the parameters (a shallow copy or an alias), so J(theta-eps) was "
                    "evaluated at theta, or backprop doubles every gradient")
            if report.params_written:
                what += "; here the check wrote into the parameters, so it is the check"
        out.append(f"certain: every parameter has the same ratio analytic/numeric r = {format_ratio(r)}, and "
                   f"|1-r|/(1+|r|) = {uniform_difference(r):.6f} is the difference: {what}.")
        if m is None and not named_factor(r):
            out.append("likely: if r is 1/m or m for your batch size m, the 1/m of the averaged cost is "
                       "applied twice or missing (pass m=... to have this checked).")
        return out

    bad = [row for row in report.per_parameter if not row.passed]
    good = [row for row in report.per_parameter if row.passed]
    if report.kinks:
        out.append(f"likely: {report.kinks} entr{'y sits' if report.kinks == 1 else 'ies sit'} within epsilon of a "
                   "kink (a ReLU at 0): there theta+eps and theta-eps fall on different sides and the "
                   "central difference averages two slopes, so the numeric gradient is wrong there, not "
                   "backprop. Check another batch or seed: a kink moves, a bug stays.")
        if d < 1e-2 and not any(row.note for row in bad):
            return out
    if bad:
        out.append(f"certain: failing: {', '.join(row.name for row in bad)}"
                   + (f"; agreeing: {', '.join(row.name for row in good)}." if good else "."))
    for row in bad:
        if row.note == "transposed":
            out.append(f"certain: d{row.name} is the transpose of the right gradient (it is square, so the "
                       "shapes still matched): swap the factors, e.g. dZ A_prev^T, not A_prev dZ^T.")
        elif row.note == "all zero":
            out.append(f"certain: d{row.name} is all zeros while the numeric gradient is not: it is never "
                       "computed, or overwritten with zeros.")
        elif row.note == "nan":
            out.append(f"certain: d{row.name} holds NaN or infinity.")
        elif named_factor(row.ratio, m) and good:
            out.append(f"certain: {row.name} has ratio {format_ratio(row.ratio)} ({named_factor(row.ratio, m)}), "
                       f"for {row.name} only: a stray factor; look at the line that computes d{row.name}.")
    status = {row.name.lower(): row.passed for row in report.per_parameter}  # W1 or w1, b1 or B1
    split = [name[1:] for name in status
             if name.startswith("w") and "b" + name[1:] in status and status[name] != status["b" + name[1:]]]
    explained = all(row.note or (named_factor(row.ratio, m) and good) for row in bad)
    if split and not explained:
        l = split[0]
        wrong = "dW" if not status["w" + l] else "db"
        out.append(f"likely: W{l} and b{l} disagree although dW{l} and db{l} both come from the same dZ{l}: "
                   f"suspect the step from dZ{l} to {wrong}{l} (the cached activation it reads, a stray "
                   "factor on that line), or a check that lines gradients up with the wrong parameters "
                   "(both must be flattened in the same order).")
    elif good and bad and not explained:
        out.append("likely: only part of the network is wrong, so the error enters between the layers "
                   "that agree and those that fail: look at that backward step (the activation's "
                   "derivative, dropout, the cached activation it reads).")
    if report.keep_prob < 1.0 and bad and all(_near(row.ratio, report.keep_prob) for row in bad):
        out.append(f"certain: the failing gradients are keep_prob = {report.keep_prob:g} times too small: "
                   "dropout's backward step has lost its 1/keep_prob.")
    if d < 1e-4:
        out.append("likely: a small failure: look for kinks (an entry of Z within epsilon of 0) or "
                   "rounding; an epsilon sweep tells (a difference that grows as epsilon shrinks is rounding).")
    elif not good and d > 0.5:
        out.append("likely: the analytic and numeric gradients hardly resemble each other: check that both "
                   "are flattened in the same parameter order and that backward uses this batch.")
    return out
