"""The network: He initialisation, forward pass, cost and backward pass.

Course notation, examples in columns:
    X: (n_x, m)   W_l: (n_l, n_{l-1})   b_l: (n_l, 1)   Z_l, A_l: (n_l, m)   Y: (n_L, m)
Hidden layers use ReLU, the output layer softmax; the cost is cross-entropy averaged
over the M examples of the batch. Every function here is pure: nothing is changed in
place, and the cache a forward pass returns is a plain dict a learner can inspect.
"""

import numpy as np

LAYER_SIZES = (784, 10, 10)

# ReLU'(z) is 1 where z > 0 and 0 elsewhere. A = relu(Z) is > 0 at exactly the same
# places, so the derivative could be read from either cache entry; we read it from Z.
RELU_DERIV_INPUT = "Z"


def n_layers(params):
    """Number of layers with weights (2 for 784 -> 10 -> 10)."""
    return len(params) // 2


def param_keys(params):
    """Parameter names in network order: W1, b1, W2, b2, ..."""
    return [f"{p}{l}" for l in range(1, n_layers(params) + 1) for p in ("W", "b")]


def init_params(rng, layer_sizes=LAYER_SIZES):
    """He initialisation: W_l ~ N(0, 2 / n_{l-1}), b_l = 0. Returns {"W1", "b1", ...}."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("init_params needs rng=np.random.default_rng(seed), "
                        f"got {type(rng).__name__}")
    params = {}
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        params[f"W{l}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        params[f"b{l}"] = np.zeros((n_out, 1))
    return params


def relu(Z):
    return np.maximum(0.0, Z)


def relu_deriv(Z):
    """ReLU'(Z) as a new 0/1 array; Z itself is left alone (the cache still needs it)."""
    return (Z > 0).astype(Z.dtype)


def softmax(Z):
    """Softmax over the classes (axis -2: the rows of a (classes, m) array; a stack of
    such arrays works too). Subtracting the column max changes nothing mathematically
    and keeps exp() from overflowing."""
    E = np.exp(Z - Z.max(axis=-2, keepdims=True))
    return E / E.sum(axis=-2, keepdims=True)


def cost(AL, Y):
    """Cross-entropy averaged over the M columns: J = -(1/M) sum_j sum_k Y_kj log A_kj.

    AL may be a stack of shape (P, classes, M); then the P costs come back as an array.
    """
    M = Y.shape[-1]
    # A probability that underflowed to 0 would give log(0) = -inf; the floor only
    # acts on such entries, which a sensible network never produces.
    J = -np.sum(Y * np.log(np.maximum(AL, 1e-300)), axis=(-2, -1)) / M
    return float(J) if np.ndim(J) == 0 else J


def draw_masks(params, m, keep_prob, rng):
    """Dropout masks for every hidden layer: D_l[i, j] = 1 with probability keep_prob."""
    return {f"D{l}": (rng.random((params[f"W{l}"].shape[0], m)) < keep_prob).astype(float)
            for l in range(1, n_layers(params))}


def dropout_forward(A, D, keep_prob):
    """Inverted dropout: zero the dropped units and scale the kept ones by 1/keep_prob,
    so the expected activation is unchanged and nothing needs rescaling at test time."""
    return A * D / keep_prob


def dropout_backward(dA, D, keep_prob):
    """The same mask and the same 1/keep_prob, applied to the gradient."""
    return dA * D / keep_prob


def forward(params, X, keep_prob=1.0, masks=None, rng=None):
    """Forward pass. Returns the cache {"A0": X, "Z1", "A1", ..., "ZL", "AL"} (+ "D1"... with dropout).

    keep_prob < 1 switches inverted dropout on for the hidden layers. The masks come
    from `masks` when given (frozen: the same masks every call) or are drawn from `rng`.
    """
    L = n_layers(params)
    cache = {"A0": X}
    if keep_prob < 1.0:
        if masks is None:
            if rng is None:
                raise ValueError("dropout (keep_prob < 1) needs masks=... or rng=... to draw them")
            masks = draw_masks(params, X.shape[1], keep_prob, rng)
        cache.update(masks)
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ cache[f"A{l - 1}"] + params[f"b{l}"]
        if l < L:
            A = relu(Z)
            if keep_prob < 1.0:
                A = dropout_forward(A, cache[f"D{l}"], keep_prob)
        else:
            A = softmax(Z)
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return cache


