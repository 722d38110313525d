"""The course's network with a cost that takes 40 ms a call (a learner's cost on a slow laptop)."""
import time

from nnlib.course import backward_propagation_n, gradient_check_n  # noqa: F401
from nnlib.course import forward_propagation_n as _forward
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401


def forward_propagation_n(X, Y, parameters):
    time.sleep(0.04)
    return _forward(X, Y, parameters)
