"""Examples in rows, the way most libraries lay them out: X is (m, n_x), W1 is (n_x, n_h), Z1 =
X W1 + b1 with b1 of shape (1, n_h); ReLU, softmax, cross-entropy averaged over the m rows. The
learner uses the course's function names otherwise (forward_propagation returns (cost, cache))."""

import numpy as np

from . import Program, Truth


def forward_propagation(X, Y, parameters):
    m = X.shape[0]
    Z1 = X @ parameters["W1"] + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = A1 @ parameters["W2"] + parameters["b2"]
    Z2 = Z2 - Z2.max(axis=1, keepdims=True)
    A2 = np.exp(Z2) / np.exp(Z2).sum(axis=1, keepdims=True)
    cost = -np.sum(Y * np.log(A2)) / m
    return cost, (X, Z1, A1, A2, parameters["W2"])


def backward_propagation(X, Y, cache):
    X, Z1, A1, A2, W2 = cache
    m = X.shape[0]
    dZ2 = (A2 - Y) / m
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    return {"dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0, keepdims=True), "dW2": dW2, "db2": db2}


def backward_one_over_m_twice(X, Y, cache):
    grads = backward_propagation(X, Y, cache)
    return {k: v / X.shape[0] for k, v in grads.items()}


def data(m=6, n_x=4, n_h=5, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_x))
    Y = np.eye(3)[rng.integers(0, 3, m)]
    params = {"W1": rng.standard_normal((n_x, n_h)) * 0.7, "b1": rng.standard_normal((1, n_h)) * 0.1,
              "W2": rng.standard_normal((n_h, 3)) * 0.7, "b2": rng.standard_normal((1, 3)) * 0.1}
    return X, Y, params


def _program(name, truth, backward=backward_propagation, shape=(6, 4, 5), **extra):
    def kwargs():
        X, Y, parameters = data(*shape)
        return dict(parameters=parameters, forward_propagation=forward_propagation, backward_propagation=backward,
                    X=X, Y=Y, **extra)
    return Program(name, "rows", truth, kwargs)


EVERY = {"W1": 1 / 6, "b1": 1 / 6, "W2": 1 / 6, "b2": 1 / 6}

PROGRAMS = [
    _program("rows: X (6, 4), W1 (4, 5), right", Truth(m=6)),
    _program("rows: the 1/m applied twice", Truth(wrong=EVERY, causes=("1/m twice", "cost not averaged"), m=6),
             backward_one_over_m_twice),
    # X (6, 4) and W1 (4, 6) fit both layouts: the doctor assumes columns (m = 4) and must say so
    _program("rows, shapes that fit both layouts: the 1/m twice", Truth(wrong=EVERY, causes=("backprop factor",
             "cost factor")), backward_one_over_m_twice, shape=(6, 4, 6)),
    _program("rows, both layouts fit, layout='rows' given: the 1/m twice",
             Truth(wrong=EVERY, causes=("1/m twice", "cost not averaged"), m=6), backward_one_over_m_twice,
             shape=(6, 4, 6), layout="rows"),
]
