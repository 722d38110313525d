import numpy as np
import pytest

from nnlib import model


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
