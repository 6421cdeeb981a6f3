"""A two-problem layers homework: the smallest bundle that grades."""

from graders.checks import close
from graders.spec import Assignment

from . import reference as ref

assignment = Assignment("demo-layers-hw", "Demo course: ReLU and affine layers")


@assignment.problem("relu_forward", points=1, needs=["relu_forward"], checks=1)
def relu_forward(student, ctx):
    """max(0, x), elementwise."""
    x = ctx.rng.normal(size=ctx.shape(2))
    out, _ = student.call("relu_forward", x)
    yield close("relu_forward(x)", out, ref.relu_forward(x)[0])


@assignment.problem("affine_forward", points=2, needs=["affine_forward"], checks=1)
def affine_forward(student, ctx):
    """x @ w + b, with x flattened to rows."""
    n, d, m = ctx.shape(3)
    x, w, b = ctx.rng.normal(size=(n, d)), ctx.rng.normal(size=(d, m)), ctx.rng.normal(size=m)
    out, _ = student.call("affine_forward", x, w, b)
    yield close("affine_forward(x, w, b)", out, ref.affine_forward(x, w, b)[0])
