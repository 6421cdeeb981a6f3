"""Checks derived from a declaration: the common kinds of deep-learning homework problem.

An instructor names the function or class, the symbolic argument shapes and
the points; the reference (a module or class with the student's API, run on
the trusted side) supplies every expected value. See ``Assignment.function``,
``.layer``, ``.module``, ``.loss`` and ``.step`` in ``graders.spec``.
"""

from .inputs import Arg, binary, labels

__all__ = ["Arg", "binary", "labels"]
