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


def test_the_loss_is_the_true_cross_entropy_even_where_probabilities_underflow(mnist):
    """Inputs x1000: some right-class probabilities are exactly 0 in A2. With a learning rate too
    small to move anything, the first epoch's loss is the cost of the initial parameters."""
    X, Y, y = (a[..., :64] for a in mnist["train"])
    X = 1000 * X
    params = nnlib.init_params(np.random.default_rng(0))
    Z = nnlib.forward(params, X)["Z2"]
    true = np.mean([np.logaddexp.reduce(Z[:, j]) - Z[y[j], j] for j in range(64)])
    _, history = train(params, X, Y, y, np.random.default_rng(0), epochs=1, batch_size=64, learning_rate=1e-300)
    assert history["loss"][0] == pytest.approx(true, rel=1e-12)


def test_training_runs_with_one_blas_thread_and_puts_the_count_back(mnist, monkeypatch):
    from nnlib import model, threads

    before = threads.blas_threads()
    if before == 1:
        pytest.skip("BLAS uses one thread here anyway: nothing to limit")
    seen = []
    real_forward = model.forward

    def spy(*args, **kwargs):
        seen.append(threads.blas_threads())
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    X, Y, y = (a[..., :64] for a in mnist["train"])
    train(nnlib.init_params(np.random.default_rng(1)), X, Y, y, np.random.default_rng(0), epochs=1)
    assert seen and set(seen) == {1}
    assert threads.blas_threads() == before


def test_one_blas_thread_nests_and_can_be_switched_off():
    from nnlib import threads

    before = threads.blas_threads()
    with threads.one_blas_thread():
        with threads.one_blas_thread():
            assert threads.blas_threads() == 1
        assert threads.blas_threads() == 1
    assert threads.blas_threads() == before
    try:
        threads.ENABLED = False
        with threads.one_blas_thread():
            assert threads.blas_threads() == before
    finally:
        threads.ENABLED = True


def _args(mnist, **change):
    X, Y, y = (a[..., :16] for a in mnist["train"])
    Xv, _, yv = (a[..., :4] for a in mnist["val"])
    args = dict(params=nnlib.init_params(np.random.default_rng(1)), X=X, Y=Y, labels=y,
                rng=np.random.default_rng(0), epochs=1, batch_size=8, learning_rate=0.1, val=(Xv, yv))
    args.update(change)
    return args


@pytest.mark.parametrize("change, words", [
    (lambda a: dict(labels=np.full(16, 10)), "0..9"),
    (lambda a: dict(labels=np.roll(a["labels"], 1)), "disagree"),
    (lambda a: dict(labels=a["labels"][:5]), "one label per column"),
    (lambda a: dict(val=(a["val"][0], a["val"][1][:3])), "one label per column"),
    (lambda a: dict(val=(a["val"][0].T, a["val"][1])), "X.T"),
    (lambda a: dict(val=a["val"][0]), "(X_val, labels_val)"),
    (lambda a: dict(learning_rate="0.1"), "learning_rate"),
    (lambda a: dict(learning_rate=float("nan")), "learning_rate"),
    (lambda a: dict(batch_size=2.5), "batch_size"),
    (lambda a: dict(epochs=-1), "epochs"),
    (lambda a: dict(X=a["X"][:, :0], Y=a["Y"][:, :0], labels=a["labels"][:0]), "at least one example"),
    (lambda a: dict(rng=0), "default_rng"),
    (lambda a: dict(keep_prob=0), "keep_prob"),
])
def test_bad_arguments_are_named_before_any_training(mnist, change, words):
    args = _args(mnist)
    args.update(change(args))
    with pytest.raises((ValueError, TypeError)) as info:
        train(**args)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_numpy_numbers_are_accepted(mnist):
    args = _args(mnist, epochs=np.int64(1), batch_size=np.int32(8), learning_rate=np.float32(0.1),
                 keep_prob=np.float32(0.8), labels=_args(mnist)["labels"].tolist())
    _, history = train(**args)
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
