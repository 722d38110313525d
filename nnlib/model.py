"""The network: He initialisation, forward pass, cost and backward pass.

Course notation, examples in columns:
    X: (n_x, m)   W_l: (n_l, n_{l-1})   b_l: (n_l, 1)   Z_l, A_l: (n_l, m)   Y: (n_L, m)
Hidden layers use ReLU, the output layer softmax; the cost is cross-entropy averaged
over the M examples of the batch. Every function here is pure: nothing is changed in
place, and the cache a forward pass returns is a plain dict a learner can inspect.

Every function checks the types and shapes it is given (cheap enough to run inside a
gradient check's loop) and says in one line what is wrong; check_inputs, at the end of
the file, also reads every value (NaN, one-hot) and is run once per training or check.
"""

import numpy as np

from .data import check_labels, is_whole

LAYER_SIZES = (784, 10, 10)


# The smallest normal float64 (2.2e-308). A probability below it has lost digits, and one
# below 5e-324 is stored as exactly 0: its log can no longer be computed from it.
TINY = np.finfo(np.float64).tiny


def n_layers(params):
    """Number of layers with weights (2 for 784 -> 10 -> 10)."""
    return len(params) // 2


def param_keys(params):
    """Parameter names in network order: W1, b1, W2, b2, ..."""
    return [f"{p}{l}" for l in range(1, n_layers(params) + 1) for p in ("W", "b")]


