"""1,001,000 parameters: W1 (1000, 1000) and b1 (1000, 1), mean squared error on 2 examples.
Every entry by the loop would take the doctor about an hour; so would the learner's own checker."""
import numpy as np


def gradient_check_n_test_case():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((1000, 2)), rng.standard_normal((1000, 2))
    return X, Y, {"W1": rng.standard_normal((1000, 1000)) * 0.03, "b1": np.zeros((1000, 1))}


def forward_propagation_n(X, Y, parameters):
    Z = parameters["W1"] @ X + parameters["b1"]
    return np.sum((Z - Y) ** 2) / (2 * X.shape[1]), (Z,)


def backward_propagation_n(X, Y, cache):
    (Z,) = cache
    dZ = (Z - Y) / X.shape[1]
    return {"dW1": dZ @ X.T, "db1": dZ.sum(axis=1, keepdims=True)}


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta = np.concatenate([parameters["W1"].ravel(), parameters["b1"].ravel()])
    grad = np.concatenate([gradients["dW1"].ravel(), gradients["db1"].ravel()])
    approx = np.zeros_like(theta)
    for i in range(theta.size):
        for sign in (1, -1):
            t = theta.copy()
            t[i] += sign * epsilon
            p = {"W1": t[:1000000].reshape(1000, 1000), "b1": t[1000000:].reshape(1000, 1)}
            approx[i] += sign * forward_propagation_n(X, Y, p)[0] / (2 * epsilon)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
