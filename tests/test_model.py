import re

import numpy as np
import pytest

from nnlib import course, model


def test_forward_shapes_and_cache(batch):
    params, X, Y = batch
    cache = model.forward(params, X)
    assert [k for k in cache] == ["A0", "Z1", "A1", "Z2", "A2"]
    assert cache["Z1"].shape == (10, 8) and cache["A2"].shape == (10, 8)
    assert np.allclose(cache["A2"].sum(axis=0), 1.0)


def test_softmax_is_stable_and_shift_invariant():
    Z = np.array([[1000.0, -1000.0], [1001.0, -999.0], [999.0, -1001.0]])
    A = model.softmax(Z)
    assert np.all(np.isfinite(A))
    assert np.allclose(A, model.softmax(Z - 1000.0))


def test_cost_matches_the_definition(batch):
    params, X, Y = batch
    A = model.forward(params, X)["A2"]
    assert model.cost(A, Y) == pytest.approx(-np.mean(np.log(A[Y == 1])), rel=1e-12)


def test_relu_deriv_leaves_its_argument_alone():
    Z = np.array([[-1.0, 0.0, 2.0]])
    before = Z.copy()
    assert np.array_equal(model.relu_deriv(Z), [[0.0, 0.0, 1.0]])
    assert np.array_equal(Z, before)


def test_backward_does_not_touch_the_cache(batch):
    params, X, Y = batch
    cache = model.forward(params, X)
    saved = {k: v.copy() for k, v in cache.items()}
    model.backward(params, cache, Y)
    assert all(np.array_equal(cache[k], saved[k]) for k in saved)


def test_gradient_shapes_match_parameters(batch):
    params, X, Y = batch
    grads = model.backward(params, model.forward(params, X), Y)
    assert {k: g.shape for k, g in grads.items()} == {"d" + k: v.shape for k, v in params.items()}


def test_inverted_dropout_keeps_the_expected_activation():
    rng = np.random.default_rng(0)
    A = np.ones((50, 4000))
    D = (rng.random(A.shape) < 0.8).astype(float)
    assert model.dropout_forward(A, D, 0.8).mean() == pytest.approx(1.0, abs=0.01)


def test_frozen_masks_give_the_same_forward_pass(batch):
    params, X, Y = batch
    masks = model.draw_masks(params, 8, 0.5, np.random.default_rng(3))
    a = model.forward(params, X, 0.5, masks=masks)["A2"]
    b = model.forward(params, X, 0.5, masks=masks)["A2"]
    c = model.forward(params, X, 0.5, rng=np.random.default_rng(4))["A2"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_init_is_reproducible_and_he_scaled():
    a = model.init_params(np.random.default_rng(0), (784, 200, 10))
    b = model.init_params(np.random.default_rng(0), (784, 200, 10))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert not a["b1"].any()


def _bad(params, X, Y, what):
    params = {k: v.copy() for k, v in params.items()}
    if what == "transposed X":
        return params, X.T, Y
    if what == "nan":
        params["W2"][3, 4] = np.nan
    if what == "b row":
        params["b1"] = params["b1"].ravel()
    if what == "Y shape":
        return params, X, Y[:, :5]
    if what == "Y not one-hot":
        Y = Y * 0.5
    if what == "missing key":
        del params["b2"]
    return params, X, Y


@pytest.mark.parametrize("what, message", [
    ("transposed X", "X.T"),
    ("nan", "W2 contains 1 NaN"),
    ("b row", "b1 has shape"),
    ("Y shape", "one-hot"),
    ("Y not one-hot", "one-hot"),
    ("missing key", "keys"),
])
def test_bad_inputs_are_named(batch, what, message):
    with pytest.raises(ValueError, match=message):
        model.check_inputs(*_bad(*batch, what))


@pytest.mark.parametrize("keep_prob", [0, 0.0, -0.1, 1.5, float("nan")])
def test_keep_prob_outside_0_1_is_refused(batch, keep_prob):
    params, X, Y = batch
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\]"):
        model.check_inputs(params, X, Y, keep_prob)


# --- the cost from the logits (issue 11, item 4) ---------------------------------------------

def _reference_cross_entropy(Z, Y):
    """-mean over columns of log softmax(z)_y, by np.logaddexp.reduce: no code shared with nnlib."""
    y = Y.argmax(axis=0)
    return float(np.mean([np.logaddexp.reduce(Z[:, j]) - Z[y[j], j] for j in range(Z.shape[1])]))


