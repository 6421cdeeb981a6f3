import numpy as np
def affine_forward(x, w, b):
    return np.zeros((x.shape[0], w.shape[1])), (x, w, b)
def affine_backward(dout, cache):
    x, w, b = cache
    return 0 * x, 0 * w, 0 * b
def relu_forward(x):
    return 0 * x, x
def relu_backward(dout, cache):
    return 0 * dout
