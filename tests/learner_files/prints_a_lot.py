"""A learner's file whose forward prints on every call, as debugging prints in a notebook do."""
from nnlib.course import backward_propagation_n, gradient_check_n  # noqa: F401
from nnlib.course import forward_propagation_n as _forward
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401

print("loading my network")


def forward_propagation_n(X, Y, parameters):
    cost, cache = _forward(X, Y, parameters)
    print("cost after forward", cost)
    return cost, cache
