"""Mini-batch gradient descent, with optional dropout, recording loss and accuracy per epoch."""

import numpy as np

from . import model


def train(params, X, Y, labels, rng, epochs=10, batch_size=64, learning_rate=0.1,
          keep_prob=1.0, val=None, progress=False):
    """Train a copy of params; return (trained params, history).

    history has one entry per epoch under "loss", "train_acc" and, with val=(X_val, labels_val),
    "val_acc". Each epoch shuffles the training columns with `rng`. Dropout (keep_prob < 1)
    is used for training only; the accuracies are measured without it.
    progress=True shows a tqdm bar (tqdm.auto: a widget in Jupyter, text in a terminal).
    """
    model.check_inputs(params, X, Y, keep_prob)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"train needs rng=np.random.default_rng(seed), got {type(rng).__name__}")
    if batch_size < 1 or epochs < 0 or not learning_rate > 0:
        raise ValueError(f"need batch_size >= 1, epochs >= 0 and learning_rate > 0, got "
                         f"{batch_size}, {epochs}, {learning_rate}")
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
                loss = model.cost(cache[f"A{model.n_layers(params)}"], Y[:, cols])
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
