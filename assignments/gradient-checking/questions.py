"""The graded tests: what each question's answer is called with, and what it must give back.

grade.py calls build() once per grading run, in its own process, before any notebook runs. The
inputs are drawn afresh every run (random digits, random parameters) and the expected values
come from nnlib and from the master notebook. Each test is a few calls, made in a sandbox
(sandbox.py), and a judge that reads what the calls returned, back in grade.py. Reading this
file tells a learner what is checked, not on which numbers.

The public tests are the master notebook's own (what `grader.check` runs for learners), on
fresh cases; the hidden ones exist only here.
"""

import json
import re
from dataclasses import dataclass, field

import numpy as np
import yaml

import nnlib

# The answers each question grades: what the notebook must define, by name.
ANSWERS = {"q1": ("backward_propagation",), "q2": ("gradient_check_n",), "q3": ("wrong_gradients", "planted_bug")}
KEYS = ("W1", "b1", "W2", "b2")
GRADIENTS = tuple("d" + key for key in KEYS)


class Fail(Exception):
    """A test's verdict: what is wrong, in words a learner can act on."""


def check(condition, message):
    if not condition:
        raise Fail(message)


@dataclass
class Call:
    """One use of an answer in the sandbox: called with args (`times` times, on the same objects), or,
    for kind "value", the answer itself. read_only: positions of args whose arrays are rebuilt over
    immutable bytes (no flag makes them writable). l2: {"lambda", "keys"} to call it with every
    forward_propagation it reaches returning its cost plus (lambda / 2) * the sum of squares of those
    parameters (sandbox.py's _cost_with_l2)."""
    answer: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    kind: str = "call"
    read_only: tuple = ()
    times: int = 1
    report_args: bool = False
    l2: dict | None = None


@dataclass
class Result:
    """What came back for one Call: the values returned, or the error raised, or why the answer was missing."""
    answer: str
    returns: list
    error: str | None = None
    problem: str | None = None
    args_after: object = None

    def value(self, i=0):
        """The i-th value returned; a Fail that says why when there is none."""
        if self.problem:
            raise Fail(self.problem)
        if self.error:
            todo = " (a line still `...`? write it)" if "ellipsis" in self.error else ""
            raise Fail(f"{self.answer} raised {self.error}{todo}")
        check(len(self.returns) > i, f"{self.answer} returned nothing")
        return self.returns[i]


@dataclass
class Test:
    name: str          # "q1 - 3", as otter numbers a question's tests
    title: str         # what it checks, for the learner's feedback
    hidden: bool
    calls: list
    judge: object      # judge(results): returns when the test passes, raises Fail otherwise


@dataclass
class Question:
    name: str
    points: float
    answers: tuple
    tests: list


# ---- the master notebook: points, the colleague's code, the expected explanation ----------------------

def read_master(path):
    """{"questions": {name: points}, "given": [code], "solutions": {name: [code]}, "assignment": name}."""
    nb = json.loads(open(path, encoding="utf-8").read())
    out = {"questions": {}, "given": [], "solutions": {}, "assignment": None}
    question, block = None, None
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        first = source.strip().split("\n", 1)[0] if source.strip() else ""
        if cell["cell_type"] == "raw":
            if first.startswith("# ASSIGNMENT CONFIG"):
                out["assignment"] = yaml.safe_load(source.split("\n", 1)[1])["name"]
            elif first.startswith("# BEGIN QUESTION"):
                config = yaml.safe_load(source.split("\n", 1)[1])
                question = config["name"]
                points = config["points"]
                out["questions"][question] = float(sum(points) if isinstance(points, list) else points)
            elif first.startswith("# END QUESTION"):
                question = None
            elif first.startswith(("# BEGIN SOLUTION", "# BEGIN TESTS")):
                block = first.split()[2].lower()
            elif first.startswith(("# END SOLUTION", "# END TESTS")):
                block = None
        elif cell["cell_type"] == "code":
            if block == "solution":
                out["solutions"].setdefault(question, []).append(source.replace("# SOLUTION", ""))
            elif block is None:
                out["given"].append(source)
    return out


