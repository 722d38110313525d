"""The exercises' feedback: every reference answer passes, a blank stub is told it is not answered
(without raising), and typical wrong answers get the message that names their mistake."""

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import nnlib
from nnlib import course, exercises

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("solutions_exercises", ROOT / "solutions" / "exercises.py")
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)


def exits(*args, **kwargs):
    sys.exit()  # the line the feedback quotes: it must not hold the phrases the tests look for


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


def returns_none(*args, **kwargs):
    return None


def assert_fails_with(feedback, *phrases):
    text = str(feedback)
    assert not feedback.passed, text
    # the learner's line that raised is quoted; a test's own line (a lambda with its phrases) must not count
    own = re.sub(r"at the line `.*?`\)", "at the line `...`)", text)
    for phrase in phrases:
        assert phrase in own, f"{phrase!r} not in:\n{text}"


# ---- 1.1 softmax ----------------------------------------------------------------------------

def test_softmax_solution_passes():
    feedback = exercises.check_softmax(solutions.softmax)
    assert feedback.passed, str(feedback)
    assert str(feedback).startswith("Exercise 1.1 (softmax): correct.")


@pytest.mark.parametrize("blank", [stub, returns_none])
def test_softmax_blank_is_not_answered(blank):
    feedback = exercises.check_softmax(blank)
    assert_fails_with(feedback, "Exercise 1.1 not answered yet", "write softmax in the cell above")


