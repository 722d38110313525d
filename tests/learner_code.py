"""Learner-style code for the doctor's tests: networks and checkers as learners write them.

Written for this project in the styles learners bring (a class with B1/dw1 keys and a checker
that only prints; course-style functions with the 1/m in dW and db); every bug here is one
learners make. None of it is nnlib's code: the doctor must judge it from the outside.
"""

import copy

import numpy as np

from nnlib import course

# -- a class-based network, the seed learner's style: keys W1/B1, gradients dw1/db1 ---------------

class ClassNet:
    """784 -> 10 -> 10, ReLU then softmax; parameters W1, B1, W2, B2; gradients dw1, db1, dw2, db2."""

    def __init__(self, inplace_relu_deriv=True):
        self.inplace_relu_deriv = inplace_relu_deriv

    @staticmethod
    def relu_deriv(x):
        x[x <= 0] = 0  # overwrites its argument: the cached Z1 becomes a 0/1 mask
        x[x > 0] = 1
        return x

    def forward(self, X, params):
        cache = {"Z1": params["W1"] @ X + params["B1"]}
        cache["A1"] = np.maximum(0, cache["Z1"])
        cache["Z2"] = params["W2"] @ cache["A1"] + params["B2"]
        e = np.exp(cache["Z2"] - cache["Z2"].max(axis=0, keepdims=True))
        cache["A2"] = e / e.sum(axis=0, keepdims=True)
        return cache

    @staticmethod
    def cross_entropy(A, Y):
        return float(-np.sum(Y * np.log(A)) / A.shape[1])

    def backward(self, X, Y, cache, params):
        M = Y.shape[1]
        g = {"dz2": (cache["A2"] - Y) / M}
        g["da1"] = params["W2"].T @ g["dz2"]
        deriv = self.relu_deriv(cache["Z1"]) if self.inplace_relu_deriv else (cache["Z1"] > 0) * 1.0
        g["dz1"] = g["da1"] * deriv
        g["dw1"] = g["dz1"] @ X.T
        g["db1"] = g["dz1"].sum(axis=1, keepdims=True)
        g["dw2"] = g["dz2"] @ cache["A1"].T
        g["db2"] = g["dz2"].sum(axis=1, keepdims=True)
        return g

    def gradient_check(self, params, grads, X, Y, epsilon=1e-7):
        """Prints its difference and returns nothing; copies the parameters with dict.copy()."""
        grad = np.concatenate([grads[k].reshape(-1, 1) for k in grads if k.startswith(("dw", "db"))])
        approx = []
        for key in params:
            for idx in np.ndindex(params[key].shape):
                plus = params.copy()  # shallow: plus[key] IS params[key]
                plus[key][idx] = params[key][idx] + epsilon
                J_plus = self.cross_entropy(self.forward(X, plus)["A2"], Y)
                minus = params.copy()
                minus[key][idx] = params[key][idx] - epsilon
                J_minus = self.cross_entropy(self.forward(X, minus)["A2"], Y)
                approx.append((J_plus - J_minus) / (2 * epsilon))
        approx = np.array(approx).reshape(-1, 1)
        difference = np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
        print(f"\033[93mThere is a mistake in the backward propagation! difference = {difference}\033[0m"
              if difference > 2e-7 else f"\033[92mBackward propagation works! difference = {difference}\033[0m")


def class_net_case(m=8, seed=0):
    """Real digits and He-initialised W1, B1, W2, B2 for ClassNet."""
    import nnlib
    X, Y, _ = nnlib.load_mnist(np.random.default_rng(seed))["train"]
    p = nnlib.init_params(np.random.default_rng(seed))
    return X[:, :m], Y[:, :m], {"W1": p["W1"], "B1": p["b1"] + 0.01, "W2": p["W2"], "B2": p["b2"]}


# -- course-style checkers (vector style, on nnlib.course's 4 -> 5 -> 3 -> 1 network) -----------

def checker_alias(parameters, gradients, X, Y, epsilon=1e-7):
    """thetaplus is the parameter vector itself: its +eps is still there when thetaminus is copied."""
    theta, _ = course.dictionary_to_vector(parameters)
    grad = course.gradients_to_vector(gradients)
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = theta  # an alias, not a copy
        thetaplus[i, 0] += epsilon
        J_plus, _ = course.forward_propagation_n(X, Y, course.vector_to_dictionary(thetaplus))
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        J_minus, _ = course.forward_propagation_n(X, Y, course.vector_to_dictionary(thetaminus))
        approx[i] = (J_plus - J_minus) / (2 * epsilon)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))


