# Deep Learning assignment 1
# Only my answers are in this file, the provided code (f, grad_x_f, grad_y_f, Net, fit)
# is in the handout notebook.

import numpy as np


## 1.2 Gradient descent

def optimize_f(x, y, step_size, steps, decay=1.0):
    x_hist = [x]
    y_hist = [y]
    for t in range(steps):
        lr = step_size * decay ** t
        # compute both gradients first, then update
        gx = grad_x_f(x, y)
        gy = grad_y_f(x, y)
        x = x - lr * gx
        y = y - lr * gy
        x_hist.append(x)
        y_hist.append(y)
    return x, y, f(x, y), x_hist, y_hist


## 2.1 Activation functions

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    # derivative: sigma(x) * (1 - sigma(x))
    s = sigmoid(x)
    return s * (1 - s)


def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    # at x == 0 the derivative does not exist, I use 0 there
    return (x > 0).astype(float)


## 2.2 Loss function

def bce_loss(y, y_hat):
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def bce_loss_grad(y, y_hat):
    return -y / y_hat + (1 - y) / (1 - y_hat)


## 3.1 Layers

class Linear:
    def __init__(self, n_in, n_out, rng=np.random.default_rng(12345)):
        # initialize the weights randomly,
        # using the Xavier initialization rule for scale
        a = np.sqrt(6 / (n_in * n_out))
        self.W = rng.uniform(-a, a, size=(n_in, n_out))
        self.b = np.zeros((n_out,))

    def forward(self, x):
        return x @ self.W + self.b

    def backward(self, x, dy):
        # gradients for the parameters
        self.dW = x.T @ np.ones_like(dy)  # d(xW)/dW = x
        self.db = np.sum(dy, axis=0)
        # gradient for the input
        return dy @ self.W.T

    def step(self, step_size):
        self.W -= step_size * self.dW
        self.b -= step_size * self.db

    def __str__(self):
        return "Linear(%d, %d)" % self.W.shape


class Sigmoid:
    def forward(self, x):
        return sigmoid(x)

    def backward(self, x, dy):
        return dy * sigmoid_grad(x)

    def step(self, step_size):
        pass

    def __str__(self):
        return "Sigmoid()"


class ReLU:
    def forward(self, x):
        return relu(x)

    def backward(self, x, dy):
        return dy * relu_grad(x)

    def step(self, step_size):
        pass

    def __str__(self):
        return "ReLU()"
