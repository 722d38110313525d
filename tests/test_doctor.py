"""The doctor on learner-style code (tests/learner_code.py), judged only through nnlib's public API."""

import os
import signal

import numpy as np
import pytest
from learner_code import (
    ClassNet,
    checker_alias,
    checker_one_sided,
    checker_shallow_dict,
    checker_sorted_keys,
    class_net_case,
    course_forward,
    deep,
    dropout_cost,
    make_course_backward,
)
from learners.checkers import sparse_cs231n

import nnlib
from nnlib import course


@pytest.fixture
def course_case():
    X, Y, parameters = course.test_case()
    return X, Y, parameters


def _course_check(X, Y, parameters, backward):
    return nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                       backward_propagation=backward, X=X, Y=Y)


def test_the_course_case_planted_bugs(course_case):
    X, Y, parameters = course_case
    before = deep(parameters)
    report = _course_check(X, Y, parameters, course.backward_propagation_n_planted)
    assert report.difference == pytest.approx(0.2850931567761623, abs=1e-9)
    failing = {r.name: r.ratio for r in report.per_parameter if not r.passed}
    assert list(failing) == ["b1", "W2"]  # b3's row is ~2.5e-7 from rounding alone, and passes
    assert failing["W2"] == pytest.approx(2, abs=1e-6) and failing["b1"] == pytest.approx(4, abs=1e-6)
    assert any("W2 has ratio 2.000000 (its analytic gradient is twice" in line for line in report.diagnosis)
    assert any("b1 has ratio 4" in line for line in report.diagnosis)
    assert all(np.array_equal(parameters[k], before[k]) for k in parameters) and report.params_unchanged


def test_the_course_case_fixed_passes_at_the_courses_number(course_case):
    report = _course_check(*course_case, course.backward_propagation_n)
    # The course prints 1.1890913e-07. A correct check's difference is truncation and rounding error:
    # its first digits come from eps = 1e-7, its 5th digit on from the CPU's BLAS kernel (OpenBLAS's
    # Sandybridge kernel gives 1.1890418e-07), so only 3 digits are compared.
    assert report.passed and report.difference == pytest.approx(1.1890913e-07, rel=1e-3)
    # rows above the threshold by rounding alone (which ones depends on the kernel) are marked, never FAIL
    assert all(r.passed and (r.difference < 2e-7 or r.note == "rounding") for r in report.per_parameter)
    assert any(r.note == "rounding" for r in report.per_parameter)
    assert report.cache_intact