def softmax_no_shift(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_whole_array(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum()


def softmax_global_max(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=0, keepdims=True)


def softmax_in_place(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax_typo(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdim=True)


def softmax_min_shift(Z):
    E = np.exp(Z - Z.min(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_mean_shift(Z):
    E = np.exp(Z - Z.mean(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("wrong, phrases", [
    (softmax_no_shift, ["(1000, 1001, 999)", "overflows float64", "Subtract the column's largest entry"]),
    (softmax_min_shift, ["(-800, 0, 800)", "nan", "anything but the column's LARGEST entry", "e^800 overflows"]),
    (softmax_mean_shift, ["(-800, 0, 800)", "nan", "its mean", "subtract each column's max"]),
    (lambda Z: solutions.softmax(Z).astype(np.float32), ["is float32: keep float64"]),
    (lambda Z: solutions.softmax(Z).tolist(), ["is a Python list of 10 items, not a NumPy array"]),
    (lambda Z: (solutions.softmax(Z), Z), ["is a Python tuple of 2 items", "return the array alone"]),
    (lambda Z: solutions.softmax(Z).T, ["has shape (8, 10)", "the transpose's shape"]),
    (lambda Z: print(solutions.softmax(Z)), ["your softmax prints '[[", "but returns None"]),
    (exits, ["called exit() or sys.exit() (in exits, at the line", "return ...` instead"]),
    (softmax_rows, ["each ROW of your result sums to 1", "axis 0"]),
    (softmax_whole_array, ["your whole array sums to 1"]),
    (softmax_global_max, ["WHOLE array", "each column's own max"]),
    (softmax_in_place, ["your softmax changed its input: 80 of the 80 entries"]),
    (softmax_typo, ["raised TypeError", "keepdim"]),
], ids=["no_shift", "min_shift", "mean_shift", "float32", "list", "tuple", "transposed", "prints", "exits",
        "rows", "whole_array", "global_max", "in_place", "typo"])
def test_softmax_wrong_answers_get_their_message(wrong, phrases):
    assert_fails_with(exercises.check_softmax(wrong), "Exercise 1.1 (softmax): not right yet.", *phrases)


def softmax_row_max(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def test_softmax_shifted_by_each_rows_max_is_told_the_axis():
    assert_fails_with(exercises.check_softmax(softmax_row_max), "you subtract each ROW's max (axis=1)",
                      "a max over axis 0 (keepdims=True)")


def softmax_with_an_axis(Z, axis):
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def test_a_function_with_the_wrong_arguments_is_shown_the_signature_not_nnlibs_line():
    feedback = exercises.check_softmax(softmax_with_an_axis)
    assert_fails_with(feedback, "your softmax takes the wrong arguments", "`softmax_with_an_axis(Z, axis)`",
                      "the exercise calls it as `softmax(Z)`", "`def softmax(Z):`")
    assert "getvalue" not in str(feedback) and "quiet" not in str(feedback), str(feedback)


def test_a_backward_with_the_wrong_arguments_is_shown_the_signature():
    def backward_propagation(X, cache):
        return solutions.backward_propagation(X, None, cache)
    assert_fails_with(exercises.check_backward_propagation(backward_propagation, forward_propagation),
                      "takes the wrong arguments", "`backward_propagation(X, Y, cache)`")


# ---- 1.2 compute_cost -----------------------------------------------------------------------

def test_compute_cost_solution_passes():
    feedback = exercises.check_compute_cost(solutions.compute_cost)
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("blank", [stub, returns_none])
def test_compute_cost_blank_is_not_answered(blank):
    assert_fails_with(exercises.check_compute_cost(blank), "Exercise 1.2 not answered yet",
                      "write compute_cost in the cell above")


@pytest.mark.parametrize("wrong, phrases", [
    (lambda AL, Y: -np.sum(Y * np.log(AL)), ["m = 8 times too large", "the 1/m is missing"]),
    (lambda AL, Y: -np.sum(Y * np.log(AL)) / Y.shape[0], ["you divided by 10 = Y.shape[0]", "Y.shape[1] = 8"]),
    (lambda AL, Y: -np.mean(Y * np.log(AL)), ["a tenth of", "divides by 10 x 8"]),
    (lambda AL, Y: np.sum(Y * np.log(AL)) / Y.shape[1], ["negative", "minus sign"]),
    (lambda AL, Y: -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / Y.shape[1], ["(1 - Y) log(1 - AL)",
                                                                                      "binary cross-entropy"]),
    (lambda AL, Y: -np.sum(np.log(AL)) / Y.shape[1], ["over all 10 classes", "Multiply by Y"]),
    (lambda AL, Y: -np.sum(Y * np.log(AL), axis=0), ["shape (8,): one loss per example"]),
    (lambda AL, Y: -np.sum(Y * np.log(AL), axis=0) / Y.shape[1], ["shape (8,): one loss per example, each divided "
                                                                  "by m. Sum them too"]),
    (lambda AL, Y: -np.sum(Y * np.log10(AL)) / Y.shape[1], ["np.log10"]),
], ids=["no_1/m", "divided_by_classes", "mean_over_all", "no_minus", "binary_ce", "all_classes",
        "per_example", "per_example_over_m", "log10"])
def test_compute_cost_wrong_answers_get_their_message(wrong, phrases):
    wrong.__name__ = "compute_cost"
    assert_fails_with(exercises.check_compute_cost(wrong), "Exercise 1.2 (compute_cost): not right yet.",
                      *phrases)


@pytest.mark.parametrize("wrong, phrases", [
    (lambda AL, Y: -np.sum(Y * np.log(AL), keepdims=True) / Y.shape[1],
     ["a NumPy array of shape (1, 1), not a number", "float(cost)", "Its one entry is the right value"]),
    (lambda AL, Y: np.array([-np.sum(Y * np.log(AL)) / Y.shape[1]]), ["a NumPy array of shape (1,), not a number"]),
    (lambda AL, Y: [-np.sum(Y * np.log(AL)) / Y.shape[1]], ["returned a list", "not a list holding it"]),
    (lambda AL, Y: int(-np.sum(Y * np.log(AL)) / Y.shape[1]), ["the whole number 3 (int)", "Return the float"]),
    (lambda AL, Y: round(float(-np.sum(Y * np.log(AL)) / Y.shape[1]), 4), ["3.0067: the right cost",
                                                                           "rounded to 4 decimals"]),
    (lambda AL, Y: -(1 / Y.shape[1]) * np.dot(np.log(AL).T, Y), ["shape (8, 8)", "only its diagonal"]),
    (lambda AL, Y: print(-np.sum(Y * np.log(AL)) / Y.shape[1]), ["prints '3.00671", "but returns None"]),
], ids=["array_1x1", "array_1", "list", "int", "rounded", "matrix_product", "prints"])
def test_compute_cost_that_is_no_plain_number_is_told_what_it_is(wrong, phrases):
    assert_fails_with(exercises.check_compute_cost(wrong), "Exercise 1.2 (compute_cost): not right yet.", *phrases)


def test_compute_cost_as_an_array_of_shape_empty_tuple_is_one_number():
    feedback = exercises.check_compute_cost(lambda AL, Y: np.array(-np.sum(Y * np.log(AL)) / Y.shape[1]))
    assert feedback.passed and "a NumPy array of shape ()" in str(feedback), str(feedback)
    assert "a float" in str(exercises.check_compute_cost(solutions.compute_cost))


@pytest.mark.parametrize("eps", [1e-6, 1e-7, 1e-8, 1e-9])
def test_compute_cost_with_a_guard_in_the_log_names_it_with_digits_that_differ(eps):
    feedback = exercises.check_compute_cost(lambda AL, Y: float(-np.sum(Y * np.log(AL + eps)) / Y.shape[1]))
    text = str(feedback)
    assert_fails_with(feedback, f"log(AL + {eps:g})", "instead of", "leave the guard out")
    got, want = re.search(r"your cost is (\S+) instead of (\S+),", text).groups()
    assert got != want  # enough digits to see the difference


def test_compute_cost_guard_1e_8_quotes_the_numbers_it_rests_on():
    # 3.0067138468 against 3.0067142617: 8 digits tell them apart, far from any rounding boundary
    feedback = exercises.check_compute_cost(lambda AL, Y: float(-np.sum(Y * np.log(AL + 1e-8)) / Y.shape[1]))
    assert_fails_with(feedback, "your cost is 3.0067138 instead of 3.0067143", "4.1e-07 less", "1e-08",
                      "by 3.6e-07 (relative), more than a gradient check allows")


def test_compute_cost_that_differs_in_another_way_prints_enough_digits():
    feedback = exercises.check_compute_cost(lambda AL, Y: float(-np.sum(Y * np.log(AL)) / Y.shape[1]) * (1 + 3e-9))
    got, want = re.search(r"your cost is ([\d.]+); the averaged cross-entropy of these AL and Y is ([\d.]+)\b",
                          str(feedback)).groups()
    assert not feedback.passed and got != want, str(feedback)


def cost_floor_division(AL, Y):
    m = Y.shape[1]
    return float(-1 // m * np.sum(Y * np.log(AL)))


def cost_floor_division_to_zero(AL, Y):
    m = Y.shape[1]
    return float(1 // m * -np.sum(Y * np.log(AL)))


def cost_every_pair(AL, Y):
    return float(-np.sum(np.dot(Y.T, np.log(AL))) / Y.shape[1])


@pytest.mark.parametrize("wrong, phrases", [
    (cost_floor_division, ["m = 8 times too large", "the 1/m became 1", "`//`, floor division", "-1 // m is -1"]),
    (cost_floor_division_to_zero, ["exactly 0", "floor division", "1 // m is 0"]),
    (cost_every_pair, ["the sum of the whole (8, 8) matrix product of Y^T and log AL", "only its diagonal",
                       "Y * np.log(AL)"]),
], ids=["minus_1_floordiv_m", "1_floordiv_m", "dot_summed"])
def test_compute_cost_slips_are_named(wrong, phrases):
    assert_fails_with(exercises.check_compute_cost(wrong), *phrases)


def test_compute_cost_that_is_only_missing_its_1_over_m_is_not_told_about_floor_division():
    feedback = exercises.check_compute_cost(lambda AL, Y: -np.sum(Y * np.log(AL)))
    assert "floor division" not in str(feedback) and "the 1/m is missing" in str(feedback), str(feedback)


# ---- 2.1 relu_deriv -------------------------------------------------------------------------

def test_relu_deriv_solution_passes():
    feedback = exercises.check_relu_deriv(solutions.relu_deriv)
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("blank", [stub, returns_none])
def test_relu_deriv_blank_is_not_answered(blank):
    assert_fails_with(exercises.check_relu_deriv(blank), "Exercise 2.1 not answered yet")


def relu_deriv_in_place(Z):
    Z[Z <= 0] = 0
    Z[Z > 0] = 1
    return Z


def relu_deriv_alias(Z):
    dZ = Z
    dZ[dZ > 0] = 1
    dZ[dZ <= 0] = 0
    return dZ


@pytest.mark.parametrize("wrong, phrases", [
    (relu_deriv_in_place, ["your relu_deriv changed its input", "157 of the 160 entries of Z became 0/1",
                           "it returned that very array"]),
    (relu_deriv_alias, ["changed its input", "`D = Z` is the same array under a second name"]),
    (lambda Z: np.maximum(0, Z), ["ReLU(Z) itself, not its derivative"]),
    (lambda Z: (Z >= 0).astype(float), ["at z = 0 you return 1"]),
    (lambda Z: (Z <= 0).astype(float), ["swapped"]),
    (lambda Z: np.heaviside(Z, 0.5), ["at z = 0 you return 0.5", "everywhere else you are right"]),
    (lambda Z: (Z > 0).astype(float).tolist(), ["Python list"]),
], ids=["in_place", "alias", "relu_itself", "ge_zero", "swapped", "half_at_zero", "list"])
def test_relu_deriv_wrong_answers_get_their_message(wrong, phrases):
    assert_fails_with(exercises.check_relu_deriv(wrong), "Exercise 2.1 (relu_deriv): not right yet.", *phrases)


def relu_deriv_view(Z):
    D = Z[:]
    D[D <= 0] = 0
    D[D > 0] = 1
    return D


def relu_deriv_by_division(Z):
    return np.maximum(0, Z) / Z


def test_relu_deriv_on_a_slice_is_told_a_slice_is_a_view():
    assert_fails_with(exercises.check_relu_deriv(relu_deriv_view), "changed its input", "it returned a view of it",
                      "`D = Z[:]` is a view that shares Z's memory")


def test_relu_deriv_nan_at_zero_is_told_0_over_0_not_z_greater_or_equal():
    feedback = exercises.check_relu_deriv(relu_deriv_by_division)
    assert_fails_with(feedback, "at z = 0 you return nan", "0/0", "compare Z with 0 instead of dividing")
    assert "z >= 0" not in str(feedback)


@pytest.mark.parametrize("mask", [lambda Z: Z > 0, lambda Z: np.int64(Z > 0), lambda Z: (Z > 0).astype(np.float32)],
                         ids=["bool", "int64", "float32"])
def test_relu_deriv_mask_in_any_exact_dtype_passes(mask):
    assert exercises.check_relu_deriv(mask).passed


# ---- 2.2 backward_propagation (checked by the doctor) ---------------------------------------

def forward_propagation(X, Y, parameters):
    """The course-style forward pass notebook 2 gives the learner (784 -> 10 -> 10)."""
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = nnlib.model.softmax(Z2)
    return nnlib.cost(A2, Y), (Z1, A1, W1, b1, Z2, A2, W2, b2)


def learner_backward(one_over_m_in_dZ2=False, one_over_m_in_dW=True, sign=1.0, in_place_on=None,
                     nnlib_order=False, relu_mask=True):
    """A course-style backward_propagation with one learner's mistake switched on."""
    def backward_propagation(X, Y, cache):
        m = X.shape[1]
        (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
        scale = 1.0 / m if one_over_m_in_dW else 1.0
        dZ2 = sign * (A2 - Y) / (m if one_over_m_in_dZ2 else 1.0)
        if not nnlib_order:  # the course's order: dW2 reads A1 before the derivative is taken
            dW2 = scale * np.dot(dZ2, A1.T)
        dA1 = np.dot(W2.T, dZ2)
        target = {"A1": A1, "Z1": Z1}.get(in_place_on)
        derivative = relu_deriv_in_place(target) if target is not None else solutions.relu_deriv(Z1)
        dZ1 = dA1 * derivative if relu_mask else dA1
        if nnlib_order:
            dW2 = scale * np.dot(dZ2, A1.T)
        db2 = scale * np.sum(dZ2, axis=1, keepdims=True)
        dW1 = scale * np.dot(dZ1, X.T)
        db1 = scale * np.sum(dZ1, axis=1, keepdims=True)
        return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return backward_propagation


def test_backward_propagation_solution_passes_with_every_entry_checked():
    feedback = exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation)
    assert feedback.passed, str(feedback)
    assert "the cache is unchanged" in str(feedback)


def test_backward_propagation_with_the_1_over_m_in_dZ2_only_passes_too():
    feedback = exercises.check_backward_propagation(
        learner_backward(one_over_m_in_dZ2=True, one_over_m_in_dW=False), forward_propagation, method="sampled")
    assert feedback.passed, str(feedback)


def test_backward_propagation_blank_is_not_answered():
    assert_fails_with(exercises.check_backward_propagation(stub, forward_propagation),
                      "Exercise 2.2 not answered yet")


def test_backward_propagation_calling_an_unanswered_relu_deriv_says_so():
    def backward_propagation(X, Y, cache):
        return {"dZ1": stub(cache[0])}
    assert_fails_with(exercises.check_backward_propagation(backward_propagation, forward_propagation),
                      "calls stub, which is not answered yet")


@pytest.mark.parametrize("mistake, phrases", [
    (dict(one_over_m_in_dZ2=True), ["1/m = 1/16 of the true one: the 1/m is applied twice"]),
    (dict(one_over_m_in_dW=False), ["m = 16 times too large: the 1/m of the averaged cost is missing"]),
    (dict(sign=-1.0), ["wrong sign", "not Y - A2"]),
    (dict(in_place_on="A1"), ["entries of A1 became 0/1", "The check passes all the same"]),
    (dict(in_place_on="A1", nnlib_order=True), ["entries of A1 became 0/1", "dW2 fails", "while db2, made from "
                                                "the same dZ2, is right", "damaged in the cache before dW2 read it"]),
    (dict(in_place_on="Z1"), ["160 of the 160 entries of Z1 became 0/1", "The check passes all the same"]),
    (dict(relu_mask=False), ["dW1 and db1 both fail, by different amounts", "your dZ1 is wrong",
                             "non-zero at 102 of the 102 entries where Z1 <= 0"]),
], ids=["1/m_twice", "1/m_missing", "sign_flipped", "in_place_A1_course_order", "in_place_A1_nnlib_order",
        "in_place_Z1", "no_relu_mask"])
def test_backward_propagation_wrong_answers_get_the_doctors_diagnosis(mistake, phrases):
    feedback = exercises.check_backward_propagation(learner_backward(**mistake), forward_propagation,
                                                    method="sampled")
    assert_fails_with(feedback, "Exercise 2.2 (backward_propagation): not right yet.", *phrases)
    assert "The doctor's report (nnlib.check)" in str(feedback)


def scaled(factors, drop=()):
    """The reference backward with some gradients multiplied by a factor, and some keys left out."""
    def backward_propagation(X, Y, cache):
        grads = solutions.backward_propagation(X, Y, cache)
        grads = {k: v * factors.get(k, 1.0) for k, v in grads.items() if k not in drop}
        return grads
    return backward_propagation


@pytest.mark.parametrize("factors, drop, phrases, absent", [
    ({"db1": 16.0}, (), ["db1 fails (ratio 16: m = 16 times the true one", "while dW1, made from the same dZ1, "
                         "is right", "your dZ1 equals", "the line that makes db1"], ["dW1 fails", "dW1 and db1"]),
    ({"dW1": 2.0}, (), ["dW1 fails (ratio 2: 2 times the true one)", "while db1, made from the same dZ1, is right",
                        "the line that makes dW1 = (1/m) dZ1 X^T"], ["db1 fails", "dW1 and db1"]),
    ({"dW1": 2.0, "db1": 2.0}, (), ["dW1 and db1 are both 2 times the true ones", "your dZ1 equals",
                                    "on the lines that make dW1 and db1"], ["dW2", "db2"]),
    ({"dW1": 2.0, "db1": 2.0}, ("dZ1",), ["dW1 and db1 are both 2 times the true ones", "most likely in dZ1"], []),
    ({"dW1": 2.0, "db1": 3.0}, (), ["dW1 and db1 both fail, by different amounts (ratios 2 and 3)",
                                    "your dZ1 equals"], []),
    ({"db2": 16.0}, (), ["db2 fails (ratio 16", "while dW2, made from the same dZ2, is right",
                         "your dZ2 equals A2 - Y"], ["db1", "dW1"]),
    ({"dW2": 1 / 16, "db2": 1 / 16}, (), ["dW2 and db2 are both 1/m = 1/16 of the true ones: the 1/m is applied "
                                         "twice there"], ["dW1", "db1"]),
], ids=["db1_only", "dW1_only", "layer1_same_factor", "layer1_same_factor_no_dZ1", "layer1_two_factors",
        "db2_only", "layer2_1/m_twice"])
def test_backward_propagation_names_exactly_the_gradients_that_fail(factors, drop, phrases, absent):
    feedback = exercises.check_backward_propagation(scaled(factors, drop), forward_propagation, method="sampled")
    assert_fails_with(feedback, *phrases)
    own = str(feedback).split("The doctor's report")[0]  # the feedback's own lines, not the doctor's
    for phrase in absent + ["step from dZ2 to dZ1"]:
        assert phrase not in own, f"{phrase!r} in:\n{own}"


@pytest.mark.parametrize("wrong, phrases", [
    (lambda g: {**g, "db1": g["db1"] * np.nan}, ["NaN or infinity: db1 in 10 of its 10 entries",
                                                 "(dW1, dW2, db2 are finite)"]),
    (lambda g: {k: v.astype(np.float32) for k, v in g.items()}, ["dW1 is float32: keep float64"]),
    (lambda g: {k: v.tolist() for k, v in g.items()}, ["dW1 is a Python list"]),
    (lambda g: {k: v.astype(int) for k, v in g.items()}, ["dW1 holds whole numbers (int64)", "Keep float64"]),
    (lambda g: {**g, "db1": None}, ["db1 is None"]),
    (lambda g: {**g, "db1": g["db1"].ravel()}, ["db1 has shape (10,); it must have shape (10, 1)"]),
    (lambda g: {**g, "db2": np.sum(g["db2"])}, ["db2 has shape ()", "a sum over both axes"]),
    (lambda g: {k[1:]: v for k, v in g.items() if k[1] in "Wb"}, ["no 'dW1', 'db1', 'dW2', 'db2'",
                                                                   "Name each gradient 'd' + its parameter's name"]),
    (lambda g: (g["dW1"], g["db1"], g["dW2"], g["db2"]), ["returned a tuple; return a dict"]),
    (lambda g: print(g), ["prints", "but returns None"]),
    (exits, ["called exit() or sys.exit() (in exits"]),
], ids=["nan_in_db1", "float32", "lists", "ints", "None", "no_keepdims", "db_summed_over_both_axes",
        "keys_like_params", "tuple", "prints",
        "exits"])
def test_backward_propagation_that_returns_no_proper_gradients_is_told_what_they_are(wrong, phrases):
    def backward_propagation(X, Y, cache):
        return wrong(solutions.backward_propagation(X, Y, cache))
    assert_fails_with(exercises.check_backward_propagation(backward_propagation, forward_propagation),
                      "Exercise 2.2 (backward_propagation): not right yet.", *phrases)


def test_backward_propagation_with_a_changed_forward_says_to_rerun_it():
    def forward_without_bias(X, Y, parameters):
        cost, cache = forward_propagation(X, Y, {**parameters, "b1": parameters["b1"] + 1.0})
        return cost, cache
    assert_fails_with(exercises.check_backward_propagation(solutions.backward_propagation, forward_without_bias),
                      "re-run the cell that defines it")


def one_over_m_in_dZ2(slip):
    """A backward with the 1/m in dZ2 (which the exercise allows) and one slip after it."""
    def backward_propagation(X, Y, cache):
        (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
        m = X.shape[1]
        dZ2 = (A2 - Y) / m
        dW2 = A1 @ dZ2.T if slip == "transposed_dW2" else dZ2 @ A1.T * (2.0 if slip == "doubled_dW2" else 1.0)
        db2 = dZ2.sum(axis=1, keepdims=True)
        dA1 = W2.T @ dZ2
        dZ1 = dA1 * (Z1 > 0)
        dW1 = dZ1 @ X.T
        db1 = dZ1.sum(axis=1, keepdims=True) / (m if slip == "db1_over_m" else 1.0)
        return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return backward_propagation


@pytest.mark.parametrize("slip, phrases", [
    ("transposed_dW2", ["transpose of the right one", "dW2 = dZ2 A1^T, with no 1/m: your dZ2 already holds it"]),
    ("db1_over_m", ["db1 fails (ratio 0.0625", "the line that makes db1 = the sum of dZ1 over the examples",
                    "with no 1/m: your dZ2 already holds it"]),
    ("doubled_dW2", ["dW2 fails (ratio 2", "the line that makes dW2 = dZ2 A1^T, with no 1/m"]),
])
def test_backward_with_the_1_over_m_in_dZ2_is_shown_the_formula_without_a_second_1_over_m(slip, phrases):
    feedback = exercises.check_backward_propagation(one_over_m_in_dZ2(slip), forward_propagation)  # every entry:
    # the doctor tells a transposed square dW2 only from all of it
    assert_fails_with(feedback, *phrases)
    own = str(feedback).split("The doctor's report")[0]
    assert "(1/m)" not in own, own


def test_backward_in_the_courses_placement_is_shown_the_courses_formula():
    feedback = exercises.check_backward_propagation(scaled({"db1": 1 / 16}), forward_propagation, method="sampled")
    assert_fails_with(feedback, "the line that makes db1 = (1/m) times the sum of dZ1 over the examples")


def test_backward_with_lowercase_keys_passes_and_says_how_it_read_them():
    def backward_propagation(X, Y, cache):
        return {k.lower(): v for k, v in solutions.backward_propagation(X, Y, cache).items()}
    feedback = exercises.check_backward_propagation(backward_propagation, forward_propagation, method="sampled")
    assert feedback.passed, str(feedback)
    assert "your keys dw1, dw2, dz2, da1, dz1 are read as dW1, dW2, dZ2, dA1, dZ1" in str(feedback)


def backward_m_from(axis_of):
    """A course-style backward whose m is taken from the wrong shape: Y's or X's rows."""
    def backward_propagation(X, Y, cache):
        (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
        m = {"Y": Y, "X": X}[axis_of].shape[0]  # 10 classes or 784 pixels; the examples are the 16 columns
        dZ2 = A2 - Y
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        return {"dZ2": dZ2, "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m, "dA1": W2.T @ dZ2,
                "dZ1": dZ1, "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}
    return backward_propagation


def test_backward_that_takes_m_from_the_classes_is_told_m_over_n_classes():
    feedback = exercises.check_backward_propagation(backward_m_from("Y"), forward_propagation, method="sampled")
    assert_fails_with(feedback, "1.6 = 16/10 times the true one", "the number of classes (Y.shape[0])",
                      "X.shape[1] = 16")


def test_backward_that_takes_m_from_the_pixels_is_told_m_over_n_x():
    feedback = exercises.check_backward_propagation(backward_m_from("X"), forward_propagation, method="sampled")
    assert_fails_with(feedback, "0.0204082 = 16/784 times the true one", "the number of input features (X.shape[0])",
                      "X.shape[1] = 16")


def test_backward_that_returns_a_wrong_dZ1_is_not_correct_though_its_gradients_are():
    def backward_propagation(X, Y, cache):
        grads = solutions.backward_propagation(X, Y, cache)
        return {**grads, "dZ1": grads["dA1"]}  # the mask left out of the dZ1 it returns
    feedback = exercises.check_backward_propagation(backward_propagation, forward_propagation, method="sampled")
    assert_fails_with(feedback, "every dW and db is right, but the dZ1 you return is not",
                      "non-zero at 102 of the 102 entries where Z1 <= 0",
                      "Return the dZ1 your dW and db were made from")


def test_backward_that_returns_no_intermediates_passes_with_a_note():
    def backward_propagation(X, Y, cache):
        return {k: v for k, v in solutions.backward_propagation(X, Y, cache).items() if k[1] in "Wb"}
    feedback = exercises.check_backward_propagation(backward_propagation, forward_propagation, method="sampled")
    assert feedback.passed and "dZ2, dA1, dZ1 are not in your dict, so not checked" in str(feedback), str(feedback)


@pytest.mark.parametrize("wrong, phrases, absent", [
    (lambda g: {**g, "dW1": g["dW1"].T}, ["dW1 has shape (784, 10)", "X dZ1^T its transpose"],
     "examples are the columns"),
    (lambda g: {**g, "db1": g["db1"].ravel()}, ["db1 has shape (10,)", "without keepdims=True"], None),
    (lambda g: {**g, "db2": g["dZ2"].sum(axis=0, keepdims=True) / 16}, ["db2 has shape (1, 16)",
                                                                          "a sum over axis 0"], None),
    (lambda g: {**g, "db2": g["dZ2"] / 16}, ["db2 has shape (10, 16)", "one column per example"], None),
], ids=["dW1_transposed", "db1_no_keepdims", "db2_over_axis_0", "db2_not_summed"])
def test_backward_gradients_of_the_wrong_shape_are_told_how_that_shape_comes_about(wrong, phrases, absent):
    def backward_propagation(X, Y, cache):
        return wrong(solutions.backward_propagation(X, Y, cache))
    feedback = exercises.check_backward_propagation(backward_propagation, forward_propagation)
    assert_fails_with(feedback, *phrases)
    assert absent is None or absent not in str(feedback)


@pytest.mark.parametrize("call, argument", [
    (lambda: exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation, m=0), "m"),
    (lambda: exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation, m=None), "m"),
    (lambda: exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation, m=10**6), "m"),
    (lambda: exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation, m=True), "m"),
    (lambda: exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation,
                                                  method="fast"), "method"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, keep_prob=1.0), "keep_prob"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, keep_prob=1e-9), "keep_prob"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, keep_prob=True), "keep_prob"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, keep_prob=1.5), "keep_prob"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, keep_prob=0), "keep_prob"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, m=0), "m"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, m=10**6), "m"),
    (lambda: exercises.check_dropout_forward(solutions.forward_propagation_with_dropout, m=2.5), "m"),
    (lambda: exercises.check_dropout_backward(solutions.backward_propagation_with_dropout, keep_prob=1.0),
     "keep_prob"),
    (lambda: exercises.check_dropout_backward(solutions.backward_propagation_with_dropout, method="x"), "method"),
], ids=["bp_m0", "bp_m_None", "bp_m_huge", "bp_m_True", "bp_method_fast", "fwd_keep_1", "fwd_keep_tiny",
        "fwd_keep_True", "fwd_keep_1.5", "fwd_keep_0", "fwd_m0", "fwd_m_huge", "fwd_m_2.5", "bwd_keep_1",
        "bwd_method"])
def test_an_instructors_bad_argument_is_a_one_line_value_error_naming_it(call, argument):
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert message.startswith(f"{argument} ") and "\n" not in message, message


def test_the_method_error_offers_auto_too():
    with pytest.raises(ValueError, match="'auto'"):
        exercises.check_backward_propagation(solutions.backward_propagation, forward_propagation, method="fast")


# ---- 3.1 gradient_check_n (checked by the checker doctor) -----------------------------------

def learner_checker(copy_plus="copy", reset_minus=True, central=True, two_eps=True, denominator=True,
                    print_only=False):
    """A course-style gradient_check_n with one learner's mistake switched on."""
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        parameters_values, _ = solutions.dictionary_to_vector(parameters)  # the course's (theta, keys)
        grad = course.gradients_to_vector(gradients)
        n = parameters_values.shape[0]
        gradapprox = np.zeros((n, 1))
        J, _ = forward_propagation_n(X, Y, parameters)
        thetaminus = np.copy(parameters_values)
        for i in range(n):
            thetaplus = {"copy": np.copy, "alias": lambda v: v, "view": lambda v: v[:]}[copy_plus](parameters_values)
            thetaplus[i, 0] += epsilon
            J_plus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(thetaplus))
            if not central:
                gradapprox[i, 0] = (J_plus - J) / epsilon
                continue
            if reset_minus:
                thetaminus = np.copy(parameters_values)
            thetaminus[i, 0] -= epsilon
            J_minus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(thetaminus))
            gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon if two_eps else epsilon)
        numerator = np.linalg.norm(grad - gradapprox)
        difference = numerator / (np.linalg.norm(grad) + np.linalg.norm(gradapprox)) if denominator else numerator
        print(f"difference = {difference}")
        return None if print_only else difference
    return gradient_check_n


