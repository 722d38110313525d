"""Notebook 2's exercises: 2.1 relu_deriv, 2.2 backward_propagation.

The reading of a backward pass's check (which gradients fail, and what the numbers say about
where) is shared with notebook 5's dropout backward, which imports it from here.
"""

import warnings

import numpy as np

from .. import model
from . import feedback
from .feedback import Feedback, Stop, a_kind, array, call, changed, close, data, fail, fmt, indent, near, verdict

CACHE_NAMES = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2")
GRADIENT_KEYS = ("dW1", "db1", "dW2", "db2")
INTERMEDIATE_KEYS = ("dZ2", "dA1", "dZ1")  # the exercise asks for them too; checked when returned


# ---- 2.1 relu_deriv ----------------------------------------------------------------------

def check_relu_deriv(relu_deriv):
    """Exercise 2.1: ReLU'(Z) as a new 0/1 array, Z left unchanged."""
    name = "relu_deriv"
    try:
        Z = np.random.default_rng(21).standard_normal((10, 16))
        Z[0, :3] = 0.0   # exactly at the kink, where this series takes ReLU'(0) = 0
        Z_before = Z.copy()
        out, _ = call(name, relu_deriv, Z)
        n_changed = changed(Z_before, Z)
        if n_changed:
            binary = int(np.sum(np.isin(Z, (0.0, 1.0)) & (Z != Z_before)))
            what = "became 0/1" if binary == n_changed else "changed"
            view = isinstance(out, np.ndarray) and out is not Z and np.shares_memory(out, Z)
            same = ", and it returned that very array" if out is Z else ", and it returned a view of it" if view else ""
            raise fail(name, f"your relu_deriv changed its input: {n_changed} of the {Z.size} entries of Z "
                             f"{what}{same}. In backprop "
                             "that input is a cache entry (Z1 or A1) that other lines still read. Leave Z "
                             "alone and return a NEW array: `D = Z` is the same array under a second name, and "
                             "`D = Z[:]` is a view that shares Z's memory, so writing into either writes into Z; "
                             "`np.copy(Z)` is a copy, and a comparison such as `Z > 0` makes a new array.")
        # a 0/1 mask is exact as bool, int or float32, and multiplying a float64 by it gives float64
        D = array(name, out, "your relu_deriv(Z) for Z of shape (10, 16)", Z.shape, any_dtype=True)
        expected = (Z > 0).astype(float)
        if not np.array_equal(D, expected):
            raise fail(name, _relu_mistake(D, Z, expected))
    except Stop as stop:
        return stop.feedback
    return verdict(name, [], ["1 where Z > 0, 0 elsewhere (also at Z = 0), and Z is left as it was"])


def _relu_mistake(D, Z, expected):
    if np.array_equal(D, np.maximum(0, Z)):
        return "you returned ReLU(Z) itself, not its derivative: ReLU'(z) is 1 where z > 0 and 0 elsewhere."
    if np.array_equal(D, (Z < 0).astype(float)) or np.array_equal(D, (Z <= 0).astype(float)):
        return "your 0s and 1s are swapped: the derivative is 1 where z > 0 (the unit is on) and 0 elsewhere."
    wrong = D != expected
    if not np.any(wrong & (Z != 0)):
        values = np.unique(D[wrong])
        at_zero = ", ".join(f"{x:g}" for x in values)
        return (f"at z = 0 you return {at_zero} ({int(np.sum(Z == 0))} entries of Z are exactly 0); everywhere "
                "else you are right. ReLU has no derivative there; this series and the course take 0"
                + (" (z > 0, not z >= 0)" if np.all(values == 1) else "") + ", and nnlib.backward does too."
                + (" Your nan is 0/0, what ReLU(Z) / Z gives at z = 0: compare Z with 0 instead of dividing by it."
                   if np.all(np.isnan(values)) else ""))
    return f"{int(np.sum(wrong))} of the {Z.size} entries differ from ReLU'(Z): 1 where z > 0, 0 elsewhere."


# ---- 2.2 backward_propagation ------------------------------------------------------------

