"""nnlib: a small NumPy network, its gradient checks and a registry of deliberate bugs."""

from . import bugs, gradcheck, model
from .data import load_mnist, one_hot
from .gradcheck import EPSILON, THRESHOLD, epsilon_sweep, gradient_check
from .model import accuracy, backward, cost, forward, init_params, predict

__all__ = ["bugs", "gradcheck", "model", "load_mnist", "one_hot", "EPSILON", "THRESHOLD",
           "epsilon_sweep", "gradient_check", "accuracy", "backward", "cost", "forward",
           "init_params", "predict"]