forward_propagation_n = course.forward_propagation_n  # the learner's checker calls it by this name


def test_gradient_check_n_solution_passes():
    feedback = exercises.check_gradient_check_n(solutions.gradient_check_n)
    assert feedback.passed, str(feedback)


def test_gradient_check_n_that_only_prints_its_difference_is_told_to_return_it():
    assert_fails_with(exercises.check_gradient_check_n(learner_checker(print_only=True)),
                      "it prints the difference but returns None: end it with `return difference`")


@pytest.mark.parametrize("returned, phrase", [
    (lambda d: d < 2e-7, "it returns True, a verdict, not the difference"),
    (lambda d: f"difference = {d}", "it returns a str, 'difference = 1.1"),
    (lambda d: (d < 2e-7, d), "it returns a tuple, '(np.True_"),
    (lambda d: np.array([d, d]), "it returns a NumPy array of shape (2,); return the difference, one number"),
], ids=["bool", "str", "tuple", "two_numbers"])
def test_gradient_check_n_that_returns_something_else_than_the_difference_is_told_so(returned, phrase):
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        return returned(solutions.gradient_check_n(parameters, gradients, X, Y, epsilon))
    assert_fails_with(exercises.check_gradient_check_n(gradient_check_n), phrase)


def cs231n_checker(parameters, gradients, X, Y, epsilon=1e-7):
    """CS231n's way: nudge each entry in place and restore it; the max element-wise relative error."""
    worst = 0.0
    for key in parameters:
        x, dx = parameters[key], gradients["d" + key]
        for ix in np.ndindex(x.shape):
            old = x[ix]
            x[ix] = old + epsilon
            J_plus, _ = forward_propagation_n(X, Y, parameters)
            x[ix] = old - epsilon
            J_minus, _ = forward_propagation_n(X, Y, parameters)
            x[ix] = old
            numeric = (J_plus - J_minus) / (2 * epsilon)
            worst = max(worst, abs(dx[ix] - numeric) / max(1e-8, abs(dx[ix]) + abs(numeric)))
    return worst