def init_params(rng, layer_sizes=LAYER_SIZES):
    """He initialisation: W_l ~ N(0, 2 / n_{l-1}), b_l = 0. Returns {"W1", "b1", ...}."""
    check_rng(rng, "init_params")
    sizes = tuple(layer_sizes) if isinstance(layer_sizes, (tuple, list, np.ndarray)) else ()
    if len(sizes) < 2 or not all(is_whole(n) and n >= 1 for n in sizes):
        given = f"an array of shape {layer_sizes.shape}" if isinstance(layer_sizes, np.ndarray) else repr(layer_sizes)
        raise ValueError(f"layer_sizes must be two or more whole numbers >= 1, inputs first "
                         f"(like {LAYER_SIZES}), got {given}")
    params = {}
    try:
        for l in range(1, len(sizes)):
            n_in, n_out = int(sizes[l - 1]), int(sizes[l])
            params[f"W{l}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
            params[f"b{l}"] = np.zeros((n_out, 1))
    except MemoryError:
        weights = sum(int(a) * int(b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        raise ValueError(f"layer_sizes {tuple(int(n) for n in sizes)} need {weights:,} weights, "
                         f"{weights * 8 / 1e9:,.0f} GB in float64: more memory than this machine has") from None
    return params


def relu(Z):
    return np.maximum(0.0, _numbers(Z, "Z"))


def relu_deriv_input(cache, l):
    """The cache entry ReLU'(.) is read from: Z_l. A_l = relu(Z_l) is > 0 at exactly the same
    places, so it would give the same derivative (the bug lab's inplace_relu_deriv reads A_l)."""
    return cache[f"Z{l}"]


def relu_deriv(Z):
    """ReLU'(Z) as a new 0/1 array; Z itself is left alone (the cache still needs it)."""
    Z = _numbers(Z, "Z")
    return (Z > 0).astype(Z.dtype)


def softmax(Z):
    """Softmax over the classes (axis -2: the rows of a (classes, m) array; a stack of
    such arrays works too). Subtracting the column max changes nothing mathematically
    and keeps exp() from overflowing."""
    Z = _classes_by_examples(Z, "Z")
    E = np.exp(Z - Z.max(axis=-2, keepdims=True))
    return E / E.sum(axis=-2, keepdims=True)


def cost(AL, Y):
    """Cross-entropy averaged over the M columns: J = -(1/M) sum_j sum_k Y_kj log A_kj.

    AL: probabilities (classes, M), or a stack (P, classes, M): then the P costs come back
    as an array. A probability below 1e-308 does not fit in float64 (it becomes 0), so its
    log is lost; when that happens to a right class this refuses, and
    cost_from_logits(cache["Z2"], Y), which never forms the probabilities, gives the cost.
    """
    AL, Y, M = _output_and_targets(AL, Y, "AL")
    if not np.all(np.isfinite(AL)):  # NaN passes both comparisons below, and its cost would be NaN
        raise ValueError(f"AL holds {np.sum(~np.isfinite(AL))} NaN or infinite value(s): the forward pass made "
                         "them (parameters or X with NaN or inf, or weights that blew up in training)")
    if np.any(AL < 0) or np.any(AL > 1):
        raise ValueError(f"AL must be probabilities (the softmax output), but its values run from "
                         f"{AL.min():.3g} to {AL.max():.3g}; for pre-activations Z use cost_from_logits(Z, Y)")
    lost = (AL < TINY) & (Y != 0)
    if lost.any() and np.all((AL == 0) | (AL == 1)) and not np.all((Y == 0) | (Y == 1)):
        raise ValueError("AL is one-hot and Y is not: the arguments look swapped. cost(AL, Y) takes the "
                         "probabilities first, then the one-hot labels")
    if lost.any():
        raise ValueError(f"{lost.sum()} right-class probabilities in AL are below 1e-308 (float64 stores "
                         "them as 0 or with lost digits), so their log is lost: use the output layer's "
                         "pre-activations, cost_from_logits(cache['Z2'], Y)")
    # Where Y is 0 the probability does not count, even if it is 0 (0 * log 0 would be NaN).
    J = -np.sum(Y * np.log(np.maximum(AL, TINY)), axis=(-2, -1)) / M
    return float(J) if np.ndim(J) == 0 else J


def cost_from_logits(ZL, Y):
    """The same cross-entropy, from the output layer's pre-activations Z_L (classes, M), or a
    stack (P, classes, M), without forming the probabilities:

        -log softmax(z)_k = logsumexp(z) - z_k,   logsumexp(z) = max(z) + log(sum_k exp(z_k - max(z)))

    Every term stays an ordinary number even where softmax(z)_k underflows to 0, so cost and
    gradient agree everywhere. From a forward pass: cost_from_logits(cache["Z2"], Y).
    """
    ZL, Y, M = _output_and_targets(ZL, Y, "ZL")
    return cross_entropy_from_logits(ZL, Y)


def cross_entropy_from_logits(ZL, Y):
    """cost_from_logits without its input checks, for loops whose inputs were checked once
    (a gradient check evaluates it thousands of times on the same Y)."""
    J = example_losses_from_logits(ZL, Y).sum(axis=-1) / Y.shape[-1]
    return float(J) if np.ndim(J) == 0 else J


def example_losses_from_logits(ZL, Y):
    """The loss of each example (column), -sum_k Y_k log softmax(z)_k = sum_k Y_k (logsumexp(z) - z_k):
    shape (M,), or (P, M) for a stack. The one place the cross-entropy is computed from logits."""
    top = ZL.max(axis=-2, keepdims=True)
    logsumexp = top + np.log(np.exp(ZL - top).sum(axis=-2, keepdims=True))
    return np.sum(Y * (logsumexp - ZL), axis=-2)


def draw_masks(params, m, keep_prob, rng):
    """Dropout masks for every hidden layer: D_l[i, j] = 1 with probability keep_prob."""
    check_rng(rng, "draw_masks")
    keep_prob = check_keep_prob(keep_prob)
    if not (is_whole(m) and m >= 1):
        raise ValueError(f"m must be the number of examples, a whole number >= 1, got {m!r}")
    L = _check_params(params)
    return {f"D{l}": (rng.random((params[f"W{l}"].shape[0], m)) < keep_prob).astype(float)
            for l in range(1, L)}


def dropout_forward(A, D, keep_prob):
    """Inverted dropout: zero the dropped units and scale the kept ones by 1/keep_prob,
    so the expected activation is unchanged and nothing needs rescaling at test time."""
    A, D, keep_prob = _check_dropout(A, D, keep_prob)
    return A * D / keep_prob


def dropout_backward(dA, D, keep_prob):
    """The same mask and the same 1/keep_prob, applied to the gradient."""
    dA, D, keep_prob = _check_dropout(dA, D, keep_prob)
    return dA * D / keep_prob


def forward(params, X, keep_prob=1.0, masks=None, rng=None):
    """Forward pass. Returns the cache {"A0": X, "Z1", "A1", ..., "ZL", "AL"} (with dropout also
    "D1", ... and "keep_prob", so that backward can tell when it is given another keep_prob).

    keep_prob < 1 switches inverted dropout on for the hidden layers. The masks come
    from `masks` when given (frozen: the same masks every call) or are drawn from `rng`.
    """
    X, L = _check_network(params, X)
    keep_prob = check_keep_prob(keep_prob)
    cache = {"A0": X}
    if keep_prob < 1.0:
        if masks is None:
            if rng is None:
                raise ValueError("dropout (keep_prob < 1) needs masks=... or rng=... to draw them")
            masks = draw_masks(params, X.shape[1], keep_prob, rng)
        cache.update(_check_masks(params, masks, X.shape[1]))
        cache["keep_prob"] = keep_prob
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
    L, Y = _check_cache(params, cache, Y, keep_prob)
    Y, M = _targets(Y), Y.shape[1]
    dZ = {L: (cache[f"A{L}"] - Y) / M}
    for l in range(L - 1, 0, -1):
        dA = params[f"W{l + 1}"].T @ dZ[l + 1]
        if keep_prob < 1.0:
            dA = dropout_backward(dA, cache[f"D{l}"], keep_prob)
        dZ[l] = dA * relu_deriv(relu_deriv_input(cache, l))
    grads = {}
    for l in range(1, L + 1):
        grads[f"dW{l}"] = dZ[l] @ cache[f"A{l - 1}"].T
        grads[f"db{l}"] = dZ[l].sum(axis=1, keepdims=True)
    return grads


def predict(params, X):
    """Most probable class for each column of X, shape (m,)."""
    A = forward(params, X)[f"A{n_layers(params)}"]
    if not np.all(np.isfinite(A)):  # argmax of NaN is 0: a class for every digit, and a made-up accuracy
        raise ValueError("the network's output holds NaN or infinity: the parameters (or X) do; "
                         "re-initialise with init_params(rng) or lower the learning rate that blew them up")
    return A.argmax(axis=0)


def accuracy(params, X, labels):
    """Fraction of the columns of X whose predicted class is its label (labels: integers, shape (m,))."""
    predicted = predict(params, X)
    labels = check_labels(labels, params[f"W{n_layers(params)}"].shape[0], m=predicted.size)
    return float(np.mean(predicted == labels))


# ---------------------------------------------------------------------------------------------
# Input checks. The private ones look at types and shapes only (a few microseconds per call),
# so that forward can run them on every one of a gradient check's thousands of passes.

def check_inputs(params, X, Y=None, keep_prob=1.0):
    """Raise a ValueError that says what is wrong (and what to do) with a network's inputs.

    Besides the shapes, this reads every value: parameters float and finite, X finite,
    Y one-hot. Run it once at an entry point (train and the gradient checks do), not in a loop.
    """
    X, L = _check_network(params, X)
    check_keep_prob(keep_prob)
    for key in param_keys(params):
        arr = params[key]
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"{key} has dtype {arr.dtype}; parameters must be float64")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{key} contains {np.sum(~np.isfinite(arr))} NaN or infinite "
                             "value(s): re-initialise with init_params(rng) or lower the "
                             "learning rate that blew it up")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if Y is not None:
        Y = np.asarray(Y)
        n_L = params[f"W{L}"].shape[0]
        if Y.shape != (n_L, X.shape[1]):
            raise ValueError(f"Y has shape {Y.shape}; expected one-hot ({n_L}, {X.shape[1]}): "
                             "one column per example of X (use nnlib.one_hot(labels))")
        if not (np.isin(Y, (0.0, 1.0)).all() and np.all(Y.sum(axis=0) == 1)):
            raise ValueError("Y must be one-hot: 0/1 entries with exactly one 1 per column "
                             "(use nnlib.one_hot(labels))")


def is_number(x):
    """A real number, Python's or NumPy's (np.float32(0.5), np.int64(5)); not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def check_keep_prob(keep_prob):
    """keep_prob as a float, after checking that it is a number in (0, 1]."""
    if type(keep_prob) is float and 0.0 < keep_prob <= 1.0:  # the usual case, at once
        return keep_prob
    if not (is_number(keep_prob) and 0.0 < keep_prob <= 1.0):
        raise ValueError(f"keep_prob must be in (0, 1] (the probability of keeping a unit; "
                         f"1 switches dropout off), got {keep_prob!r}")
    return float(keep_prob)


def check_rng(rng, who):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who} needs rng=np.random.default_rng(seed) (an explicit "
                        f"np.random.Generator), got {type(rng).__name__}")


def _numbers(x, name):
    """x as an array (a list is welcome), if it holds numbers."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {x.dtype}")
    return x


