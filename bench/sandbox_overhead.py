"""Sandbox overhead: a tiny submission run in bubblewrap versus a bare Python process.

Both sides start a fresh interpreter with the same imports (the harness:
numpy and the wire format), load the same one-function submission, make one
call and exit: the difference is what the sandbox adds.
"""

from __future__ import annotations

from graders.sandbox import Limits, open_harness

from .common import Figure, interleaved

TINY = {"name": "tiny.py", "cells": [{"label": "tiny.py", "source":
        "import numpy as np\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"}]}


def _run(sandbox: bool) -> None:
    proc = open_harness(Limits(), sandbox=sandbox)
    proc.start()
    try:
        proc.request({"op": "load", "files": [TINY], "skip_calls": [], "statement_timeout": 5}, 30)
        reply = proc.request({"op": "call", "target": {"name": "sigmoid"}, "args": [0.0]}, 30)
        assert reply["ok"] and reply["value"] == 0.5, reply
    finally:
        proc.close()


def measure(repeats: int = 15) -> list[Figure]:
    _run(True)
    _run(False)  # warm the page cache for both sides
    sandboxed, bare = interleaved(lambda: _run(True), lambda: _run(False), repeats)
    added_ms = (sandboxed - bare) * 1000
    return [Figure("sandbox overhead (start, load, call, exit)", sandboxed * 1000, bare * 1000,
                   "ms", "≤ 50 ms added", added_ms <= 50,
                   f"added {added_ms:.1f} ms per sandbox; medians of {repeats} alternated runs")]
