"""Programs whose numbers are hard to read: the course's L-layer network built from helpers (one
slip in a helper shows in every layer), ReLU kinks that a right backprop cannot agree with, a cost
computed in float32 behind a float(), and Keras-style layer names in rows.

The L-layer code follows the course's week-4 structure (linear_forward / linear_backward called
once per layer, caches in a list), written for this table."""

import numpy as np

from . import Program, Truth

# -- the L-layer network, from helpers ---------------------------------------------------------


def _layers(parameters):
    return len(parameters) // 2


def L_model_forward(X, parameters):
    caches, A = [], X
    for l in range(1, _layers(parameters) + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        last = l == _layers(parameters)
        caches.append(((A, W, b), Z))
        A = 1 / (1 + np.exp(-Z)) if last else np.maximum(0, Z)
    return A, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def linear_backward(dZ, linear_cache, db_without_m=False):
    A_prev, W, b = linear_cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) if db_without_m else np.sum(dZ, axis=1, keepdims=True) / m
    return np.dot(W.T, dZ), dW, db


def L_model_backward(AL, Y, caches, db_without_m=False):
    grads, L, dA = {}, len(caches), None
    for l in range(L, 0, -1):
        linear_cache, Z = caches[l - 1]
        if l == L:
            dZ = AL - Y  # sigmoid and cross-entropy together
        else:
            dZ = np.array(dA, copy=True)  # relu_backward, with ReLU'(0) = 0
            dZ[Z <= 0] = 0
        dA, grads["dW" + str(l)], grads["db" + str(l)] = linear_backward(dZ, linear_cache, db_without_m)
    return grads


def L_forward_propagation(X, Y, parameters):
    AL, caches = L_model_forward(X, parameters)
    return compute_cost(AL, Y), (AL, caches)


def L_data(zero_examples=0, seed=5):
    """(X, Y, parameters) for 4 -> 5 -> 4 -> 1 on 7 examples. zero_examples all-zero columns
    (blank images) with every b = 0, the course's initialisation, put their Z exactly on the kink."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, 7))
    X[:, :zero_examples] = 0.0
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    parameters = {}
    for l, (n_in, n_out) in enumerate([(4, 5), (5, 4), (4, 1)], start=1):
        parameters[f"W{l}"] = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        parameters[f"b{l}"] = np.zeros((n_out, 1)) if zero_examples else rng.standard_normal((n_out, 1)) * 0.1
    return X, Y, parameters


def L_program(name, truth, zero_examples=0, db_without_m=False):
    def kwargs():
        X, Y, parameters = L_data(zero_examples)
        return dict(parameters=parameters, forward_propagation=L_forward_propagation, X=X, Y=Y,
                    backward_propagation=lambda X_, Y_, c: L_model_backward(c[0], Y_, c[1], db_without_m))
    return Program(name, "L-layer helpers", truth, kwargs)


# -- a softmax network whose cost is float32, converted -----------------------------------------

def float32_program(name, truth, dtype_Y=np.float32):
    def forward(X, Y, parameters, dtype=np.float32):
        p = {k: v.astype(dtype) for k, v in parameters.items()}
        Z1 = p["W1"] @ X.astype(dtype) + p["b1"]
        A1 = np.maximum(0, Z1)
        Z2 = p["W2"] @ A1 + p["b2"]
        A2 = np.exp(Z2 - Z2.max(axis=0)) / np.exp(Z2 - Z2.max(axis=0)).sum(axis=0)
        cost = -np.sum(Y.astype(dtype_Y) * np.log(A2)) / X.shape[1]
        return cost.item(), (X, Z1.astype(float), A1.astype(float), A2.astype(float), parameters["W2"])

    def backward(X, Y, cache):
        X, Z1, A1, A2, W2 = cache
        dZ2 = (A2 - Y) / X.shape[1]
        dZ1 = W2.T @ dZ2 * (Z1 > 0)
        return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True), "dW2": dZ2 @ A1.T,
                "db2": dZ2.sum(axis=1, keepdims=True)}

    def kwargs():
        rng = np.random.default_rng(8)
        X, Y = rng.standard_normal((4, 6)), np.eye(3)[:, rng.integers(0, 3, 6)]
        parameters = {"W1": rng.standard_normal((5, 4)) * 0.6, "b1": rng.standard_normal((5, 1)) * 0.1,
                      "W2": rng.standard_normal((3, 5)) * 0.6, "b2": rng.standard_normal((3, 1)) * 0.1}
        return dict(parameters=parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)
    return Program(name, "float32", truth, kwargs)


# -- Keras-style names, examples in rows ---------------------------------------------------------

def dense_program(name, truth, bias_mean=False):
    """Two Dense layers named as Keras names its weights; ReLU, softmax, mean cross-entropy."""
    def kwargs():
        rng = np.random.default_rng(12)
        X, labels = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
        weights = {"dense/kernel": rng.standard_normal((4, 5)) * 0.6, "dense/bias": rng.standard_normal(5) * 0.1,
                   "dense_1/kernel": rng.standard_normal((5, 3)) * 0.6, "dense_1/bias": rng.standard_normal(3) * 0.1}

        def forward(w):
            h = np.maximum(0, X @ w["dense/kernel"] + w["dense/bias"])
            z = h @ w["dense_1/kernel"] + w["dense_1/bias"]
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            return -np.mean(np.log(p[np.arange(6), labels])), (h, p)

        def gradients(w):
            h, p = forward(w)[1]
            dz = p.copy()
            dz[np.arange(6), labels] -= 1
            dz /= 6
            dh = dz @ w["dense_1/kernel"].T * (h > 0)
            bias = (lambda d: d.mean(axis=0)) if bias_mean else (lambda d: d.sum(axis=0))
            return {"dense/kernel": X.T @ dh, "dense/bias": bias(dh), "dense_1/kernel": h.T @ dz,
                    "dense_1/bias": bias(dz)}
        return dict(parameters=weights, cost=lambda w: forward(w)[0], gradients=gradients, X=X)
    return Program(name, "Keras names", truth, kwargs)


PROGRAMS = [
    L_program("L-layer helpers: right", Truth(m=7)),
    L_program("L-layer helpers: linear_backward's db without 1/m (every layer)",
              Truth(wrong={"b1": 7.0, "b2": 7.0, "b3": 7.0}, m=7), db_without_m=True),
    L_program("L-layer helpers: right, 3 blank examples and b = 0 (kinks)", Truth(m=7), zero_examples=3),
    L_program("L-layer helpers: db without 1/m, 3 blank examples and b = 0 (kinks)",
              Truth(wrong={"b1": 7.0, "b2": 7.0, "b3": 7.0}, m=7), zero_examples=3, db_without_m=True),
    float32_program("softmax: the cost computed in float32, returned with .item()", Truth(cost="float32", m=6)),
    float32_program("softmax: float32 network, Y float64 in the cost's last sum", Truth(cost="float32", m=6),
                    dtype_Y=np.float64),
    dense_program("Keras names, rows: right", Truth(m=6)),
    dense_program("Keras names, rows: bias gradients averaged again (mean, not sum)",
                  Truth(wrong={"dense/bias": 1 / 6, "dense_1/bias": 1 / 6}, m=6), bias_mean=True),
]
