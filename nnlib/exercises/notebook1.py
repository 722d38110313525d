"""Notebook 1's exercises: 1.1 softmax, 1.2 compute_cost."""

import numpy as np

from .. import model
from .feedback import Stop, a_kind, array, both, call, changed, close, fail, near, show, source_of, verdict

# float64's largest number is about e^709.8: e^z for any larger z is inf, and inf / inf is nan
_OVERFLOW = float(np.log(np.finfo(float).max))


# ---- 1.1 softmax -------------------------------------------------------------------------

def check_softmax(softmax):
    """Exercise 1.1: softmax(Z) for Z (n_classes, m), column by column, without overflow."""
    name = "softmax"
    try:
        Z = np.random.default_rng(11).standard_normal((10, 8)) * 3
        Z_before = Z.copy()
        A = array(name, call(name, softmax, Z)[0], "your softmax(Z) for Z of shape (10, 8)", Z.shape)
        if changed(Z_before, Z):
            raise fail(name, f"your softmax changed its input: {changed(Z_before, Z)} of the 80 entries "
                             "of Z are different afterwards. `Z -= ...` writes into the caller's array (in "
                             "backprop that is the cache); `Z - ...` makes a new one.")
        expected = model.softmax(Z_before)
        if not close(A, expected):
            raise fail(name, _softmax_mistake(A, Z_before, expected))
        _large_logits(name, softmax)
    except Stop as stop:
        return stop.feedback
    return verdict(name, [], ["each column sums to 1, and large logits do not overflow: (1000, 1001, 999), "
                              "(-800, 0, 800), and two columns 2000 apart"])


def _large_logits(name, softmax):
    """What "overflow-safe" means: any column of large positive logits, close together or far apart."""
    big = np.array([[1000.0], [1001.0], [999.0]])
    A_big = array(name, call(name, softmax, big.copy())[0], "your softmax of the column (1000, 1001, 999)", (3, 1))
    if not np.all(np.isfinite(A_big)):
        raise fail(name, f"on the column z = (1000, 1001, 999) your softmax returns {show(A_big)}: "
                         f"e^1000 overflows float64 (whose largest number is about e^{_OVERFLOW:.1f}), and "
                         "inf/inf is nan. Subtract the column's largest entry from every entry before exp: "
                         "the result is mathematically the same and the largest exponent becomes e^0 = 1.")
    if not close(A_big, model.softmax(big)):
        raise fail(name, f"on the column z = (1000, 1001, 999) your softmax returns {show(A_big)}, "
                         f"not {show(model.softmax(big))}.")
    # far apart: subtracting the column's min, its mean or its first entry still leaves e^800 or more
    spread = np.array([[-800.0], [0.0], [800.0]])
    A_spread = array(name, call(name, softmax, spread.copy())[0], "your softmax of the column (-800, 0, 800)",
                     (3, 1))
    if not close(A_spread, model.softmax(spread)):
        got = show(A_spread)
        if np.all(np.isfinite(A_spread)):
            raise fail(name, f"on the column z = (-800, 0, 800) your softmax returns {got}, not (0, 0, 1).")
        raise fail(name, f"on the column z = (-800, 0, 800) your softmax returns {got}, where the answer is "
                         f"(0, 0, 1). It passed (1000, 1001, 999), whose entries are close together; here they "
                         f"are 1600 apart. Subtracting anything but the column's LARGEST entry (its smallest, "
                         f"its mean, its first) leaves an exponent of 800 or more, and e^800 overflows float64 "
                         f"(largest about e^{_OVERFLOW:.1f}): inf/inf is nan. Overflow-safe means the largest "
                         "exponent is e^0 = 1 in every column, however far apart the logits: subtract each "
                         "column's max (axis 0, keeping the dimensions).")
    # two columns far apart: a max taken over the whole array instead of each column fails here
    apart = np.array([[1000.0, -1000.0], [1001.0, -999.0], [999.0, -1001.0]])
    A_apart = array(name, call(name, softmax, apart.copy())[0], "your softmax of a (3, 2) array", (3, 2))
    if not close(A_apart, model.softmax(apart)):
        raise fail(name, "with columns (1000, 1001, 999) and (-1000, -999, -1001) your softmax returns "
                         f"{show(A_apart[:, 0])} and {show(A_apart[:, 1])}; the second column should "
                         "equal the first. Subtracting the largest entry of the WHOLE array sends the "
                         "second column to e^-2000 = 0, and 0/0 = nan: subtract each column's own max "
                         "(a max over axis 0 that keeps the dimensions).")


def _softmax_mistake(A, Z, expected):
    """Why A is not the column-wise softmax of Z."""
    if not np.all(np.isfinite(A)):
        return f"your softmax returns {int(np.sum(~np.isfinite(A)))} nan or inf entries for ordinary logits."
    E = np.exp(Z - Z.max())
    by_row = np.exp(Z - Z.max(axis=1, keepdims=True))
    if np.allclose(A, by_row / by_row.sum(axis=0, keepdims=True)):
        return ("each column sums to 1, but you subtract each ROW's max (axis=1): a different number from each "
                "entry of a column, and that changes the column's softmax. The shift must be one number per "
                "column, that column's largest entry: a max over axis 0 (keepdims=True), like the sum.")
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
    return (f"the columns of your result sum to {show(sums[:3])}... instead of 1: "
            "softmax(z)_k = e^z_k / sum_j e^z_j, the sum over the classes of that column.")