def test_courses_correct_checker_is_judged_right(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    verdict = nnlib.check_checker(lambda p, g: course.gradient_check_n(p, g, X, Y), parameters,
                                  cost=lambda p: course.forward_propagation_n(X, Y, p)[0], gradients=grads, m=3)
    assert verdict.correct and verdict.on_exact < 2e-7 and not verdict.wrote_into_parameters
    assert verdict.answers["doubled"] == pytest.approx(1 / 3, abs=1e-6)
    assert verdict.answers["sign_flipped"] == pytest.approx(1, abs=1e-6)


def _checker_verdict(course_case, checker):
    X, Y, parameters = course_case
    before = deep(parameters)
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    verdict = nnlib.check_checker(lambda p, g: checker(p, g, X, Y), parameters,
                                  cost=lambda p: course.forward_propagation_n(X, Y, p)[0], gradients=grads, m=3)
    assert all(np.array_equal(parameters[k], before[k]) for k in parameters)
    return verdict


def test_a_shallow_copy_checker_says_one_third_and_writes_into_the_parameters(course_case):
    verdict = _checker_verdict(course_case, checker_shallow_dict)
    assert not verdict.correct and verdict.wrote_into_parameters
    assert verdict.on_exact == pytest.approx(1 / 3, abs=1e-6) and verdict.numeric_ratio == pytest.approx(0.5)
    assert any(line.startswith("certain: its answers fit, to many digits, (J(theta+eps) - J(theta)) / (2 eps)")
               and "half the true gradient" in line for line in verdict.diagnosis)
    # a shallow copy and an in-place step back by eps give the same numbers: neither is "certain"
    assert any(line.startswith("likely:") and "shallow copy" in line and "in place" in line
               for line in verdict.diagnosis)


def test_an_alias_checker_says_one_third_without_touching_the_parameters(course_case):
    verdict = _checker_verdict(course_case, checker_alias)
    assert not verdict.correct and not verdict.wrote_into_parameters
    assert verdict.on_exact == pytest.approx(1 / 3, abs=1e-6)
    assert any("alias" in line for line in verdict.diagnosis)


def test_a_sorted_key_checker_is_caught_comparing_wrong_partners(course_case):
    verdict = _checker_verdict(course_case, checker_sorted_keys)
    assert not verdict.correct and verdict.numeric_ratio is None
    assert any("sorted key order" in line for line in verdict.diagnosis)


def test_a_one_sided_checker_is_caught_even_below_the_threshold(course_case):
    verdict = _checker_verdict(course_case, checker_one_sided)
    assert verdict.on_exact < 2e-7  # on this network the one-sided error (1.7e-7) hides under 2e-7
    assert not verdict.correct and verdict.one_sided
    assert any(line.startswith("certain") and "one-sided" in line for line in verdict.diagnosis)


@pytest.fixture(scope="module")
def digits():
    X, Y, _ = nnlib.load_mnist(np.random.default_rng(0))["train"]
    return X[:, :8], Y[:, :8], nnlib.init_params(np.random.default_rng(3))


def test_course_style_code_with_the_1_over_m_twice(digits):
    X, Y, parameters = digits
    report = nnlib.check(parameters, forward_propagation=course_forward,
                         backward_propagation=make_course_backward(inv_m_twice=True), X=X, Y=Y,
                         method="sampled")
    assert report.difference == pytest.approx(7 / 9, abs=1e-7) and report.ratio == pytest.approx(1 / 8)
    assert any("the 1/m is applied twice" in line for line in report.diagnosis)


def test_course_style_code_right_is_not_called_a_bug(digits):
    X, Y, parameters = digits
    report = nnlib.check(parameters, forward_propagation=course_forward,
                         backward_propagation=make_course_backward(), X=X, Y=Y)
    assert report.passed and report.cache_intact


def test_a_sign_flip_gives_one_and_is_named(digits):
    X, Y, parameters = digits
    report = nnlib.check(parameters, forward_propagation=course_forward,
                         backward_propagation=make_course_backward(sign_flip=True), X=X, Y=Y, method="sampled")
    assert report.difference == pytest.approx(1, abs=1e-7) and report.ratio == pytest.approx(-1)
    assert any("sign is flipped" in line for line in report.diagnosis)


def test_inplace_derivative_in_the_course_order_passes_and_the_cache_damage_is_reported(digits):
    X, Y, parameters = digits
    report = nnlib.check(parameters, forward_propagation=course_forward,
                         backward_propagation=make_course_backward(inplace_deriv_on_A1=True), X=X, Y=Y)
    assert report.passed  # dW2 read A1 before the derivative overwrote it
    assert report.changed_cache_keys == ["cache[1]"]
    assert any("changed the cache" in line and "passes anyway" in line for line in report.diagnosis)


def test_a_cost_with_fresh_dropout_masks_is_caught(digits):
    X, Y, parameters = digits
    rng = np.random.default_rng(0)
    grads = make_course_backward()(X, Y, course_forward(X, Y, parameters)[1])
    report = nnlib.check(parameters, cost=lambda p: dropout_cost(X, Y, p, rng), gradients=grads,
                         method="sampled", k=3)
    assert not report.passed and not report.cost_repeatable
    assert "two different values for the same parameters" in report.diagnosis[0]


def test_the_seed_learner_class_network_and_printing_checker():
    X, Y, params = class_net_case(m=4)
    before = deep(params)
    net = ClassNet()

    def forward_propagation(X_, Y_, p):
        cache = net.forward(X_, p)
        return net.cross_entropy(cache["A2"], Y_), cache

    triage = nnlib.triangulate(params, forward_propagation=forward_propagation,
                               backward_propagation=lambda X_, Y_, cache: net.backward(X_, Y_, cache, params),
                               X=X, Y=Y, checker=lambda p, g: net.gradient_check(p, g, X, Y))
    assert triage.verdict == "bug in the checker"
    assert triage.backprop.passed and triage.backprop.difference < 1e-7
    assert [r.name for r in triage.backprop.per_parameter] == ["W1", "B1", "W2", "B2"]
    assert triage.checker.on_exact == pytest.approx(1 / 3, abs=1e-6)  # read back from what it printed
    assert triage.on_your_gradients == pytest.approx(1 / 3, abs=1e-6)
    assert triage.checker.wrote_into_parameters
    assert triage.backprop.changed_cache_keys == ["Z1"]
    assert all(np.array_equal(params[k], before[k]) for k in params)
    text = str(triage)
    assert "shallow copy" in text and "Z1" in text


@pytest.mark.parametrize("grads, message", [
    ({"dW1": 0, "db1": 0}, r"no gradient for parameter\(s\) \['W2', 'b2'\]"),
    ({"dW1": np.zeros((784, 10)), "db1": 0, "dW2": 0, "db2": 0}, "transposed"),
])
def test_gradient_key_and_shape_errors_name_both_sides(digits, grads, message):
    X, Y, parameters = digits
    with pytest.raises(ValueError, match=message):
        nnlib.check(parameters, cost=lambda p: 0.0, gradients=grads)


def test_keys_are_matched_as_learners_name_them():
    from nnlib.doctor import match_gradients
    p = {"W1": np.zeros((2, 3)), "B1": np.zeros((2, 1))}
    grads = {"dw1": np.zeros((2, 3)), "db1": np.zeros((2, 1)), "dz1": 0}
    assert match_gradients(p, grads) == {"W1": "dw1", "B1": "db1"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(cost=None, gradients=None), "needs cost="),
    (dict(forward_propagation=course_forward), "needs forward_propagation="),
    (dict(cost=lambda p: np.zeros(3), gradients={}), "one real number"),
    (dict(cost=lambda p: None, gradients={}), "forgotten return"),
    (dict(cost=lambda p: np.float32(1.0), gradients={}), "float64"),
    (dict(cost=lambda p: 1.0, gradients={}, threshold=1.5), "threshold"),
    (dict(cost=lambda p: 1.0, gradients={}, threshold=True), "threshold"),
    (dict(cost=lambda p: 1.0, gradients={}, m=True), "m must be"),
])
def test_unusable_calls_get_one_clear_error(digits, kwargs, message):
    X, Y, parameters = digits
    if kwargs.get("gradients") == {}:
        kwargs["gradients"] = {"d" + k: np.zeros_like(v) for k, v in parameters.items()}
    with pytest.raises(ValueError, match=message):
        nnlib.check(parameters, **kwargs)


