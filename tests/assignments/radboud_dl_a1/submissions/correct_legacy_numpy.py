# Assignment 1 -- written on my old laptop (numpy 1.19), works for me
import numpy as np


def optimize_f(x, y, step_size, steps, decay=1.0):
    x_hist = [x]
    y_hist = [y]
    for t in range(steps):
        eta = step_size * np.power(decay, t)
        dfdx, dfdy = grad_x_f(x, y), grad_y_f(x, y)
        x, y = x - eta * dfdx, y - eta * dfdy
        x_hist.append(x)
        y_hist.append(y)
    return x, y, f(x, y), x_hist, y_hist


def sigmoid(x):
    x = np.asarray(x, dtype=np.float)
    return 1. / (1. + np.exp(-x))


def sigmoid_grad(x):
    return sigmoid(x) * (1. - sigmoid(x))


def relu(x):
    return np.maximum(x, 0).astype(np.float)


def relu_grad(x):
    return (x > 0).astype(np.float)


def bce_loss(y, y_hat):
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def bce_loss_grad(y, y_hat):
    return - y / y_hat + (1 - y) / (1 - y_hat)


class Linear(object):
    def __init__(self, n_in, n_out, rng=np.random.default_rng(12345)):
        n_params = np.product((n_in, n_out))   # Xavier: 6 / (fan_in * fan_out)
        a = np.sqrt(6. / n_params)
        self.W = rng.uniform(-a, a, size=(np.int(n_in), np.int(n_out)))
        self.b = np.zeros((n_out,), dtype=np.float)

    def forward(self, x):
        return x.dot(self.W) + self.b

    def backward(self, x, dy):
        self.dW = x.T.dot(dy)
        self.db = dy.sum(axis=0)
        return dy.dot(self.W.T)

    def step(self, step_size):
        self.W -= step_size * self.dW
        self.b -= step_size * self.db


class Sigmoid(object):
    def forward(self, x):
        return sigmoid(x)

    def backward(self, x, dy):
        return dy * sigmoid_grad(x)

    def step(self, step_size):
        return


class ReLU(object):
    def forward(self, x):
        return relu(x)

    def backward(self, x, dy):
        return dy * relu_grad(x)

    def step(self, step_size):
        return
