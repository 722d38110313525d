"""The bug lab's exercise: five mystery networks, each checked and shown without its answer.

    from nnlib.mysteries import MENU, check_guess, show_mystery
    print(show_mystery(1))            # the difference and the per-parameter table, nothing else
    check_guess(1, "sign flip")       # "right", or what in the report contradicts the guess

Each mystery is a network, a batch and a course-style backward_propagation(X, Y, cache),
checked by nnlib.check. What is shown is the report's numbers only: no bug name, no
diagnosis. Four mysteries use the bug lab's 784 -> 10 -> 10 network on 16 digits, one the
course's 4 -> 5 -> 3 -> 1 network (nnlib.course). The answers are in _MYSTERY, below the
functions; the reasoned answers are in solutions/04-bug-lab.md. Try first.
"""

import difflib
from copy import deepcopy
from dataclasses import replace
from functools import lru_cache

import numpy as np

from . import course, doctor, experiment, model
from .checks import format_difference, format_ratio
from .gradcheck import format_row_difference

# The answers a learner picks from: simple keys, with what each means.
MENU = {
    "sign flip": "a sign error somewhere in backward (Y - A typed where A - Y belongs, in one step)",
    "transposed dW2": "dW2 computed as the transpose of the right matrix: A1 dZ2^T instead of dZ2 A1^T",
    "1/m twice": "the 1/m applied twice: in dZ and again in dW and db (in one layer or more)",
    "1/m missing": "the 1/m nowhere: not in dZ, and not in dW and db either",
    "wrong constant": "a gradient multiplied by a stray number that belongs nowhere in backprop (a typo)",
    "missing ReLU mask": "dZ1 = dA1: the ReLU derivative forgotten",
    "in-place derivative": "the ReLU derivative written over an array that is still in the cache",
    "shallow copy": "the check's parameter copy shares its arrays with the parameters",
    "ReLU kink": "no bug in backprop: a pre-activation within epsilon of 0 fools the numeric gradient",
}


# ---- the bug lab's network, 784 -> 10 -> 10, in the course's function shapes -----------------

def forward_propagation(X, Y, parameters):
    """LINEAR -> RELU -> LINEAR -> SOFTMAX. X (784, m), Y one-hot (10, m); returns (cost, cache)."""
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = model.relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = model.softmax(Z2)
    cost = model.cost(A2, Y)
    return cost, (Z1, A1, W1, b1, Z2, A2, W2, b2)


def backward_propagation(X, Y, cache, mistake=None):
    """Course-style gradients: dZ2 = A2 - Y, and the 1/m in every dW and db. `mistake` plants one
    of the mysteries' bugs, each on the line it would be on in a learner's code."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    if mistake == "1/m twice":
        dZ2 = dZ2 / m                                       # nnlib's place for the 1/m, and the course's below
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    if mistake == "transposed dW2":
        dW2 = 1.0 / m * np.dot(A1, dZ2.T)                  # (dZ2 A1^T)^T: W2 is (10, 10), so it fits
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, Y - A2 if mistake == "sign flip" else dZ2)  # Y - A2 is -dZ2
    dZ1 = dA1 * (Z1 > 0)
    layer1 = 1.0 if mistake == "1/m twice" else 1.0 / m    # dZ1 inherits dZ2's 1/m there: right
    dW1 = layer1 * np.dot(dZ1, X.T)
    db1 = layer1 * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def _planted(mistake):
    def backward(X, Y, cache):
        return backward_propagation(X, Y, cache, mistake)
    return backward


def _digits(batch):
    """16 digits and the seed-0 He parameters of the bug lab: the first 16 of the training split,
    or the 16 after them (a second batch for the same network)."""
    X, Y, params = experiment.batch_and_params(32, 0)
    columns = slice(0, 16) if batch == "first" else slice(16, 32)
    return X[:, columns], Y[:, columns], {k: v.copy() for k, v in params.items()}


def _kinked_digits(batch):
    """The same network with one bias moved so that one hidden unit of the first digit sits
    3e-8 above ReLU's kink: backprop is right, but theta +- eps lands on both sides of it."""
    X, Y, params = _digits(batch)
    X_first = _digits("first")[0]
    Z1 = np.dot(params["W1"], X_first[:, :1]) + params["b1"]
    unit = int(np.argmax(Z1[:, 0] > 0))
    params["b1"][unit, 0] -= Z1[unit, 0] - 3e-8
    return X, Y, params