def test_gradient_check_n_with_another_right_formula_is_told_it_is_not_the_exercises():
    feedback = exercises.check_gradient_check_n(cs231n_checker)
    assert_fails_with(feedback, "it tells right gradients from wrong ones, but not with the exercise's formula",
                      "CS231n's max relative error", "||grad - gradapprox|| / (||grad|| + ||gradapprox||)")
    assert "at the right points" not in str(feedback)  # where it evaluates J is right: nothing said against it


@pytest.mark.parametrize("blank", [stub, returns_none])
def test_gradient_check_n_blank_is_not_answered(blank):
    assert_fails_with(exercises.check_gradient_check_n(blank), "Exercise 3.1 not answered yet")


@pytest.mark.parametrize("mistake, phrases", [
    (dict(copy_plus="alias"), ["entries 1 and 2 are both moved by +epsilon", "np.copy"]),
    (dict(copy_plus="view"), ["entries 1 and 2 are both moved by +epsilon", "thetaplus = theta[:]"]),
    (dict(reset_minus=False), ["entries 1 and 2 are both moved by -epsilon", "never undone"]),
    (dict(central=False), ["48 times for 47 entries", "one-sided difference"]),
    (dict(two_eps=False), ["right points", "turning those values into the difference"]),
    (dict(denominator=False), ["right points", "turning those values into the difference"]),
], ids=["alias", "view_[:]", "thetaminus_not_reset", "one_sided", "divided_by_eps", "no_denominator"])
def test_gradient_check_n_wrong_answers_get_their_message(mistake, phrases):
    feedback = exercises.check_gradient_check_n(learner_checker(**mistake))
    assert_fails_with(feedback, "Exercise 3.1 (gradient_check_n): not right yet.", *phrases)

    assert "The checker doctor (nnlib.check_checker):" in str(feedback)


