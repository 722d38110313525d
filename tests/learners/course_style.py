"""A learner's gradient-checking notebook in the course's shapes: 3 -> 4 -> 2 -> 1 (ReLU, ReLU,
sigmoid), binary cross-entropy averaged over m = 5 examples in columns, the 1/m in every dW and db.
The helpers are the course's gc_utils convention: dictionary_to_vector returns (theta, keys).
Backprop right or with one learner's mistake; the vector-style checker right or with one."""

import numpy as np

from . import Program, Truth

KEYS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 5))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
    shapes = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1), "W3": (1, 2), "b3": (1, 1)}
    return X, Y, {k: rng.standard_normal(shapes[k]) * 0.8 for k in KEYS}


def dictionary_to_vector(parameters):
    theta = np.concatenate([parameters[k].reshape(-1, 1) for k in KEYS])
    keys = [k for k in KEYS for _ in range(parameters[k].size)]
    return theta, keys


def vector_to_dictionary(theta):
    shapes = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1), "W3": (1, 2), "b3": (1, 1)}
    out, start = {}, 0
    for k in KEYS:
        size = int(np.prod(shapes[k]))
        out[k] = theta[start:start + size].reshape(shapes[k])
        start += size
    return out


def gradients_to_vector(gradients):
    return np.concatenate([gradients["d" + k].reshape(-1, 1) for k in KEYS])


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(parameters["W3"], A2) + parameters["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    cost = -1 / m * np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3))
    return cost, (Z1, A1, parameters["W1"], parameters["b1"], Z2, A2, parameters["W2"], parameters["b2"],
                  Z3, A3, parameters["W3"], parameters["b3"])


def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_planted(X, Y, cache):  # the course's two planted mistakes, in this network
    grads = backward_propagation_n(X, Y, cache)
    grads["dW2"] = grads["dW2"] * 2
    grads["db1"] = 4. / X.shape[1] * np.sum(grads["dZ1"], axis=1, keepdims=True)
    return grads


def backward_db1_without_1_over_m(X, Y, cache):
    grads = backward_propagation_n(X, Y, cache)
    grads["db1"] = np.sum(grads["dZ1"], axis=1, keepdims=True)
    return grads


def backward_dW1_without_1_over_m(X, Y, cache):
    grads = backward_propagation_n(X, Y, cache)
    grads["dW1"] = np.dot(grads["dZ1"], X.T)
    return grads


# -- checkers, each as one learner wrote it ----------------------------------------------------

def _cost_at(theta, X, Y):
    return forward_propagation_n(X, Y, vector_to_dictionary(theta))[0]


def _difference(grad, gradapprox):
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        J_plus = _cost_at(thetaplus, X, Y)
        thetaminus = np.copy(parameters_values)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        J_minus = _cost_at(thetaminus, X, Y)
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    difference = _difference(grad, gradapprox)
    if difference > 2e-7:
        print("\033[93m" + "There is a mistake in the backward propagation! difference = " + str(difference)
              + "\033[0m")
    else:
        print("\033[92m" + "Your backward propagation works perfectly fine! difference = " + str(difference)
              + "\033[0m")
    return difference


def _approx(parameters, X, Y, epsilon, step):
    """The loop of a checker, with `step(theta, i, epsilon)` computing one entry."""
    theta, _ = dictionary_to_vector(parameters)
    return np.array([[step(theta, i, epsilon)] for i in range(theta.shape[0])])


def checker_one_sided(parameters, gradients, X, Y, epsilon=1e-7):
    J = forward_propagation_n(X, Y, parameters)[0]

    def step(theta, i, eps):
        plus = np.copy(theta)
        plus[i, 0] += eps
        return (_cost_at(plus, X, Y) - J) / eps
    return _difference(gradients_to_vector(gradients), _approx(parameters, X, Y, epsilon, step))


def _central(theta, i, eps, X, Y):
    plus, minus = np.copy(theta), np.copy(theta)
    plus[i, 0] += eps
    minus[i, 0] -= eps
    return _cost_at(plus, X, Y), _cost_at(minus, X, Y)


def checker_over_eps(parameters, gradients, X, Y, epsilon=1e-7):
    def step(theta, i, eps):
        J_plus, J_minus = _central(theta, i, eps, X, Y)
        return (J_plus - J_minus) / epsilon
    return _difference(gradients_to_vector(gradients), _approx(parameters, X, Y, epsilon, step))


def checker_times_eps(parameters, gradients, X, Y, epsilon=1e-7):
    def step(theta, i, eps):
        J_plus, J_minus = _central(theta, i, eps, X, Y)
        return (J_plus - J_minus) / 2 * epsilon
    return _difference(gradients_to_vector(gradients), _approx(parameters, X, Y, epsilon, step))


def _right_approx(parameters, X, Y, epsilon=1e-7):
    def step(theta, i, eps):
        J_plus, J_minus = _central(theta, i, eps, X, Y)
        return (J_plus - J_minus) / (2 * eps)
    return _approx(parameters, X, Y, epsilon, step)


def checker_no_square_roots(parameters, gradients, X, Y, epsilon=1e-7):
    grad, gradapprox = gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon)
    return np.sum((grad - gradapprox) ** 2) / (np.sum(grad ** 2) + np.sum(gradapprox ** 2))


