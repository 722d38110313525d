"""nnlib: a small NumPy network, gradient checks for it and for a learner's own code, and a
registry of deliberate bugs."""

__version__ = "0.1.0"  # the one place; pyproject.toml reads it

from . import bugs, checks, course, gradcheck, model
from .checks import EPSILON, THRESHOLD
from .data import load_mnist, one_hot
from .doctor import check, check_checker, triangulate
from .gradcheck import epsilon_sweep, gradient_check
from .model import accuracy, backward, cost, cost_from_logits, forward, init_params, predict

__all__ = ["bugs", "checks", "course", "gradcheck", "model", "load_mnist", "one_hot", "EPSILON",
           "THRESHOLD", "check", "check_checker", "triangulate", "epsilon_sweep", "gradient_check",
           "accuracy", "backward", "cost", "cost_from_logits", "forward", "init_params", "predict"]
