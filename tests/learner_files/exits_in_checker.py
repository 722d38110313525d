"""A learner's checker that ends Python when it is done, instead of returning."""
import os

from nnlib.course import backward_propagation_n, forward_propagation_n  # noqa: F401
from nnlib.course import gradient_check_n as _check
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401


def gradient_check_n(parameters, gradients, X, Y):
    print("difference =", _check(parameters, gradients, X, Y))
    os._exit(0)
