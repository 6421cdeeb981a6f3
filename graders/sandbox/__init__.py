"""Running untrusted code: bubblewrap in production, a plain process for debugging."""

from __future__ import annotations

from pathlib import Path

from .limits import Limits
from .process import HarnessProcess


def open_harness(limits: Limits, *, sandbox: bool = True,
                 provided_dir: Path | None = None) -> HarnessProcess:
    if sandbox:
        from .bwrap import BwrapSandbox
        return BwrapSandbox(limits, provided_dir)
    from .unsandboxed import UnsandboxedProcess
    return UnsandboxedProcess(limits, provided_dir)


__all__ = ["HarnessProcess", "Limits", "open_harness"]
