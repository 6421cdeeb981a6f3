"""Running untrusted code: bubblewrap in production, a plain process for debugging."""

from __future__ import annotations

from pathlib import Path

from .limits import Limits
from .process import HarnessProcess
from .runtime import Replacements


def open_harness(limits: Limits, *, sandbox: bool = True, provided_dir: Path | None = None,
                 replace: Replacements = ()) -> HarnessProcess:
    """``replace``: (file on the host, path inside) pairs that cover an installed file in the
    sandbox (held-out data that ships inside a package); ignored without a sandbox."""
    if sandbox:
        from .bwrap import BwrapSandbox
        return BwrapSandbox(limits, provided_dir, replace)
    from .unsandboxed import UnsandboxedProcess
    return UnsandboxedProcess(limits, provided_dir)


__all__ = ["HarnessProcess", "Limits", "Replacements", "open_harness"]