def _course_case(batch):
    """The course's test case (3 examples), or 3 other examples drawn the same way."""
    X, Y, parameters = course.test_case()
    if batch == "second":
        X = np.random.RandomState(2).randn(4, 3)  # the legacy generator, as an explicit object
    return X, Y, parameters


_BUG_LAB_NET = "784 -> 10 -> 10 (ReLU, softmax), the bug lab's network, M = 16 digits"
_COURSE_NET = "4 -> 5 -> 3 -> 1 (ReLU, ReLU, sigmoid), the course's gradient-check network, m = 3"

# number -> (network, data, forward, backward, answer). The answers: look only after trying.
_MYSTERY = {
    1: (_BUG_LAB_NET, _digits, forward_propagation, _planted("transposed dW2"), "transposed dW2"),
    2: (_BUG_LAB_NET, _digits, forward_propagation, _planted("1/m twice"), "1/m twice"),
    3: (_COURSE_NET, _course_case, course.forward_propagation_n, course.backward_propagation_n_planted,
        "wrong constant"),
    4: (_BUG_LAB_NET, _kinked_digits, forward_propagation, backward_propagation, "ReLU kink"),
    5: (_BUG_LAB_NET, _digits, forward_propagation, _planted("sign flip"), "sign flip"),
}


def _number(number):
    """The mystery number, checked: a whole number 1..5 (a bool is not a number here)."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise ValueError(f"the mystery number must be a whole number from 1 to {len(_MYSTERY)}, "
                         f"got {number!r}")
    if number not in _MYSTERY:
        raise ValueError(f"there is no mystery {number}: the mysteries are numbered 1 to {len(_MYSTERY)}")
    return int(number)


def _batch(batch):
    if batch not in ("first", "second"):
        raise ValueError(f"batch must be 'first' (the one shown) or 'second' (other examples, "
                         f"same network), got {batch!r}")
    return batch


@lru_cache(maxsize=None)
def _report(number, batch):
    _, data, forward, backward, _ = _MYSTERY[number]
    X, Y, parameters = data(batch)
    # every entry of the small course network; 25 entries of each parameter of 784 -> 10 -> 10,
    # as the bug lab's default check (all of them would take seconds per mystery)
    method = "loop" if sum(p.size for p in parameters.values()) <= 100 else "sampled"
    report = doctor.check(parameters, forward_propagation=forward, backward_propagation=backward,
                          X=X, Y=Y, method=method, k=25, rng=np.random.default_rng(0))
    # what a learner may see: the numbers, not the doctor's reading of them
    rows = [replace(row, note="") for row in report.per_parameter]
    return replace(report, per_parameter=rows, diagnosis=[], bugs=())


def mystery_report(number, batch="first"):
    """The check report of mystery `number` (1-5), without its diagnosis.

    batch="second" checks the same network and backward on other examples (16 other digits,
    or 3 other examples for the course's network).
    """
    return deepcopy(_report(_number(number), _batch(batch)))  # a copy: check_guess reads the original


def _table(report):
    """The per-parameter rows: 6 decimals, as in the lab (a row of 10 or 25 entries has rounding
    noise in its 7th); differences at rounding level get two digits, as everywhere."""
    lines = [f"{'param':<6} {'shape':<10} {'checked':>7} {'difference':>11} {'ratio a/n':>10}"]
    lines += [f"{r.name:<6} {str(r.shape):<10} {r.checked:>7} {format_row_difference(r.difference):>11} "
              f"{format_ratio(r.ratio):>10}  {'ok' if r.passed else 'FAIL'}" for r in report.per_parameter]
    return "\n".join(lines)


def show_mystery(number, batch="first"):
    """What the exercise shows of a mystery: the difference, the per-parameter table and two
    facts the check measured (the cache, the entries that straddle a kink). Returns text; a number
    or batch that does not exist gets a one-line message instead."""
    try:
        report = mystery_report(number, batch)
    except ValueError as e:
        return f"{e}."
    network = _MYSTERY[_number(number)][0]
    which = "" if batch == "first" else ", a second batch (other examples)"
    return "\n".join([
        f"mystery {number}: {network}{which}",
        f"difference = {format_difference(report.difference)}   threshold {report.threshold:g}   "
        f"{'PASS' if report.passed else 'FAIL'}   ({report.method} check)",
        _table(report),
        f"backward changed its cache: {', '.join(report.changed_cache_keys) or 'no'}",
        f"entries whose +eps and -eps steps straddle a kink: {report.kinks}"])


# ---- judging a guess ------------------------------------------------------------------------

def _key(answer):
    """The menu's key for answer (any case and spacing), or ValueError naming the whole menu."""
    choose = f"choose one of: {', '.join(map(repr, MENU))} (print(menu()) says what each means)"
    if not isinstance(answer, str):
        raise ValueError(f"the answer must be one of the menu's strings, not {answer!r}: {choose}")
    wanted = " ".join(answer.lower().split())
    for key in MENU:
        if key.lower() == wanted:
            return key
    close = [key for key in MENU if wanted and (wanted in key.lower() or key.lower() in wanted)]
    close += [key for key in difflib.get_close_matches(wanted, [k.lower() for k in MENU]) if key not in close]
    hint = f" (did you mean {' or '.join(repr(k) for k in _menu_keys(close))}?)" if close else ""
    raise ValueError(f"{answer!r} is not on the menu{hint}; {choose}")


def _menu_keys(lowered):
    return [key for key in MENU if key.lower() in {c.lower() for c in lowered}]


def _near(x, target, tol=1e-3):
    return bool(np.isfinite(x) and abs(x - target) <= tol * max(abs(target), 1e-12))


def _ratios(rows):
    return ", ".join(f"{r.name} {r.ratio:.6f}" for r in rows)


def _contradiction(key, number, report):
    """What in the report rules out `key` for this mystery, or None if nothing does."""
    rows = report.per_parameter
    failing = [r for r in rows if not r.passed]
    names = [r.name for r in rows]
    m = report.batch  # the number of examples
    last = max(int(n[1:]) for n in names)  # the output layer
    status = {r.name: r.passed for r in rows}
    if key == "sign flip" and not any(_near(r.ratio, -1.0) for r in failing):
        return ("a sign flip makes the gradients it touches point the other way: ratio -1 and row "
                f"difference 1. No row here has ratio -1 (failing: {_ratios(failing)}).")
    if key == "transposed dW2":
        if status.get("W2", True):
            return "a transposed dW2 makes W2 fail; here W2 agrees."
        if report.per_parameter[names.index("W2")].shape[0] != report.per_parameter[names.index("W2")].shape[1]:
            return "W2 is not square here, so a transposed dW2 would not even have W2's shape."
        others = [r.name for r in failing if r.name != "W2"]
        if others:
            return ("dW2 is computed from dZ2 and A1 and nothing else reads it, so a transposed dW2 "
                    f"fails W2 alone; here {' and '.join(others)} fail too.")
    if key in ("1/m twice", "1/m missing"):
        target = 1.0 / m if key == "1/m twice" else float(m)
        if not any(_near(r.ratio, target) for r in failing):
            what = "a 1/m applied twice makes the gradients it touches m" if key == "1/m twice" \
                else "a missing 1/m makes the gradients it touches m"
            size = "small" if key == "1/m twice" else "large"
            return (f"{what} = {m} times too {size}: ratio {target:.6f}. No failing row has it "
                    f"({_ratios(failing)}).")
    if key == "wrong constant":
        for r in failing:
            if r.ratio <= 0:
                return (f"a stray positive number scales a gradient but keeps its sign, so its ratio "
                        f"stays positive; {r.name}'s ratio is {r.ratio:.6f}.")
        for r in failing:
            expected = abs(1 - r.ratio) / (1 + r.ratio)
            if not _near(r.difference, expected, 1e-2):
                return (f"a gradient times a constant c has ratio c and row difference exactly "
                        f"|1-c|/(1+c). {r.name}'s ratio {r.ratio:.6f} would give "
                        f"{format_row_difference(expected)}, but its difference is "
                        f"{format_row_difference(r.difference)}: not a constant factor.")
        if all(_near(r.ratio, 1.0 / m) or _near(r.ratio, float(m)) for r in failing):
            return (f"every failing ratio is exactly 1/m or m (m = {m}; {_ratios(failing)}): that is "
                    "no typo. Where does m enter backward?")
    if key == "missing ReLU mask":
        wrong_output = [n for n in (f"W{last}", f"b{last}") if not status[n]]
        if wrong_output:
            return (f"the output layer's dW{last} and db{last} come before any ReLU derivative, so a "
                    f"forgotten mask leaves them right; here {' and '.join(wrong_output)} "
                    f"{'fails' if len(wrong_output) == 1 else 'fail'}.")
        for layer in range(1, last + 1):
            if status[f"W{layer}"] != status[f"b{layer}"]:
                bad, good = (f"W{layer}", f"b{layer}")[::1 if not status[f"W{layer}"] else -1]
                return (f"a forgotten mask changes dZ{layer}, from which dW{layer} and db{layer} are "
                        f"both built, so W{layer} and b{layer} fail together; here {bad} fails and "
                        f"{good} agrees.")
        flipped = [r.name for r in failing if _near(r.ratio, -1.0)]
        if flipped:
            return ("a forgotten mask adds the share of the switched-off units; it does not turn a "
                    f"gradient exactly around, and {' and '.join(flipped)} have ratio -1.")
        second = _report(number, "second")
        if report.kinks and second.passed:
            return ("a forgotten mask is in the code, so it fails on every batch. This network passes "
                    f"on a second batch (difference {format_difference(second.difference)}: "
                    f"show_mystery({number}, batch='second')), and this report counts "
                    f"{report.kinks} entries that straddle a kink.")
    if key == "in-place derivative" and not report.changed_cache_keys:
        return ("a derivative written in place changes an array in the cache backward was given; "
                "this report says backward left its cache unchanged.")
    if key == "shallow copy" and not all(_near(r.ratio, 2.0) for r in rows):
        return ("a shallow copy halves every numeric gradient, so every row would have ratio 2 and "
                f"difference 1/3; here the ratios are {_ratios(rows)}.")
    if key == "ReLU kink" and not report.kinks:
        return ("a kink shows in the report's count of entries whose +eps and -eps steps straddle "
                "a kink; here that count is 0.")
    return None


def check_guess(number, answer):
    """Say whether `answer` (a key of MENU) is what went wrong in mystery `number`; when it is
    not, say what in the report contradicts it (never what the answer is). A number or an answer
    that is not on offer gets one line that lists what is (a message, not an exception: a typo
    in a notebook cell deserves a sentence, not a traceback)."""
    try:
        number, key = _number(number), _key(answer)
    except ValueError as e:
        return f"{e}."
    if key == _MYSTERY[number][4]:
        return f"mystery {number}: {key!r} is right."
    why = _contradiction(key, number, _report(number, "first"))
    why = why or f"nothing in this table rules it out on its own: compare show_mystery({number}, batch='second')."
    return f"mystery {number}: not {key!r}. {why[0].upper()}{why[1:]}"


def menu():
    """The menu as text, one answer a line."""
    width = max(map(len, MENU))
    return "\n".join(f"  {key!r:<{width + 2}}  {meaning}" for key, meaning in MENU.items())
