"""More of the course's week-by-week networks, in its shapes: L2 regularisation, dropout (masks
frozen for the check, or drawn afresh inside the cost), and a three-layer softmax network."""

import numpy as np

from . import Program, Truth


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _two_layer_data(seed=21, m=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, m))
    Y = np.eye(3)[:, rng.integers(0, 3, m)]
    params = {"W1": rng.standard_normal((5, 4)) * 0.6, "b1": rng.standard_normal((5, 1)) * 0.1,
              "W2": rng.standard_normal((3, 5)) * 0.6, "b2": rng.standard_normal((3, 1)) * 0.1}
    return X, Y, params


# -- L2 regularisation ------------------------------------------------------------------------

LAMBD = 0.7


def l2_forward(X, Y, parameters):
    m = X.shape[1]
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    A2 = _softmax(parameters["W2"] @ A1 + parameters["b2"])
    cross_entropy = -np.sum(Y * np.log(A2)) / m
    l2 = LAMBD / (2 * m) * (np.sum(np.square(parameters["W1"])) + np.sum(np.square(parameters["W2"])))
    return cross_entropy + l2, (Z1, A1, A2, parameters["W1"], parameters["W2"])


def l2_backward(X, Y, cache, with_l2=True):
    Z1, A1, A2, W1, W2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m + (LAMBD / m * W2 if with_l2 else 0)
    dZ1 = W2.T @ dZ2 * (Z1 > 0)
    dW1 = dZ1 @ X.T / m + (LAMBD / m * W1 if with_l2 else 0)
    return {"dW1": dW1, "db1": dZ1.sum(axis=1, keepdims=True) / m, "dW2": dW2,
            "db2": dZ2.sum(axis=1, keepdims=True) / m}


def l2_backward_without_l2(X, Y, cache):
    return l2_backward(X, Y, cache, with_l2=False)


# -- dropout on the hidden layer ----------------------------------------------------------------

KEEP_PROB = 0.8


def dropout_forward(X, Y, parameters, D1):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1) * D1 / KEEP_PROB
    A2 = _softmax(parameters["W2"] @ A1 + parameters["b2"])
    return -np.sum(Y * np.log(A2)) / X.shape[1], (Z1, D1, A1, A2, parameters["W2"])


def dropout_backward(X, Y, cache, scale=True):
    Z1, D1, A1, A2, W2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dA1 = W2.T @ dZ2 * D1
    if scale:
        dA1 = dA1 / KEEP_PROB
    dZ1 = dA1 * (Z1 > 0)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def dropout_backward_without_keep_prob(X, Y, cache):
    return dropout_backward(X, Y, cache, scale=False)


def dropout_program(name, truth, backward=dropout_backward, fresh=False):
    def kwargs():
        X, Y, parameters = _two_layer_data(22)
        rng = np.random.default_rng(0)
        D1 = (rng.random((5, X.shape[1])) < KEEP_PROB).astype(float)  # drawn once, outside the cost

        def forward(X_, Y_, p):
            masks = (rng.random((5, X_.shape[1])) < KEEP_PROB).astype(float) if fresh else D1
            return dropout_forward(X_, Y_, p, masks)
        return dict(parameters=parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)
    return Program(name, "dropout", truth, kwargs)


# -- three layers, softmax output -----------------------------------------------------------------

def three_forward(X, Y, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(0, Z2)
    A3 = _softmax(parameters["W3"] @ A2 + parameters["b3"])
    return -np.sum(Y * np.log(A3)) / X.shape[1], (Z1, A1, Z2, A2, A3)


def three_backward(X, Y, cache, parameters_box, db2_scale=None, transpose_dW2=False):
    Z1, A1, Z2, A2, A3 = cache
    W2, W3 = parameters_box["W2"], parameters_box["W3"]
    m = X.shape[1]
    dZ3 = A3 - Y
    dZ2 = W3.T @ dZ3 * (Z2 > 0)
    dZ1 = W2.T @ dZ2 * (Z1 > 0)
    dW2 = (A1 @ dZ2.T if transpose_dW2 else dZ2 @ A1.T) / m
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m, "dW2": dW2,
            "db2": dZ2.sum(axis=1, keepdims=True) / (db2_scale or m), "dW3": dZ3 @ A2.T / m,
            "db3": dZ3.sum(axis=1, keepdims=True) / m}


