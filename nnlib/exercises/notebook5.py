"""Notebook 5's exercises: 5.1 and 5.2, dropout forward and backward."""

import numbers
import warnings

import numpy as np

from .. import model
from . import feedback
from .feedback import Feedback, Stop, a_kind, array, call, changed, close, data, fail, fmt, indent, verdict
from .notebook2 import GRADIENT_KEYS, damaged, gradient_dict, key_notes, read_backward_report

DROPOUT_CACHE_NAMES = ("Z1", "D1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2")


# ---- 5.1 forward -------------------------------------------------------------------------

def check_dropout_forward(forward_propagation_with_dropout, keep_prob=0.8, m=256):
    """Exercise 5.1: forward_propagation_with_dropout(X, parameters, keep_prob, rng) -> (A2, cache).

    keep_prob in (0, 1) and m digits (up to 4,000) such that at least 20 of the 10 m hidden units
    are expected kept and 20 dropped; otherwise ValueError.
    """
    name = "forward_propagation_with_dropout"
    m = feedback.examples(m)
    keep_prob = _keep_prob(keep_prob, m)
    X, _, params = data(m)
    fn = forward_propagation_with_dropout
    try:
        given = [X] + [params[k] for k in ("W1", "b1", "W2", "b2")]
        before = [a.copy() for a in given]
        out, _ = call(name, fn, X, params, keep_prob, np.random.default_rng(51))
        for label, a, b in zip(("X", "W1", "b1", "W2", "b2"), before, given, strict=True):
            if changed(a, b):
                raise fail(name, f"your {name} changed its input {label}: {changed(a, b)} of its {a.size} "
                                 "entries are different afterwards. Compute new arrays (`A1 = A1 * D1`, not "
                                 "`A1 *= D1` on an array you were given).")
        A2, cache = _dropout_output(name, out, m)
        Z1, D1, A1, W1, b1, Z2, A2_cache, W2, b2 = cache
        D1 = array(name, D1, "D1 in your cache", (10, m), any_dtype=True, shape_hint=_mask_shape)  # 0/1: any dtype
        if not np.isin(D1, (0.0, 1.0)).all():  # first: a cache in another order puts D1 where A1 belongs
            raise fail(name, _not_a_mask(cache, m))
        Z1 = array(name, Z1, "Z1 in your cache", (10, m))
        A1 = array(name, A1, "A1 in your cache", (10, m))
        if not close(Z1, params["W1"] @ X + params["b1"]):
            raise fail(name, "Z1 in your cache is not W1 X + b1.")
        kept = float(D1.mean())
        # 5 standard deviations of the share a right mask keeps: a right answer fails 1 time in 2 million
        tolerance = 5 * np.sqrt(keep_prob * (1 - keep_prob) / D1.size)
        if abs(kept - keep_prob) > tolerance:
            if abs(kept - (1 - keep_prob)) < tolerance:
                raise fail(name, f"your mask keeps {kept:.0%} of the units with keep_prob = {keep_prob}: it "
                                 "keeps the dropped ones. keep_prob is the probability of KEEPING a unit: "
                                 "D1 is 1 where the uniform draw is below keep_prob.")
            raise fail(name, f"your mask keeps {kept:.0%} of the units; with keep_prob = {keep_prob} it should "
                             f"keep about {keep_prob:.0%}.")
        relu = np.maximum(0, Z1)
        if not close(A1, relu * D1 / keep_prob):
            raise fail(name, _dropout_forward_mistake(A1, relu, D1, keep_prob, A2, params))
        for what, value in (("the A2 you return", A2), ("A2 in your cache", A2_cache)):
            arr = array(name, value, what, (10, m))
            if not close(arr, model.softmax(params["W2"] @ A1 + params["b2"])):
                raise fail(name, f"{what} is not softmax(W2 A1 + b2) of the dropped-out A1 in your cache.")
        if not np.array_equal(_mask(name, fn, X, params, keep_prob, 51, m), D1):
            raise fail(name, "two calls with the same rng (same seed) drew different masks: draw D1 from "
                             "the rng you are given (rng.random(shape)), not from np.random, so that a run "
                             "can be repeated and a gradient check can freeze the mask.")
        if np.array_equal(_mask(name, fn, X, params, keep_prob, 52, m), D1):
            raise fail(name, "a different rng gave the same mask: draw D1 from the rng argument.")
        out_off, _ = call(name, fn, X, params, 1.0, np.random.default_rng(51))
        A2_off = array(name, _dropout_output(name, out_off, m)[0], "the A2 you return with keep_prob = 1", (10, m))
        if not close(A2_off, model.forward(params, X)["A2"]):
            raise fail(name, "with keep_prob = 1 (nothing dropped) your A2 differs from the network without "
                             "dropout.")
    except Stop as stop:
        return stop.feedback
    return verdict(name, [], [f"D1 keeps {kept:.1%} of the units (keep_prob = {keep_prob}), the kept ones are "
                              "divided by keep_prob, the mask comes from rng, and keep_prob = 1 changes nothing"])