def test_gradient_check_n_copy_kept_before_the_loop_and_an_alias_of_theta_get_different_causes():
    minus_once = str(exercises.check_gradient_check_n(learner_checker(reset_minus=False)))
    alias = str(exercises.check_gradient_check_n(learner_checker(copy_plus="alias")))
    assert "Its thetaminus is copied once, before the loop" in minus_once and "thetaplus = theta" not in minus_once
    assert "Both its copies start from a theta that keeps the steps" in alias and "copied once" not in alias
    assert "parameters_values" not in minus_once + alias  # this series calls the vector theta


def checker_steps_back(parameters, gradients, X, Y, epsilon=1e-7):
    """Nudges theta in place and steps back by epsilon, landing on theta instead of theta - eps e_i."""
    theta, _ = solutions.dictionary_to_vector(parameters)
    grad = course.gradients_to_vector(gradients)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        theta[i, 0] += epsilon
        J_plus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(theta))
        theta[i, 0] -= epsilon
        J_minus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(theta))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def test_gradient_check_n_that_steps_back_in_place_is_told_that_cause_too():
    assert_fails_with(exercises.check_gradient_check_n(checker_steps_back),
                      "47 of the 94 evaluations of J are at theta itself", "steps back by eps",
                      "step by 2 * epsilon, or restore theta[i] first", "thetaplus = theta without np.copy")


