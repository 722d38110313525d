"""Reference answers to the notebooks' exercises, in the course's notation and shapes.

Try each exercise in its notebook first: the cell below it gives feedback on your own
answer (`nnlib.exercises`). These are plain functions, so the tests can grade them too:

    1.1 softmax(Z)                                   notebook 1
    1.2 compute_cost(AL, Y)                          notebook 1
    2.1 relu_deriv(Z)                                notebook 2
    2.2 backward_propagation(X, Y, cache)            notebook 2
    3.1 gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7)   notebook 3
    5.1 forward_propagation_with_dropout(X, parameters, keep_prob, rng)   notebook 5
    5.2 backward_propagation_with_dropout(X, Y, cache, keep_prob)         notebook 5
"""

import numpy as np

from nnlib import course
from nnlib.course import forward_propagation_n, gradients_to_vector, vector_to_dictionary

# ---- notebook 1 -------------------------------------------------------------------------

def softmax(Z):
    """Softmax of each column of Z (n_classes, m); returns A of the same shape.

    Each column's own max is subtracted first (a new array: Z is not changed), so the
    largest exponent is e^0 = 1 and nothing overflows.
    """
    E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return E / np.sum(E, axis=0, keepdims=True)


def compute_cost(AL, Y):
    """Cross-entropy averaged over the m examples: J = -(1/m) sum_i sum_k Y_ki log AL_ki.

    AL: probabilities (n_classes, m); Y: one-hot (n_classes, m). Returns a float.
    """
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL)) / m)


# ---- notebook 2 -------------------------------------------------------------------------

def relu_deriv(Z):
    """ReLU'(Z): a new array, 1.0 where Z > 0 and 0.0 elsewhere. Z is left as it was."""
    return (Z > 0).astype(float)


def backward_propagation(X, Y, cache):
    """Gradients of the averaged cross-entropy of 784 -> 10 -> 10 (ReLU, softmax).

    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2), as forward_propagation returns it.
    The course's placement of the 1/m: dZ2 = A2 - Y, then 1/m in every dW and db.
    Returns {"dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"}.
    """
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = dA1 * relu_deriv(Z1)
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


# ---- notebook 3 -------------------------------------------------------------------------

# The course's helper, as notebooks 3 and 6 use it: (theta, keys), theta every parameter in one column
# (W1, b1, ..., b3), keys[i] the parameter that theta[i] belongs to.
dictionary_to_vector = course.dictionary_to_vector


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    """The course's vector-style check on its 4 -> 5 -> 3 -> 1 network (nnlib.course).

    theta = all parameters as one column; for every entry i, J at theta + eps e_i and at
    theta - eps e_i, each on its own copy of theta; then the relative difference
    ||grad - gradapprox|| / (||grad|| + ||gradapprox||). Returns the difference.
    """
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)      # a new array: theta itself stays as it was
        thetaplus[i, 0] += epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.copy(parameters_values)
        thetaminus[i, 0] -= epsilon
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    print(f"difference = {difference:.3e}")
    return difference


# ---- notebook 5 -------------------------------------------------------------------------

def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
    """784 -> 10 -> 10 with inverted dropout on the hidden layer.

    D1 (n_h, m) keeps each unit with probability keep_prob (drawn from rng); the kept
    units are divided by keep_prob so that the expected A1 is unchanged.
    Returns (A2, cache) with cache = (Z1, D1, A1, W1, b1, Z2, A2, W2, b2).
    """
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    D1 = (rng.random(A1.shape) < keep_prob).astype(float)
    A1 = A1 * D1 / keep_prob
    Z2 = np.dot(W2, A1) + b2
    A2 = softmax(Z2)
    cache = (Z1, D1, A1, W1, b1, Z2, A2, W2, b2)
    return A2, cache


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    """Gradients with the forward pass's own mask D1 and the same 1/keep_prob.

    Returns {"dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"} (course placement of 1/m).
    """
    m = X.shape[1]
    (Z1, D1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dA1 = dA1 * D1 / keep_prob     # the units dropped on the way forward get no gradient
    dZ1 = dA1 * relu_deriv(Z1)
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
