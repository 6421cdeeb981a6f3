"""Plotting notebooks must not rebuild matplotlib's font cache in every sandbox."""

from __future__ import annotations

import time

from graders.sandbox import Limits, open_harness
from graders.sandbox.fontcache import INSIDE_DIR, fontlist


def _call(proc, target, *args):
    reply = proc.request({"op": "call", "target": {"provided": target}, "args": list(args)}, 60)
    assert reply["ok"], reply
    return reply["value"]


def test_the_sandbox_starts_with_the_hosts_font_list_and_matplotlib_uses_it():
    name, _path = fontlist()
    proc = open_harness(Limits())
    proc.start()
    try:
        assert name in _call(proc, "os:listdir", INSIDE_DIR)
        t = time.perf_counter()
        font = _call(proc, "matplotlib.font_manager:findfont", "DejaVu Sans")
        took = time.perf_counter() - t
        assert font.endswith(".ttf")
        # Without the list, fc-list runs and the import alone takes ~0.3-0.4 s here.
        listing = _call(proc, "os:listdir", INSIDE_DIR)
        assert sorted(listing) == [name], listing  # nothing rebuilt next to it
        assert took < 2.0
    finally:
        proc.close()