def checker_no_denominator(parameters, gradients, X, Y, epsilon=1e-7):
    return np.linalg.norm(gradients_to_vector(gradients) - _right_approx(parameters, X, Y, epsilon))


def checker_norm_of_sum(parameters, gradients, X, Y, epsilon=1e-7):
    grad, gradapprox = gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon)
    return np.linalg.norm(grad - gradapprox) / np.linalg.norm(grad + gradapprox)


def checker_plus_not_reset(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = dictionary_to_vector(parameters)
    gradapprox = np.zeros_like(theta)
    thetaplus = np.copy(theta)  # once, before the loop
    for i in range(theta.shape[0]):
        thetaplus[i, 0] += epsilon
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        gradapprox[i] = (_cost_at(thetaplus, X, Y) - _cost_at(thetaminus, X, Y)) / (2 * epsilon)
    return _difference(gradients_to_vector(gradients), gradapprox)


def checker_minus_not_reset(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = dictionary_to_vector(parameters)
    gradapprox = np.zeros_like(theta)
    thetaminus = np.copy(theta)  # once, before the loop
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i, 0] += epsilon
        thetaminus[i, 0] -= epsilon
        gradapprox[i] = (_cost_at(thetaplus, X, Y) - _cost_at(thetaminus, X, Y)) / (2 * epsilon)
    return _difference(gradients_to_vector(gradients), gradapprox)


def checker_alias(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = dictionary_to_vector(parameters)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = theta  # no np.copy
        thetaplus[i, 0] += epsilon
        J_plus = _cost_at(thetaplus, X, Y)
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        gradapprox[i] = (J_plus - _cost_at(thetaminus, X, Y)) / (2 * epsilon)
    return _difference(gradients_to_vector(gradients), gradapprox)


def checker_shallow_copy(parameters, gradients, X, Y, epsilon=1e-7):
    gradapprox = []
    for key in KEYS:
        for idx in np.ndindex(parameters[key].shape):
            plus = parameters.copy()  # the dict, not its arrays
            plus[key][idx] += epsilon
            J_plus = forward_propagation_n(X, Y, plus)[0]
            minus = parameters.copy()
            minus[key][idx] -= epsilon
            gradapprox.append((J_plus - forward_propagation_n(X, Y, minus)[0]) / (2 * epsilon))
    return _difference(gradients_to_vector(gradients), np.array(gradapprox).reshape(-1, 1))


def checker_allclose(parameters, gradients, X, Y, epsilon=1e-7):
    return np.allclose(gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon), rtol=1e-5, atol=1e-8)


def checker_allclose_loose(parameters, gradients, X, Y, epsilon=1e-7):
    return np.allclose(gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon), rtol=1.0)


def checker_bool_and_difference(parameters, gradients, X, Y, epsilon=1e-7):
    difference = _difference(gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon))
    return difference < 2e-7, difference


def checker_gradapprox_and_difference(parameters, gradients, X, Y, epsilon=1e-7):
    gradapprox = _right_approx(parameters, X, Y, epsilon)
    return gradapprox, _difference(gradients_to_vector(gradients), gradapprox)


def checker_message(parameters, gradients, X, Y, epsilon=1e-7):
    difference = _difference(gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon))
    return f"difference = {difference:.10g} ({'ok' if difference < 2e-7 else 'mistake'})"


def checker_mean_relative_error(parameters, gradients, X, Y, epsilon=1e-7):
    grad, gradapprox = gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon)
    return np.mean(np.abs(grad - gradapprox) / (np.abs(grad) + np.abs(gradapprox) + 1e-12))


def checker_weights_only(parameters, gradients, X, Y, epsilon=1e-7):
    theta, keys = dictionary_to_vector(parameters)
    weights = np.array([key.startswith("W") for key in keys])  # "the biases hardly matter"
    grad, gradapprox = gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon)
    return _difference(grad[weights], gradapprox[weights])


