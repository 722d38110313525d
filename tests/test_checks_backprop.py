"""The doctor's reading of a backprop check (nnlib.check, nnlib.triangulate) where the numbers are
hard: kinks, a float32 cost, one slip shared by every layer, non-course names, an epsilon far from
the course's, and how method="auto" chooses."""

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learners import numerics  # noqa: E402

import nnlib  # noqa: E402
from nnlib import course, doctor  # noqa: E402


def _program(name):
    return next(p for p in numerics.PROGRAMS if p.name == name)


def _triage(name):
    with contextlib.redirect_stdout(io.StringIO()):
        return nnlib.triangulate(**_program(name).kwargs())


def _certain(lines):
    return [line for line in lines if line.startswith("certain:")]


def test_a_right_backprop_at_kinks_is_not_a_bug():
    triage = _triage("L-layer helpers: right, 3 blank examples and b = 0 (kinks)")
    assert triage.verdict.startswith("likely all good") and triage.all_good, triage
    assert not any("line that computes" in line for line in triage.backprop.diagnosis), triage
    assert "another batch" in triage.backprop.diagnosis[-1]


def test_a_float32_cost_gets_no_verdict_and_says_how_to_fix_it():
    for name in ("softmax: the cost computed in float32, returned with .item()",
                 "softmax: float32 network, Y float64 in the cost's last sum"):
        triage = _triage(name)
        assert triage.verdict.startswith("no verdict: your cost is") and "float32" in triage.verdict, triage
        assert "float64" in " ".join(triage.backprop.diagnosis)
        assert not any("kink" in line for line in triage.findings), triage


def test_one_slip_in_every_layer_is_said_once():
    triage = _triage("L-layer helpers: linear_backward's db without 1/m (every layer)")
    ratios = [line for line in _certain(triage.backprop.diagnosis) if "ratio" in line]
    assert len(ratios) == 1 and "b1, b2 and b3 all have ratio 7.000000" in ratios[0], triage
    assert "every db" in " ".join(triage.backprop.diagnosis)


def test_keras_names_are_not_glued_to_a_d():
    triage = _triage("Keras names, rows: bias gradients averaged again (mean, not sum)")
    text = " ".join(triage.backprop.diagnosis)
    assert "dense/bias and dense_1/bias both have ratio 0.166667" in text and "ddense" not in text, triage


@pytest.mark.parametrize("epsilon, reading", [(1e-10, "rounding"), (1e-12, "rounding"), (1e-14, "rounding"),
                                              (1e-16, "rounding"), (1e-300, "rounding"), (1e-2, "truncation")])
def test_an_epsilon_far_from_the_courses_blames_no_line(epsilon, reading):
    X, Y, parameters = course.test_case()
    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                         backward_propagation=course.backward_propagation_n, X=X, Y=Y, epsilon=epsilon)
    assert not report.passed and report.diagnosis == [report.diagnosis[0]], report
    assert report.diagnosis[0].startswith(f"likely: {reading} (epsilon = {epsilon:g}"), report
    assert report.second_look["epsilon"] == 1e-7 and report.second_look["passed"]
    assert report.rounding_limit == pytest.approx(np.spacing(report.cost_value) / (2 * epsilon))


def test_a_bug_seen_at_a_tiny_epsilon_is_still_a_bug():
    X, Y, parameters = course.test_case()
    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                         backward_propagation=course.backward_propagation_n_planted, X=X, Y=Y, epsilon=1e-10)
    assert not any("rounding" in line or "truncation" in line for line in report.diagnosis), report
    # shown at the course's epsilon, where the bug's numbers are clean, with the given one's in a note
    assert report.epsilon == 1e-7 and report.difference == pytest.approx(0.2850932, abs=1e-6)
    assert report.second_look["epsilon"] == 1e-10 and "at the given 1e-10" in report.notes[-1]
    assert any(line.startswith("certain: W2 has ratio 2.0") for line in report.diagnosis), report


def test_auto_goes_by_the_number_of_entries_not_by_the_clock(monkeypatch):
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((40, 5)), np.eye(3)[:, rng.integers(0, 3, 5)]
    parameters = {"W1": rng.standard_normal((10, 40)) * 0.2, "b1": np.zeros((10, 1)),
                  "W2": rng.standard_normal((3, 10)) * 0.3, "b2": np.zeros((3, 1))}

    def forward(X, Y, p):
        A1 = np.tanh(p["W1"] @ X + p["b1"])
        Z2 = p["W2"] @ A1 + p["b2"]
        A2 = np.exp(Z2) / np.exp(Z2).sum(axis=0)
        return -np.sum(Y * np.log(A2)) / X.shape[1], (A1, A2)

    def backward(X, Y, cache):
        A1, A2 = cache
        dZ2 = (A2 - Y) / X.shape[1]
        dZ1 = parameters["W2"].T @ dZ2 * (1 - A1 ** 2)
        return {"dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True), "dW2": dZ2 @ A1.T,
                "db2": dZ2.sum(axis=1, keepdims=True)}

    clock = iter(np.arange(0.0, 1e6, 0.04))  # every reading 40 ms later: a cost of 40 ms a call, on a busy machine
    monkeypatch.setattr(doctor.time, "perf_counter", lambda: next(clock))
    report = nnlib.check(parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)
    assert report.method == "loop" and report.passed, report  # 443 entries x 2 x 40 ms = 35 s: still the loop
    assert any(note.startswith("method auto: the loop over every entry (443;") for note in report.notes)