def checker_with_a_flat_gradapprox(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = solutions.dictionary_to_vector(parameters)
    grad = course.gradients_to_vector(gradients)
    gradapprox = []
    for i in range(theta.shape[0]):
        plus, minus = np.copy(theta), np.copy(theta)
        plus[i, 0] += epsilon
        minus[i, 0] -= epsilon
        gradapprox.append((forward_propagation_n(X, Y, course.vector_to_dictionary(plus))[0]
                           - forward_propagation_n(X, Y, course.vector_to_dictionary(minus))[0]) / (2 * epsilon))
    gradapprox = np.array(gradapprox)  # (47,), against grad's (47, 1)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def test_gradient_check_n_with_a_flat_gradapprox_is_told_the_shapes():
    assert_fails_with(exercises.check_gradient_check_n(checker_with_a_flat_gradapprox), "at the right points",
                      "a column (47, 1) and the other a flat (47,) array", "broadcasts that difference to a (47, 47)",
                      ".reshape(-1, 1)")


def checker_times_epsilon(parameters, gradients, X, Y, epsilon=1e-7):
    theta, _ = solutions.dictionary_to_vector(parameters)
    grad = course.gradients_to_vector(gradients)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = np.copy(theta), np.copy(theta)
        plus[i, 0] += epsilon
        minus[i, 0] -= epsilon
        J_plus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(plus))
        J_minus, _ = forward_propagation_n(X, Y, course.vector_to_dictionary(minus))
        gradapprox[i] = (J_plus - J_minus) / 2 * epsilon
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def test_gradient_check_n_over_2_times_epsilon_gets_one_clean_cause():
    feedback = exercises.check_gradient_check_n(checker_times_epsilon)
    assert_fails_with(feedback, "at the right points", "about 1e-14 times the true one",
                      "epsilon^2 for epsilon = 1e-07", "((J_plus - J_minus) / 2) * epsilon", "Write `/ (2 * epsilon)`")
    assert "sorted key order" not in str(feedback) and "square roots" not in str(feedback), str(feedback)


def checker_in(namespace, unpack):
    """A correct course-style checker whose globals are `namespace`, using theta as `unpack` says."""
    source = f"""
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    {'theta, _' if unpack else 'theta'} = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros((theta.shape[0], 1))
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i, 0] += epsilon
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
"""
    exec(source, namespace)
    return namespace["gradient_check_n"]


def notebook_namespace(notebook):
    """What notebook 3 or 6 gives a learner's checker: np, nnlib.course's helpers, and the notebook's
    dictionary_to_vector: the cell that defines (or assigns) it, else nnlib.course's, which the setup
    cell imports."""
    space = {"np": np, "course": course, **{name: getattr(course, name) for name in (
        "dictionary_to_vector", "forward_propagation_n", "gradients_to_vector", "vector_to_dictionary")}}
    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    defining = [c.source for c in cells if c.cell_type == "code"
                and re.search(r"^(def dictionary_to_vector\(|dictionary_to_vector = )", c.source, re.M)]
    for source in defining:
        exec(source, space)
    return space