def checker_sorted_keys(parameters, gradients, X, Y, epsilon=1e-7):
    grad = np.concatenate([gradients[k].reshape(-1, 1) for k in sorted(gradients) if k[:2] in ("dW", "db")])
    return _difference(grad, _right_approx(parameters, X, Y, epsilon))


def checker_notebook3_convention(parameters, gradients, X, Y, epsilon=1e-7):
    theta = dictionary_to_vector(parameters)  # written for a dictionary_to_vector that returns theta alone
    thetaplus = np.copy(theta)
    thetaplus[0, 0] += epsilon
    return thetaplus


def checker_forgot_return(parameters, gradients, X, Y, epsilon=1e-7):
    _difference(gradients_to_vector(gradients), _right_approx(parameters, X, Y, epsilon))


def _program(name, truth, backward=backward_propagation_n, checker=gradient_check_n):
    def kwargs():
        X, Y, parameters = data()
        return dict(parameters=parameters, forward_propagation=forward_propagation_n, backward_propagation=backward,
                    X=X, Y=Y, checker=None if checker is None else (lambda p, g: checker(p, g, X, Y)))
    return Program(name, "course", truth, kwargs)


PROGRAMS = [
    _program("course: right, checker right", Truth(checker="right", m=5)),
    _program("course: the two planted bugs", Truth(wrong={"W2": 2.0, "b1": 4.0}, checker="right", m=5),
             backward_planted),
    _program("course: db1 without its 1/m", Truth(wrong={"b1": 5.0}, checker="right", m=5),
             backward_db1_without_1_over_m),
    _program("course: dW1 without its 1/m", Truth(wrong={"W1": 5.0}, checker="right", m=5),
             backward_dW1_without_1_over_m),
    _program("course: planted bugs and a one-sided checker",
             Truth(wrong={"W2": 2.0, "b1": 4.0}, checker={"one-sided"}, m=5), backward_planted, checker_one_sided),
    _program("course checker: one-sided difference", Truth(checker={"one-sided"}), checker=checker_one_sided),
    _program("course checker: divides by eps", Truth(checker={"double", "over eps"}), checker=checker_over_eps),
    _program("course checker: / 2 * epsilon", Truth(checker={"eps squared", "times eps"}), checker=checker_times_eps),
    _program("course checker: no square roots", Truth(checker={"no square roots"}), checker=checker_no_square_roots),
    _program("course checker: no denominator", Truth(checker={"no denominator"}), checker=checker_no_denominator),
    _program("course checker: ||g + g'|| denominator", Truth(checker={"norm of the sum"}), checker=checker_norm_of_sum),
    _program("course checker: theta_plus never reset", Truth(checker={"plus not reset"}),
             checker=checker_plus_not_reset),
    _program("course checker: theta_minus never reset", Truth(checker={"minus not reset"}),
             checker=checker_minus_not_reset),
    _program("course checker: thetaplus aliases theta", Truth(checker={"half", "alias"}), checker=checker_alias),
    _program("course checker: dict.copy() of the parameters",
             Truth(checker={"half", "shallow copy"}, checker_writes=True), checker=checker_shallow_copy),
    _program("course checker: np.allclose, True/False", Truth(checker="right"), checker=checker_allclose),
    _program("course checker: np.allclose with rtol=1", Truth(checker={"too loose"}), checker=checker_allclose_loose),
    _program("course checker: returns (passed, difference)", Truth(checker="right"),
             checker=checker_bool_and_difference),
    _program("course checker: returns (gradapprox, difference)", Truth(checker="right"),
             checker=checker_gradapprox_and_difference),
    _program("course checker: returns a message", Truth(checker="right"), checker=checker_message),
    _program("course checker: mean element-wise relative error", Truth(checker="right"),
             checker=checker_mean_relative_error),
    # the doctor doubles each gradient alone: db1, db2 and db3 leave its answer where it was
    _program("course checker: compares the weights only",
             Truth(checker={"blind"}, checker_blind=("b1", "b2", "b3"), checker_formula="norm ratio",
                   checker_step=1e-7),
             checker=checker_weights_only),
    _program("course checker: gradients in sorted key order", Truth(checker={"sorted pairing"}),
             checker=checker_sorted_keys),
    _program("course checker: notebook 3's theta-only convention", Truth(wrong={"W2": 2.0, "b1": 4.0},
             checker="raises", m=5), backward_planted, checker_notebook3_convention),
    _program("course checker: no return, no print", Truth(checker="unreadable"), checker=checker_forgot_return),
]
