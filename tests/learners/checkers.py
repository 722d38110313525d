"""Gradient checkers in the styles reviewers brought to the doctor, each on a right (or a wrongly
differentiated) tanh + softmax network from activations.py: 3 -> 4 -> 3, m = 7 examples in
columns, the 1/m in every dW and db. A checker takes (parameters, gradients) once X and Y are
bound, and its own cost J(parameters).

Right checkers in other comparisons (an L1 norm ratio, ||a - n|| / ||n||, one number per
parameter in a dict, a random sample of the entries), wrong ones that look right (a backward
one-sided difference, a parameter list typed by hand that forgets one, an allclose over the
weights only), and ones that misbehave (float32, a Fortran reshape, a restore by arithmetic).
"""

import numpy as np

from . import Program, Truth
from . import course_style as course
from .activations import tanh_backward, tanh_backward_slope_wrong, tanh_data, tanh_forward
from .cs231n import central_at, eval_numerical_gradient

KEYS = ["W1", "b1", "W2", "b2"]


def cost_of(X, Y):
    return lambda parameters: tanh_forward(X, Y, parameters)[0]


def central(J, parameters, keys=KEYS, epsilon=1e-7):
    """{key: numeric gradient}: a fresh copy of every array for each evaluation."""
    out = {}
    for key in keys:
        out[key] = np.zeros_like(parameters[key])
        for idx in np.ndindex(parameters[key].shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][idx] += epsilon
            minus[key][idx] -= epsilon
            out[key][idx] = (J(plus) - J(minus)) / (2 * epsilon)
    return out


def flat(arrays, keys=KEYS, prefix=""):
    return np.concatenate([arrays[prefix + k].ravel() for k in keys])


def norm_ratio(a, n):
    return np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))


def rel_error(x, y):
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


# -- right, in comparisons the course does not use ---------------------------------------------

def l1_ratio(J):
    def check(parameters, gradients):
        a, n = flat(gradients, prefix="d"), flat(central(J, parameters))
        difference = np.sum(np.abs(a - n)) / (np.sum(np.abs(a)) + np.sum(np.abs(n)))
        print("difference =", difference)
        return difference
    return check


def relative_to_numeric(J):
    def check(parameters, gradients):
        a, n = flat(gradients, prefix="d"), flat(central(J, parameters))
        return np.linalg.norm(a - n) / np.linalg.norm(n)
    return check


def per_parameter_dict(J):
    def check(parameters, gradients):
        numeric = central(J, parameters)
        return {key: norm_ratio(gradients["d" + key], numeric[key]) for key in parameters}
    return check


def norms_as_sums(J):
    def check(parameters, gradients):
        numeric = central(J, parameters)
        top = sum(np.sum((gradients["d" + k] - numeric[k]) ** 2) for k in KEYS) ** 0.5
        bottom = sum(np.sum(gradients["d" + k] ** 2) for k in KEYS) ** 0.5 + sum(np.sum(numeric[k] ** 2)
                                                                                 for k in KEYS) ** 0.5
        return top / bottom
    return check


def difference_and_verdict(J):
    def check(parameters, gradients):
        d = norm_ratio(flat(gradients, prefix="d"), flat(central(J, parameters)))
        return d, ("PASS" if d < 2e-7 else "FAIL")
    return check


def nditer_in_place(J, h=1e-7):
    """CS231n's eval_numerical_gradient (nditer, each entry nudged in place and put back), the course's ratio."""
    def check(parameters, gradients):
        numeric = [eval_numerical_gradient(lambda _: J(parameters), x, h=h).ravel() for x in parameters.values()]
        return norm_ratio(flat(gradients, list(parameters), "d"), np.concatenate(numeric))
    return check


