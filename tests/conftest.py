import numpy as np
import pytest

import nnlib


@pytest.fixture(scope="session")
def mnist():
    return nnlib.load_mnist(np.random.default_rng(0))


@pytest.fixture
def batch(mnist):
    """8 real digits and fresh He-initialised parameters (784 -> 10 -> 10)."""
    X, Y, _ = mnist["train"]
    return nnlib.init_params(np.random.default_rng(1)), X[:, :8], Y[:, :8]
