"""Formatting shared by every check, so all feedback reads the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def shape_str(shape: Sequence[int | None]) -> str:
    """``(3,)``, ``(1, 3)``, ``a scalar``; ``*`` marks a size the check does not fix."""
    dims = ["*" if d is None else str(int(d)) for d in shape]
    if not dims:
        return "a scalar"
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(dims) + ")"


def index_str(index: Sequence[int]) -> str:
    """Numpy-style index, as the student would type it: ``[3, 1]``."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def num(x: float) -> str:
    """A number short enough for a one-line message."""
    return f"{float(x):.4g}"


def pair(got: float, expected: float) -> tuple[str, str]:
    """Two numbers with just enough digits that they visibly differ.

    ``0.19660`` vs ``0.19664`` would both print as ``0.1966`` at four digits,
    which reads as a grader bug; add digits until the strings differ.
    """
    a, b = float(got), float(expected)
    sa, sb = num(a), num(b)
    for digits in range(4, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb or a == b:
            break
    return sa, sb


def type_phrase(value: Any) -> str:
    """``None``, ``a list``, ``an int``: what the student handed back."""
    if value is None:
        return "None"
    # Objects that stayed in the sandbox come back as handles that know their type there.
    name = getattr(value, "type_name", None) or type(value).__name__
    if getattr(value, "type_name", None):
        article = "an" if name[:1].lower() in "aeiou" else "a"
        return f"{article} {name} object"
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def sentence(text: str, capitalise: bool = True) -> str:
    """Capitalise and terminate a phrase so it can follow another sentence."""
    text = text.strip()
    if not text:
        return ""
    # "dW = ..." names code: capitalising it would rename the variable.
    code_like = len(text) > 1 and (text[1].isupper() or text[1] in "_.([=")
    if capitalise and text[0].islower() and not code_like:
        text = text[0].upper() + text[1:]
    if text[-1] not in ".?!":
        text += "."
    return text


def join(first: str, *rest: str) -> str:
    """Sentences after ``first`` (which starts with a name, kept as written), empty ones dropped."""
    parts = [sentence(first, capitalise=False)] + [sentence(p) for p in rest]
    return " ".join(p for p in parts if p)