@pytest.mark.parametrize("notebook", ["03-gradient-checking.ipynb", "06-check-your-own-code.ipynb"])
def test_a_checker_written_in_notebook_3_runs_in_notebook_3_and_6(notebook):
    X, Y, parameters = course.test_case()
    gradients = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    theta, keys = notebook_namespace(notebook)["dictionary_to_vector"](parameters)  # the course's (theta, keys)
    assert theta.shape == (47, 1) and len(keys) == 47 and keys[0] == "W1" and keys[-1] == "b3"
    checker = checker_in(notebook_namespace(notebook), unpack=True)
    assert checker(parameters, gradients, X, Y) < 2e-7
    assert exercises.check_gradient_check_n(checker).passed


def test_gradient_check_n_that_takes_the_pair_for_theta_is_told_to_unpack_it():
    feedback = exercises.check_gradient_check_n(checker_in(notebook_namespace("03-gradient-checking.ipynb"),
                                                           unpack=False))
    assert_fails_with(feedback, "dictionary_to_vector returns two things, (theta, keys)",
                      "`theta, _ = dictionary_to_vector(parameters)`", "with that one change your function runs")


def test_gradient_check_n_that_unpacks_a_theta_only_helper_is_told_so():
    def theta_alone(parameters):
        return solutions.dictionary_to_vector(parameters)[0]
    space = {**notebook_namespace("03-gradient-checking.ipynb"), "dictionary_to_vector": theta_alone}
    feedback = exercises.check_gradient_check_n(checker_in(space, unpack=True))
    assert_fails_with(feedback, "returns theta alone, and your code unpacks two things from it")


def test_gradient_check_n_that_also_evaluates_j_at_theta_is_told_so_when_it_passes():
    feedback = exercises.check_gradient_check_n(learner_checker())  # J at theta once, before its loop
    assert feedback.passed and "(and 1 time at theta itself)" in str(feedback), str(feedback)
    assert "at theta itself" not in str(exercises.check_gradient_check_n(solutions.gradient_check_n))


def test_gradient_check_n_whose_cost_calls_are_partly_untraced_gets_no_claim_about_them():
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        forward_propagation_n(X, Y, parameters)  # traced; the solution's 94 calls go through its own globals
        return solutions.gradient_check_n(parameters, gradients, X, Y, epsilon)
    feedback = exercises.check_gradient_check_n(gradient_check_n)
    assert feedback.passed and "was not traced" in str(feedback), str(feedback)


# ---- 5.1 and 5.2 dropout -------------------------------------------------------------------

def learner_dropout_forward(mask="below", scale="divide", rng_source="given"):
    def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
        W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
        Z1 = np.dot(W1, X) + b1
        A1 = np.maximum(0, Z1)
        draw = rng if rng_source == "given" else np.random.default_rng(next(_calls))
        U = draw.random((A1.shape[0], A1.shape[1]))
        D1 = (U < keep_prob if mask == "below" else U > keep_prob).astype(int)
        A1 = {"divide": A1 * D1 / keep_prob, "none": A1 * D1, "multiply": A1 * D1 * keep_prob,
              "no_mask": A1}[scale]
        Z2 = np.dot(W2, A1) + b2
        A2 = solutions.softmax(Z2)
        return A2, (Z1, D1, A1, W1, b1, Z2, A2, W2, b2)
    return forward_propagation_with_dropout


_calls = iter(range(10**6))  # a different, but reproducible, seed on every call: a "fresh" generator


def test_dropout_forward_solution_passes():
    feedback = exercises.check_dropout_forward(solutions.forward_propagation_with_dropout)
    assert feedback.passed, str(feedback)


def test_dropout_forward_blank_is_not_answered():
    assert_fails_with(exercises.check_dropout_forward(stub), "Exercise 5.1 not answered yet")


@pytest.mark.parametrize("mistake, phrases", [
    (dict(mask="above"), ["your mask keeps 19% of the units", "probability of KEEPING"]),
    (dict(scale="none"), ["not divided by keep_prob"]),
    (dict(scale="multiply"), ["DIVIDES the kept units"]),
    (dict(scale="no_mask"), ["ReLU(Z1) unchanged"]),
    (dict(rng_source="own"), ["same seed) drew different masks", "from the rng you are given"]),
], ids=["mask_keeps_dropped", "no_1/keep_prob", "times_keep_prob", "mask_not_applied", "own_generator"])
def test_dropout_forward_wrong_answers_get_their_message(mistake, phrases):
    assert_fails_with(exercises.check_dropout_forward(learner_dropout_forward(**mistake)),
                      "Exercise 5.1 (forward_propagation_with_dropout): not right yet.", *phrases)


def dropout_forward_cache(order):
    def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
        A2, (Z1, D1, A1, W1, b1, Z2, _, W2, b2) = solutions.forward_propagation_with_dropout(X, parameters, keep_prob,
                                                                                             rng)
        if order == "A1_before_D1":  # with an int mask, as D1 = (U < keep_prob).astype(int) makes it
            return A2, (Z1, A1, D1.astype(int), W1, b1, Z2, A2, W2, b2)
        return A2, (Z1, D1, np.maximum(0, Z1), W1, b1, Z2, A2, W2, b2)  # A1 before dropout in the cache
    return forward_propagation_with_dropout


@pytest.mark.parametrize("order, phrases", [
    ("A1_before_D1", ["the second entry of your cache is not 0/1, but entry 3 is", "D1 second and A1 third"]),
    ("A1_before_dropout", ["A1 in your cache is ReLU(Z1) before dropout", "the A2 you return is computed from the "
                           "dropped-out A1"]),
])
def test_dropout_forward_cache_mistakes_are_named_as_the_cache(order, phrases):
    feedback = exercises.check_dropout_forward(dropout_forward_cache(order))
    assert_fails_with(feedback, *phrases)
    assert "must hold only 0s and 1s" not in str(feedback)


def test_dropout_forward_with_one_draw_per_unit_is_told_to_draw_per_example_too():
    def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
        A2, (Z1, D1, *rest) = solutions.forward_propagation_with_dropout(X, parameters, keep_prob, rng)
        return A2, (Z1, D1[:, :1], *rest)
    assert_fails_with(exercises.check_dropout_forward(forward_propagation_with_dropout),
                      "D1 in your cache has shape (10, 1)", "one draw per unit, shared by every example",
                      "rng.random(A1.shape)")


def learner_dropout_backward(mask="cache", divide=1):
    def backward_propagation_with_dropout(X, Y, cache, keep_prob):
        m = X.shape[1]
        (Z1, D1, A1, W1, b1, Z2, A2, W2, b2) = cache
        dZ2 = A2 - Y
        dW2 = 1.0 / m * np.dot(dZ2, A1.T)
        db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = np.dot(W2.T, dZ2)
        if mask == "cache":
            D = D1
        elif mask == "none":
            D = 1.0
        else:  # a new mask: the same one on every call ("seeded"), or a new one each call ("fresh")
            seed = 7 if mask == "seeded" else next(_calls)
            D = np.random.default_rng(seed).random(dA1.shape) < keep_prob
        dA1 = dA1 * D / keep_prob ** divide
        dZ1 = dA1 * solutions.relu_deriv(Z1)
        dW1 = 1.0 / m * np.dot(dZ1, X.T)
        db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
        return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return backward_propagation_with_dropout


