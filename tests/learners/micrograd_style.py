"""A micrograd-style learner: a scalar Value with its own backward, a 2 -> 3 -> 1 MLP (tanh
hidden layer, linear output), mean squared error over 4 examples. Parameters are named the way
such code names them (l1.w, l1.b, ...), and the gradients are keyed like the parameters."""

import math

import numpy as np

from . import Program, Truth


class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,))

        def _backward():
            self.grad += self.tanh_slope(t) * out.grad
        out._backward = _backward
        return out

    @staticmethod
    def tanh_slope(t):
        return 1 - t ** 2

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


class TanhSlopeWrong(Value):
    @staticmethod
    def tanh_slope(t):
        return 1 - t  # 1 - t where 1 - t**2 belongs


class MulOverwrites(Value):
    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other))

        def _backward():
            self.grad = other.data * out.grad  # = where += belongs: a value used twice keeps one share
            other.grad = self.data * out.grad
        out._backward = _backward
        return out


def _mlp_loss(params, xs, ys, V):
    w1 = [[V(float(params["l1.w"][i, j])) for j in range(2)] for i in range(3)]
    b1 = [V(float(params["l1.b"][i])) for i in range(3)]
    w2 = [V(float(params["l2.w"][0, j])) for j in range(3)]
    b2 = V(float(params["l2.b"][0]))
    loss = V(0.0)
    for x, y in zip(xs, ys, strict=True):
        h = [(sum((w1[i][j] * x[j] for j in range(2)), V(0.0)) + b1[i]).tanh() for i in range(3)]
        out = sum((w2[j] * h[j] for j in range(3)), V(0.0)) + b2
        err = out - y
        loss = loss + err * err
    loss = loss * (1.0 / len(xs))
    return loss, {"l1.w": w1, "l1.b": b1, "l2.w": w2, "l2.b": [b2]}


def data():
    rng = np.random.default_rng(5)
    xs = [[float(v) for v in rng.standard_normal(2)] for _ in range(4)]
    ys = [1.0, -1.0, -1.0, 1.0]
    params = {"l1.w": rng.standard_normal((3, 2)), "l1.b": rng.standard_normal(3) * 0.1,
              "l2.w": rng.standard_normal((1, 3)), "l2.b": rng.standard_normal(1) * 0.1}
    return xs, ys, params


def _program(name, truth, V=Value):
    def kwargs():
        xs, ys, params = data()

        def cost(p):
            return _mlp_loss(p, xs, ys, V)[0].data

        def gradients(p):
            loss, values = _mlp_loss(p, xs, ys, V)
            loss.backward()
            return {k: np.array([[v.grad for v in row] for row in vs] if isinstance(vs[0], list)
                                else [v.grad for v in vs]).reshape(p[k].shape) for k, vs in values.items()}
        return dict(parameters=params, cost=cost, gradients=gradients)
    return Program(name, "micrograd", truth, kwargs)


PROGRAMS = [
    _program("micrograd: Value, tanh MLP, MSE", Truth()),
    _program("micrograd: tanh backward uses 1 - t", Truth(wrong={"l1.w": None, "l1.b": None}), TanhSlopeWrong),
    # every weight is used once per example, so it keeps only the last example's share; err * err uses
    # err twice, so every gradient gets half of 2 err: the biases, reached through additions only, are off by
    # exactly 1/2, the weights by no clean factor
    _program("micrograd: __mul__ backward with = not +=",
             Truth(wrong={"l1.w": None, "l1.b": 0.5, "l2.w": None, "l2.b": 0.5}), MulOverwrites),
]