def master_function(master, name):
    """A function the master defines outside the questions (the colleague's backward), built here."""
    cells = [c for c in master["given"] if f"def {name}(" in c]
    check(len(cells) == 1, f"the master notebook has {len(cells)} cells defining {name}")
    namespace = {"np": np}
    exec(cells[0], namespace)
    return namespace[name]


def master_answer(master, question, name):
    """The value the master's solution gives `name` (question 3's letter)."""
    namespace = {"np": np}
    for source in master["solutions"][question]:
        exec(source, namespace)
    return namespace[name]


# ---- drawing cases ----------------------------------------------------------------------------------------

class Draw:
    """Fresh cases from one Generator: networks, real digits, and nnlib's answers for them."""

    def __init__(self, rng):
        self.rng = rng
        self.X, self.Y, _ = nnlib.load_mnist(rng)["train"]

    def network(self, sizes=(784, 10, 10), X=None, margin=0.0):
        """He-initialised parameters with nonzero biases. With X and margin: redrawn until every
        hidden pre-activation is more than margin away from ReLU's kink at 0, where a central
        difference of step margin would straddle the kink and miss the derivative."""
        while True:
            params = nnlib.init_params(self.rng, sizes)
            for key in ("b1", "b2"):
                params[key] = 0.1 * self.rng.standard_normal(params[key].shape)
            if X is None or np.min(np.abs(params["W1"] @ X + params["b1"])) > margin:
                return params

    def digits(self, m, pooled=False):
        """m real digits, drawn at random; pooled: averaged over 4 x 4 blocks (49 pixels, for fast checks)."""
        columns = self.rng.choice(self.X.shape[1], size=m, replace=False)
        X, Y = self.X[:, columns], self.Y[:, columns]
        if pooled:
            X = X.reshape(7, 4, 7, 4, m).mean(axis=(1, 3)).reshape(49, m)
        return X, Y

    def small(self, m=6, margin=0.0):
        """A 5 -> 4 -> 3 network with Gaussian inputs: the public tests' case."""
        X = self.rng.standard_normal((5, m))
        Y = nnlib.one_hot(self.rng.integers(0, 3, m), 3)
        return self.network((5, 4, 3), X, margin), X, Y


def course_cache(params, X, keep_prob=1.0, D1=None):
    """forward_propagation's cache, (Z1, A1, W1, b1, Z2, A2, W2, b2), from nnlib's forward pass."""
    masks = None if D1 is None else {"D1": D1}
    c = nnlib.forward(params, X, keep_prob=keep_prob, masks=masks)
    return (c["Z1"], c["A1"], params["W1"], params["b1"], c["Z2"], c["A2"], params["W2"], params["b2"])


def true_gradients(params, X, Y, keep_prob=1.0, D1=None):
    masks = None if D1 is None else {"D1": D1}
    grads = nnlib.backward(params, nnlib.forward(params, X, keep_prob=keep_prob, masks=masks), Y, keep_prob)
    return {key: grads[key] for key in GRADIENTS}


# ---- reading what came back -----------------------------------------------------------------------------

def kind(value):
    return getattr(value, "type_name", type(value).__name__)