def test_nan_in_a_learners_cost_never_passes(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    report = nnlib.check(parameters, cost=lambda p: float("nan"), gradients=grads)
    assert not report.passed and "NaN" in report.diagnosis[0]


def test_float32_parameters_are_refused(course_case):
    X, Y, parameters = course_case
    p32 = {k: v.astype(np.float32) for k, v in parameters.items()}
    with pytest.raises(ValueError, match="float64"):
        nnlib.check(p32, forward_propagation=course.forward_propagation_n,
                    backward_propagation=course.backward_propagation_n, X=X, Y=Y)


def test_a_checker_without_the_denominator_is_named(course_case):
    def no_denominator(p, g, X, Y):
        d = course.gradient_check_n(p, g, X, Y)
        grad = course.gradients_to_vector(g)
        return d * 0 + np.linalg.norm(grad - _numeric(p, X, Y))  # ||grad - gradapprox|| alone

    verdict = _checker_verdict(course_case, no_denominator)
    assert not verdict.correct and any("without dividing" in line for line in verdict.diagnosis)


def test_learner_code_that_writes_into_the_parameters_never_reaches_the_callers_arrays(course_case):
    X, Y, parameters = course_case
    before = deep(parameters)

    def backward_that_steps(X_, Y_, cache):  # a "backward" that also takes a descent step on W1
        grads = course.backward_propagation_n(X_, Y_, cache)
        W1 = cache[2]  # the parameter array itself, as the course's cache holds it
        W1 -= 0.1 * grads["dW1"]
        return grads

    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                         backward_propagation=backward_that_steps, X=X, Y=Y)
    assert all(np.array_equal(parameters[k], before[k]) for k in parameters)
    assert not report.params_unchanged and "CHANGED" in " ".join(report.diagnosis)
    X_before = X.copy()
    nnlib.check(parameters, forward_propagation=lambda X_, Y_, p: (X_.__iadd__(1e-9), course.forward_propagation_n(
        X_, Y_, p))[1], backward_propagation=course.backward_propagation_n, X=X, Y=Y)
    assert np.array_equal(X, X_before)


