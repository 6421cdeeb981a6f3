"""One unprivileged uid per concurrent sandbox, handed out with file locks.

bubblewrap run by root with a new user namespace maps the sandbox user to
root outside; dropping to a uid of its own first means root-only files are
never readable, and RLIMIT_NPROC counts only that sandbox's processes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

BASE_UID = 61000
SLOTS = 64
LOCK_DIR = Path("/run/dlgrade/slots") if os.access("/run", os.W_OK) else Path("/tmp/dlgrade-slots")


class Slot:
    def __init__(self) -> None:
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        for n in range(SLOTS):
            fd = os.open(LOCK_DIR / f"{n}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.fd, self.index, self.uid = fd, n, BASE_UID + n
            return
        raise RuntimeError(f"all {SLOTS} sandbox slots are busy")

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
