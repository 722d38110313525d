"""Mini-batch gradient descent, with optional dropout, recording loss and accuracy per epoch."""

import numpy as np

from . import model
from .data import check_labels, is_whole
from .threads import one_blas_thread


@one_blas_thread()  # 10-20 % slower on an idle machine, several times faster on a busy one (threads.py)
def train(params, X, Y, labels, rng, epochs=10, batch_size=64, learning_rate=0.1,
          keep_prob=1.0, val=None, progress=False):
    """Train a copy of params; return (trained params, history).

    X (n_x, m), Y one-hot (n_L, m), labels (m,): the same m examples (labels for the accuracy).
    history has one entry per epoch under "loss", "train_acc" and, with val=(X_val, labels_val),
    "val_acc". Each epoch shuffles the training columns with `rng`. Dropout (keep_prob < 1)
    is used for training only; the accuracies are measured without it.
    progress=True shows a tqdm bar (tqdm.auto: a widget in Jupyter, text in a terminal).
    """
    _check_arguments(params, X, Y, labels, rng, epochs, batch_size, learning_rate, keep_prob, val)
    X, Y = np.asarray(X), np.asarray(Y)
    L = model.n_layers(params)
    params = {k: v.copy() for k, v in params.items()}
    m = X.shape[1]
    history = {"loss": [], "train_acc": [], "val_acc": []}
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        epoch_iter = tqdm(epoch_iter, desc="training", unit="epoch")
    for _ in epoch_iter:
        order = rng.permutation(m)
        losses = []
        for start in range(0, m, batch_size):
            cols = order[start:start + batch_size]
            with np.errstate(over="ignore", invalid="ignore"):  # reported just below instead
                cache = model.forward(params, X[:, cols], keep_prob, rng=rng)
                # from Z, not from the probabilities: right even where one underflows to 0
                loss = model.cost_from_logits(cache[f"Z{L}"], Y[:, cols])
                grads = model.backward(params, cache, Y[:, cols], keep_prob)
            if not np.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss} after {len(history['loss'])} epoch(s): "
                                         f"learning_rate = {learning_rate} is too large for this network")
            losses.append(loss * len(cols))
            for k in params:
                params[k] -= learning_rate * grads["d" + k]
        history["loss"].append(sum(losses) / m)
        history["train_acc"].append(model.accuracy(params, X, labels))
        if val is not None:
            history["val_acc"].append(model.accuracy(params, *val))
        if progress:
            epoch_iter.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                                   val=f"{history['val_acc'][-1]:.3f}" if val else "-")
    return params, history


def _check_arguments(params, X, Y, labels, rng, epochs, batch_size, learning_rate, keep_prob, val):
    """One-line errors for everything train is given, before any work is done."""
    model.check_inputs(params, X, Y, keep_prob)
    model.check_rng(rng, "train")
    labels = check_labels(labels, np.shape(Y)[0], m=np.shape(X)[1])
    if not np.array_equal(np.argmax(Y, axis=0), labels):
        raise ValueError("labels and Y disagree (column "
                         f"{np.flatnonzero(np.argmax(Y, axis=0) != labels)[0]}): Y must be one_hot(labels)")
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if not (is_whole(value) and value >= low):
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if not (model.is_number(learning_rate) and 0 < learning_rate < np.inf):
        raise ValueError(f"learning_rate must be a positive number such as 0.1, got {learning_rate!r}")
    if val is not None:
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise ValueError("val must be a pair (X_val, labels_val)")
        model.check_inputs(params, val[0])
        check_labels(val[1], np.shape(Y)[0], m=np.shape(val[0])[1])