def vectorised(J, epsilon, order="C"):
    """The course's loop over theta, with its own epsilon; theta goes back into arrays in `order`
    (order="F", when theta was flattened in C order, is a learner's slip that scrambles the entries)."""
    def check(parameters, gradients):
        theta, grad = flat(parameters), flat(gradients, prefix="d")

        def unflatten(t):
            out, start = {}, 0
            for k in KEYS:
                size = parameters[k].size
                out[k] = t[start:start + size].reshape(parameters[k].shape, order=order)
                start += size
            return out
        approx = np.zeros_like(theta)
        for i in range(theta.size):
            plus, minus = theta.copy(), theta.copy()
            plus[i] += epsilon
            minus[i] -= epsilon
            approx[i] = (J(unflatten(plus)) - J(unflatten(minus))) / (2 * epsilon)
        return norm_ratio(grad, approx)
    return check


# -- right, on a random sample of the entries (a generator that lives across calls) ------------

def sparse_cs231n(J, rng, num_checks=2, h=1e-5):
    """CS231n's grad_check_sparse: random entries of each parameter, nudged in place, one line each."""
    def check(parameters, gradients):
        for key, x in parameters.items():
            for _ in range(num_checks):
                ix = tuple(int(rng.integers(n)) for n in x.shape)
                numerical = central_at(lambda _: J(parameters), x, ix, h)
                analytic = gradients["d" + key][ix]
                print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: "
                      f"{abs(numerical - analytic) / (abs(numerical) + abs(analytic)):e}")
    return check


def sampled_norm_ratio(J, rng, k=3, epsilon=1e-7):
    def check(parameters, gradients):
        a, n = [], []
        for key, x in parameters.items():
            for f in rng.choice(x.size, size=min(k, x.size), replace=False):
                ix = np.unravel_index(f, x.shape)
                plus = {q: v.copy() for q, v in parameters.items()}
                minus = {q: v.copy() for q, v in parameters.items()}
                plus[key][ix] += epsilon
                minus[key][ix] -= epsilon
                n.append((J(plus) - J(minus)) / (2 * epsilon))
                a.append(gradients["d" + key][ix])
        return norm_ratio(np.array(a), np.array(n))
    return check


# -- wrong ---------------------------------------------------------------------------------------

def max_abs(J):
    def check(parameters, gradients):
        numeric = central(J, parameters)
        return max(np.max(np.abs(gradients["d" + k] - numeric[k])) for k in KEYS)
    return check


def first_layer_only(J):
    def check(parameters, gradients):
        keys = ["W1", "b1"]
        return norm_ratio(flat(gradients, keys, "d"), flat(central(J, parameters, keys), keys))
    return check


def backward_one_sided(J, epsilon=1e-7):
    def check(parameters, gradients):
        J0, a, n = J(parameters), [], []
        for key in KEYS:
            for idx in np.ndindex(parameters[key].shape):
                minus = {k: v.copy() for k, v in parameters.items()}
                minus[key][idx] -= epsilon
                n.append((J0 - J(minus)) / epsilon)
                a.append(gradients["d" + key][idx])
        return norm_ratio(np.array(a), np.array(n))
    return check


def divides_by_eps(J, epsilon=1e-7):
    def check(parameters, gradients):
        a, n = flat(gradients, prefix="d"), flat(central(J, parameters, epsilon=epsilon)) * 2  # / eps, not / 2 eps
        return norm_ratio(a, n)
    return check


def float32_theta(J, epsilon=1e-7):
    def check(parameters, gradients):
        n = []
        for key in KEYS:
            for idx in np.ndindex(parameters[key].shape):
                plus = {k: v.astype(np.float32) for k, v in parameters.items()}
                minus = {k: v.astype(np.float32) for k, v in parameters.items()}
                plus[key][idx] += np.float32(epsilon)
                minus[key][idx] -= np.float32(epsilon)
                n.append((J(plus) - J(minus)) / (2 * epsilon))
        return float(norm_ratio(flat(gradients, prefix="d"), np.array(n)))
    return check