@pytest.fixture
def saturated(mnist):
    """Inputs x1000 at M = 64: some right-class probabilities underflow to exactly 0 in A2."""
    X, Y, _ = mnist["train"]
    params = model.init_params(np.random.default_rng(0))
    X, Y = 1000 * X[:, :64], Y[:, :64]
    cache = model.forward(params, X)
    assert np.any(cache["A2"][Y == 1] == 0.0)  # the situation this fixture is for
    return params, X, Y, cache


def test_cost_from_logits_agrees_with_cost_on_ordinary_batches(batch):
    params, X, Y = batch
    cache = model.forward(params, X)
    assert model.cost_from_logits(cache["Z2"], Y) == pytest.approx(model.cost(cache["A2"], Y), rel=1e-12)
    assert model.cost_from_logits(cache["Z2"], Y) == pytest.approx(_reference_cross_entropy(cache["Z2"], Y),
                                                                   rel=1e-12)


def test_cost_from_logits_takes_a_stack_like_cost(batch):
    params, X, Y = batch
    Z = model.forward(params, X)["Z2"]
    stack = np.stack([Z, 2 * Z, Z - 5.0])
    J = model.cost_from_logits(stack, Y)
    assert J.shape == (3,)
    assert np.allclose(J, [model.cost_from_logits(z, Y) for z in stack], rtol=1e-13)
    assert np.allclose(model.cost(model.softmax(stack), Y), J, rtol=1e-12)


def test_cost_from_logits_is_right_where_probabilities_underflow(saturated):
    params, X, Y, cache = saturated
    assert model.cost_from_logits(cache["Z2"], Y) == pytest.approx(_reference_cross_entropy(cache["Z2"], Y),
                                                                   rel=1e-12)


def test_cost_refuses_underflowed_probabilities_instead_of_flooring_them(saturated):
    params, X, Y, cache = saturated
    with pytest.raises(ValueError, match="cost_from_logits"):
        model.cost(cache["A2"], Y)


def test_cost_from_logits_agrees_with_backward_where_probabilities_underflow(saturated):
    """The directional derivative of the cost equals backward's gradient along the same direction."""
    params, X, Y, cache = saturated
    grads = model.backward(params, cache, Y)
    rng = np.random.default_rng(1)
    v = {k: rng.standard_normal(p.shape) for k, p in params.items()}
    eps = 1e-6
    J = {s: model.cost_from_logits(model.forward({k: params[k] + s * eps * v[k] for k in params}, X)["Z2"], Y)
         for s in (1, -1)}
    numeric = (J[1] - J[-1]) / (2 * eps)
    analytic = sum(float(np.sum(grads["d" + k] * v[k])) for k in params)
    assert abs(numeric - analytic) / (abs(numeric) + abs(analytic)) < 1e-6


# --- every public function says what is wrong (issue 11, item 8) ------------------------------

def _without(params, key):
    return {k: v for k, v in params.items() if k != key}


