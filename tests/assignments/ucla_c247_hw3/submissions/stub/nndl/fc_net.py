import numpy as np
class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dims=100, num_classes=10, dropout=0, weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
    def loss(self, X, y=None):
        if y is None:
            return np.zeros((X.shape[0], 1))
        return 0.0, {k: np.zeros_like(v) for k, v in self.params.items()}
class FullyConnectedNet(TwoLayerNet):
    def __init__(self, hidden_dims, input_dim=3072, num_classes=10, dropout=0, use_batchnorm=False, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.params = {}