def _classes_by_examples(x, name):
    x = _numbers(x, name)
    if x.ndim < 2 or x.shape[-2] == 0:
        raise ValueError(f"{name} must have shape (classes, m), one column per example (or a stack "
                         f"(P, classes, m)), got shape {x.shape}")
    return x


def _output_and_targets(A, Y, name):
    """(A, Y, M) for a cost: Y must have A's shape, or one (classes, M) for a stack of A's."""
    A, Y = _classes_by_examples(A, name), _numbers(Y, "Y")
    if Y.shape != A.shape[-2:]:
        raise ValueError(f"Y has shape {Y.shape}; expected one-hot {A.shape[-2:]}, the shape of {name} "
                         "(one column per example: nnlib.one_hot(labels))")
    if Y.shape[1] == 0:
        raise ValueError(f"{name} and Y have no columns: a cost needs at least one example")
    return A, _targets(Y), Y.shape[1]


def _targets(Y):
    """Y, if each column is a distribution over the classes (one-hot, or soft labels): entries
    in [0, 1] that sum to 1. Anything else would give a cost and gradients of something else."""
    if not (Y.min() >= 0 and Y.max() <= 1 and np.abs(Y.sum(axis=0) - 1).max() <= 1e-6):  # a few µs
        raise ValueError("Y must be one-hot (or hold probabilities): entries in [0, 1], each column "
                         "summing to 1; use nnlib.one_hot(labels)")
    return Y


