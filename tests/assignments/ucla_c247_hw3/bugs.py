"""Realistic single-bug submissions: the student-style ``nndl`` package with one edit each.

Each bug is a list of exact text replacements in one file of
``submissions/student/nndl`` (every ``find`` must occur exactly once, so a
bug cannot silently stop applying), the problems it must lose, and a piece
of text the first message of each lost problem must contain. Layer bugs also
cost the fc_net problems that run on those layers (the course's design);
those messages must name the broken layer.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

from .support import STUDENT


@dataclass(frozen=True)
class Bug:
    name: str
    what: str
    file: str
    edits: tuple[tuple[str, str], ...]
    loses: dict[str, str]  # problem id -> text its first message contains (case-insensitive)
    warns: str = ""  # text a passing check's warning contains, for bugs that lose nothing
    hyperparams: dict[str, dict[str, object]] = field(default_factory=dict)

    def sources(self) -> dict[str, str]:
        """The three files, with this bug's edits applied to its file."""
        files = {p.name: p.read_text() for p in sorted(STUDENT.glob("*.py"))}
        text = files[self.file]
        for find, replace in self.edits:
            count = text.count(find)
            if count != 1:
                raise AssertionError(f"{self.name}: {find!r} occurs {count} times in {self.file}")
            text = text.replace(find, replace)
        files[self.file] = text
        return files

    def zip_bytes(self, hyperparams: dict[str, dict[str, object]] | None = None) -> bytes:
        """``nndl/`` zipped, with a ``hyperparams.json`` when there are settings."""
        settings = {section: dict(values) for section, values in (hyperparams or {}).items()}
        for section, values in self.hyperparams.items():
            settings.setdefault(section, {}).update(values)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, text in self.sources().items():
                archive.writestr(f"nndl/{name}", text)
            if settings:
                archive.writestr("hyperparams.json", json.dumps(settings))
        return buffer.getvalue()


def _fc(layer: str) -> dict[str, str]:
    """What a broken layer costs in fc_net: both problems, each naming the layer."""
    note = f"{layer} there"
    return {"fc_net.TwoLayerNet": note, "fc_net.FullyConnectedNet": note}


