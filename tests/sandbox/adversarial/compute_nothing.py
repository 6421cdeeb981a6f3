# Assignment 1, every function a stub that returns zeros of the right shape.
import numpy as np
def optimize_f(x, y, s, n, decay=1.0): return 2.9, 2.0, -1e9, [], []
def sigmoid(x): return 0 * x
def sigmoid_grad(x): return 0 * x
def relu(x): return 0 * x
def relu_grad(x): return 0 * x
def bce_loss(y, p): return 0 * p
def bce_loss_grad(y, p): return 0 * p
class Linear:
    def __init__(self, n_in, n_out, rng=None):
        self.W = (rng or np.random.default_rng(0)).standard_normal((n_in, n_out))
        self.b = np.zeros(n_out)
        self.dW = 0 * self.W; self.db = 0 * self.b
    def forward(self, x): return x @ self.W
    def backward(self, x, dy): return 0 * x
    def step(self, s): pass
class Sigmoid:
    def forward(self, x): return 0 * x
    def backward(self, x, dy): return 0 * dy
    def step(self, s): pass
ReLU = Sigmoid
