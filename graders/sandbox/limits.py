"""Resource limits for one sandbox, with defaults that suit layer-level probes."""

from __future__ import annotations

from dataclasses import dataclass, replace

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0           # whole sandbox lifetime, enforced by the trusted side
    cpu_s: float = 120.0            # CPU seconds of the whole process tree (RLIMIT_CPU + cgroup)
    memory_bytes: int = 2048 * MiB  # memory cgroup, swap included
    pids: int = 64                  # pids cgroup and RLIMIT_NPROC
    file_bytes: int = 16 * MiB      # RLIMIT_FSIZE: largest file the code may write
    scratch_bytes: int = 64 * MiB   # size of the private tmpfs
    output_bytes: int = 64 * 1024   # stdout+stderr kept for feedback; the rest is counted
    message_bytes: int = 256 * MiB  # largest frame accepted on the result channel
    header_bytes: int = 1 * MiB     # largest JSON part of a frame (arrays travel as raw bytes)
    open_files: int = 256

    def with_(self, **changes: float) -> Limits:
        return replace(self, **changes)  # type: ignore[arg-type]