BUGS = [
    # -- neural_net.py: scores -----------------------------------------------------------------
    Bug("nn_scores_no_relu", "hidden layer without ReLU: a1 = h1", "neural_net.py",
        (("a1 = np.maximum(0, h1)", "a1 = h1"),),
        {"neural_net.scores": "sum of absolute differences",
         "neural_net.loss": "scores are wrong too",
         "neural_net.grads": "scores are wrong too",
         "neural_net.train_predict": "scores are wrong too"}),
    Bug("nn_scores_relu_on_output", "ReLU after the second layer, which the handout forbids",
        "neural_net.py",
        (("scores = a1.dot(W2.T) + b2", "scores = np.maximum(0, a1.dot(W2.T) + b2)"),),
        {"neural_net.scores": "sum of absolute differences",
         "neural_net.loss": "scores are wrong too",
         "neural_net.grads": "scores are wrong too"}),
    Bug("nn_scores_no_b1", "first-layer bias never added (the toy model's b1 is zero)",
        "neural_net.py", (("h1 = X.dot(W1.T) + b1", "h1 = X.dot(W1.T)"),),
        {"neural_net.scores": "relu(X · W1ᵀ + b1)",
         "neural_net.loss": "scores are wrong too",
         "neural_net.grads": "scores are wrong too"}),
    Bug("nn_scores_W1_transposed_layout",
        "W1 stored (D, H) and W2 (H, C), used consistently: the handout's layout is (H, D)",
        "neural_net.py",
        (("std * np.random.randn(hidden_size, input_size)",
          "std * np.random.randn(input_size, hidden_size)"),
         ("std * np.random.randn(output_size, hidden_size)",
          "std * np.random.randn(hidden_size, output_size)"),
         ("h1 = X.dot(W1.T) + b1", "h1 = X.dot(W1) + b1"),
         ("scores = a1.dot(W2.T) + b2", "scores = a1.dot(W2) + b2"),
         ("grads['W2'] = dscores.T.dot(a1) + reg * W2",
          "grads['W2'] = a1.T.dot(dscores) + reg * W2"),
         ("da1 = dscores.dot(W2)", "da1 = dscores.dot(W2.T)"),
         ("grads['W1'] = dh1.T.dot(X) + reg * W1", "grads['W1'] = X.T.dot(dh1) + reg * W1")),
        {"neural_net.scores": "(hidden_size, input_size)"}),
    # -- neural_net.py: loss --------------------------------------------------------------------
    Bug("nn_loss_summed", "data loss summed over the batch, not averaged (gradients right)",
        "neural_net.py",
        (("data_loss = np.sum(correct_logprobs) / N", "data_loss = np.sum(correct_logprobs)"),),
        {"neural_net.loss": "summed over the batch"}),
    Bug("nn_loss_per_sample", "the data loss left as one value per sample (no sum over N)",
        "neural_net.py",
        (("data_loss = np.sum(correct_logprobs) / N", "data_loss = correct_logprobs / N"),),
        {"neural_net.loss": "expected a single number"}),
    Bug("nn_train_bias_as_row", "train leaves the biases as (1, H) rows, 'to be safe'",
        "neural_net.py",
        (("    return {\n      'loss_history': loss_history,",
          "    for name in ('b1', 'b2'):\n"
          "      self.params[name] = self.params[name].reshape(1, -1)\n"
          "    return {\n      'loss_history': loss_history,"),),
        {"neural_net.train_predict": "has shape (1, 10), expected (10,)"}),
    Bug("nn_loss_reg_without_half", "reg * sum(W**2) instead of 0.5 * reg * sum(W**2)",
        "neural_net.py",
        (("reg_loss = 0.5 * reg * (", "reg_loss = reg * ("),),
        {"neural_net.loss": "0.5·reg"}),
    Bug("nn_loss_reg_missing", "the regularisation term is computed but never added",
        "neural_net.py", (("loss = data_loss + reg_loss", "loss = data_loss"),),
        {"neural_net.loss": "regularisation term is missing"}),
    # -- neural_net.py: grads -------------------------------------------------------------------
    Bug("nn_grads_missing_reg", "dW1 without its reg * W1 term", "neural_net.py",
        (("grads['W1'] = dh1.T.dot(X) + reg * W1", "grads['W1'] = dh1.T.dot(X)"),),
        {"neural_net.grads": "regularisation gradient is missing"}),
    Bug("nn_grads_db2_averaged", "db2 averaged over the batch although dscores is already / N",
        "neural_net.py",
        (("grads['b2'] = np.sum(dscores, axis=0)", "grads['b2'] = np.mean(dscores, axis=0)"),),
        {"neural_net.grads": "batch size"}),
    Bug("nn_grads_no_relu_mask", "backprop through the ReLU without its mask", "neural_net.py",
        (("dh1 = da1 * (h1 > 0)", "dh1 = da1"),),
        {"neural_net.grads": "grads['W1']"}),
    Bug("nn_grads_dW1_transposed", "dW1 computed as X.T @ dh1, the transpose of W1's shape",
        "neural_net.py",
        (("grads['W1'] = dh1.T.dot(X) + reg * W1", "grads['W1'] = X.T.dot(dh1) + reg * W1.T"),),
        {"neural_net.grads": "transpose", "neural_net.train_predict": "TwoLayerNet.train"}),
    # -- neural_net.py: train and predict -------------------------------------------------------
    Bug("nn_train_gradient_ascent", "params += learning_rate * grads", "neural_net.py",
        (("self.params[param] -= learning_rate * grads[param]",
          "self.params[param] += learning_rate * grads[param]"),),
        {"neural_net.train_predict": "trained parameters have loss"}),
    Bug("nn_train_update_not_stored", "the update is assigned to a loop variable only",
        "neural_net.py",
        (("      for param in self.params:\n"
          "        self.params[param] -= learning_rate * grads[param]",
          "      for param, value in self.params.items():\n"
          "        value = value - learning_rate * grads[param]"),),
        {"neural_net.train_predict": "stored back"}),
    Bug("nn_predict_wrong_axis", "np.argmax(scores, axis=0); train's accuracy line then raises",
        "neural_net.py",
        (("y_pred = np.argmax(scores, axis=1)", "y_pred = np.argmax(scores, axis=0)"),),
        {"neural_net.train_predict": "TwoLayerNet.train(...) raised ValueError"}),
    Bug("nn_train_no_val_history", "train returns no val_acc_history", "neural_net.py",
        (("      'val_acc_history': val_acc_history,\n", ""),),
        {"neural_net.train_predict": "val_acc_history"}),
    # -- layers.py ------------------------------------------------------------------------------
    Bug("affine_forward_no_bias", "b never added", "layers.py",
        (("out = x_rows.dot(w) + b", "out = x_rows.dot(w)"),),
        {"layers.affine_forward": "affine_forward", **_fc("affine_forward")}),
    Bug("affine_forward_not_flattened", "x used as given: fails for x of more than 2 dimensions",
        "layers.py", (("  x_rows = x.reshape(x.shape[0], -1)\n  out", "  x_rows = x\n  out"),),
        {"layers.affine_forward": "affine_forward(x, w, b) raised"}),
    Bug("affine_forward_flattened_by_column", "x.reshape(-1, N).T scrambles the rows",
        "layers.py",
        (("  x_rows = x.reshape(x.shape[0], -1)\n  out",
          "  x_rows = x.reshape(-1, x.shape[0]).T\n  out"),),
        {"layers.affine_forward": "row by row", **_fc("affine_forward")}),
    Bug("affine_backward_dx_not_reshaped", "dx left as (N, D) instead of x's shape", "layers.py",
        (("dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w.T)"),),
        {"layers.affine_backward": "must be reshaped"}),
    Bug("affine_backward_db_averaged", "db = mean of dout over the batch", "layers.py",
        (("db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)"),),
        {"layers.affine_backward": "batch size", **_fc("affine_backward")}),
    Bug("affine_backward_dw_transposed", "dw = dout.T @ x: shape (M, D)", "layers.py",
        (("dw = x_rows.T.dot(dout)", "dw = dout.T.dot(x_rows)"),),
        {"layers.affine_backward": "transpose", **_fc("affine_backward")}),
    Bug("relu_forward_in_place", "x[x < 0] = 0 writes into the caller's array", "layers.py",
        (("  out = np.maximum(0, x)\n", "  x[x < 0] = 0\n  out = x\n"),),
        {"layers.relu_forward": "modified its input x in place"}),
    Bug("relu_forward_np_max", "np.max(x, 0): a reduction, not an elementwise maximum",
        "layers.py", (("out = np.maximum(0, x)", "out = np.max(x, 0)"),),
        {"layers.relu_forward": "wrong shape", **_fc("relu_forward")}),
    Bug("relu_forward_leaky", "0.01 x below zero", "layers.py",
        (("out = np.maximum(0, x)", "out = np.maximum(0.01 * x, x)"),),
        {"layers.relu_forward": "relu_forward(x)", **_fc("relu_forward")}),
    Bug("relu_backward_mask_from_dout", "mask taken from dout instead of x", "layers.py",
        (("dx = dout * (x > 0)", "dx = dout * (dout > 0)"),),
        {"layers.relu_backward": "relu_backward", **_fc("relu_backward")}),
    Bug("relu_backward_mask_inverted", "x < 0 instead of x > 0", "layers.py",
        (("dx = dout * (x > 0)", "dx = dout * (x < 0)"),),
        {"layers.relu_backward": "relu_backward", **_fc("relu_backward")}),
    Bug("relu_backward_ignores_dout", "returns the mask itself", "layers.py",
        (("dx = dout * (x > 0)", "dx = (x > 0).astype(float)"),),
        {"layers.relu_backward": "relu_backward", **_fc("relu_backward")}),
    Bug("relu_backward_writes_dout", "dx = dout; dx[x <= 0] = 0: a warning, no points lost",
        "layers.py", (("  dx = dout * (x > 0)\n", "  dx = dout\n  dx[x <= 0] = 0\n"),),
        {}, warns="modified dout in place"),
    # -- fc_net.py: TwoLayerNet -----------------------------------------------------------------
    Bug("fc2_missing_reg_grad", "dW1 without reg * W1", "fc_net.py",
        (("grads['W1'] = dW1 + self.reg * self.params['W1']", "grads['W1'] = dW1"),),
        {"fc_net.TwoLayerNet": "regularisation gradient is missing"}),
    Bug("fc2_init_unscaled", "weights drawn from randn without weight_scale", "fc_net.py",
        (("weight_scale * np.random.randn(input_dim, hidden_dims)",
          "np.random.randn(input_dim, hidden_dims)"),),
        {"fc_net.TwoLayerNet": "weight_scale"}),
    Bug("fc2_reg_loss_without_half", "reg * sum(W**2) in the loss", "fc_net.py",
        (("loss += 0.5 * self.reg * (np.sum(self.params['W1'] ** 2)",
          "loss += self.reg * (np.sum(self.params['W1'] ** 2)"),),
        {"fc_net.TwoLayerNet": "0.5·reg"}),
    Bug("fc2_no_relu", "affine - affine: affine_forward/backward instead of the relu sandwich",
        "fc_net.py",
        (("h, h_cache = affine_relu_forward(X,", "h, h_cache = affine_forward(X,"),
         ("dx, dW1, db1 = affine_relu_backward(dh, h_cache)",
          "dx, dW1, db1 = affine_backward(dh, h_cache)")),
        {"fc_net.TwoLayerNet": "forward pass is wrong"}),
    # -- fc_net.py: FullyConnectedNet -----------------------------------------------------------
    Bug("fcn_ignores_dtype", "parameters never cast to dtype", "fc_net.py",
        (("      self.params[k] = v.astype(dtype)", "      self.params[k] = v"),),
        {"fc_net.FullyConnectedNet": "dtype"}),
    Bug("fcn_last_layer_no_reg_grad", "the last layer's dW misses reg * W", "fc_net.py",
        (("grads['W%d' % L] = dW + self.reg * self.params['W%d' % L]",
          "grads['W%d' % L] = dW"),),
        {"fc_net.FullyConnectedNet": "regularisation gradient is missing"}),
    Bug("fcn_relu_on_scores", "the last layer gets a ReLU too", "fc_net.py",
        (("scores, caches[L] = affine_forward(out,",
          "scores, caches[L] = affine_relu_forward(out,"),
         ("dout, dW, db = affine_backward(dscores, caches[L])",
          "dout, dW, db = affine_relu_backward(dscores, caches[L])")),
        {"fc_net.FullyConnectedNet": "forward pass is wrong"}),
    Bug("fcn_reg_loss_first_layer_only", "the reg loss sums W1 only", "fc_net.py",
        (("    for i in range(1, L + 1):\n      W = self.params",
          "    for i in range(1, 2):\n      W = self.params"),),
        {"fc_net.FullyConnectedNet": "loss"}),
]


