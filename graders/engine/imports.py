"""Which heavy libraries an upload imports, read from its text without running or parsing it.

A pooled sandbox can import these before the submission arrives (the
``warm`` request), so the student's own ``import matplotlib.pyplot`` finds
them loaded. Only packages on an allow-list count: the names come from
untrusted text and decide what a sandbox imports before any student code
runs. The scan is a line regex, linear in the code's size, so a forged
upload cannot make the trusted side recurse or allocate (``ast`` could).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from functools import cache

from .submission import Submission

# Libraries whose import costs hundreds of milliseconds, that student notebooks import at
# the top, and whose import has no effect a submission could notice except being loaded.
HEAVY = ("matplotlib", "scipy", "sklearn", "torch", "torchvision", "pandas")
# What these packages import lazily on first ordinary use, so importing the package alone
# would leave most of the cost to the student's code: torch's optimisers import
# torch._dynamo (and sympy with it, ~2 s) when the first one is made.
COMPANIONS = {"torch": ("torch._dynamo",)}
MAX_MODULES = 12
MAX_DEPTH = 3

_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#;]+)", re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import\b", re.MULTILINE)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@cache
def installed(package: str) -> bool:
    """Whether the runtime has this top-level package (found, not imported)."""
    return importlib.util.find_spec(package) is not None


def _names(code: str) -> Iterable[str]:
    for m in _IMPORT.finditer(code):
        for part in m.group(1).split(","):
            words = part.split()
            if words:
                yield words[0]
    for m in _FROM.finditer(code):
        yield m.group(1)


def heavy_imports(submission: Submission) -> tuple[str, ...]:
    """The allow-listed modules the upload's code imports, sorted; at most MAX_MODULES."""
    found: set[str] = set()
    for source in submission.sources:
        for cell in source.cells:
            for name in _names(cell.source):
                parts = name.split(".")
                if (_DOTTED.fullmatch(name) and parts[0] in HEAVY
                        and len(parts) <= MAX_DEPTH and installed(parts[0])):
                    found.add(name)
    chosen = sorted(found)[:MAX_MODULES]
    companions = {c for n in chosen for c in COMPANIONS.get(n.split(".")[0], ())}
    return tuple(sorted({*chosen, *companions}))