def test_dropout_backward_solution_passes_the_frozen_mask_check():
    feedback = exercises.check_dropout_backward(solutions.backward_propagation_with_dropout)
    assert feedback.passed, str(feedback)
    assert "with the mask frozen" in str(feedback)


def test_dropout_backward_blank_is_not_answered():
    assert_fails_with(exercises.check_dropout_backward(stub), "Exercise 5.2 not answered yet")


@pytest.mark.parametrize("mistake, phrases", [
    (dict(divide=0), ["keep_prob = 0.8 times the true ones", "divide by keep_prob"]),
    (dict(divide=2), ["1/keep_prob = 1.25 times too large"]),
    (dict(mask="seeded"), ["another mask than the forward pass's", "Use the D1 from the cache"]),
    (dict(mask="fresh"), ["two calls on the same cache gave different dW1, db1", "most likely a new mask"]),
    (dict(divide=-1), ["keep_prob^2 = 0.64 times the true ones", "multiplied by keep_prob where the forward pass "
                       "divided by it"]),
    (dict(mask="none"), ["your dZ1 is non-zero at 13 of the 32 entries where D1 = 0", "multiply dA1 by the D1"]),
], ids=["no_1/keep_prob", "1/keep_prob_twice", "own_mask", "fresh_mask_each_call", "times_keep_prob", "no_mask"])
def test_dropout_backward_wrong_answers_get_their_message(mistake, phrases):
    feedback = exercises.check_dropout_backward(learner_dropout_backward(**mistake), method="sampled")
    assert_fails_with(feedback, "Exercise 5.2 (backward_propagation_with_dropout): not right yet.", *phrases)


def test_dropout_backward_that_writes_into_the_mask_is_not_said_to_write_a_derivative():
    def backward_propagation_with_dropout(X, Y, cache, keep_prob):
        grads = solutions.backward_propagation_with_dropout(X, Y, cache, keep_prob)
        cache[1][:] = 1.0  # D1 is 0/1 before and after: no sign of a derivative
        return grads
    feedback = exercises.check_dropout_backward(backward_propagation_with_dropout, method="sampled")
    assert_fails_with(feedback, "32 of the 160 entries of D1 were changed")
    assert "became 0/1" not in str(feedback)


def test_dropout_forward_that_writes_into_its_input_or_returns_float32_is_told_so():
    def writes(X, parameters, keep_prob, rng):
        parameters["W1"] *= 1.0 + 1e-3
        return solutions.forward_propagation_with_dropout(X, parameters, keep_prob, rng)

    def float32(X, parameters, keep_prob, rng):
        A2, cache = solutions.forward_propagation_with_dropout(X, parameters, keep_prob, rng)
        return A2.astype(np.float32), cache
    assert_fails_with(exercises.check_dropout_forward(writes), "changed its input W1: 7840 of its 7840 entries")
    assert_fails_with(exercises.check_dropout_forward(float32), "the A2 you return is float32: keep float64")


def test_dropout_forward_with_a_list_cache_or_a_bool_mask_passes():
    def as_list(X, parameters, keep_prob, rng):
        A2, cache = solutions.forward_propagation_with_dropout(X, parameters, keep_prob, rng)
        return A2, [cache[0], cache[1].astype(bool), *cache[2:]]
    assert exercises.check_dropout_forward(as_list).passed


# ---- the notebooks hold the exercises blank, and their feedback cells say so ----------------

def _exercise_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(c.source, nb.cells[i + 1].source) for i, c in enumerate(nb.cells)
            if "exercise" in c.metadata.get("tags", [])]


def _definitions(path):
    """The notebook's code cells that only define functions (stubs, given helpers)."""
    import ast
    nb = nbformat.read(path, as_version=4)
    def only_definitions(source):
        try:
            return all(isinstance(node, ast.FunctionDef) for node in ast.parse(source).body)
        except SyntaxError:  # an IPython magic (%pip in the Colab cell): not a definition
            return False
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip() and only_definitions(c.source)]


@pytest.mark.parametrize("notebook, names", [
    ("01-forward-propagation.ipynb", ["softmax", "compute_cost"]),
    ("02-backpropagation.ipynb", ["relu_deriv", "backward_propagation"]),
    ("03-gradient-checking.ipynb", ["gradient_check_n"]),
])
def test_committed_notebooks_hold_blank_exercises_that_the_feedback_cells_grade(notebook, names):
    path = ROOT / "notebooks" / notebook
    cells = _exercise_cells(path)
    assert [name for name in names if any(f"def {name}(" in stub_ for stub_, _ in cells)] == names
    # what the notebooks' setup cells import; then the cells that define functions (stubs, given helpers)
    space = {"np": np, "nnlib": nnlib, "exercises": exercises, "model": nnlib.model, "course": course,
             **{name: getattr(course, name) for name in ("forward_propagation_n", "gradients_to_vector",
                                                         "vector_to_dictionary")}}
    for source in _definitions(path):
        exec(source, space)
    for stub_source, feedback_source in cells:
        assert "# YOUR CODE HERE" in stub_source and "raise NotImplementedError" in stub_source
        assert feedback_source.startswith("exercises.check_")
        blank = eval(feedback_source, space)
        assert not blank.passed and "not answered yet" in str(blank), str(blank)
    for name in names:  # the reference answer, put where the learner writes theirs
        space[name] = getattr(solutions, name)
    for _, feedback_source in cells:
        answered = eval(feedback_source, space)
        assert answered.passed, str(answered)


def test_notebooks_1_to_3_give_backprop_one_cost_in_forward_passes():
    said = []
    for notebook in ("01-forward-propagation.ipynb", "02-backpropagation.ipynb", "03-gradient-checking.ipynb"):
        text = " ".join(c.source for c in nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
                        if c.cell_type == "markdown")
        said += [(notebook, how) for how in re.findall(r"(about one|one to two) forward pass", " ".join(text.split()))]
    assert len(said) >= 3 and {how for _, how in said} == {"one to two"}, said


@pytest.mark.parametrize("wrong, phrase", [
    (lambda AL, Y: str(-np.sum(Y * np.log(AL)) / Y.shape[1]), "returned a str"),
    (lambda AL, Y: np.float32(-np.sum(Y * np.log(AL)) / Y.shape[1]), "float64"),
    (exits, "called exit() or sys.exit() (in exits"),
])
def test_cost_feedback_refuses_what_is_not_a_float64_number(wrong, phrase):
    assert_fails_with(exercises.check_compute_cost(wrong), phrase)