def in_gradients_order(J, epsilon=1e-7):
    """Pairs the gradients in the order the gradient dict holds them with theta in the parameters'."""
    def check(parameters, gradients):
        grad = np.concatenate([v.ravel() for k, v in gradients.items() if k[:2] in ("dW", "db")])
        return norm_ratio(grad, flat(central(J, parameters, epsilon=epsilon)))
    return check


def restore_by_arithmetic(J, h=1e-5):
    """x += h; x -= 2h; x += h: the entry comes back to within a rounding of where it was."""
    def check(parameters, gradients):
        worst = 0.0
        for key, x in parameters.items():
            g = np.zeros_like(x)
            for ix in np.ndindex(x.shape):
                x[ix] += h
                fp = J(parameters)
                x[ix] -= 2 * h
                fm = J(parameters)
                x[ix] += h
                g[ix] = (fp - fm) / (2 * h)
            worst = max(worst, rel_error(gradients["d" + key], g))
        return worst
    return check


def typed_keys(J, names, formula, h=1e-5):
    """CS231n style, nudging in place, over a parameter list typed by hand."""
    def check(parameters, gradients):
        errors = []
        for name in names:
            g = eval_numerical_gradient(lambda _: J(parameters), parameters[name], h=h)
            a = gradients["d" + name]
            errors.append(rel_error(a, g) if formula == "max" else norm_ratio(a, g))
            print(f"{name} relative error: {errors[-1]:e}")
        return max(errors)
    return check


def allclose_weights_only(J, epsilon=1e-7):
    def check(parameters, gradients):
        weights = [k for k in parameters if k.startswith("W")]  # "the biases are easy"
        numeric = central(J, parameters, weights, epsilon)
        return all(np.allclose(gradients["d" + k], numeric[k], rtol=1e-5, atol=1e-8) for k in weights)
    return check


def interrupts(J):
    def check(parameters, gradients):
        raise KeyboardInterrupt  # a learner's way to stop a loop that takes too long
    return check


def says_ok(J):
    def check(parameters, gradients):
        d = norm_ratio(flat(gradients, prefix="d"), flat(central(J, parameters)))
        return "looks good!" if d < 2e-7 else "something is off"
    return check


# -- the course's vector style, with the slips of a learner --------------------------------------

def course_checker(numerator):
    """The course's gradient_check_n, with one line of its loop written by `numerator(J, theta, i, eps)`."""
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        theta, _ = course.dictionary_to_vector(parameters)
        grad = course.gradients_to_vector(gradients)
        J = lambda t: course.forward_propagation_n(X, Y, course.vector_to_dictionary(t))[0]  # noqa: E731
        gradapprox = np.array([[numerator(J, theta, i, epsilon)] for i in range(theta.shape[0])])
        return norm_ratio(grad, gradapprox)
    return gradient_check_n


def _backward_one_sided(J, theta, i, epsilon):
    thetaminus = np.copy(theta)
    thetaminus[i, 0] -= epsilon
    return (J(theta) - J(thetaminus)) / epsilon


def _plus_never_written(J, theta, i, epsilon):
    thetaplus = np.copy(theta)
    thetaplus[i, 0] + epsilon  # noqa: B018 (the typo: no assignment)
    thetaminus = np.copy(theta)
    thetaminus[i, 0] -= epsilon
    return (J(thetaplus) - J(thetaminus)) / (2 * epsilon)


def _course(name, truth, numerator, backward=course.backward_propagation_n):
    checker = course_checker(numerator)

    def kwargs():
        X, Y, parameters = course.data()
        return dict(parameters=parameters, forward_propagation=course.forward_propagation_n,
                    backward_propagation=backward, X=X, Y=Y, checker=lambda p, g: checker(p, g, X, Y))
    return Program(name, "checkers", truth, kwargs)