def checker_shallow_dict(parameters, gradients, X, Y, epsilon=1e-7):
    """Perturbs a dict.copy() of the parameters, entry by entry (the seed's mistake, course shapes)."""
    grad = course.gradients_to_vector(gradients)
    approx = []
    for key in course.KEYS:
        for idx in np.ndindex(parameters[key].shape):
            plus = parameters.copy()
            plus[key][idx] += epsilon
            J_plus, _ = course.forward_propagation_n(X, Y, plus)
            minus = parameters.copy()
            minus[key][idx] -= epsilon
            J_minus, _ = course.forward_propagation_n(X, Y, minus)
            approx.append((J_plus - J_minus) / (2 * epsilon))
    approx = np.array(approx).reshape(-1, 1)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))


def checker_sorted_keys(parameters, gradients, X, Y, epsilon=1e-7):
    """Flattens the gradients in sorted key order (dW1, dW2, dW3, db1, ...): wrong partners."""
    theta, _ = course.dictionary_to_vector(parameters)
    grad = np.concatenate([gradients[k].reshape(-1, 1) for k in sorted(gradients) if k[:2] in ("dW", "db")])
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        for sign in (1, -1):
            t = np.copy(theta)
            t[i, 0] += sign * epsilon
            approx[i] += sign * course.forward_propagation_n(X, Y, course.vector_to_dictionary(t))[0]
        approx[i] /= 2 * epsilon
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))


def checker_one_sided(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = course.dictionary_to_vector(parameters)
    grad = course.gradients_to_vector(gradients)
    J0, _ = course.forward_propagation_n(X, Y, parameters)
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        t = np.copy(theta)
        t[i, 0] += epsilon
        approx[i] = (course.forward_propagation_n(X, Y, course.vector_to_dictionary(t))[0] - J0) / epsilon
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))


# -- course-style backprop variants on 784 -> 10 -> 10 (1/m in dW and db, dZ2 = A2 - Y) ---------

def course_forward(X, Y, parameters):
    """(cost, cache) with cache = (Z1, A1, W1, b1, Z2, A2, W2, b2), the course's shape."""
    m = X.shape[1]
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    top = Z2.max(axis=0, keepdims=True)
    log_A2 = Z2 - top - np.log(np.exp(Z2 - top).sum(axis=0, keepdims=True))
    cost = -np.sum(Y * log_A2) / m
    return cost, (Z1, A1, parameters["W1"], parameters["b1"], Z2, np.exp(log_A2),
                  parameters["W2"], parameters["b2"])


def make_course_backward(inv_m_twice=False, sign_flip=False, inplace_deriv_on_A1=False):
    """A course-order backward: dZ2, then dW2 and db2 right away, then dA1 and the derivative."""
    def backward(X, Y, cache):
        m = X.shape[1]
        Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
        dZ2 = (Y - A2) if sign_flip else (A2 - Y)
        if inv_m_twice:
            dZ2 = dZ2 / m  # nnlib's place for the 1/m ... and the course's below: twice
        dW2 = 1 / m * dZ2 @ A1.T
        db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = W2.T @ dZ2
        if inplace_deriv_on_A1:
            A1[...] = A1 > 0  # the derivative written over the cached A1 (dW2 already read it)
            dZ1 = dA1 * A1
        else:
            dZ1 = dA1 * (Z1 > 0)
        dW1 = 1 / m * dZ1 @ X.T
        db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
        return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return backward


def dropout_cost(X, Y, parameters, rng, keep_prob=0.8):
    """A cost that draws fresh dropout masks on every call (the mistake)."""
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1) * (rng.random(Z1.shape) < keep_prob) / keep_prob
    return course_forward_from(A1, Y, parameters)


def course_forward_from(A1, Y, parameters):
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    top = Z2.max(axis=0, keepdims=True)
    return float(-np.sum(Y * (Z2 - top - np.log(np.exp(Z2 - top).sum(axis=0, keepdims=True)))) / Y.shape[1])


def deep(parameters):
    return copy.deepcopy(parameters)
