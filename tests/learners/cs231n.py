"""CS231n's assignment style: a TwoLayerNet with examples in rows (X is (N, D), W1 is (D, H)),
1-D biases, integer labels, softmax loss averaged over N plus reg * (||W1||^2 + ||W2||^2), and
loss() returning (loss, grads) with grads keyed like the parameters (grads['W1']). The checker is
eval_numerical_gradient, which nudges x[ix] in place and restores it, and rel_error, printed per
parameter."""

import numpy as np

from . import Program, Truth


class TwoLayerNet:
    def __init__(self, input_size=4, hidden_size=6, output_size=3, std=0.5, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": std * rng.standard_normal((input_size, hidden_size)),
                       "b1": 0.1 * rng.standard_normal(hidden_size),
                       "W2": std * rng.standard_normal((hidden_size, output_size)),
                       "b2": 0.1 * rng.standard_normal(output_size)}

    def loss(self, X, y, reg=0.05):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores = self.scale(dscores, N)
        grads["W2"] = hidden.T.dot(dscores) + 2 * reg * W2
        grads["b2"] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2.T) * (hidden > 0)
        grads["W1"] = X.T.dot(dhidden) + self.reg_grad(reg, W1)
        grads["b1"] = np.sum(dhidden, axis=0)
        return loss, grads

    def scale(self, dscores, N):
        return dscores / N

    def reg_grad(self, reg, W1):
        return 2 * reg * W1


class ForgotRegOnW1(TwoLayerNet):
    def reg_grad(self, reg, W1):
        return 0


class ForgotToAverage(TwoLayerNet):
    def scale(self, dscores, N):
        return dscores


def central_at(f, x, ix, h):
    """(f(x + h) - f(x - h)) / 2h at entry ix: x[ix] nudged in place and put back."""
    oldval = x[ix]
    x[ix] = oldval + h
    fxph = f(x)
    x[ix] = oldval - h
    fxmh = f(x)
    x[ix] = oldval
    return (fxph - fxmh) / (2 * h)


def eval_numerical_gradient(f, x, verbose=False, h=0.00001):
    fx = f(x)  # noqa: F841 (as in the assignment)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        grad[ix] = central_at(f, x, ix, h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_step_back(f, x, h=0.00001):
    """Nudges up, then 'back down' by h: the second value is taken at x itself."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        x[ix] += h
        fxph = f(x)
        x[ix] -= h
        fxmh = f(x)
        grad[ix] = (fxph - fxmh) / (2 * h)
    return grad


def eval_numerical_gradient_no_restore(f, x, h=0.00001):
    """Leaves x[ix] at oldval - h: every later entry is evaluated from a moved point."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        grad[ix] = (fxph - fxmh) / (2 * h)
    return grad


def rel_error(x, y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def data(net_class=TwoLayerNet):
    rng = np.random.default_rng(1)
    X = 2 * rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 2, 1])
    return net_class(), X, y


def _program(name, truth, net_class=TwoLayerNet, numerical=eval_numerical_gradient, reg=0.05):
    def kwargs():
        net, X, y = data(net_class)
        _, grads = net.loss(X, y, reg=reg)

        def cost(params):
            net.params = params
            return net.loss(X, y, reg=reg)[0]

        def checker(params, grads):
            net.params = params
            f = lambda W: net.loss(X, y, reg=reg)[0]  # noqa: E731 (the assignment's style)
            for name in sorted(grads):
                param_grad_num = numerical(f, net.params[name])
                print("%s max relative error: %e" % (name, rel_error(param_grad_num, grads[name])))
        return dict(parameters=dict(net.params), cost=cost, gradients=grads, X=X, checker=checker)
    return Program(name, "CS231n", truth, kwargs)


PROGRAMS = [
    _program("CS231n: TwoLayerNet right, in-place checker right", Truth(checker="right", checker_writes=True, m=5)),
    _program("CS231n: no reg term in dW1", Truth(wrong={"W1": None}, checker="right", checker_writes=True, m=5),
             ForgotRegOnW1),
    _program("CS231n: dscores not divided by N", Truth(wrong={"W1": None, "b1": 5.0, "W2": None, "b2": 5.0},
             checker="right", checker_writes=True, m=5), ForgotToAverage),
    _program("CS231n: no reg, dscores not divided by N",
             Truth(wrong={"W1": 5.0, "b1": 5.0, "W2": 5.0, "b2": 5.0}, causes=("1/m missing", "cost averaged twice"),
                   checker="right", checker_writes=True, m=5), ForgotToAverage, reg=0.0),
    _program("CS231n checker: steps back by h, not to x - h",
             Truth(checker={"half", "in-place step back"}, checker_writes=True, m=5),
             numerical=eval_numerical_gradient_step_back),
    _program("CS231n checker: never restores x[ix]",
             Truth(checker={"inaccurate"}, checker_writes=True, checker_leaves_changed=True, m=5),
             numerical=eval_numerical_gradient_no_restore),
]
