"""The course's gradient-checking network, written for this project in the course's style.

4 -> 5 -> 3 -> 1: ReLU, ReLU, sigmoid output, binary cross-entropy averaged over m = 3
examples. The functions have the course's shapes, so learner code and the doctor can be
tried on the very numbers the course prints:

    X, Y, parameters = test_case()
    cost, cache = forward_propagation_n(X, Y, parameters)
    gradients = backward_propagation_n_planted(X, Y, cache)      # the two planted bugs
    gradient_check_n(parameters, gradients, X, Y)                # 0.2850931567761623

Unlike nnlib.model, the 1/m sits where the course puts it: dZ3 = A3 - Y, then
dW = (1/m) dZ A_prev^T and db = (1/m) sum(dZ). Both conventions give the same gradients.
"""

import numpy as np

KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
SHAPES = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}


def test_case():
    """(X (4, 3), Y (1, 3), parameters): the course's draws, in its order, from seed 1.

    RandomState(1) is the legacy generator that np.random.seed(1) seeds; an explicit
    object here, so nothing touches numpy's global state.
    """
    rs = np.random.RandomState(1)
    X = rs.randn(4, 3)
    Y = np.array([[1.0, 1.0, 0.0]])
    parameters = {key: rs.randn(*SHAPES[key]) for key in KEYS}
    return X, Y, parameters


def relu(Z):
    return np.maximum(0, Z)


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def forward_propagation_n(X, Y, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID; returns (cost, cache)."""
    _check_inputs(X, parameters)
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    losses = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(losses)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return cost, cache


def _backward(X, Y, cache, dW2_factor=1.0, db1_factor=1.0):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y                                   # sigmoid + cross-entropy, no 1/m here
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * dW2_factor
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = db1_factor / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_propagation_n(X, Y, cache):
    """The gradients of the cost, course style: {"dZ3", "dW3", "db3", "dA2", ..., "dW1", "db1"}."""
    return _backward(X, Y, cache)


def backward_propagation_n_planted(X, Y, cache):
    """The same with the course's two planted bugs: dW2 is doubled and db1 uses 4/m, not 1/m."""
    return _backward(X, Y, cache, dW2_factor=2.0, db1_factor=4.0)


def dictionary_to_vector(parameters):
    """As the course's gc_utils: (theta, keys). theta holds every parameter in one column (n, 1), in
    the order W1, b1, W2, b2, W3, b3; keys[i] names the parameter that theta[i] belongs to."""
    theta = np.concatenate([parameters[key].reshape(-1, 1) for key in KEYS])
    return theta, [key for key in KEYS for _ in range(parameters[key].size)]


def vector_to_dictionary(theta):
    """The inverse of dictionary_to_vector."""
    _check_theta(theta)
    parameters, start = {}, 0
    for key in KEYS:
        size = int(np.prod(SHAPES[key]))
        parameters[key] = theta[start:start + size].reshape(SHAPES[key])
        start += size
    return parameters


def gradients_to_vector(gradients):
    """dW1, db1, ..., db3 as one column vector, in the parameters' order."""
    return np.concatenate([gradients["d" + key].reshape(-1, 1) for key in KEYS])


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    """A correct vector-style check: central differences on a fresh copy of theta per entry."""
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i, 0] += epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return numerator / denominator


def _check_inputs(X, parameters):
    """One line on what the course's network cannot use, instead of numpy's KeyError or 'not aligned'."""
    missing = [key for key in KEYS if key not in parameters]
    if missing:
        raise ValueError(f"parameters has no {', '.join(missing)}: this network needs {', '.join(KEYS)}")
    n_x = parameters["W1"].shape[1]
    if np.ndim(X) != 2 or X.shape[0] != n_x:
        hint = ": did you pass X.T? Examples go in columns" if np.ndim(X) == 2 and X.shape[1] == n_x else ""
        raise ValueError(f"X has shape {np.shape(X)}, but W1 is {parameters['W1'].shape}, so X must be ({n_x}, m)"
                         f"{hint}")


def _check_theta(theta):
    if isinstance(theta, tuple):
        raise ValueError("theta is a tuple: dictionary_to_vector returns (theta, keys), so write "
                         "theta, _ = dictionary_to_vector(parameters)")
    size = sum(int(np.prod(shape)) for shape in SHAPES.values())
    if np.size(theta) != size:
        raise ValueError(f"theta has {np.size(theta)} entries, but this network has {size} parameters "
                         "(W1 20, b1 5, W2 15, b2 3, W3 3, b3 1): make it with dictionary_to_vector(parameters)")
