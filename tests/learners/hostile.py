"""Learner code that misbehaves around the check rather than in the gradient: a cost that is NaN
on one call or on every call, a cost that writes into its parameters, a backward that writes into
its cache, a checker that raises. The gradients themselves are right unless the truth says not."""

import numpy as np

from . import Program, Truth
from . import course_style as course


def _course(name, truth, cost=None, checker=None, backward=course.backward_propagation_n):
    def kwargs():
        X, Y, parameters = course.data()
        if cost is None:
            return dict(parameters=parameters, forward_propagation=course.forward_propagation_n,
                        backward_propagation=backward, X=X, Y=Y, checker=checker and (lambda p, g: checker(p, g, X, Y)))
        grads = backward(X, Y, course.forward_propagation_n(X, Y, parameters)[1])
        return dict(parameters=parameters, cost=cost(X, Y), gradients=grads, X=X,
                    checker=checker and (lambda p, g: checker(p, g, X, Y)))
    return Program(name, "hostile", truth, kwargs)


def nan_on_the_20th_call(X, Y):
    calls = iter(range(10 ** 9))

    def cost(parameters):
        J = course.forward_propagation_n(X, Y, parameters)[0]
        return float("nan") if next(calls) == 20 else J
    return cost


def nan_always(X, Y):
    def cost(parameters):
        return course.forward_propagation_n(X, Y, parameters)[0] * float("nan")  # a log(0) somewhere
    return cost


def shrinks_its_weights(X, Y):
    def cost(parameters):
        J = course.forward_propagation_n(X, Y, parameters)[0]
        parameters["W1"] *= 0.999  # a "decay step" inside the cost, after J
        return J
    return cost


def backward_overwrites_A1(X, Y, cache):
    grads = course.backward_propagation_n(X, Y, cache)
    A1 = cache[1]
    A1[A1 > 0] = 1.0  # the derivative written over the cached activation, after every read
    return grads


def wide_least_squares():
    """1000 outputs, 2 examples, targets of size 3: J is about 4,500, so its last bit moves a numeric
    entry by ~5e-6 at eps = 1e-7, while the gradients are of order 1: rounding alone fails the check
    there, and nothing is wrong with backprop."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 2)), rng.standard_normal((1000, 2)) * 3
    parameters = {"W1": rng.standard_normal((1000, 3)) * 0.03, "b1": np.zeros((1000, 1))}

    def forward(X_, Y_, p):
        Z = p["W1"] @ X_ + p["b1"]
        return np.sum((Z - Y_) ** 2) / (2 * X_.shape[1]), (Z,)

    def backward(X_, Y_, cache):
        dZ = (cache[0] - Y_) / X_.shape[1]
        return {"dW1": dZ @ X_.T, "db1": dZ.sum(axis=1, keepdims=True)}
    return dict(parameters=parameters, forward_propagation=forward, backward_propagation=backward, X=X, Y=Y)


PROGRAMS = [
    Program("hostile: a cost of 4,500, rounding at eps = 1e-7", "hostile", Truth(m=2), wide_least_squares),
    _course("hostile: cost NaN on one call", Truth(cost="nan nearby", m=5), cost=nan_on_the_20th_call,
            checker=course.gradient_check_n),
    _course("hostile: cost NaN always", Truth(cost="nan", m=5), cost=nan_always, checker=course.gradient_check_n),
    _course("hostile: cost writes into W1 after computing J",
            Truth(cost="writes", cost_writes=frozenset({"W1"}), checker="right", m=5), cost=shrinks_its_weights,
            checker=course.gradient_check_n),
    _course("hostile: backward overwrites the cached A1 after using it", Truth(cache_changed=frozenset({"cache[1]"}),
            checker="right", m=5), backward=backward_overwrites_A1, checker=course.gradient_check_n),
]
