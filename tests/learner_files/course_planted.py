"""A learner's file in the course's shapes, with the course's two planted bugs in backward."""
from nnlib.course import backward_propagation_n_planted as backward_propagation_n  # noqa: F401
from nnlib.course import forward_propagation_n, gradient_check_n  # noqa: F401
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401