def three_program(name, truth, **mistake):
    def kwargs():
        rng = np.random.default_rng(31)
        X = rng.standard_normal((3, 6))
        Y = np.eye(3)[:, [0, 1, 2, 2, 1, 0]]
        parameters = {"W1": rng.standard_normal((5, 3)) * 0.7, "b1": rng.standard_normal((5, 1)) * 0.1,
                      "W2": rng.standard_normal((5, 5)) * 0.5, "b2": rng.standard_normal((5, 1)) * 0.1,
                      "W3": rng.standard_normal((3, 5)) * 0.5, "b3": rng.standard_normal((3, 1)) * 0.1}
        return dict(parameters=parameters, forward_propagation=three_forward,
                    backward_propagation=lambda X_, Y_, c: three_backward(X_, Y_, c, parameters, **mistake), X=X, Y=Y)
    return Program(name, "three layers", truth, kwargs)


def _two_layer_program(name, truth, forward, backward):
    def kwargs():
        X, Y, parameters = _two_layer_data()
        return dict(parameters=parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)
    return Program(name, "L2", truth, kwargs)



def kink_forward(X, Y, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    E = np.exp(Z2 - Z2.max(axis=0))
    A2 = E / E.sum(axis=0)
    return -np.sum(Y * np.log(A2)) / X.shape[1], (Z1, A1, parameters["W2"], A2)


def kink_backward_dW2_doubled(X, Y, cache):
    """ReLU'(0) = 1 (Z1 >= 0), right away from kinks; and a real bug, dW2 doubled."""
    Z1, A1, W2, A2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dZ1 = W2.T @ dZ2 * (Z1 >= 0)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(1, keepdims=True) / m, "dW2": 2 * dZ2 @ A1.T / m,
            "db2": dZ2.sum(1, keepdims=True) / m}


def kink_program(name, truth):
    """A blank example and b1 = 0 put Z1 = 0 exactly: db1 fails at its kink entries only."""
    def kwargs():
        rng = np.random.default_rng(13)
        X = rng.standard_normal((6, 5))
        X[:, 0] = 0
        Y = np.eye(3)[:, rng.integers(0, 3, 5)]
        parameters = {"W1": rng.standard_normal((4, 6)) * 0.5, "b1": np.zeros((4, 1)),
                      "W2": rng.standard_normal((3, 4)) * 0.5, "b2": rng.standard_normal((3, 1)) * 0.1}
        return dict(parameters=parameters, forward_propagation=kink_forward,
                    backward_propagation=kink_backward_dW2_doubled, X=X, Y=Y)
    return Program(name, "kinks", truth, kwargs)

PROGRAMS = [
    _two_layer_program("L2: right", Truth(m=6), l2_forward, l2_backward),
    _two_layer_program("L2: the lambda/m W term left out of dW", Truth(wrong={"W1": None, "W2": None}, m=6),
                       l2_forward, l2_backward_without_l2),
    dropout_program("dropout: masks frozen for the check", Truth(m=6)),
    dropout_program("dropout: fresh masks inside the cost", Truth(cost="random", m=6), fresh=True),
    dropout_program("dropout: backward without / keep_prob", Truth(wrong={"W1": KEEP_PROB, "b1": KEEP_PROB}, m=6),
                    dropout_backward_without_keep_prob),
    kink_program("ReLU'(0) = 1 at a blank example's kinks, and dW2 doubled", Truth(wrong={"W2": 2.0, "b1": None}, m=5)),
    three_program("three layers: right", Truth(m=6)),
    three_program("three layers: db2 without its 1/m", Truth(wrong={"b2": 6.0}, m=6), db2_scale=1.0),
    three_program("three layers: dW2 transposed (W2 is square)",
                  Truth(wrong={"W2": None}, notes={"W2": "transposed"}, m=6), transpose_dW2=True),
]