def numbers(value, what):
    """value as a float array; a Fail naming `what` when it is not numbers."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        shown = f" ({value.shown})" if hasattr(value, "shown") else ""
        raise Fail(f"{what} is a {kind(value)}, not numbers{shown}") from None
    return array


def gradients(value, params, where):
    """The four gradients of a backward_propagation's result, each checked to be numbers of its parameter's shape."""
    check(isinstance(value, dict), f"backward_propagation returned a {kind(value)}; return a dict "
                                   "{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...}")
    todo = [key for key, item in value.items() if item is Ellipsis]
    check(not todo, f"{', '.join(todo)} still `...`: write their lines in backward_propagation")
    out = {}
    for key in GRADIENTS:
        check(key in value, f"the gradients have no '{key}' (keys: {sorted(value)})")
        out[key] = numbers(value[key], key)
        want = params[key[1:]].shape
        check(out[key].shape == want, f"{where}, {key} has shape {out[key].shape}; it must have the shape of "
                                      f"{key[1:]}, {want}. (dW = dZ A_prev.T; db sums dZ over axis 1 with "
                                      "keepdims=True.)")
    return out


def difference(result):
    """The one number a gradient_check_n returned."""
    value = result.value()
    array = numbers(value, "what gradient_check_n returned")
    check(array.size == 1, f"gradient_check_n returned a {kind(value)} of shape {array.shape}; "
                           "return the difference, one number")
    return float(array.ravel()[0])


def relative_difference(a, b):
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def ratio_hint(mine, true, m):
    """What a uniform ratio between two gradients says, in the master's words."""
    ratio = float(np.sum(mine * true) / np.sum(true * true))
    if abs(ratio - 1 / m) < 1e-3:
        return ratio, " = 1/m: the 1/m is applied twice (dZ2 = A2 - Y has none)"
    if abs(ratio - m) < 1e-2:
        return ratio, " = m: the 1/m is missing"
    if abs(ratio + 1) < 1e-3:
        return ratio, ": the sign is wrong (dZ2 = A2 - Y)"
    return ratio, ""


def unchanged(before, after, names):
    """The names whose arrays are not bit for bit what they were."""
    changed = []
    for name, old, new in zip(names, before, after, strict=True):
        new = np.asarray(new) if isinstance(new, np.ndarray) else None
        if new is None or new.shape != old.shape or new.dtype != old.dtype or new.tobytes() != old.tobytes():
            changed.append(name)
    return changed


# ---- question 1: backward_propagation -------------------------------------------------------------------

def q1_tests(draw):
    small = "on a 5 -> 4 -> 3 network with m = 6"
    tests = []

    params, X, Y = draw.small()
    call = Call("backward_propagation", (X, Y, course_cache(params, X)))
    tests.append(Test("q1 - 1", "the gradients are a dict with dW1, db1, dW2, db2, each in its parameter's shape",
                      False, [call], lambda results, params=params: gradients(results[0].value(), params, small)))

    params, X, Y = draw.small()
    true = true_gradients(params, X, Y)

    def judge_small(results, params=params, true=true):
        mine, lines = gradients(results[0].value(), params, small), []
        for key in GRADIENTS:
            diff = relative_difference(mine[key], true[key])
            if not diff < 1e-7:
                ratio, hint = ratio_hint(mine[key], true[key], 6)
                lines.append(f"{key}: relative difference {diff:.2e}; yours is {ratio:.4g} times the true one{hint}")
        check(not lines, f"{small}, your gradients are not those of the cost:\n" + "\n".join(lines))

    tests.append(Test("q1 - 2", "on a 5 -> 4 -> 3 network they are the gradients of the cost (a message names a "
                      "factor 1/m or m)", False, [Call("backward_propagation", (X, Y, course_cache(params, X)))],
                      judge_small))

    cases = []
    for m in (2, 8, 64):
        X, Y = draw.digits(m)
        params = draw.network()
        cases.append((m, true_gradients(params, X, Y), Call("backward_propagation", (X, Y, course_cache(params, X)))))

    def judge_digits(results, cases=cases):
        for (m, true, _), result in zip(cases, results, strict=True):
            mine = gradients(result.value(), {key[1:]: true[key] for key in GRADIENTS}, f"at m = {m}")
            for key in GRADIENTS:
                err = np.linalg.norm(mine[key] - true[key]) / np.linalg.norm(true[key])
                ratio, hint = ratio_hint(mine[key], true[key], m)
                check(err < 1e-9, f"{key} differs from nnlib.backward's at m = {m} (relative error {err:.1e}, "
                                  f"ratio {ratio:.4g}{hint})")

    tests.append(Test("q1 - 3", "on real digits they equal nnlib.backward's at m = 2, 8 and 64 (a stray or missing "
                      "1/m shows only at m > 1)", True, [call for *_, call in cases], judge_digits))

    X, Y = draw.digits(16)
    params = draw.network()
    cache = course_cache(params, X)
    names = ("X", "Y", "Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2")
    before = [a.copy() for a in (X, Y) + cache]

    shapes = {key: params[key] for key in KEYS}

    def judge_untouched(results, before=before, shapes=shapes):
        result = results[0]
        first = gradients(result.value(0), shapes, "at m = 16")
        after = result.args_after
        check(isinstance(after, tuple) and len(after) == 3 and isinstance(after[2], tuple) and len(after[2]) == 8,
              "the arguments did not come back")
        changed = unchanged(before, (after[0], after[1]) + after[2], names)
        check(not changed, f"backward_propagation changed {', '.join(changed)}")
        second = gradients(result.value(1), shapes, "at m = 16")
        check(all(first[k].tobytes() == second[k].tobytes() for k in GRADIENTS),
              "a second call on the same cache gives other gradients")

    tests.append(Test("q1 - 4", "the cache, X and Y are unchanged bit for bit, and a second call gives the same "
                      "gradients (an in-place ReLU derivative fails here even when its gradients are right)", True,
                      [Call("backward_propagation", (X, Y, cache), times=2, report_args=True)], judge_untouched))
    return tests


