"""Backward right, checker wrong: thetaplus aliases the parameter vector."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from learner_code import checker_alias as gradient_check_n  # noqa: E402, F401

from nnlib.course import backward_propagation_n, forward_propagation_n  # noqa: E402, F401
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: E402, F401