# ---- 1.2 compute_cost --------------------------------------------------------------------

def check_compute_cost(compute_cost):
    """Exercise 1.2: the cross-entropy averaged over the m examples, one number (a float)."""
    name = "compute_cost"
    try:
        rng = np.random.default_rng(12)
        m, n = 8, 10
        AL = model.softmax(rng.standard_normal((n, m)) * 2)
        Y = np.zeros((n, m))
        Y[rng.integers(0, n, m), np.arange(m)] = 1.0
        AL_before, Y_before = AL.copy(), Y.copy()
        J, _ = call(name, compute_cost, AL, Y)
        if changed(AL_before, AL) or changed(Y_before, Y):
            raise fail(name, "your compute_cost changed its inputs AL or Y: compute new arrays instead.")
        expected = -np.sum(Y * np.log(AL)) / m
        value, shape_problem = _cost_value(name, J, AL, Y, m)
        # 1e-9 relative: room for the rounding of another summation order (~1e-15), not for a
        # different function (log(AL + 1e-8) is 1.4e-7 off here)
        problems = [] if near(value, expected, 1e-9) else [_cost_mistake(value, expected, AL, Y, m, n,
                                                                            "//" in source_of(compute_cost))]
        if shape_problem and not problems:
            shape_problem += f" Its one entry is the right value, {expected:.6f}."
        if problems or shape_problem:
            raise fail(name, *problems, *([shape_problem] if shape_problem else []))
    except Stop as stop:
        return stop.feedback
    kind = "a float" if isinstance(J, float) else "a NumPy array of shape (), which works as one"
    return verdict(name, [], [f"J = {expected:.6f} on 8 examples of 10 classes, returned as one number ({kind})"])


def _cost_value(name, J, AL, Y, m):
    """(the learner's cost as a float, what is wrong with its type or shape or None), or feedback
    when it cannot be read as a cost at all."""
    if isinstance(J, (str, bytes, bool, np.bool_, complex, np.complexfloating, dict)) \
            or not isinstance(J, (int, float, np.number, np.ndarray, list, tuple)):
        raise fail(name, f"your compute_cost returned {a_kind(J)}; return one number (a float).")
    if isinstance(J, (list, tuple)):
        raise fail(name, f"your compute_cost returned {a_kind(J)}; return one number (a float)"
                         + (f", not a {type(J).__name__} holding it: float(...)." if len(J) == 1 else "."))
    if isinstance(J, (int, np.integer)):
        raise fail(name, f"your compute_cost returned the whole number {int(J)} ({type(J).__name__}): the cost is "
                         f"a fraction (here about {-np.sum(Y * np.log(AL)) / m:.6f}); int() or round() without "
                         "digits drops what comes after the point. Return the float itself.")
    arr = np.asarray(J)
    if arr.dtype.kind == "f" and arr.dtype.itemsize < 8:
        raise fail(name, f"your compute_cost returned {arr.dtype}: compute it in float64 "
                         "(the arrays you are given are float64; something cast them down).")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise fail(name, f"your compute_cost returned {a_kind(J)}; return one number.") from None
    if arr.size == 1:
        if arr.ndim == 0:
            return float(arr), None
        return float(arr.reshape(())), (
            f"your cost is a NumPy array of shape {arr.shape}, not a number: the code after it (printing "
            "it with a format, comparing costs, a gradient check) needs one number. Return float(cost); "
            "the course's np.squeeze(cost) also drops the dimensions.")
    losses = -np.sum(Y * np.log(AL), axis=0)
    if arr.size == m and (np.allclose(np.ravel(arr), losses) or np.allclose(np.ravel(arr), losses / m)):
        divided = np.allclose(np.ravel(arr), losses / m)
        raise fail(name, f"your cost has shape {arr.shape}: one loss per example"
                         + (", each divided by m. Sum them too: the sum over both axes, then the 1/m." if divided else
                            ". The cost is their average: sum over the examples too, and divide by m."))
    if arr.shape == (m, m) and np.allclose(np.diag(arr) * m, -np.sum(Y * np.log(AL), axis=0)):
        raise fail(name, f"your cost has shape {arr.shape}: a matrix product of the (10, {m}) arrays pairs "
                         "every example with every other one, and only its diagonal is the per-example loss. "
                         "Multiply element by element (Y * np.log(AL)) and sum.")
    if arr.size == Y.shape[0]:
        raise fail(name, f"your cost has shape {arr.shape}: one number per class. Sum over both axes "
                         "(the classes and the examples), then divide by m.")
    raise fail(name, f"your cost has shape {arr.shape}; the cost is one number.")