def prints_settings_then_difference(J):
    """Right; it prints its settings (an 'error threshold', a 'ReLU'-like word) before its answer."""
    def check(parameters, gradients, epsilon=1e-7, threshold=2e-7):
        print(f"gradient check: epsilon = {epsilon}, error threshold {threshold}")
        print(f"checking a ReLU-free tanh net, {sum(v.size for v in parameters.values())} parameters")
        a, n = flat(gradients, prefix="d"), flat(central(J, parameters, epsilon=epsilon))
        difference = norm_ratio(a, n)
        print(f"difference = {difference:.7g}", "PASS" if difference < threshold else "FAIL")
    return check


def prints_abs_errors_then_difference(J):
    """Right; it prints each parameter's largest absolute error, then its answer, the difference."""
    def check(parameters, gradients):
        n = central(J, parameters)
        for k in KEYS:
            print(f"{k} max abs error: {np.max(np.abs(gradients['d' + k] - n[k])):.3e}")
        print(f"difference = {norm_ratio(flat(gradients, prefix='d'), flat(n)):.7g}")
    return check


def sign_blind(J):
    """Wrong: it compares absolute values, so a sign-flipped gradient passes."""
    def check(parameters, gradients):
        a, n = flat(gradients, prefix="d"), flat(central(J, parameters))
        return np.linalg.norm(np.abs(a) - np.abs(n)) / (np.linalg.norm(a) + np.linalg.norm(n))
    return check

# -- the programs ---------------------------------------------------------------------------------

def backward_in_reverse(X, Y, cache):
    """The gradients as L_model_backward files them: last layer first."""
    grads = tanh_backward(X, Y, cache)
    return {k: grads[k] for k in ("dW2", "db2", "dW1", "db1")}


def backward_db1_tripled(X, Y, cache):
    grads = tanh_backward(X, Y, cache)
    grads["db1"] = 3 * grads["db1"]
    return grads


def backward_without_1_over_m(X, Y, cache):
    return {k: v * X.shape[1] for k, v in tanh_backward(X, Y, cache).items()}


def _program(name, truth, make, backward=tanh_backward, random=False):
    """make(J) or make(J, rng) -> checker(parameters, gradients)."""
    def kwargs():
        X, Y, parameters = tanh_data()
        J = cost_of(X, Y)
        checker = make(J, np.random.default_rng(5)) if random else make(J)
        return dict(parameters=parameters, forward_propagation=tanh_forward, backward_propagation=backward, X=X, Y=Y,
                    checker=checker)
    return Program(name, "checkers", truth, kwargs)


def right(formula="", step=None, **more):
    return Truth(checker="right", checker_formula=formula, checker_step=step, m=7, **more)