def _mask(name, fn, X, params, keep_prob, seed, m):
    """The D1 of one more call with a generator seeded `seed`."""
    out, _ = call(name, fn, X, params, keep_prob, np.random.default_rng(seed))
    return array(name, _dropout_output(name, out, m)[1][1], f"D1 in your cache (rng seeded {seed})", (10, m),
                 any_dtype=True)


def _dropout_output(name, out, m):
    if not (isinstance(out, tuple) and len(out) == 2):
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        raise fail(name, f"your {name} returned {a_kind(out)}{size}; return the pair (A2, cache).")
    A2, cache = out
    if not (isinstance(cache, (tuple, list)) and len(cache) == len(DROPOUT_CACHE_NAMES)):
        size = f" of {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        raise fail(name, f"your cache is {a_kind(cache)}{size}; it must be the tuple (Z1, D1, A1, W1, "
                         "b1, Z2, A2, W2, b2), those 9, in that order.")
    return A2, cache


def _keep_prob(keep_prob, m=None):
    """keep_prob, checked: a number in (0, 1), and with m examples (10 m hidden units) one that keeps
    and drops at least 20 units each, so that a mask's share and two generators' masks can be told
    apart; else a ValueError."""
    if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real) or not 0 < keep_prob < 1:
        raise ValueError("keep_prob must be a number between 0 and 1, the probability of keeping a unit (not 1: "
                         f"the check needs some units dropped), got {keep_prob!r}")
    keep_prob = float(keep_prob)
    units = 10 * m if m is not None else None
    if units is not None and units * min(keep_prob, 1 - keep_prob) < 20:
        low, high = 20 / units, 1 - 20 / units
        raise ValueError(f"keep_prob = {keep_prob:g} with m = {m} keeps about {units * keep_prob:.0f} and drops about "
                         f"{units * (1 - keep_prob):.0f} of the {units:,} hidden units: the check needs at least 20 of "
                         "each to tell a mask from its inverse"
                         + (f"; give keep_prob from {low:.3g} to {high:.3g}, or a larger m" if low < high else
                            "; give a larger m"))
    return keep_prob


def _mask_shape(got, shape):
    if got in ((shape[0], 1), (shape[0],)):
        return ("yours is one draw per unit, shared by every example; each unit of each example must be kept or "
                "dropped on its own draw: rng.random(A1.shape)")
    return "the transpose's shape (here the examples are the columns)" if got == shape[::-1] else ""


def _not_a_mask(cache, m):
    """Why the second entry of the cache is not a 0/1 mask: the cache's order, or the mask itself."""
    masks = [i for i, c in enumerate(cache) if np.shape(c) == (10, m) and np.isin(np.asarray(c), (0.0, 1.0)).all()]
    if masks:
        return (f"the second entry of your cache is not 0/1, but entry {masks[0] + 1} is: the cache's order is "
                "(Z1, D1, A1, W1, b1, Z2, A2, W2, b2), D1 second and A1 third, the order backward unpacks it in.")
    return ("D1 (the second entry of your cache) must hold only 0s and 1s (1 = keep the unit); compare the "
            "uniform draw with keep_prob to get them.")


def _is_array(value, shape):
    return isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind == "f"


