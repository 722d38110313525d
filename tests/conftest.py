import os

import numpy as np
import pytest

# Progress bars print timings, which are not output: off in the tests and in the notebook kernels
# that nbval starts from this process (they inherit its environment).
os.environ["NNLIB_PROGRESS"] = "0"

import nnlib  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    return nnlib.load_mnist(np.random.default_rng(0))


@pytest.fixture
def batch(mnist):
    """8 real digits and fresh He-initialised parameters (784 -> 10 -> 10)."""
    X, Y, _ = mnist["train"]
    return nnlib.init_params(np.random.default_rng(1)), X[:, :8], Y[:, :8]
