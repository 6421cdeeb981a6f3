"""The course's solution, in the students' API. Secret: it never enters a sandbox."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tanh_grad(x):
    return 1.0 - np.tanh(x) ** 2


def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return loss, dx / n


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0.0, x - correct + 1.0)
    margins[np.arange(n), y] = 0.0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return margins.sum() / n, dx / n


def sgd_momentum(w, dw, config):
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, {**config, "velocity": v}


def adam(w, dw, config):
    b1, b2, eps = config["beta1"], config["beta2"], config["epsilon"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + eps)
    return next_w, {**config, "t": t, "m": m, "v": v}


class Linear:
    """y = x W + b; backward(dy) returns dx and keeps dW, db for step(lr)."""

    def __init__(self, n_in, n_out):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T

    def step(self, lr):
        self.W = self.W - lr * self.dW
        self.b = self.b - lr * self.db


def predict(params, x):
    """Labels from a linear classifier's trained parameters: what the grader scores."""
    return np.argmax(x @ params["W"] + params["b"], axis=1)


def train_softmax(x, y, epochs=100, lr=0.5):
    w, b = np.zeros((x.shape[1], y.max() + 1)), np.zeros(y.max() + 1)
    for _ in range(epochs):
        _, dscores = softmax_loss(x @ w + b, y)
        w, b = w - lr * x.T @ dscores, b - lr * dscores.sum(axis=0)
    return {"W": w, "b": b}