def backward(params, cache, Y, keep_prob=1.0):
    """Gradients of the averaged cross-entropy: {"dW1", "db1", ...}, each shaped like its parameter.

    First the error signals, from the output layer down:
        dZ_L = (A_L - Y) / M                      (softmax + cross-entropy; the only 1/M)
        dA_l = W_{l+1}^T dZ_{l+1}                 (then dropout's mask and 1/keep_prob)
        dZ_l = dA_l * ReLU'(Z_l)
    then the parameter gradients, which read the cached activations:
        dW_l = dZ_l A_{l-1}^T                     db_l = sum of dZ_l over the examples
    """
    L = n_layers(params)
    M = Y.shape[1]
    dZ = {L: (cache[f"A{L}"] - Y) / M}
    for l in range(L - 1, 0, -1):
        dA = params[f"W{l + 1}"].T @ dZ[l + 1]
        if keep_prob < 1.0:
            dA = dropout_backward(dA, cache[f"D{l}"], keep_prob)
        dZ[l] = dA * relu_deriv(cache[f"{RELU_DERIV_INPUT}{l}"])
    grads = {}
    for l in range(1, L + 1):
        grads[f"dW{l}"] = dZ[l] @ cache[f"A{l - 1}"].T
        grads[f"db{l}"] = dZ[l].sum(axis=1, keepdims=True)
    return grads


def predict(params, X):
    """Most probable class for each column of X, shape (m,)."""
    return forward(params, X)[f"A{n_layers(params)}"].argmax(axis=0)


def accuracy(params, X, labels):
    return float(np.mean(predict(params, X) == labels))


def check_inputs(params, X, Y=None, keep_prob=1.0):
    """Raise a ValueError that says what is wrong (and what to do) with a network's inputs."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a dict {'W1', 'b1', 'W2', 'b2', ...} of arrays, "
                         "as init_params(rng) returns")
    L = n_layers(params)
    expected = [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")]
    if sorted(params) != sorted(expected):
        raise ValueError(f"params has keys {sorted(params)}; expected {expected}")
    if not (isinstance(keep_prob, (int, float)) and 0.0 < keep_prob <= 1.0):
        raise ValueError(f"keep_prob must be in (0, 1] (the probability of keeping a unit; "
                         f"1 switches dropout off), got {keep_prob!r}")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (features, m), got shape {X.shape}")
    n_prev = X.shape[0]
    for l in range(1, L + 1):
        W, b = np.asarray(params[f"W{l}"]), np.asarray(params[f"b{l}"])
        if W.ndim != 2 or W.shape[1] != n_prev:
            hint = " (examples go in columns: did you pass X.T?)" if l == 1 and X.shape[1] == W.shape[-1] else ""
            raise ValueError(f"W{l} has shape {W.shape} but its input has {n_prev} rows; "
                             f"W{l} must be ({W.shape[0] if W.ndim else '?'}, {n_prev}){hint}")
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"b{l} has shape {b.shape}; it must be a column ({W.shape[0]}, 1)")
        for name, arr in ((f"W{l}", W), (f"b{l}", b)):
            if not np.issubdtype(arr.dtype, np.floating):
                raise ValueError(f"{name} has dtype {arr.dtype}; parameters must be float64")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains {np.sum(~np.isfinite(arr))} NaN or infinite "
                                 "value(s): re-initialise with init_params(rng) or lower the "
                                 "learning rate that blew it up")
        n_prev = W.shape[0]
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if Y is not None:
        Y = np.asarray(Y)
        if Y.shape != (n_prev, X.shape[1]):
            raise ValueError(f"Y has shape {Y.shape}; expected one-hot ({n_prev}, {X.shape[1]}): "
                             "one column per example of X (use nnlib.one_hot(labels))")
        if not (np.isin(Y, (0.0, 1.0)).all() and np.all(Y.sum(axis=0) == 1)):
            raise ValueError("Y must be one-hot: 0/1 entries with exactly one 1 per column "
                             "(use nnlib.one_hot(labels))")
