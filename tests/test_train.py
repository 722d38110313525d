import numpy as np
import pytest

import nnlib
from nnlib.train import train


def test_default_network_learns_the_digits(mnist):
    X, Y, y = mnist["train"]
    Xv, _, yv = mnist["val"]
    params = nnlib.init_params(np.random.default_rng(1))
    trained, history = train(params, X, Y, y, np.random.default_rng(2), epochs=10, val=(Xv, yv))
    assert len(history["loss"]) == len(history["val_acc"]) == 10
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_acc"][-1] >= 0.85
    assert not np.array_equal(trained["W1"], params["W1"])  # the caller's params are not trained in place


def test_training_is_reproducible(mnist):
    X, Y, y = (a[..., :500] for a in mnist["train"])
    runs = [train(nnlib.init_params(np.random.default_rng(1)), X, Y, y, np.random.default_rng(3),
                  epochs=2, keep_prob=0.8)[1]["loss"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_diverging_training_says_the_learning_rate_is_too_large(mnist):
    X, Y, y = (a[..., :200] for a in mnist["train"])
    with pytest.raises(FloatingPointError, match="learning_rate"):
        train(nnlib.init_params(np.random.default_rng(1)), X, Y, y, np.random.default_rng(0),
              epochs=3, learning_rate=1e300)