def check_backward_propagation(backward_propagation, forward_propagation, m=16, method="loop"):
    """Exercise 2.2: course-style backward_propagation(X, Y, cache) for 784 -> 10 -> 10.

    forward_propagation(X, Y, parameters) -> (cost, cache) is the one the notebook gives;
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2). Runs the gradient-check doctor (nnlib.check)
    on m real digits (1 to 4,000), looks at the cache afterwards, and reads the gradient ratios.
    method: the doctor's method; "loop" checks every entry (a few seconds), "sampled" 25 per
    parameter, "directional" or "auto". Bad m or method: ValueError.
    """
    from ..doctor import check

    name = "backward_propagation"
    m, method = feedback.examples(m), feedback.method_of(method)
    X, Y, params = data(m)
    try:
        _check_given_forward(name, forward_propagation, X, Y, params)
        _, cache = forward_propagation(X, Y, params)
        snapshot = [np.array(c, copy=True) for c in cache]
        returned, _ = call(name, backward_propagation, X, Y, cache)
        grads = gradient_dict(name, returned, params)
        damage = damaged(snapshot, cache, CACHE_NAMES)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check(params, forward_propagation=forward_propagation,
                           backward_propagation=backward_propagation, X=X, Y=Y, m=m, method=method,
                           progress=False)  # a few seconds at most; a bar left in the output misleads
    except Stop as stop:
        return stop.feedback
    except ValueError as e:  # the doctor refused the input; its message says why
        return verdict(name, [f"the gradient check could not run: {e}"])
    problems = read_backward_report(report, grads, Y, m, damage, snapshot, CACHE_NAMES)
    if problems:
        lines = verdict(name, problems).lines
        lines += ["", "The doctor's report (nnlib.check):", indent(str(report))]
        return Feedback(name, False, lines)
    return verdict(name, [], [f"gradient check: difference {fmt(report.difference)} (threshold "
                              f"{report.threshold:g}) on {m} digits",
                              "the cache is unchanged after your backward_propagation"]
                   + key_notes(returned, grads))


def _check_given_forward(name, forward_propagation, X, Y, params):
    try:
        cost, cache = forward_propagation(X, Y, params)
        ok = near(float(cost), model.cost(model.forward(params, X)["A2"], Y), 1e-9) and len(cache) == 8
    except Exception:
        ok = False
    if not ok:
        raise fail(name, "forward_propagation (given in the notebook, not part of the exercise) does not "
                         "return (cost, cache) for this network any more: re-run the cell that defines it.")


def course_names(grads):
    """grads with the course's key names added where the learner wrote them in lower case
    (dw1 read as dW1, dz1 as dZ1), as the doctor reads them."""
    out = dict(grads)
    for key in GRADIENT_KEYS + INTERMEDIATE_KEYS:
        same = [k for k in grads if isinstance(k, str) and k.lower() == key.lower()]
        if key not in out and len(same) == 1:
            out[key] = grads[same[0]]
    return out


def key_notes(returned, grads):
    """Notes for a passing answer: keys read under the course's names, intermediates not returned."""
    notes = []
    renamed = [key for key in GRADIENT_KEYS + INTERMEDIATE_KEYS if key in grads and key not in returned]
    if renamed:
        notes.append(f"your keys {', '.join(k.lower() for k in renamed)} are read as {', '.join(renamed)}, the "
                     "course's names")
    absent = [key for key in INTERMEDIATE_KEYS if key not in grads]
    if absent:
        notes.append(f"{', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in your dict, so not checked: "
                     "the exercise asks for them too")
    return notes


def gradient_dict(name, grads, params):
    """The learner's gradients under the course's names (course_names), or feedback on anything but
    a dict with dW1 ... db2: float64 arrays of the parameters' shapes, finite (NaN found here is named
    here, not blamed on a step of backprop by the check)."""
    if not isinstance(grads, dict):
        raise fail(name, f"your {name} returned {a_kind(grads)}; return a dict of gradients "
                         "{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...} (dZ2, dA1, dZ1 may be in it too).")
    named = course_names(grads)
    missing = [key for key in GRADIENT_KEYS if key not in named]
    if missing:
        keys = ", ".join(map(str, grads)) or "none"
        like_params = any(str(k) in params for k in grads)
        raise fail(name, f"the gradients have no {', '.join(repr(k) for k in missing)} (its keys: {keys})"
                         + (". Name each gradient 'd' + its parameter's name, as the course does: dW1 for W1, db1 "
                            "for b1. The doctor reads gradients keyed like the parameters too, but the course's code "
                            "after backprop reads grads['dW1'] (its update_parameters does), and so does this "
                            "exercise." if like_params else "."))
    for key in GRADIENT_KEYS:
        if named[key] is None:
            raise fail(name, f"{key} is None; it must be an array of the shape of {key[1:]}, "
                             f"{params[key[1:]].shape}.")
        array(name, named[key], key, params[key[1:]].shape, shape_hint=_gradient_shape_hint(key))
    bad = {key: int(np.sum(~np.isfinite(np.asarray(named[key], dtype=float)))) for key in GRADIENT_KEYS}
    if any(bad.values()):
        holds = ", ".join(f"{key} in {n} of its {np.size(named[key])} entries" for key, n in bad.items() if n)
        finite = [key for key, n in bad.items() if not n]
        raise fail(name, f"your gradients hold NaN or infinity: {holds}"
                         + (f" ({', '.join(finite)} {'is' if len(finite) == 1 else 'are'} finite)" if finite else "")
                         + ". Look for a division by zero or a log(0) on the way to them.")
    return named


