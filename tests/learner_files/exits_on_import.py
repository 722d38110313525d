"""A learner's file that ends Python at import (a stray os._exit from a script it was copied from)."""
import os

from nnlib.course import backward_propagation_n, forward_propagation_n, gradient_check_n  # noqa: F401
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401

os._exit(0)
