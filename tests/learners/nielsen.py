"""Nielsen's "Neural Networks and Deep Learning" style: a Network of sizes [4, 5, 3], sigmoid
everywhere, the quadratic cost C = 1/(2n) sum ||a - y||^2 over examples given as a list of
(x, y) column vectors, and backprop(x, y) -> (nabla_b, nabla_w) for one example, averaged over
the mini-batch as update_mini_batch does. The learner wraps the lists in a dict for the doctor
(w1, b1, w2, b2) and writes a per-parameter checker."""

import numpy as np

from . import Program, Truth


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes, seed=3):
        rng = np.random.default_rng(seed)
        self.num_layers = len(sizes)
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:], strict=True)]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights, strict=True):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights, strict=True):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * self.output_prime(zs[-1], activations[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for layer in range(2, self.num_layers):
            z = zs[-layer]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sp
            nabla_b[-layer] = delta
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return (nabla_b, nabla_w)

    def output_prime(self, z, a):
        return sigmoid_prime(z)

    def cost_derivative(self, output_activations, y):
        return output_activations - y


class PrimeOfTheActivation(Network):
    def output_prime(self, z, a):
        return sigmoid_prime(a)  # sigma'(a) where sigma'(z) belongs


def _as_dict(net):
    out = {}
    for i, (b, w) in enumerate(zip(net.biases, net.weights, strict=True), 1):
        out[f"w{i}"], out[f"b{i}"] = w, b
    return out


def _load(net, params):
    n = len(net.weights)
    net.weights = [params[f"w{i}"] for i in range(1, n + 1)]
    net.biases = [params[f"b{i}"] for i in range(1, n + 1)]


def data():
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((4, 1)) for _ in range(6)]
    ys = [np.eye(3)[:, [i % 3]] for i in range(6)]
    return list(zip(xs, ys, strict=True))


def _program(name, truth, net_class=Network, average=True):
    def kwargs():
        net, batch = net_class([4, 5, 3]), data()

        def cost(params):
            _load(net, params)
            return sum(0.5 * np.linalg.norm(net.feedforward(x) - y) ** 2 for x, y in batch) / len(batch)

        def gradients(params):
            _load(net, params)
            nabla_b = [np.zeros(b.shape) for b in net.biases]
            nabla_w = [np.zeros(w.shape) for w in net.weights]
            for x, y in batch:
                delta_nabla_b, delta_nabla_w = net.backprop(x, y)
                nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
                nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
            n = len(batch) if average else 1
            out = {}
            for i, (nb, nw) in enumerate(zip(nabla_b, nabla_w, strict=True), 1):
                out[f"w{i}"], out[f"b{i}"] = nw / n, nb / n
            return out

        def checker(params, grads, eps=1e-6):
            for key in params:
                numeric = np.zeros_like(params[key])
                for idx in np.ndindex(params[key].shape):
                    plus = {k: v.copy() for k, v in params.items()}
                    minus = {k: v.copy() for k, v in params.items()}
                    plus[key][idx] += eps
                    minus[key][idx] -= eps
                    numeric[idx] = (cost(plus) - cost(minus)) / (2 * eps)
                error = np.linalg.norm(grads[key] - numeric) / (np.linalg.norm(grads[key]) + np.linalg.norm(numeric))
                print(f"{key}: relative error {error:.3e}")

        params = _as_dict(net)
        X = np.hstack([x for x, _ in data()])  # the examples as columns, for the doctor to count them
        return dict(parameters=params, cost=cost, gradients=gradients, X=X, checker=checker)
    return Program(name, "Nielsen", truth, kwargs)


PROGRAMS = [
    _program("Nielsen: Network, mini-batch average", Truth(checker="right", m=6)),
    _program("Nielsen: nablas summed, not averaged",
             Truth(wrong={"w1": 6.0, "b1": 6.0, "w2": 6.0, "b2": 6.0}, causes=("1/m missing", "cost averaged twice"),
                   checker="right", m=6), average=False),
    _program("Nielsen: sigma'(a) for sigma'(z) in the output delta",
             Truth(wrong={"w1": None, "b1": None, "w2": None, "b2": None}, checker="right", m=6), PrimeOfTheActivation),
]