def _dropout_forward_mistake(A1, relu, D1, keep_prob, A2, params):
    """Why the A1 in the cache is not ReLU(Z1) * D1 / keep_prob, and whether the returned A2 used it."""
    if close(A1, relu * D1):
        return ("A1 in your cache is ReLU(Z1) * D1: the kept units are not divided by keep_prob, so the expected "
                f"activation shrinks to keep_prob = {keep_prob} of what the network sees at test time. "
                "Inverted dropout divides by keep_prob.")
    if close(A1, relu * D1 * keep_prob):
        return "A1 in your cache is multiplied by keep_prob; inverted dropout DIVIDES the kept units by keep_prob."
    if close(A1, relu):
        dropped = relu * D1 / keep_prob
        if _is_array(A2, dropped.shape) and close(A2, model.softmax(params["W2"] @ dropped + params["b2"])):
            return ("A1 in your cache is ReLU(Z1) before dropout, though the A2 you return is computed from the "
                    "dropped-out A1: put that one, ReLU(Z1) * D1 / keep_prob, in the cache. Backward's "
                    "dW2 = dZ2 A1^T needs the A1 that A2 was computed from.")
        return "A1 in your cache is ReLU(Z1) unchanged: multiply it by the mask D1 (and divide by keep_prob)."
    if close(A1, relu / keep_prob):
        return "A1 in your cache is divided by keep_prob but not multiplied by the mask D1."
    return "A1 in your cache is not ReLU(Z1) * D1 / keep_prob, computed with the D1 in your cache."


# ---- 5.2 backward ------------------------------------------------------------------------

def check_dropout_backward(backward_propagation_with_dropout, keep_prob=0.8, m=16, method="loop"):
    """Exercise 5.2: backward_propagation_with_dropout(X, Y, cache, keep_prob) -> gradients.

    Checked by the doctor (nnlib.check) with the mask frozen: every forward pass of the check
    uses the same D1, so J(theta + eps) and J(theta - eps) drop the same units. keep_prob in
    (0, 1), m from 1 to 4,000, method as for check_backward_propagation; otherwise ValueError.
    """
    from ..doctor import check

    name = "backward_propagation_with_dropout"
    m, method, keep_prob = feedback.examples(m), feedback.method_of(method), _keep_prob(keep_prob)
    X, Y, params = data(m)
    D1 = model.draw_masks(params, m, keep_prob, np.random.default_rng(53))["D1"]

    def forward_frozen(X_, Y_, parameters):
        """The forward pass with the one mask D1, in every call. Each cache gets its own copy, so a
        backward that writes into it cannot change the next call's mask."""
        c = model.forward(parameters, X_, keep_prob, masks={"D1": D1.copy()})
        cache = (c["Z1"], c["D1"], c["A1"], parameters["W1"], parameters["b1"], c["Z2"], c["A2"],
                 parameters["W2"], parameters["b2"])
        return model.cost(c["A2"], Y_), cache

    def backward(X_, Y_, cache):
        return backward_propagation_with_dropout(X_, Y_, cache, keep_prob)

    try:
        _, cache = forward_frozen(X, Y, params)
        snapshot = [np.array(c, copy=True) for c in cache]
        returned, _ = call(name, backward_propagation_with_dropout, X, Y, cache, keep_prob)
        grads = gradient_dict(name, returned, params)
        damage = damaged(snapshot, cache, DROPOUT_CACHE_NAMES)
        again, _ = call(name, backward_propagation_with_dropout, X, Y, forward_frozen(X, Y, params)[1], keep_prob)
        again = gradient_dict(name, again, params)
        differ = [k for k in GRADIENT_KEYS if not np.array_equal(np.asarray(grads[k]), np.asarray(again[k]))]
        if differ:
            raise fail(name, f"two calls on the same cache gave different {', '.join(differ)}: something in your "
                             "backward is random, most likely a new mask. It must use the D1 that the forward "
                             "pass used, from the cache, and nothing random.")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check(params, forward_propagation=forward_frozen, backward_propagation=backward, X=X, Y=Y, m=m,
                           method=method, progress=False)  # a bar left in the feedback's output misleads
    except Stop as stop:
        return stop.feedback
    except ValueError as e:
        return verdict(name, [f"the gradient check could not run: {e}"])
    problems = read_backward_report(report, grads, Y, m, damage, snapshot, DROPOUT_CACHE_NAMES, keep_prob=keep_prob)
    if problems:
        lines = verdict(name, problems).lines + ["", "The doctor's report (nnlib.check, masks frozen):",
                                                 indent(str(report))]
        return Feedback(name, False, lines)
    return verdict(name, [], [f"gradient check with the mask frozen: difference {fmt(report.difference)} "
                              f"(threshold {report.threshold:g}) on {m} digits, keep_prob = {keep_prob}",
                              "the cache is unchanged after your backward"] + key_notes(returned, grads))