def test_complex_gradients_are_refused(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    with pytest.raises(ValueError, match="real numbers"):
        nnlib.check(parameters, cost=lambda p: course.forward_propagation_n(X, Y, p)[0],
                    gradients={**grads, "dW1": grads["dW1"] + 1j})


def test_a_checker_that_prints_and_returns_a_verdict_is_read_from_what_it_printed(course_case):
    def printing(p, g, X, Y):
        d = course.gradient_check_n(p, g, X, Y)
        print("difference =", d)
        return d < 2e-7  # True/False, not the difference

    verdict = _checker_verdict(course_case, printing)
    assert verdict.correct and verdict.on_exact < 2e-7


def test_a_nan_cost_is_not_blamed_on_the_checker(course_case):
    X, Y, parameters = course_case
    triage = nnlib.triangulate(parameters, cost=lambda p: float("nan"),
                               gradients=course.backward_propagation_n(X, Y, course.forward_propagation_n(
                                   X, Y, parameters)[1]),
                               checker=lambda p, g: course.gradient_check_n(p, g, X, Y))
    # once "bug in backprop": a cost that is NaN everywhere says nothing about the gradients
    assert triage.verdict == "no verdict: your cost gives NaN or infinity" and triage.checker is None
    assert not triage.all_good and any("not judged" in f for f in triage.findings)


def test_learner_code_that_raises_is_one_clear_error(course_case):
    X, Y, parameters = course_case

    def broken(X_, Y_, cache):
        raise IndexError("tuple index out of range")

    with pytest.raises(ValueError, match=r"your backward_propagation raised IndexError \(test_doctor.py, line \d+, "
                                         r"in broken\): tuple index"):
        nnlib.check(parameters, forward_propagation=course.forward_propagation_n, backward_propagation=broken,
                    X=X, Y=Y)


def test_a_checker_that_raises_keyboard_interrupt_is_judged_as_raising_and_a_real_ctrl_c_still_stops(course_case):
    X, Y, parameters = course_case

    def triangulate(checker):
        return nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n,
                                 backward_propagation=course.backward_propagation_n, X=X, Y=Y, checker=checker)

    def stops_itself(p, g):
        raise KeyboardInterrupt  # a learner's way out of a loop that takes too long

    triage = triangulate(stops_itself)
    assert triage.verdict == "backprop right; your checker could not be judged"
    assert "raised KeyboardInterrupt" in triage.checker_error and triage.backprop.passed
    if os.name == "nt":
        return

    def ctrl_c(p, g):
        os.kill(os.getpid(), signal.SIGINT)  # what a Ctrl-C in the terminal sends while the checker runs
        return 0.0

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        triangulate(ctrl_c)
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_checker_that_returns_a_message_without_a_number_is_told_what_it_returned(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    with pytest.raises(ValueError, match="your checker returned the str 'looks good!' and printed nothing"):
        nnlib.check_checker(lambda p, g: "looks good!", parameters,
                            cost=lambda p: course.forward_propagation_n(X, Y, p)[0], gradients=grads)


def test_a_dict_of_per_parameter_differences_is_read_as_its_largest(course_case):
    def per_parameter(p, g, X, Y):
        numeric = course.vector_to_dictionary(_numeric(p, X, Y))
        return {k: np.linalg.norm(g["d" + k] - numeric[k]) / (np.linalg.norm(g["d" + k]) + np.linalg.norm(numeric[k]))
                for k in p}

    verdict = _checker_verdict(course_case, per_parameter)
    assert verdict.correct and verdict.read_as == "returned: the largest of its 6 per-parameter numbers"
    assert any(line.startswith("certain: your checker is right: it computes a relative difference per parameter")
               for line in verdict.diagnosis)


def _numeric(p, X, Y, eps=1e-7):
    theta, _ = course.dictionary_to_vector(p)
    out = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = np.copy(theta), np.copy(theta)
        plus[i, 0] += eps
        minus[i, 0] -= eps
        out[i] = (course.forward_propagation_n(X, Y, course.vector_to_dictionary(plus))[0]
                  - course.forward_propagation_n(X, Y, course.vector_to_dictionary(minus))[0]) / (2 * eps)
    return out


def _in_place(restore):
    """A CS231n-style checker that nudges each entry in place and puts it back as `restore` says."""
    def checker(p, g, X, Y, h=1e-5):
        worst = 0.0
        for key, x in p.items():
            numeric = np.zeros_like(x)
            for ix in np.ndindex(x.shape):
                old = x[ix]
                x[ix] += h
                fp = course.forward_propagation_n(X, Y, p)[0]
                x[ix] -= 2 * h
                fm = course.forward_propagation_n(X, Y, p)[0]
                x[ix] = restore(x[ix], old, h)
                numeric[ix] = (fp - fm) / (2 * h)
            a = g["d" + key]
            worst = max(worst, np.max(np.abs(a - numeric) / np.maximum(1e-8, np.abs(a) + np.abs(numeric))))
        return worst
    return checker


def test_arrays_moved_by_rounding_are_measured_and_no_bug_but_a_real_change_is(course_case):
    by_arithmetic = _checker_verdict(course_case, _in_place(lambda x, old, h: x + h))  # x += h; x -= 2h; x += h
    moved = by_arithmetic.left_changed
    assert moved and all(0 < v <= 1e-14 for v in moved.values()), moved  # a few units in the last digit
    assert by_arithmetic.correct
    assert any(line.startswith("certain: after your checker returned") and "by rounding only" in line
               for line in by_arithmetic.diagnosis)
    left_at_minus = _checker_verdict(course_case, _in_place(lambda x, old, h: x))  # never put back
    assert not left_at_minus.correct and min(left_at_minus.left_changed.values()) > 1e-8
    assert any("a checker must leave your parameters as they were" in line for line in left_at_minus.diagnosis)


@pytest.fixture(scope="module")
def small_digits():
    """Notebook 6's network: 7 x 7 digits (each pixel the mean of a 4 x 4 block), 49 -> 10 -> 10, M = 8."""
    rng = np.random.default_rng(0)
    X, Y, _ = nnlib.load_mnist(rng)["train"]
    X = X[:, :8].reshape(7, 4, 7, 4, 8).mean(axis=(1, 3)).reshape(49, 8)
    parameters = {"W1": rng.standard_normal((10, 49)) * np.sqrt(2 / 49), "b1": np.zeros((10, 1)),
                  "W2": rng.standard_normal((10, 10)) * np.sqrt(2 / 10), "b2": np.zeros((10, 1))}
    grads = make_course_backward()(X, Y[:, :8], course_forward(X, Y[:, :8], parameters)[1])
    return X, Y[:, :8], parameters, grads


def _dict_checker(J, keys, denominator=lambda eps: 2 * eps, epsilon=1e-7):
    def checker(params, gradients):
        a, n = [], []
        for key in keys:
            a.append(gradients["d" + key].ravel())
            for i in range(params[key].size):
                plus = {k: v.copy() for k, v in params.items()}
                plus[key].flat[i] += epsilon
                minus = {k: v.copy() for k, v in params.items()}
                minus[key].flat[i] -= epsilon
                n.append((J(plus) - J(minus)) / denominator(epsilon))
        a, n = np.concatenate(a), np.array(n)
        return np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))
    return checker