def test_auto_samples_a_network_with_more_entries_than_the_loop_takes():
    rng = np.random.default_rng(4)
    parameters = {"W1": rng.standard_normal((30, 700)) * 0.01}
    x = rng.standard_normal(700)
    report = nnlib.check(parameters, cost=lambda p: float(np.sum(np.tanh(p["W1"] @ x))),
                         gradients={"dW1": np.outer(1 - np.tanh(parameters["W1"] @ x) ** 2, x)})
    assert report.method == "sampled" and report.checked == 25, report
    assert "21,000 entries, more than the 20,000 checked one by one by default" in report.notes[0]


def test_x_transposed_gets_the_hint_nnlib_forward_gives():
    X, Y, parameters = course.test_case()

    def forward(X, Y, p):  # a learner's, without checks: numpy's "shapes (5,4) and (3,4) not aligned"
        Z1 = np.dot(p["W1"], X) + p["b1"]
        return course.forward_propagation_n(X, Y, p) if Z1 is not None else None
    with pytest.raises(ValueError, match=r"not aligned.*fit only as X\.T\. Did you pass X\.T\?"):
        nnlib.check(parameters, forward_propagation=forward, backward_propagation=course.backward_propagation_n,
                    X=X.T.copy(), Y=Y)
    with pytest.raises(ValueError) as refused:  # nnlib.course's forward gives the hint itself: once is enough
        nnlib.check(parameters, forward_propagation=course.forward_propagation_n,
                    backward_propagation=course.backward_propagation_n, X=X.T.copy(), Y=Y)
    assert str(refused.value).count("X.T") == 1, refused.value


def test_a_backward_that_writes_into_x_is_told():
    X, Y, parameters = course.test_case()

    def backward(X, Y, cache):
        grads = course.backward_propagation_n(X, Y, cache)
        X *= 0.0  # "frees" X, in place
        return grads
    report = nnlib.check(parameters, forward_propagation=course.forward_propagation_n, backward_propagation=backward,
                         X=X, Y=Y)
    assert report.passed and report.backward_writes == ["X"]  # once: never reported (the doctor copies X)
    assert any(line.startswith("certain: backward wrote into X") for line in report.diagnosis), report
    with contextlib.redirect_stdout(io.StringIO()):
        triage = nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n,
                                   backward_propagation=backward, X=X, Y=Y)
    assert triage.verdict == "gradients right, but backward writes into X" and not triage.all_good


@pytest.mark.parametrize("seconds", [None, "60", -1, 0, float("nan"), True])
def test_triangulate_refuses_checker_seconds_that_are_not_a_time(seconds):
    X, Y, parameters = course.test_case()
    with pytest.raises(ValueError, match="checker_seconds must be a number of seconds > 0"):
        nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n,
                          backward_propagation=course.backward_propagation_n, X=X, Y=Y,
                          checker=lambda p, g: 0.0, checker_seconds=seconds)


def test_nnlib_check_says_what_is_wrong_with_a_cost_or_parameters_in_one_line():
    X, Y, parameters = course.test_case()
    grads = course.backward_propagation_n(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
    with pytest.raises(ValueError, match=r"got a tuple of 2: return the cost alone"):  # once: numpy's "inhomogeneous"
        nnlib.check(parameters, cost=lambda p: course.forward_propagation_n(X, Y, p), gradients=grads)
    with pytest.raises(ValueError, match="W1 is object: a gradient check needs float64"):  # once: numpy's isnan error
        nnlib.check({k: v.astype(object) for k, v in parameters.items()},
                    cost=lambda p: course.forward_propagation_n(X, Y, p)[0], gradients=grads)


def test_triangulate_refuses_a_checker_that_is_not_a_function():
    X, Y, parameters = course.test_case()
    with pytest.raises(ValueError, match="checker must be your gradient-check function, got float"):
        nnlib.triangulate(parameters, forward_propagation=course.forward_propagation_n,  # once: no error at all
                          backward_propagation=course.backward_propagation_n, X=X, Y=Y, checker=0.5)
