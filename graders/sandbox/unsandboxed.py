"""``--no-sandbox``: the harness as a plain child process, for debugging a grader only.

Nothing here protects the host or the solutions: the student's code runs with
the grader's own permissions and sees its files and environment. The CLI
prints a loud warning whenever this is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .limits import Limits
from .process import HarnessProcess
from .runtime import CHILD_ENV, HARNESS_DIR


class UnsandboxedProcess(HarnessProcess):
    def __init__(self, limits: Limits, provided_dir: Path | None = None) -> None:
        super().__init__(limits)
        self.provided_dir = provided_dir

    def _spawn(self, harness_in: int, harness_out: int, out_w: int, err_w: int
               ) -> subprocess.Popen[bytes]:
        paths = [str(HARNESS_DIR.parent)]
        if self.provided_dir is not None:
            paths.append(str(self.provided_dir))
        boot = (f"import sys; sys.path[:0] = {paths!r}; "
                f"from harness.main import main; main(['harness', '{harness_in}', "
                f"'{harness_out}'])")
        env = {**os.environ, **CHILD_ENV}
        return subprocess.Popen([sys.executable, "-I", "-c", boot], stdin=subprocess.DEVNULL,
                                stdout=out_w, stderr=err_w, pass_fds=[harness_in, harness_out],
                                env=env, cwd=os.getcwd())