def _check_params(params, n_in=None, m=None):
    """L, after checking the keys W1, b1, ..., WL, bL and that the shapes chain (from n_in inputs;
    m, the number of examples, only improves a message)."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a dict {'W1', 'b1', 'W2', 'b2', ...} of arrays, "
                         "as init_params(rng) returns")
    L = 0
    while f"W{L + 1}" in params or f"b{L + 1}" in params:  # the layers the keys name, from 1 on
        L += 1
    expected = [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")]
    extra = [k for k in params if k not in expected]
    if extra and L:
        raise ValueError(f"params has {', '.join(map(repr, extra))}, which no layer of W1 ... W{L} uses: a network's "
                         f"params are exactly {expected} (leave the others out of the dict)")
    for l in range(1, L + 1):
        W, b = params.get(f"W{l}"), params.get(f"b{l}")
        if not (isinstance(W, np.ndarray) and isinstance(b, np.ndarray)):
            _refuse_params(params, l)
        for key, arr in ((f"W{l}", W), (f"b{l}", b)):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{key} must hold numbers, got an array of dtype {arr.dtype} "
                                f"(np.array({key}, dtype=float))")
        n_in = W.shape[-1] if n_in is None else n_in
        if W.ndim != 2 or W.shape[1] != n_in:
            hint = " (examples go in columns: did you pass X.T?)" if l == 1 and m == W.shape[-1] else ""
            flipped = W.ndim == 2 and W.shape[0] == n_in and np.shape(b) == (W.shape[1], 1)  # b has W's units
            units = W.shape[1] if flipped else (W.shape[0] if W.ndim else "?")
            hint = f" (W{l} transposed? it is (units, inputs))" if flipped else hint
            raise ValueError(f"W{l} has shape {W.shape} but its input has {n_in} rows; "
                             f"W{l} must be ({units}, {n_in}){hint}")
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"b{l} has shape {b.shape}; it must be a column ({W.shape[0]}, 1)")
        n_in = W.shape[0]
    if not L:
        raise ValueError(f"params has keys {sorted(map(str, params))}; expected W1, b1, W2, b2, ... "
                         "(as init_params(rng) returns)")
    return L


def _refuse_params(params, l):
    """The error for layer l's parameters: a key is missing, or a value is not an array."""
    for key in (f"W{l}", f"b{l}"):
        if key not in params:
            last = max(int(k[1:]) for k in params if str(k)[:1] in "Wb" and str(k)[1:].isdigit())
            expected = [f"{p}{j}" for j in range(1, last + 1) for p in ("W", "b")]
            raise ValueError(f"params has no {key!r}: its keys are {sorted(map(str, params))}, a network's "
                             f"{expected}")
        if not isinstance(params[key], np.ndarray):
            raise TypeError(f"{key} is a {type(params[key]).__name__}; parameters must be NumPy arrays "
                            f"(np.array({key}, dtype=float))")