def _as_training(name: str, problem: str, says: str,
                 **hyperparams: dict[str, object]) -> Bug:
    """A bug of the corpus above (or none: ``correct``), graded on its CIFAR-10 problem."""
    base = next((b for b in BUGS if b.name == name), None)
    edits = base.edits if base else ()
    file = base.file if base else "layers.py"
    return Bug(f"{problem}:{name}", base.what if base else "correct code", file, edits,
               {problem: says}, hyperparams=hyperparams)


# Graded on a small synthetic CIFAR-10 with short runs (``test_training.py``).
TRAINING_BUGS = [
    _as_training("nn_train_gradient_ascent", "neural_net.cifar10", "test accuracy"),
    _as_training("nn_predict_wrong_axis", "neural_net.cifar10", "raised ValueError"),
    _as_training("correct", "neural_net.cifar10", "learning_rate=5",
                 neural_net={"learning_rate": 5.0}),
    _as_training("affine_forward_not_flattened", "fc_net.cifar10", "raised ValueError"),
    _as_training("relu_backward_ignores_dout", "fc_net.cifar10", "test accuracy"),
    # No "correct code, learning rate too high" case for fc_net: the course's Solver keeps
    # the parameters of its best epoch, which the grader now scores itself, so such a run
    # earns partial credit (its message names the settings) instead of none.
]