def _cost_mistake(value, expected, AL, Y, m, n, floor_division=False):
    """Why the learner's cost is not the averaged cross-entropy; floor_division: their code has `//`."""
    r = value / expected
    got, want = both(value, expected)
    if not np.isfinite(value):
        return f"your cost is {value}: look for log(0) or a division by zero."
    floor = (" Your code has `//`, floor division, which rounds down to a whole number: -1 // m is -1 and "
             "1 // m is 0 for any m > 1. Write -1 / m (or divide the sum by m)." if floor_division else "")
    if value == 0:
        return (f"your cost is exactly 0, where the averaged cross-entropy of these AL and Y is {expected:.6f}: "
                "something multiplies it by 0." + (floor or " `1 // m` does (floor division: 0 for any m > 1); "
                                                   "write 1 / m."))
    if near(r, m, 1e-6):
        return (f"your cost is m = {m} times too large ({value:.6f} instead of {expected:.6f}): "
                + (f"the 1/m became 1.{floor}" if floor else
                   "the 1/m is missing. The cost is the AVERAGE over the m examples: divide by m = Y.shape[1]."))
    if near(r, m / n, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: you divided by {n} = Y.shape[0], the "
                f"number of classes; m, the number of examples, is Y.shape[1] = {m}.")
    if near(r, 1 / m, 1e-6):
        return f"your cost is m = {m} times too small ({value:.6f} instead of {expected:.6f}): divide by m once."
    if near(r, 1 / n, 1e-6):
        return (f"your cost is {value:.6f}, a tenth of {expected:.6f}: a mean over the whole (10, {m}) array "
                f"divides by 10 x {m}; divide the sum by m = {m} only.")
    if near(r, -1, 1e-6):
        return (f"your cost is {value:.6f}, negative: log of a probability is <= 0, so the cross-entropy "
                "needs the minus sign in front: J = -(1/m) sum Y log AL, which is >= 0.")
    if near(r, 1 / np.log(10), 1e-6):
        return f"your cost is {value:.6f}, ln(10) times too small: use the natural log np.log, not np.log10."
    if near(r, 1 / np.log(2), 1e-6):
        return f"your cost is {value:.6f}, 1/ln(2) times too large: use the natural log np.log, not np.log2."
    binary = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    if near(value, binary, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: it also counts (1 - Y) log(1 - AL), the "
                "binary cross-entropy of a sigmoid output. With softmax only the log-probability of the "
                "right class counts: J = -(1/m) sum Y log AL.")
    every_pair = -np.sum(Y.T @ np.log(AL))
    if near(value, every_pair / m, 1e-6) or near(value, every_pair, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: the sum of the whole ({m}, {m}) matrix product "
                f"of Y^T and log AL{'' if near(value, every_pair / m, 1e-6) else ', without the 1/m'}. That product "
                "pairs each example's label with every example's probabilities; only its diagonal (each example "
                "with itself) is the cost. Multiply element by element, Y * np.log(AL), then sum.")
    if near(value, -np.sum(np.log(AL)) / m, 1e-6):
        return (f"your cost is {value:.6f} instead of {expected:.6f}: it adds log AL over all 10 classes. "
                "Multiply by Y first, so that only the probability of each example's right class counts.")
    rounded = [k for k in range(10) if value == round(expected, k)]
    if rounded:
        return (f"your cost is {value!r}: the right cost, {want}, rounded to {rounded[0]} decimals. Return it "
                "unrounded (round only where you print it).")
    guard = _log_guard(value, expected, AL, Y, m)
    if guard is not None:
        return guard
    return (f"your cost is {got}; the averaged cross-entropy of these AL and Y is {want}, a difference of "
            f"{abs(value - expected):.2g}, {abs(value - expected) / expected:.2g} times the right cost (this feedback "
            "allows 1e-9 times it, room for rounding only).")


def _log_guard(value, expected, AL, Y, m):
    """The message for a cost that is -(1/m) sum Y log(AL + eps), for eps a power of ten, or None."""
    if not value < expected:
        return None
    off = expected - value
    for eps in 10.0 ** -np.arange(1, 17):
        guarded = -np.sum(Y * np.log(AL + eps)) / m
        if abs(guarded - value) <= 1e-3 * off:  # explains the whole difference, to 0.1 %
            break
    else:
        return None
    got, want = both(value, expected)
    # d/dZ of -log(a_y + eps) is (A - Y) a_y / (a_y + eps): each example's gradient shrinks by that factor
    a_y = np.sum(AL * Y, axis=0)
    exact = AL - Y
    shrunk = exact * (a_y / (a_y + eps))
    gap = np.linalg.norm(exact - shrunk) / (np.linalg.norm(exact) + np.linalg.norm(shrunk))
    return (f"your cost is {got} instead of {want}, {off:.1e} less: exactly what -(1/m) sum Y log(AL + {eps:g}) "
            f"gives. The {eps:g} added inside the log changes the function, and its gradient with it: "
            f"backprop's dZ = A - Y is the derivative of the exact cross-entropy, and on these 8 examples it "
            f"differs from the derivative of yours by {gap:.1e} (relative), "
            f"{'more' if gap > 2e-7 else 'less'} than a gradient check allows (2e-07). AL comes from a "
            "softmax and is not 0 here: leave the guard out, np.log(AL).")
