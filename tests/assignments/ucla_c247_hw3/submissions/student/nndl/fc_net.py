import numpy as np

from .layers import *
from .layer_utils import *

"""
This code was originally written for CS 231n at Stanford University
(cs231n.stanford.edu).  It has been modified in various areas for use in the
ECE 239AS class at UCLA.
"""


class TwoLayerNet(object):
  """
  A two-layer fully-connected neural network with ReLU nonlinearity and
  softmax loss that uses a modular layer design. We assume an input dimension
  of D, a hidden dimension of H, and perform classification over C classes.

  The architecure should be affine - relu - affine - softmax.
  """

  def __init__(self, input_dim=3*32*32, hidden_dims=100, num_classes=10,
               dropout=0, weight_scale=1e-3, reg=0.0):
    self.params = {}
    self.reg = reg

    # ================================================================ #
    # YOUR CODE HERE:
    #   Initialize W1, W2, b1, and b2.  Store these as self.params['W1'],
    #   self.params['W2'], self.params['b1'] and self.params['b2']. The
    #   biases are initialized to zero and the weights are initialized
    #   so that each parameter has mean 0 and standard deviation weight_scale.
    # ================================================================ #
    self.params['W1'] = weight_scale * np.random.randn(input_dim, hidden_dims)
    self.params['b1'] = np.zeros(hidden_dims)
    self.params['W2'] = weight_scale * np.random.randn(hidden_dims, num_classes)
    self.params['b2'] = np.zeros(num_classes)
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #

  def loss(self, X, y=None):
    scores = None

    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the forward pass of the two-layer neural network.
    # ================================================================ #
    h, h_cache = affine_relu_forward(X, self.params['W1'], self.params['b1'])
    scores, scores_cache = affine_forward(h, self.params['W2'], self.params['b2'])
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #

    # If y is None then we are in test mode so just return scores
    if y is None:
      return scores

    loss, grads = 0, {}
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the backward pass of the two-layer neural net.
    # ================================================================ #
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * self.reg * (np.sum(self.params['W1'] ** 2) + np.sum(self.params['W2'] ** 2))

    dh, dW2, db2 = affine_backward(dscores, scores_cache)
    dx, dW1, db1 = affine_relu_backward(dh, h_cache)

    grads['W1'] = dW1 + self.reg * self.params['W1']
    grads['b1'] = db1
    grads['W2'] = dW2 + self.reg * self.params['W2']
    grads['b2'] = db2
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #

    return loss, grads


class FullyConnectedNet(object):
  """
  A fully-connected neural network with an arbitrary number of hidden layers,
  ReLU nonlinearities, and a softmax loss function.

  {affine - [batch norm] - relu - [dropout]} x (L - 1) - affine - softmax
  """

  def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
               dropout=0, use_batchnorm=False, reg=0.0,
               weight_scale=1e-2, dtype=np.float32, seed=None):
    self.use_batchnorm = use_batchnorm
    self.use_dropout = dropout > 0
    self.reg = reg
    self.num_layers = 1 + len(hidden_dims)
    self.dtype = dtype
    self.params = {}

    # ================================================================ #
    # YOUR CODE HERE:
    #   Initialize all parameters of the network in the self.params dictionary.
    # ================================================================ #
    layer_dims = [input_dim] + list(hidden_dims) + [num_classes]
    for i in range(self.num_layers):
      self.params['W%d' % (i + 1)] = weight_scale * np.random.randn(layer_dims[i], layer_dims[i + 1])
      self.params['b%d' % (i + 1)] = np.zeros(layer_dims[i + 1])
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #

    # Cast all parameters to the correct datatype
    for k, v in self.params.items():
      self.params[k] = v.astype(dtype)

  def loss(self, X, y=None):
    """
    Compute loss and gradient for the fully-connected net.
    """
    X = X.astype(self.dtype)
    mode = 'test' if y is None else 'train'

    scores = None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the forward pass of the FC net and store the output
    #   scores as the variable "scores".
    # ================================================================ #
    caches = {}
    out = X
    for i in range(1, self.num_layers):
      out, caches[i] = affine_relu_forward(out, self.params['W%d' % i], self.params['b%d' % i])
    L = self.num_layers
    scores, caches[L] = affine_forward(out, self.params['W%d' % L], self.params['b%d' % L])
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #

    # If test mode return early
    if mode == 'test':
      return scores

    loss, grads = 0.0, {}
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the backwards pass of the FC net and store the gradients
    #   in the grads dict, so that grads[k] is the gradient of self.params[k]
    # ================================================================ #
    loss, dscores = softmax_loss(scores, y)
    for i in range(1, L + 1):
      W = self.params['W%d' % i]
      loss += 0.5 * self.reg * np.sum(W * W)

    dout, dW, db = affine_backward(dscores, caches[L])
    grads['W%d' % L] = dW + self.reg * self.params['W%d' % L]
    grads['b%d' % L] = db
    for i in range(L - 1, 0, -1):
      dout, dW, db = affine_relu_backward(dout, caches[i])
      grads['W%d' % i] = dW + self.reg * self.params['W%d' % i]
      grads['b%d' % i] = db
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    return loss, grads