# ---- question 2: gradient_check_n ------------------------------------------------------------------------

def checker(params, grads, X, Y, **kwargs):
    return Call("gradient_check_n", (params, grads, X, Y), kwargs)


def q2_tests(draw):
    small = "on a 5 -> 4 -> 3 network with m = 6"
    tests = []

    params, X, Y = draw.small(margin=1e-4)
    grads = true_gradients(params, X, Y)

    def judge_small(results):
        d = difference(results[0])
        hint = ""
        if abs(d - 1 / 3) < 1e-3:
            hint = (" That is 1/3: your numeric gradient is half the true one, so one of J_plus, J_minus is "
                    "computed at theta itself. Is theta_plus (or theta_minus) a copy (np.copy), or theta "
                    "under a second name?")
        check(d < 2e-7, f"{small} and exact gradients, your check says difference = {d:.3e}; exact gradients "
                        f"give about 1e-9.{hint}")
        d2 = difference(results[1])
        check(d2 > 0.2, f"with every gradient doubled your check says difference = {d2:.3e}; it should say 1/3 "
                        "(|1 - r| / (1 + r) with r = 2). Does it compare the `gradients` it is given?")

    doubled = {key: 2 * g for key, g in grads.items()}
    tests.append(Test("q2 - 1", "on a 5 -> 4 -> 3 network, exact gradients give below 2e-7 and doubled ones more "
                      "than 0.2", False, [checker(params, grads, X, Y), checker(params, doubled, X, Y)], judge_small))

    params, X, Y = draw.small(margin=1e-4)
    before = [params[key].copy() for key in KEYS]

    def judge_params(results, before=before):
        difference(results[0])
        after = results[0].args_after
        check(isinstance(after, tuple) and isinstance(after[0], dict), "the arguments did not come back")
        changed = unchanged(before, [after[0].get(key) for key in KEYS], KEYS)
        check(not changed, f"after your check, {', '.join(changed)} differ from before: the check must not change "
                           "the caller's parameters. Perturb a fresh copy of theta (np.copy) for every evaluation.")

    tests.append(Test("q2 - 2", "the parameters are unchanged after the check", False,
                      [Call("gradient_check_n", (params, true_gradients(params, X, Y), X, Y), report_args=True)],
                      judge_params))

    cases = []
    for m in (2, 16):
        X, Y = draw.digits(m, pooled=True)
        params = draw.network((49, 10, 10), X, margin=1e-4)
        grads = true_gradients(params, X, Y)
        cases.append((m, [checker(params, grads, X, Y), checker(params, {k: 2 * g for k, g in grads.items()}, X, Y),
                          checker(params, {k: g / m for k, g in grads.items()}, X, Y)]))

    def judge_digits(results, cases=cases):
        for i, (m, _) in enumerate(cases):
            exact, doubled, stray = (difference(r) for r in results[3 * i:3 * i + 3])
            check(exact < 1e-7, f"exact gradients at m = {m}: difference {exact:.2e}, not about 1e-8")
            check(abs(doubled - 1 / 3) < 1e-6, f"doubled gradients at m = {m}: difference {doubled:.7f}, not 1/3")
            check(abs(stray - (m - 1) / (m + 1)) < 1e-6,
                  f"gradients with a stray 1/m at m = {m}: difference {stray:.7f}, not (m - 1)/(m + 1)")

    tests.append(Test("q2 - 3", "on real digits (7 x 7 pixels, 49 -> 10 -> 10) at m = 2 and 16: exact gradients "
                      "below 1e-7, doubled ones 1/3 and ones divided by m (m - 1)/(m + 1), to 1e-6", True,
                      [call for _, calls in cases for call in calls], judge_digits))

    X, Y = draw.digits(4, pooled=True)
    params = draw.network((49, 10, 10), X, margin=1e-4)
    before = [params[key].copy() for key in KEYS]

    def judge_read_only(results, before=before):
        result = results[0]
        if result.error and result.error.startswith("ValueError") and re.search("read-only|WRITEABLE", result.error):
            raise Fail(f"the check wrote into the caller's parameter arrays ({result.error})")
        d = difference(result)
        changed = unchanged(before, [result.args_after[0].get(key) for key in KEYS], KEYS)
        check(not changed, f"{', '.join(changed)} not bit for bit what they were")
        check(d < 1e-7, f"exact gradients with read-only parameters: difference {d:.2e}, not about 1e-8")

    tests.append(Test("q2 - 4", "with read-only parameter arrays the check runs, leaves them bit for bit, and "
                      "passes (a check that writes into them, even to undo it, fails)", True,
                      [Call("gradient_check_n", (params, true_gradients(params, X, Y), X, Y), read_only=(0,),
                            report_args=True)], judge_read_only))

    X, Y = draw.digits(8, pooled=True)
    params = draw.network((49, 10, 10), X, margin=1e-4)
    keep_prob = 0.8
    D1 = (draw.rng.random((10, 8)) < keep_prob).astype(float)
    grads = true_gradients(params, X, Y, keep_prob, D1)

    def judge_dropout(results):
        d = difference(results[0])
        check(d < 1e-7, f"exact gradients with dropout on (keep_prob 0.8, a given D1): difference {d:.2e}, "
                        "not about 1e-8")

    tests.append(Test("q2 - 5", "with dropout on (keep_prob 0.8, a given D1) exact gradients give below 1e-7: "
                      "every J used that same mask", True,
                      [checker(params, grads, X, Y, keep_prob=keep_prob, D1=D1)], judge_dropout))

    X, Y = draw.digits(2, pooled=True)
    params = draw.network((49, 10, 10), X, margin=1e-3)

    def judge_two_sided(results):
        d = difference(results[0])
        # eps = 1e-4: a central difference errs by ~eps^2 (difference ~1e-10), a one-sided one by ~eps (~1e-5)
        check(d < 1e-7, f"with epsilon = 1e-4 the difference is {d:.2e}, not tiny: is the difference two-sided?")

    tests.append(Test("q2 - 6", "with epsilon = 1e-4 exact gradients still give below 1e-7 (a central difference "
                      "errs by ~1e-10 there, a one-sided one by ~1e-5)", True,
                      [checker(params, true_gradients(params, X, Y), X, Y, epsilon=1e-4)], judge_two_sided))

    X, Y = draw.digits(4, pooled=True)
    params = draw.network((49, 10, 10), X, margin=1e-4)
    l2 = float(draw.rng.uniform(0.02, 0.05))
    grads = true_gradients(params, X, Y)
    with_term = {"d" + key: grads["d" + key] + l2 * params[key] for key in KEYS}
    calls = [Call("gradient_check_n", (params, gradients, X, Y), l2={"lambda": l2, "keys": list(KEYS)})
             for gradients in (with_term, grads)]

    def judge_cost(results):
        with_term, without = difference(results[0]), difference(results[1])
        check(with_term < 1e-7 and without > 1e-3,
              f"with forward_propagation's cost given an L2 term, (lambda / 2) * the sum of the parameters' squares, "
              f"the check says {with_term:.2e} for that cost's exact gradients (it should be about 1e-8) and "
              f"{without:.2e} for the gradients without the term (they are wrong for it). A gradient check "
              "differentiates the cost forward_propagation returns, whatever it is: J(theta + eps) and "
              "J(theta - eps), not the gradients of a backprop of its own.")

    tests.append(Test("q2 - 7", "with forward_propagation's cost changed (an L2 term added), the exact gradients of "
                      "that cost give below 1e-7 and those without the term do not: the check differentiates "
                      "forward_propagation's cost", True, calls, judge_cost))
    return tests