def _gradient_shape_hint(key):
    """How a gradient of the wrong shape comes about, for array()'s message."""
    dZ, prev = "dZ" + key[-1], "A1" if key[-1] == "2" else "X"

    def hint(got, shape):
        if key[1] == "b":
            if got == shape[:1]:
                return f"a sum over axis=1 without keepdims=True drops the second axis: keepdims=True keeps it, {shape}"
            if got in ((), (1,), (1, 1)):
                return f"a sum over both axes: sum {dZ} over the examples only (axis=1, keepdims=True)"
            if len(got) == 2 and got[0] == shape[0] and got[1] != 1:
                return f"one column per example: {key} is the sum of {dZ} over the examples (axis=1, keepdims=True)"
            if len(got) == 2 and got[0] == 1:
                return f"a sum over axis 0, the units; {key} sums {dZ} over the examples, axis=1 (keepdims=True)"
        if got == shape[::-1]:
            return (f"the transpose's shape: {dZ} {prev}^T (times 1/m where the course puts it) has the shape of "
                    f"{key[1:]}, and {prev} {dZ}^T its transpose")
        return ""
    return hint


def damaged(snapshot, cache, names):
    """The cache entries that differ from before: (name, entries changed, how)."""
    out = []
    for key, before, after in zip(names, snapshot, cache, strict=False):
        after = np.asarray(after)
        if after.shape != before.shape:
            out.append((key, after.size, f"changed shape, from {before.shape} to {after.shape}"))
            continue
        n = changed(before, after)
        if n:
            to_mask = bool(np.isin(after, (0.0, 1.0)).all()) and not np.isin(before, (0.0, 1.0)).all()
            how = ("became 0/1 (a derivative written over it: a ReLU derivative taken in place does this)"
                   if to_mask else "were changed")
            out.append((key, n, how))
    return out


def _truth(snapshot, names, Y, keep_prob):
    """dZ2, dA1 and dZ1 of the course (no 1/m), from the cache as it was before the learner's
    backward. With dropout, "dA1 masked" is dA1 after D1 / keep_prob (the course returns that one)."""
    c = dict(zip(names, snapshot, strict=True))
    dZ2 = c["A2"] - Y
    dA1 = c["W2"].T @ dZ2
    out = {"dZ2": dZ2, "dA1": dA1}
    if keep_prob is not None:
        dA1 = out["dA1 masked"] = dA1 * c["D1"] / keep_prob
    out["dZ1"] = dA1 * (c["Z1"] > 0)
    return out


def _placement(grads, truth, m):
    """Where the learner put the 1/m, read from the dZ2 they return: "dZ2" (nnlib's place), "course"
    (in every dW and db), or None when dZ2 is not returned or is neither."""
    for where, scale in (("course", 1.0), ("dZ2", 1.0 / m)):
        if _intermediate(grads, "dZ2", truth, scale):
            return where
    return None


def _intermediate(grads, key, truth, scale):
    """True/False: the learner's dZ2, dA1 or dZ1 is / is not the right one (for either placement of the
    1/m when scale is None); None: not returned (or not an array)."""
    value = grads.get(key)
    if not isinstance(value, np.ndarray) or value.shape != truth[key].shape:
        return None
    scales = (1.0, 1.0 / value.shape[1]) if scale is None else (scale,)
    options = [truth[key]] + ([truth["dA1 masked"]] if key == "dA1" and "dA1 masked" in truth else [])
    return any(close(value, t * s, 1e-6, 1e-12 * float(np.max(np.abs(t)))) for t in options for s in scales)