def _check_network(params, X):
    """(X as an array, L), after checking that X and the parameters' keys and shapes fit together.
    forward runs this on every pass, so when all is well it is a few comparisons; when not,
    _network_error finds the problem and says it."""
    X = np.asarray(X)
    try:
        L, n = len(params) // 2, X.shape[0]
        fits = X.ndim == 2 and X.shape[1] > 0 and X.dtype.kind in "biuf" and len(params) == 2 * L > 0
        for l in range(1, L + 1):
            W, b = params[f"W{l}"], params[f"b{l}"]
            fits = fits and W.ndim == 2 and W.shape[1] == n and b.shape == (W.shape[0], 1) \
                and W.dtype.kind in "biuf" and b.dtype.kind in "biuf"
            n = W.shape[0]
    except (TypeError, KeyError, AttributeError, IndexError):  # not a dict, a key missing, a list
        fits = False
    if not fits:
        _network_error(params, X)
    return X, L


def _network_error(params, X):
    X = _numbers(X, "X")
    if X.ndim != 2:
        hint = ": for one example x use x.reshape(-1, 1)" if X.ndim == 1 else ""
        raise ValueError(f"X must be 2-D (features, m), one column per example, got shape {X.shape}{hint}")
    if X.shape[1] == 0:
        raise ValueError(f"X has shape {X.shape}: a batch needs at least one example (column)")
    _check_params(params, X.shape[0], X.shape[1])
    raise ValueError("params and X do not fit together")  # not reached: _check_params says why


def _check_masks(params, masks, m):
    """The masks D1 ... D(L-1), after checking that each is (n_l, m)."""
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict {{'D1': ...}} as model.draw_masks returns, "
                        f"got {type(masks).__name__}")
    L = n_layers(params)
    for l in range(1, L):
        D, shape = masks.get(f"D{l}"), (params[f"W{l}"].shape[0], m)
        if np.shape(D) != shape:
            raise ValueError(f"masks needs D{l} of shape {shape} (one 0/1 entry per unit and example; "
                             f"model.draw_masks makes them), got {'none' if D is None else np.shape(D)}")
        if not np.all((np.asarray(D) == 0) | (np.asarray(D) == 1)):  # NaN fails both
            raise ValueError(f"masks D{l} must hold only 0 (dropped) and 1 (kept); the 1/keep_prob is forward's "
                             "to apply, not the mask's (model.draw_masks makes them)")
    return {f"D{l}": masks[f"D{l}"] for l in range(1, L)}


def _check_dropout(A, D, keep_prob):
    A, D = _numbers(A, "A"), _numbers(D, "D")
    if D.ndim > A.ndim or A.shape[A.ndim - D.ndim:] != D.shape:
        raise ValueError(f"D has shape {D.shape} but the activations have shape {A.shape}: the mask "
                         "needs one entry per unit and example (model.draw_masks makes it)")
    return A, D, check_keep_prob(keep_prob)


def _check_cache(params, cache, Y, keep_prob):
    """(L, Y as an array), after checking that cache is forward's for these params and Y fits it,
    with the keep_prob its forward pass had."""
    keep_prob = check_keep_prob(keep_prob)
    if not isinstance(cache, dict) or "A0" not in cache:
        raise ValueError("cache must be the dict forward(params, X) returned (it has no 'A0')")
    if cache.get("keep_prob", keep_prob) != keep_prob or ("D1" in cache and "keep_prob" not in cache
                                                           and keep_prob == 1.0):
        was = f"keep_prob={cache['keep_prob']:g}" if "keep_prob" in cache else "dropout on (it holds D1)"
        raise ValueError(f"this cache comes from a forward pass with {was}, but backward was given "
                         f"keep_prob={keep_prob:g}: give backward the keep_prob of the forward pass (else its "
                         "gradients miss the masks or the 1/keep_prob)")
    X, L = _check_network(params, cache["A0"])
    M = X.shape[1]
    for l in range(1, L + 1):
        needed = [f"Z{l}", f"A{l}"] + ([f"D{l}"] if keep_prob < 1.0 and l < L else [])
        for key in needed:
            if np.shape(cache.get(key)) != (params[f"W{l}"].shape[0], M):
                raise ValueError(f"cache[{key!r}] is missing or has the wrong shape: pass the cache that "
                                 f"forward(params, X, keep_prob={keep_prob:g}) returned for these params")
    Y = _numbers(Y, "Y")
    if Y.shape != cache[f"A{L}"].shape:
        raise ValueError(f"Y has shape {Y.shape}; expected one-hot {cache[f'A{L}'].shape}, one column "
                         "per example of X (use nnlib.one_hot(labels))")
    return L, Y