def test_a_checker_that_divides_by_eps_is_named_though_its_doubled_answer_is_rounding(small_digits):
    X, Y, parameters, grads = small_digits
    J = lambda p: course_forward(X, Y, p)[0]  # noqa: E731
    verdict = nnlib.check_checker(_dict_checker(J, ["W1", "b1", "W2", "b2"], denominator=lambda eps: eps),
                                  parameters, J, grads, m=8)
    # its numeric gradient is twice the true one: doubled gradients are "exact" to it, and it says
    # 1.4e-08 there (rounding), where the prediction is exactly 0
    assert 0 < verdict.answers["doubled"] < 1e-6 and verdict.numeric_ratio == pytest.approx(2.0)
    assert not verdict.correct
    assert any(line.startswith("certain: its numeric gradient is twice the true one") for line in verdict.diagnosis)


def test_an_allclose_checker_that_skips_the_biases_is_not_called_too_loose(small_digits):
    X, Y, parameters, grads = small_digits
    J = lambda p: course_forward(X, Y, p)[0]  # noqa: E731
    numeric = _dict_checker(J, ["W1", "W2"])

    def weights_only(params, gradients):  # "the biases are easy"
        return numeric(params, gradients) < 1e-7

    verdict = nnlib.check_checker(weights_only, parameters, J, grads, m=8)
    assert not verdict.correct
    assert verdict.answers["only_db1_doubled"] is True and verdict.answers["only_dW1_doubled"] is False
    assert not any("too loose" in line for line in verdict.diagnosis if line.startswith("certain:"))
    assert any(line.startswith("likely: it never compares db1, db2") for line in verdict.diagnosis)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # CS231n's formula is 0/0 where both are 0