def _constant(row):
    """The row's ratio when the row is off by one constant factor (its difference is then exactly
    |1 - r| / (1 + |r|)), else None."""
    r = row.ratio
    if r is None or not np.isfinite(r) or not near(row.difference, abs(1 - r) / (1 + abs(r)), 1e-3):
        return None
    return float(r)


def _what_factor(r, m, n_classes, keep_prob, ones="one"):
    """(how the gradient compares with the true one, what that factor means or '')."""
    if near(r, m, 1e-4):
        return f"m = {m} times the true {ones}", "the 1/m of the averaged cost is missing there"
    if near(r, 1 / m, 1e-4):
        return f"1/m = 1/{m} of the true {ones}", "the 1/m is applied twice there"
    if m != n_classes and near(r, m / n_classes, 1e-4):
        return (f"m/{n_classes} = {m}/{n_classes} times the true {ones}", f"the m divided by there is {n_classes}, "
                f"the number of classes (Y.shape[0]); m is the number of examples, X.shape[1] = {m}")
    if near(r, -1, 1e-4):
        return f"the true {ones} with the wrong sign", "a sign flipped there (Y - A2 where A2 - Y belongs?)"
    if keep_prob is not None and near(r, keep_prob, 1e-4):
        return (f"keep_prob = {keep_prob:g} times the true {ones}", "after applying D1 to dA1, divide by "
                "keep_prob, as the forward pass did")
    if keep_prob is not None and near(r, keep_prob ** 2, 1e-4):
        return (f"keep_prob^2 = {keep_prob ** 2:g} times the true {ones}", "dA1 is multiplied by keep_prob where "
                "the forward pass divided by it, which is off by keep_prob twice: divide by keep_prob")
    if keep_prob is not None and near(r, 1 / keep_prob, 1e-4):
        return (f"1/keep_prob = {1 / keep_prob:g} times too large", "divide dA1 by keep_prob once")
    return f"{r:.6g} times the true {ones}", ""


def _ratio_text(row, m, n_classes, keep_prob):
    """'ratio 16: m = 16 times the true one; the 1/m ... missing there', or 'ratio 0.63, not one constant factor'."""
    if _constant(row) is None:
        return f"ratio {_g(row.ratio)}, not one constant factor"
    what, meaning = _what_factor(row.ratio, m, n_classes, keep_prob)
    return f"ratio {_g(row.ratio)}: {what}" + (f"; {meaning}" if meaning else "")


def _g(x):
    return "none" if x is None else f"{x:.6g}"


def read_backward_report(report, grads, Y, m, damage, snapshot, names, keep_prob=None):
    """Problems a person would name, from the doctor's report, the learner's gradients (under the
    course's names) and the cache.

    Each names exactly the gradients that fail; a step they share is blamed only when the numbers
    say so (both fail by the same factor, or the learner's own dZ is compared with the right one).
    A formula shown as the fix puts the 1/m where the learner's own dZ2 says they put it.
    """
    problems = []
    for key, n, how in damage:
        size = snapshot[names.index(key)].size
        problems.append(f"your backward changed the cache: {n} of the {size} entries of {key} {how}. "
                        + ("The check passes all the same, because nothing read it afterwards; the next "
                           "code that trusts the cache does. " if report.passed else "")
                        + "Compute into a new array instead of writing into a cache entry.")
    truth = _truth(snapshot, names, Y, keep_prob)
    placement = _placement(grads, truth, m)
    n_classes = Y.shape[0]
    if report.passed:
        return problems + _returned_wrong(grads, truth, placement, snapshot, names, keep_prob)
    rows = {row.name: row for row in report.per_parameter}
    failing = [k for k in ("W1", "b1", "W2", "b2") if not rows[k].passed]
    ratios = [_constant(rows[k]) for k in failing]
    if len(failing) == 4 and None not in ratios and all(near(r, ratios[0], 1e-4) for r in ratios):
        return problems + [_uniform(ratios[0], m, n_classes, snapshot[names.index("W1")].shape[1])]
    for layer in (2, 1):
        problems += _layer(layer, rows, grads, truth, placement, m, n_classes, keep_prob, damage, snapshot, names)
    if len(problems) == len(damage):
        problems.append("the gradients do not match the numeric ones; see the doctor's report below.")
    return problems