_RNG = np.random.default_rng(0)
# Calls that returned a wrong number (or raised a numpy error) before; each must now raise,
# in one line, naming the problem. Each takes (params, X, Y, cache) of the `batch` fixture.
BAD_CALLS = {
    "1-D X": (lambda p, X, Y, c: model.forward(p, X[:, 0]), "X must be 2-D"),
    "Y one column, cost": (lambda p, X, Y, c: model.cost(c["A2"], Y[:, :1]), "Y has shape"),
    "Y one column, logits": (lambda p, X, Y, c: model.cost_from_logits(c["Z2"], Y[:, :1]), "Y has shape"),
    "Y one column, backward": (lambda p, X, Y, c: model.backward(p, c, Y[:, :1]), "Y has shape"),
    "label 10": (lambda p, X, Y, c: model.accuracy(p, X, np.full(8, 10)), "0..9"),
    "label -1": (lambda p, X, Y, c: model.accuracy(p, X, np.full(8, -1)), "0..9"),
    "too few labels": (lambda p, X, Y, c: model.accuracy(p, X, Y.argmax(axis=0)[:5]), "one label per column"),
    "predict without W2": (lambda p, X, Y, c: model.predict(_without(p, "W2"), X), "W2"),
    "forward without b1": (lambda p, X, Y, c: model.forward(_without(p, "b1"), X), "b1"),
    "empty batch": (lambda p, X, Y, c: model.forward(p, X[:, :0]), "at least one example"),
    "empty cost": (lambda p, X, Y, c: model.cost(c["A2"][:, :0], Y[:, :0]), "at least one example"),
    "rng=0 in forward": (lambda p, X, Y, c: model.forward(p, X, 0.5, rng=0), "default_rng"),
    "rng=0 in draw_masks": (lambda p, X, Y, c: model.draw_masks(p, 8, 0.5, 0), "default_rng"),
    "m=0 in draw_masks": (lambda p, X, Y, c: model.draw_masks(p, 0, 0.5, _RNG), "m must"),
    "1-D softmax": (lambda p, X, Y, c: model.softmax(np.array([1.0, 2.0])), "(classes, m)"),
    "mask a column": (lambda p, X, Y, c: model.dropout_forward(np.ones((3, 4)), np.ones((3, 1)), 0.5),
                      "D has shape"),
    "keep_prob 0 in dropout": (lambda p, X, Y, c: model.dropout_backward(np.ones((3, 4)), np.ones((3, 4)), 0),
                               "keep_prob"),
    "masks of the wrong shape": (lambda p, X, Y, c: model.forward(p, X, 0.5, masks={"D1": np.ones((10, 1))}),
                                 "D1"),
    "masks missing": (lambda p, X, Y, c: model.forward(p, X, 0.5, masks={}), "D1"),
    "backward, no masks in cache": (lambda p, X, Y, c: model.backward(p, c, Y, 0.5), "D1"),
    "backward, empty cache": (lambda p, X, Y, c: model.backward(p, {}, Y), "cache"),
    "cost of logits": (lambda p, X, Y, c: model.cost(c["Z2"], Y), "probabilities"),
    "W1 as a list": (lambda p, X, Y, c: model.forward(dict(p, W1=p["W1"].tolist()), X), "W1"),
    "no layers": (lambda p, X, Y, c: model.init_params(_RNG, (784,)), "layer_sizes"),
    "layer of 0 units": (lambda p, X, Y, c: model.init_params(_RNG, (784, 0, 10)), "layer_sizes"),
    "text for Z": (lambda p, X, Y, c: model.relu_deriv(["a"]), "numbers"),
    # once: numpy's UFuncTypeError; a list of which keys a network expects, not which one is extra
    "W1 of strings": (lambda p, X, Y, c: model.forward(dict(p, W1=p["W1"].astype(str)), X), "W1 must hold numbers"),
    "an extra key": (lambda p, X, Y, c: model.forward(dict(p, gamma=np.ones(3)), X), "'gamma', which no layer"),
    "two extra keys": (lambda p, X, Y, c: model.forward(dict(p, gamma1=np.ones(3), beta1=np.ones(3)), X),
                       "'gamma1', 'beta1', which no layer"),
    "2-D layer_sizes": (lambda p, X, Y, c: model.init_params(_RNG, np.array([[784, 10], [10, 10]])),
                        "got an array of shape (2, 2)"),  # once: the array's repr, over two lines
    "layer_sizes beyond memory": (lambda p, X, Y, c: model.init_params(_RNG, (10**6, 10**6)),
                                  "more memory than this machine has"),  # once: numpy's MemoryError
    "cost of NaN": (lambda p, X, Y, c: model.cost(c["A2"] * np.nan, Y), "AL holds 80 NaN"),  # once: nan, silently
    # once: a silent 20 % error (the masks and 1/keep_prob left out)
    "backward, keep_prob forgotten after dropout": (
        lambda p, X, Y, c: model.backward(p, model.forward(p, X, 0.8, rng=_RNG), Y),
        "forward pass with keep_prob=0.8, but backward was given keep_prob=1"),
    "backward, another keep_prob": (
        lambda p, X, Y, c: model.backward(p, model.forward(p, X, 0.8, rng=_RNG), Y, 0.5), "keep_prob=0.5"),
    "backward, a hand-made cache with masks": (
        lambda p, X, Y, c: model.backward(p, dict(c, D1=np.ones_like(c["A1"])), Y), "dropout on (it holds D1)"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_input_to_a_public_function_is_named_in_one_line(batch, name):
    params, X, Y = batch
    call, words = BAD_CALLS[name]
    with pytest.raises((ValueError, TypeError)) as info:
        call(params, X, Y, model.forward(params, X))
    message = str(info.value)
    assert words in message and "\n" not in message, message


def test_lists_work_where_arrays_do(batch):
    params, X, Y = batch
    cache = model.forward(params, X)
    # X[:, :8] is a strided view and X.tolist() becomes a contiguous copy: BLAS may sum them in
    # another order (AVX-512 kernels do: 1.8e-15 apart), so the same numbers, to rounding
    np.testing.assert_allclose(model.forward(params, X.tolist())["A2"], cache["A2"], rtol=1e-12)
    assert model.cost(cache["A2"].tolist(), Y.tolist()) == pytest.approx(model.cost(cache["A2"], Y), rel=1e-12)
    assert model.cost_from_logits(cache["Z2"].tolist(), Y.tolist()) == pytest.approx(
        model.cost_from_logits(cache["Z2"], Y), rel=1e-12)
    np.testing.assert_allclose(model.softmax(cache["Z2"].tolist()), cache["A2"], rtol=1e-12)
    assert np.array_equal(model.relu_deriv([[-1.0, 2.0]]), [[0.0, 1.0]])
    assert model.accuracy(params, X, Y.argmax(axis=0).tolist()) == model.accuracy(params, X, Y.argmax(axis=0))


def test_numpy_scalars_are_numbers(batch):
    params, X, Y = batch
    model.check_inputs(params, X, Y, np.float32(0.5))
    a = model.forward(params, X, np.float32(0.5), rng=np.random.default_rng(0))["A2"]
    b = model.forward(params, X, 0.5, rng=np.random.default_rng(0))["A2"]
    assert np.allclose(a, b)
    assert model.draw_masks(params, np.int64(5), np.float64(0.5), np.random.default_rng(0))["D1"].shape == (10, 5)
    assert model.init_params(np.random.default_rng(0), (np.int64(4), np.int64(3)))["W1"].shape == (3, 4)


@pytest.mark.parametrize("targets", [lambda Y: -Y, lambda Y: 2 * Y, lambda Y: Y * np.nan, lambda Y: 3 * Y])
def test_targets_that_are_not_distributions_are_refused(batch, targets):
    params, X, Y = batch
    cache = model.forward(params, X)
    for f in (lambda: model.cost(cache["A2"], targets(Y)), lambda: model.cost_from_logits(cache["Z2"], targets(Y)),
              lambda: model.backward(params, cache, targets(Y))):
        with pytest.raises(ValueError, match="one-hot"):
            f()


def test_nan_parameters_give_no_made_up_accuracy(batch):
    params, X, _ = batch
    broken = {**params, "W1": params["W1"] * np.nan}
    with pytest.raises(ValueError, match="NaN"):
        model.accuracy(broken, X, np.zeros(X.shape[1], dtype=int))


# --- nnlib.course: the course's network, its inputs ----------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda X, Y, p: course.forward_propagation_n(X.T, Y, p), "did you pass X.T?"),
    (lambda X, Y, p: course.forward_propagation_n(X, Y, {k: v for k, v in p.items() if k != "b2"}),
     "parameters has no b2"),
    (lambda X, Y, p: course.vector_to_dictionary(course.dictionary_to_vector(p)), "theta, _ = dictionary_to_vector"),
    (lambda X, Y, p: course.vector_to_dictionary(np.zeros((46, 1))), "theta has 46 entries, but this network has 47"),
])
def test_the_course_network_names_what_it_cannot_use(call, words):
    # once: numpy's "shapes (5,4) and (3,4) not aligned", KeyError: 'b2', "cannot reshape array"
    with pytest.raises(ValueError, match=re.escape(words)) as info:
        call(*course.test_case())
    assert "\n" not in str(info.value)


def test_a_transposed_weight_matrix_is_named_with_the_shape_it_needs(batch):
    params, X, _ = batch
    with pytest.raises(ValueError, match=r"W1 must be \(10, 784\) \(W1 transposed\?"):
        model.forward({**params, "W1": params["W1"].T}, X)
    with pytest.raises(ValueError, match=r"W2 must be \(10, 10\)$"):  # b2 has 10 units: not a transpose
        model.forward({**params, "W2": params["W2"][:, :5]}, X)


@pytest.mark.parametrize("fill", [0.5 / 0.8, 3.0, np.nan])
def test_dropout_masks_hold_only_0_and_1(batch, fill):
    params, X, _ = batch
    with pytest.raises(ValueError, match="masks D1 must hold only 0"):
        model.forward(params, X, 0.8, masks={"D1": np.full((10, X.shape[1]), fill)})


def test_a_cost_with_its_arguments_swapped_says_so(batch):
    params, X, Y = batch
    A2 = model.forward(params, X)["A2"]
    with pytest.raises(ValueError, match="the arguments look swapped"):
        model.cost(Y, A2)