PROGRAMS = [
    _program("checker: L1 norm ratio", right("L1 norm ratio", 1e-7), l1_ratio),
    _program("checker: ||a - n|| / ||n||", right("relative to numeric", 1e-7), relative_to_numeric),
    _program("checker: a dict of per-parameter norm ratios", right("per parameter", 1e-7), per_parameter_dict),
    _program("checker: norms written as sums over the layers", right("norm ratio", 1e-7), norms_as_sums),
    _program("checker: returns (difference, 'PASS')", right("norm ratio", 1e-7), difference_and_verdict),
    _program("checker: nditer, nudged in place and restored", right("norm ratio", 1e-7, checker_writes=True),
             nditer_in_place),
    _program("checker: the course's loop at eps = 1e-4", right("norm ratio", 1e-4), lambda J: vectorised(J, 1e-4)),
    _program("checker: CS231n's grad_check_sparse, random entries",
             right("max relative error", 1e-5, checker_writes=True, checker_random=True), sparse_cs231n, random=True),
    _program("checker: norm ratio over a random sample of entries",
             right("", 1e-7, checker_random=True, judgeable=False), sampled_norm_ratio, random=True),
    _program("checker: x += h; x -= 2h; x += h with CS231n's rel_error",
             right("max relative error", 1e-5, checker_writes=True, checker_rounding=True), restore_by_arithmetic),
    _program("checker: prints its threshold and settings, then the difference", right("norm ratio", 1e-7),
             prints_settings_then_difference),
    _program("checker: prints max abs errors, then the difference", right("norm ratio", 1e-7),
             prints_abs_errors_then_difference),
    _program("checker: compares absolute values (sign-blind)", Truth(checker={"sign blind"}, m=7), sign_blind),
    _program("checker: max |a - n|, no denominator", Truth(checker={"max abs"}, m=7), max_abs),
    _program("checker: W1 and b1 only", Truth(checker={"blind"}, checker_blind=("W2", "b2"),
             checker_formula="norm ratio", checker_step=1e-7, m=7), first_layer_only),
    _program("checker: backward one-sided (J(theta) - J(theta - eps)) / eps",
             Truth(checker={"backward one-sided"}, m=7), backward_one_sided),
    _program("checker: divides by eps, not 2 eps", Truth(checker={"double", "over eps"}, m=7), divides_by_eps),
    _program("checker: the course's loop at eps = 1e-10", Truth(checker={"inaccurate"}, m=7),
             lambda J: vectorised(J, 1e-10)),
    _program("checker: float32 parameters", Truth(checker={"float32"}, m=7), float32_theta),
    _program("checker: unflattens in Fortran order", Truth(checker={"scrambled"}, m=7),
             lambda J: vectorised(J, 1e-7, order="F")),
    _program("checker: gradients in their dict's order, last layer first", Truth(checker={"order"}, m=7),
             in_gradients_order, backward_in_reverse),
    _program("checker: parameter list typed by hand, b1 forgotten (max relative error)",
             Truth(checker={"blind"}, checker_blind=("b1",), checker_formula="max relative error", checker_step=1e-5,
                   checker_writes=True, m=7), lambda J: typed_keys(J, ["W1", "W2", "b2"], "max")),
    _program("checker: parameter list typed by hand, b1 forgotten (per-parameter norm ratio)",
             Truth(checker={"blind"}, checker_blind=("b1",), checker_formula="per parameter", checker_step=1e-5,
                   checker_writes=True, m=7), lambda J: typed_keys(J, ["W1", "W2", "b2"], "norm")),
    _program("checker: parameter list typed by hand, W1 forgotten",
             Truth(checker={"blind"}, checker_blind=("W1",), checker_formula="max relative error", checker_step=1e-5,
                   checker_writes=True, m=7), lambda J: typed_keys(J, ["b1", "W2", "b2"], "max")),
    _program("checker: b1 forgotten, and db1 is wrong",
             Truth(wrong={"b1": 3.0}, checker={"blind"}, checker_blind=("b1",), checker_formula="max relative error",
                   checker_step=1e-5, checker_writes=True, m=7),
             lambda J: typed_keys(J, ["W1", "W2", "b2"], "max"), backward_db1_tripled),
    _program("checker: np.allclose over the weights only", Truth(checker={"blind"}, m=7), allclose_weights_only),
    _program("checker: raises KeyboardInterrupt", Truth(checker="raises", m=7), interrupts),
    _program("checker: returns a message with no number", Truth(checker="unreadable", m=7), says_ok),
    _program("checker: nditer in place, backprop without its 1/m",
             Truth(wrong=dict.fromkeys(KEYS, 7.0), causes=("1/m missing", "cost averaged twice"), checker_writes=True,
                   checker="right", checker_formula="norm ratio", checker_step=1e-7, m=7),
             nditer_in_place, backward_without_1_over_m),
    _program("checker: L1 norm ratio, tanh' written 1 - A", Truth(wrong={"W1": None, "b1": None}, checker="right",
             checker_formula="L1 norm ratio", checker_step=1e-7, m=7), l1_ratio, tanh_backward_slope_wrong),
    _course("course checker: backward one-sided", Truth(checker={"backward one-sided"}, m=5), _backward_one_sided),
    _course("course checker: thetaplus[i, 0] + epsilon, no assignment",
            Truth(checker={"half", "half backward", "plus never written"}, m=5), _plus_never_written),
]