def _returned_wrong(grads, truth, placement, snapshot, names, keep_prob):
    """When every dW and db is right: the dZ2, dA1 and dZ1 the learner returns that are not the
    ones their gradients were made from (the exercise asks for them too)."""
    scale = None if placement is None else (1.0 if placement == "course" else 1.0 / snapshot[0].shape[1])
    out = []
    for key in INTERMEDIATE_KEYS:
        if _intermediate(grads, key, truth, scale) is not False:
            continue
        made = {"dZ2": "A2 - Y (with or without the 1/m)",
                "dA1": "W2^T dZ2" + (" (before or after D1 / keep_prob)" if keep_prob is not None else ""),
                "dZ1": _DROPOUT_DZ1 if keep_prob is not None else _MAKES_DZ[1]}[key]
        evidence = _dz1_evidence(grads, snapshot, names, keep_prob) if key == "dZ1" else []
        out.append(f"every dW and db is right, but the {key} you return is not {made}"
                   + (": " + " ".join(evidence) if evidence else ".")
                   + f" Return the {key} your dW and db were made from.")
    return out


def _uniform(r, m, n_classes, n_x):
    if near(r, 1 / m, 1e-4):
        return (f"every entry of your gradients is 1/m = 1/{m} of the true one: the 1/m is applied twice. It "
                "belongs once: either in dZ2 = (A2 - Y)/m, or (the course's way) in every dW and db, not both.")
    if near(r, m, 1e-4):
        return (f"every entry of your gradients is m = {m} times too large: the 1/m of the averaged cost is "
                "missing (dZ2 = A2 - Y needs 1/m in every dW and db, or put it in dZ2).")
    if m != n_classes and near(r, m / n_classes, 1e-4):
        return (f"every gradient is {r:.6g} = {m}/{n_classes} times the true one: m/n_classes. The m you divide by is "
                f"{n_classes}, the number of classes (Y.shape[0]); m is the number of examples, the columns: "
                f"X.shape[1] = {m}.")
    if m != n_x and near(r, m / n_x, 1e-4):
        return (f"every gradient is {r:.6g} = {m}/{n_x} times the true one: m/n_x. The m you divide by is "
                f"{n_x}, the number of input features (X.shape[0]); m is the number of examples, the columns: "
                f"X.shape[1] = {m}.")
    if near(r, -1, 1e-4):
        return "every gradient has the wrong sign: dZ2 is A2 - Y (prediction minus label), not Y - A2."
    return f"every gradient is {r:.6g} times the true one: a constant factor in your code."


_MAKES_DZ = {2: "A2 - Y (with or without the 1/m)", 1: "(W2^T dZ2) * ReLU'(Z1)"}
_DROPOUT_DZ1 = "(W2^T dZ2) * D1 / keep_prob * ReLU'(Z1)"


def _line(kind, layer, placement):
    """The line that makes dW<layer> or db<layer>, with the 1/m where the learner's dZ2 says it is."""
    dZ, prev = f"dZ{layer}", "A1" if layer == 2 else "X"
    plain = f"dW{layer} = {dZ} {prev}^T" if kind == "W" else \
        f"db{layer} = the sum of {dZ} over the examples (axis=1, keepdims=True)"
    with_m = f"dW{layer} = (1/m) {dZ} {prev}^T" if kind == "W" else \
        f"db{layer} = (1/m) times the sum of {dZ} over the examples (axis=1, keepdims=True)"
    if placement == "dZ2":
        return f"{plain}, with no 1/m: your dZ2 already holds it"
    if placement == "course":
        return with_m
    return f"{with_m} (without the 1/m if your dZ2 holds it)"