# ---- question 3: the colleague's bug ------------------------------------------------------------------------

def q3_tests(draw, master):
    colleague = master_function(master, "backward_propagation_colleague")
    X, Y = draw.digits(8)
    params = draw.network()
    true = true_gradients(params, X, Y)
    theirs = colleague(X, Y, course_cache(params, X))
    wrong = {key for key in GRADIENTS if np.linalg.norm(theirs[key] - true[key]) > 1e-9 * np.linalg.norm(true[key])}
    bug = master_answer(master, "q3", "planted_bug")
    names = set(GRADIENTS)
    values = [Call("wrong_gradients", kind="value"), Call("planted_bug", kind="value")]

    def judge_form(results):
        wrong_gradients, planted_bug = results[0].value(), results[1].value()
        check(wrong_gradients is not Ellipsis and planted_bug is not Ellipsis,
              "wrong_gradients or planted_bug is still `...`: set both from the numbers above")
        check(isinstance(wrong_gradients, (set, list, tuple, frozenset)),
              f"wrong_gradients is a {kind(wrong_gradients)}; make it a set of names, like {{'dW2'}}")
        check(all(isinstance(name, str) for name in wrong_gradients) and set(wrong_gradients) <= names,
              f"wrong_gradients has {sorted(map(str, wrong_gradients))}; use only names among {sorted(names)}")
        check(wrong_gradients, "wrong_gradients is empty, but the colleague's check fails")
        check(planted_bug in ("a", "b", "c", "d"), f"planted_bug is {planted_bug!r}; set it to one of 'a', 'b', "
                                                   "'c', 'd'")

    def judge_wrong(results):
        given = results[0].value()
        check(isinstance(given, (set, list, tuple, frozenset)) and set(given) == wrong,
              "these are not the gradients the colleague gets wrong")

    def judge_bug(results):
        check(results[0].value() == bug, "this explanation does not fit the pattern")

    return [Test("q3 - 1", "the two answers have the right form", False, values, judge_form),
            Test("q3 - 2", "wrong_gradients is the set of the colleague's gradients that differ from nnlib.backward's",
                 True, values[:1], judge_wrong),
            Test("q3 - 3", "planted_bug is the explanation that fits that pattern", True, values[1:], judge_bug)]


def build(master_path, rng):
    """Every question with its tests, drawn from rng: the whole of what a grading run checks."""
    master = read_master(master_path)
    draw = Draw(rng)
    made = {"q1": q1_tests(draw), "q2": q2_tests(draw), "q3": q3_tests(draw, master)}
    check(set(made) == set(master["questions"]), f"the master's questions are {sorted(master['questions'])}, "
                                                 f"the grader's {sorted(made)}")
    return [Question(name, master["questions"][name], ANSWERS[name], made[name]) for name in made]
