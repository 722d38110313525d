"""checks.py on its own: the comparison, the input it refuses, and what its numbers can tell
(kinks, a float32 cost, overflow), with costs small enough to work out by hand."""

import numpy as np
import pytest

import nnlib
from nnlib import checks


def relu_cost(b_scale=1.0):
    """J(w, b) = mean over 3 examples of relu(w x + b); the first example is all zeros, so with
    b = 0 its pre-activation sits exactly on the kink whatever w is."""
    x = np.array([[0.0, 1.0, -2.0], [0.0, 0.5, 1.5]])
    params = {"w": np.array([[0.7, -0.4]]), "b": np.zeros((1, 1))}

    def J(p):
        return float(np.mean(np.maximum(0.0, p["w"] @ x + p["b"])))

    def grads(p, relu_at_zero=0.0):
        z = p["w"] @ x + p["b"]
        dz = np.where(z > 0, 1.0, np.where(z == 0, relu_at_zero, 0.0)) / 3
        return {"w": dz @ x.T, "b": b_scale * dz.sum(axis=1, keepdims=True)}
    return J, params, grads


# -- the comparison --------------------------------------------------------------------------------

def test_relative_difference_refuses_shapes_that_would_broadcast():
    g = np.arange(1.0, 6.0)
    with pytest.raises(ValueError, match=r"shape \(5, 1\) but numeric \(5,\)"):
        checks.relative_difference(g.reshape(-1, 1), g)  # numpy would give 0.46 for equal values
    assert checks.relative_difference(g.reshape(-1, 1), g.reshape(-1, 1)) == 0.0


@pytest.mark.parametrize("bad", [np.arange(3) + 0j, np.array(["a", "b", "c"]), np.array([None] * 3)])
def test_relative_difference_refuses_what_is_not_real(bad):
    with pytest.raises(ValueError, match="real numbers"):
        checks.relative_difference(bad, np.ones(3))


def test_gradients_of_1e300_do_not_make_the_report_contradict_itself():
    params = nnlib.init_params(np.random.default_rng(0), (6, 5, 3))
    X = np.random.default_rng(1).random((6, 4))
    Y = nnlib.one_hot(np.array([0, 1, 2, 1]), 3)
    for method in ("fast", "loop"):
        report = nnlib.gradient_check(dict(params, W1=params["W1"] * 1e300), X, Y, method=method)
        # the rows agree with the verdict; W1's own errors drown in J's rounding (J ~ 1e299)
        assert report.passed == all(row.passed for row in report.per_parameter), report
        assert report.diagnosis[-1].startswith("likely:") and "dW1" in report.diagnosis[-1], report
        assert np.isfinite(report.per_parameter[2].ratio)  # W2's ratio, of gradients near 1e290


# -- what check_gradients refuses, in one line -----------------------------------------------------

@pytest.mark.parametrize("analytic, message", [
    (lambda g: {"d" + k: v for k, v in g.items()}, "key each gradient by its parameter's name"),
    (lambda g: dict(g, w=g["w"].T), r"shape \(2, 1\) but params\['w'\] \(1, 2\) \(transposed"),
    (lambda g: dict(g, w=None), "must hold real numbers, got None"),
    (lambda g: [g["w"], g["b"]], "must be a dict"),
])
def test_check_gradients_refuses_gradients_it_cannot_compare(analytic, message):
    J, params, grads = relu_cost()
    with pytest.raises(ValueError, match=message):
        checks.check_gradients(J, params, analytic(grads(params)))


@pytest.mark.parametrize("cost, message", [
    (lambda p: None, "forgotten return"),
    (lambda p: (1.0, {"cache": np.ones(2)}), "got a tuple of 2: return the cost alone"),
    (lambda p: "0.5", "one real number, got str"),
])
def test_check_gradients_says_what_the_cost_returned_instead_of_a_number(cost, message):
    _, params, grads = relu_cost()
    with pytest.raises(ValueError, match=message):
        checks.check_gradients(cost, params, grads(params))


@pytest.mark.parametrize("dtype, says", [
    (np.float32, "near 1 at epsilon = 1e-7"), (np.float16, "about 3 significant digits"),
    (np.int64, "whole numbers"), (np.longdouble, "MORE precise than float64"), (object, "Python objects"),
    (np.complex128, "complex numbers"),
])
def test_a_dtype_other_than_float64_is_refused_with_what_is_true_of_it(dtype, says):
    if np.dtype(np.longdouble) == np.float64 and dtype is np.longdouble:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(ValueError, match=says) as refused:
        checks.check_epsilon({"W1": np.zeros((2, 2), dtype=dtype)}, 1e-7)
    assert f"W1 is {np.dtype(dtype)}" in str(refused.value)
    assert "float32 keeps" not in str(refused.value) or dtype is np.float32


# -- what the numbers can tell ---------------------------------------------------------------------

def test_a_right_gradient_failing_only_at_a_kink_is_told_as_that():
    J, params, grads = relu_cost()
    for relu_at_zero in (0.0, 1.0):  # either convention is one of the two one-sided slopes
        report = checks.check_gradients(J, params, grads(params, relu_at_zero))
        assert not report.passed and report.kink_only and report.kinks == 1, report
        assert report.without_kinks < 1e-7 and "FAIL at kinks only" in str(report)


def test_a_bug_at_a_kink_is_not_taken_for_the_kink():
    J, params, grads = relu_cost(b_scale=3.0)  # db three times too large: off both one-sided slopes
    report = checks.check_gradients(J, params, grads(params))
    assert report.kinks == 1 and not report.kink_only


def test_a_cost_computed_in_float32_gives_no_verdict():
    x = np.random.default_rng(0).standard_normal((3, 5))
    params = {"w": np.random.default_rng(1).standard_normal((2, 3))}

    def J(p, dtype=np.float32):
        return float(np.sum(np.tanh(p["w"].astype(dtype) @ x.astype(dtype)) ** 2))
    analytic = {"w": (2 * np.tanh(params["w"] @ x) * (1 - np.tanh(params["w"] @ x) ** 2)) @ x.T}
    report = checks.check_gradients(J, params, analytic)
    assert report.cost_float32 and not report.passed and "NO VERDICT" in str(report)
    assert not checks.check_gradients(lambda p: J(p, np.float64), params, analytic).cost_float32