def _layer(layer, rows, grads, truth, placement, m, n_classes, keep_prob, damage, snapshot, names):
    """What the rows of dW<layer> and db<layer> say: empty when both agree."""
    W, b, dZ = f"W{layer}", f"b{layer}", f"dZ{layer}"
    w_fails, b_fails = not rows[W].passed, not rows[b].passed
    if not (w_fails or b_fails):
        return []
    makes = _DROPOUT_DZ1 if layer == 1 and keep_prob is not None else _MAKES_DZ[layer]
    scale = None if placement is None else (1.0 if placement == "course" else 1.0 / m)
    dz_right = _intermediate(grads, dZ, truth, scale)
    if dz_right is True:
        dz_said = f"your {dZ} equals {makes}, so the mistake comes after it"
    elif dz_right is False:
        dz_said = f"your {dZ} is wrong: it is not {makes}"
    else:
        dz_said = ""
    out = []
    if w_fails and b_fails:
        rW, rb = _constant(rows[W]), _constant(rows[b])
        if rW is not None and rb is not None and near(rW, rb, 1e-4):
            what, meaning = _what_factor(rW, m, n_classes, keep_prob, ones="ones")
            line = f"d{W} and d{b} are both {what}" + (f": {meaning}" if meaning else "")
            line += (f"; {dz_said}, on the lines that make d{W} and d{b} from it." if dz_right is True else
                     f"; {dz_said}." if dz_right is False else
                     f". One factor on both, so most likely in {dZ} = {makes}, which both are made from; "
                     "or the same factor on both their lines.")
        else:
            line = (f"d{W} and d{b} both fail, by different amounts (ratios {_g(rows[W].ratio)} and "
                    f"{_g(rows[b].ratio)})" + (f"; {dz_said}." if dz_right is not None else
                                               f": they share {dZ} = {makes}, the most likely place of the mistake."))
        out.append(line)
        if dz_right is False and layer == 1:
            out += _dz1_evidence(grads, snapshot, names, keep_prob)
        return out
    bad, good = (W, b) if w_fails else (b, W)
    line = (f"d{bad} fails ({_ratio_text(rows[bad], m, n_classes, keep_prob)}) while d{good}, made from the same "
            f"{dZ}, is right")
    if bad == W and getattr(rows[W], "note", "") == "transposed":
        return [line + f": your d{W} is the transpose of the right one. {W} is square {rows[W].shape}, so the "
                f"shapes matched anyway. {dZ} comes first: {_line('W', layer, placement)}."]
    if bad == W and layer == 2 and any(k == "A1" for k, _, _ in damage):
        return [line + f": A1 was damaged in the cache before dW2 read it (in the line that makes "
                f"{_line('W', 2, placement)})."]
    return [line + (f"; {dz_said}: " if dz_right is not None else ": ")
            + f"look at the line that makes {_line(bad[0], layer, placement)}."]


def _dz1_evidence(grads, snapshot, names, keep_prob):
    """Where the learner's dZ1 is non-zero although the unit was off (or dropped)."""
    dZ1, Z1 = np.asarray(grads["dZ1"]), snapshot[names.index("Z1")]
    out = []
    off = int(np.sum((dZ1 != 0) & (Z1 <= 0)))
    if off:
        out.append(f"your dZ1 is non-zero at {off} of the {int(np.sum(Z1 <= 0))} entries where Z1 <= 0 (units "
                   "that were off): multiply dA1 by ReLU'(Z1).")
    if keep_prob is not None:
        out += mask_problems(grads, snapshot[names.index("D1")])
    return out


def mask_problems(grads, D1):
    """Where the learner's dA1 and dZ1 (after the mask) disagree with the cache's mask D1."""
    dA1, dZ1 = grads.get("dA1"), grads.get("dZ1")
    if dA1 is not None and np.shape(dA1) == D1.shape:
        dA1 = np.asarray(dA1)
        dropped_but_nonzero = int(np.sum((dA1 != 0) & (D1 == 0)))
        kept_but_zero = int(np.sum((dA1 == 0) & (D1 == 1)))
        if dropped_but_nonzero and kept_but_zero:
            return [f"your dA1 is non-zero at {dropped_but_nonzero} entries where D1 = 0 and zero at "
                    f"{kept_but_zero} where D1 = 1: it was masked with another mask than the forward pass's. "
                    "Use the D1 from the cache."]
    if dZ1 is not None and np.shape(dZ1) == D1.shape:
        dropped_but_nonzero = int(np.sum((np.asarray(dZ1) != 0) & (D1 == 0)))
        if dropped_but_nonzero:
            return [f"your dZ1 is non-zero at {dropped_but_nonzero} of the {int(np.sum(D1 == 0))} entries where "
                    "D1 = 0 (units the forward pass dropped, which had no effect on the cost): multiply dA1 by the "
                    "D1 from the cache, then divide by keep_prob."]
    return []
