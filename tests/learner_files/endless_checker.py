"""A learner's checker stuck in an endless loop (a while loop whose index is never advanced)."""
from nnlib.course import backward_propagation_n, forward_propagation_n  # noqa: F401
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401


def gradient_check_n(parameters, gradients, X, Y):
    i = 0
    while i < 47:
        pass
    return 0.0
