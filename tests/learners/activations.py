"""Course-shaped two-layer networks (examples in columns, 1/m in dW and db) with other
activations and costs: tanh + softmax cross-entropy, sigmoid + binary cross-entropy, and leaky
ReLU + mean squared error; each right, and with the learner's mistake in a derivative."""

import numpy as np

from . import Program, Truth


def _data(n_y, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, 7))
    Y = (rng.random((n_y, 7)) < 0.5).astype(float) if n_y == 1 else rng.standard_normal((n_y, 7))
    params = {"W1": rng.standard_normal((4, 3)) * 0.6, "b1": rng.standard_normal((4, 1)) * 0.1,
              "W2": rng.standard_normal((n_y, 4)) * 0.6, "b2": rng.standard_normal((n_y, 1)) * 0.1}
    return X, Y, params


# -- tanh hidden layer, one-hot targets, softmax cross-entropy -------------------------------

def tanh_forward(X, Y, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.exp(Z2 - Z2.max(axis=0)) / np.exp(Z2 - Z2.max(axis=0)).sum(axis=0)
    return -np.mean(np.sum(Y * np.log(A2), axis=0)), {"A1": A1, "A2": A2, "W2": parameters["W2"]}


def tanh_backward(X, Y, cache, slope=lambda A1: 1 - A1 ** 2):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dZ1 = cache["W2"].T @ dZ2 * slope(cache["A1"])
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ cache["A1"].T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def tanh_backward_slope_wrong(X, Y, cache):
    return tanh_backward(X, Y, cache, slope=lambda A1: 1 - A1)


def tanh_data():
    X, _, params = _data(3, 11)
    return X, np.eye(3)[:, [0, 1, 2, 0, 1, 2, 0]], params


# -- sigmoid output, binary cross-entropy ------------------------------------------------------

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def bce_forward(X, Y, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    A2 = sigmoid(parameters["W2"] @ A1 + parameters["b2"])
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    return cost, (Z1, A1, A2, parameters["W2"])


def bce_backward(X, Y, cache, extra_slope=False):
    Z1, A1, A2, W2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    if extra_slope:
        dZ2 = dZ2 * A2 * (1 - A2)  # the sigmoid's derivative, already inside A2 - Y, applied again
    dZ1 = W2.T @ dZ2 * (Z1 > 0)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def bce_backward_twice_the_slope(X, Y, cache):
    return bce_backward(X, Y, cache, extra_slope=True)


# -- leaky ReLU, mean squared error --------------------------------------------------------------

def leaky_forward(X, Y, parameters, slope=0.1):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.where(Z1 > 0, Z1, slope * Z1)
    A2 = parameters["W2"] @ A1 + parameters["b2"]
    return np.sum((A2 - Y) ** 2) / (2 * X.shape[1]), (Z1, A1, A2, parameters["W2"])


def leaky_backward(X, Y, cache, negative_slope=0.1):
    Z1, A1, A2, W2 = cache
    m = X.shape[1]
    dA2 = A2 - Y
    dZ1 = W2.T @ dA2 * np.where(Z1 > 0, 1.0, negative_slope)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dA2 @ A1.T / m, "db2": dA2.sum(axis=1, keepdims=True) / m}


def leaky_backward_as_relu(X, Y, cache):
    return leaky_backward(X, Y, cache, negative_slope=0.0)


def _program(name, truth, forward, backward, data):
    def kwargs():
        X, Y, parameters = data()
        return dict(parameters=parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)
    return Program(name, "activations", truth, kwargs)


PROGRAMS = [
    _program("tanh + softmax: right", Truth(m=7), tanh_forward, tanh_backward, tanh_data),
    _program("tanh + softmax: tanh' written 1 - A", Truth(wrong={"W1": None, "b1": None}, m=7), tanh_forward,
             tanh_backward_slope_wrong, tanh_data),
    _program("sigmoid + BCE: right", Truth(m=7), bce_forward, bce_backward, lambda: _data(1, 12)),
    _program("sigmoid + BCE: sigmoid' applied on top of A - Y",
             Truth(wrong={"W1": None, "b1": None, "W2": None, "b2": None}, m=7), bce_forward,
             bce_backward_twice_the_slope, lambda: _data(1, 12)),
    _program("leaky ReLU + MSE: right", Truth(m=7), leaky_forward, leaky_backward, lambda: _data(2, 13)),
    _program("leaky ReLU + MSE: derivative 0 for negative inputs", Truth(wrong={"W1": None, "b1": None}, m=7),
             leaky_forward, leaky_backward_as_relu, lambda: _data(2, 13)),
]