def test_a_checker_that_draws_entries_at_random_is_said_to_and_never_certified(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    J = lambda p: course.forward_propagation_n(X, Y, p)[0]  # noqa: E731
    sparse = sparse_cs231n(J, np.random.default_rng(1))  # CS231n's grad_check_sparse, 2 entries a parameter

    verdict = nnlib.check_checker(sparse, parameters, J, grads, m=3)
    assert verdict.random and verdict.random[0] != verdict.random[1]
    assert any(line.startswith("certain: it gave two different answers for the same gradients")
               for line in verdict.diagnosis)
    assert verdict.correct is not False and not verdict.sure
    assert not any(line.startswith("certain: your checker is right") for line in verdict.diagnosis)


@pytest.mark.parametrize("exact", [{}, {"W1": 1.0}, "the gradient"])
def test_check_checker_refuses_an_exact_gradient_it_cannot_use(exact):
    X, Y, parameters = course.test_case()
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    with pytest.raises(ValueError, match="exact must be the exact gradient as a dict keyed like the parameters"):
        nnlib.check_checker(lambda p, g: 0.0, parameters, lambda p: course.forward_propagation_n(X, Y, p)[0],
                            grads, exact=exact)


def test_a_checker_that_writes_into_the_gradients_changes_none_of_the_callers(course_case):
    # the README promises the learner's arrays are never changed: the gradients too, not only the parameters
    X, Y, parameters = course_case
    _, cache = course.forward_propagation_n(X, Y, parameters)
    grads = course.backward_propagation_n(X, Y, cache)
    before = deep(grads)

    def zeroes_dW1(p, g):
        g["dW1"] *= 0
        return course.gradient_check_n(p, g, X, Y)

    def cost(p):
        return course.forward_propagation_n(X, Y, p)[0]

    assert not nnlib.check_checker(zeroes_dW1, parameters, cost, grads).correct
    triage = nnlib.triangulate(parameters, cost=cost, gradients=grads, checker=zeroes_dW1)
    assert triage.verdict == "bug in the checker"
    assert all(np.array_equal(grads[k], before[k]) for k in grads)


@pytest.mark.parametrize("entry", ["check", "check_checker", "triangulate"])
def test_the_doctor_refuses_to_run_with_a_lab_bug_on_in_this_thread(course_case, entry):
    # once: triangulate on the course's right code said "bugs in both" inside bugs.enabled("shallow_copy")
    X, Y, parameters = course_case

    def cost(p):
        return course.forward_propagation_n(X, Y, p)[0]

    def gradients(p):
        return course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, p)[1])

    def checker(p, g):
        return course.gradient_check_n(p, g, X, Y)

    call = {"check": lambda: nnlib.check(parameters, cost, gradients),
            "check_checker": lambda: nnlib.check_checker(checker, parameters, cost, gradients(parameters)),
            "triangulate": lambda: nnlib.triangulate(parameters, cost, gradients, checker)}[entry]
    with nnlib.bugs.enabled("shallow_copy"), pytest.raises(ValueError, match="shallow_copy switched on here"):
        call()
    assert call() is not None  # and runs once the block is closed


def test_a_pass_on_one_example_says_it_cannot_see_a_misplaced_1_over_m(course_case):
    X, Y, parameters = course_case

    def twice(X, Y, cache):  # the 1/m applied twice: invisible at m = 1
        return {k: v / X.shape[1] for k, v in course.backward_propagation_n(X, Y, cache).items()}

    one = nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n, backward_propagation=twice,
                            X=X[:, :1], Y=Y[:, :1])
    assert any("m = 1: a 1/m applied twice or left out changes nothing" in str(f) for f in one.findings), one
    three = nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n, backward_propagation=twice,
                              X=X, Y=Y)
    assert not three.all_good and not any("m = 1" in str(f) for f in three.findings)


def test_an_m_that_fits_neither_side_of_X_is_questioned(course_case):
    X, Y, parameters = course_case  # X is (4, 3)
    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                         backward_propagation=course.backward_propagation_n, X=X, Y=Y, m=7)
    assert "neither side is 7, is m right?" in report.notes[0]
    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                         backward_propagation=course.backward_propagation_n, X=X, Y=Y, m=3)
    assert report.notes[0] == "m = 3 examples (as given)"


def test_a_gradient_that_is_none_is_called_none(course_case):
    X, Y, parameters = course_case
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    with pytest.raises(ValueError, match="dW1 is None: your backward leaves it out"):
        nnlib.check(parameters, cost=lambda p: course.forward_propagation_n(X, Y, p)[0],
                    gradients={**grads, "dW1": None})
