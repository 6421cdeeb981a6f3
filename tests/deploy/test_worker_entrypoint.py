"""The worker container's entrypoint makes cgroup v1 controllers writable.

A container runtime with a private cgroup namespace mounts each v1 controller
read-only; the sandbox then cannot create its cgroups. The test rebuilds that
situation in a private mount namespace of this (cgroup v1) host, so nothing
outside the test changes, and runs the real entrypoint in it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).parents[2] / "docker" / "worker-entrypoint.sh"
CGROUP_V1 = not Path("/sys/fs/cgroup/cgroup.controllers").exists() and Path(
    "/sys/fs/cgroup/memory").is_dir()

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not CGROUP_V1,
                                reason="needs root on a cgroup v1 host, as CI has")

# In a private mount namespace: make every v1 controller read-only as a container
# runtime does, then run the given command, which prints the mounts it sees.
READ_ONLY_CGROUPS = """
while read -r _ dir type _; do
    [ "$type" = cgroup ] && mount -o remount,bind,ro "$dir"
done < /proc/self/mounts
exec "$@"
"""


def cgroup_mount_options(*command: str) -> dict[str, str]:
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_CGROUPS,
         "sh", *command, "cat", "/proc/self/mounts"],
        capture_output=True, text=True, timeout=30, check=True)
    return {fields[1]: fields[3].split(",")[0] for fields in map(str.split, run.stdout.splitlines())
            if fields[2] == "cgroup"}


def test_read_only_v1_controllers_are_remounted_writable():
    before = cgroup_mount_options()
    assert before and set(before.values()) == {"ro"}, before  # the container's situation
    after = cgroup_mount_options("sh", str(ENTRYPOINT))
    assert after == dict.fromkeys(before, "rw")
    assert {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"} <= set(after)
