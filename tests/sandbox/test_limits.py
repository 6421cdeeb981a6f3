"""One test per limit of a bare sandbox, driven from the trusted side.

No submission is loaded: each test asks the harness to call a standard
library function (``{"op": "call", "target": {"provided": "module:function"}}``)
and checks what the sandbox allowed, what it refused, and how the refusal
reached the caller.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import MiB

from graders.errors import MemoryLimit, OutputLimit, TimeLimit
from graders.harness.wire import Tag
from graders.sandbox import HarnessProcess, open_harness
from graders.sandbox.bwrap import PASS_ENV
from graders.sandbox.limits import Limits
from graders.sandbox.slots import BASE_UID

pytestmark = pytest.mark.usefixtures("launcher")

PYTHON = sys.executable   # the runtime is bound at the same path inside
FORKER = (
    "import errno, os, time\n"
    "n = 0\n"
    "try:\n"
    "    while True:\n"
    "        if os.fork() == 0:\n"
    "            os.closerange(0, 3)\n"
    "            time.sleep(30)\n"
    "            os._exit(0)\n"
    "        n += 1\n"
    "except OSError as e:\n"
    "    print(n, errno.errorcode[e.errno])\n"
)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[HarnessProcess]:
    """A started sandbox; ``@pytest.mark.parametrize("sandbox", [Limits(...)], indirect=True)``."""
    limits = getattr(request, "param", Limits())
    with open_harness(limits) as proc:
        yield proc


def limits(**changes: Any) -> Any:
    return pytest.mark.parametrize("sandbox", [Limits(**changes)], indirect=True)


def call(proc: HarnessProcess, target: str, *args: Any, timeout: float = 15.0,
         **kwargs: Any) -> dict[str, Any]:
    return proc.request({"op": "call", "target": {"provided": target}, "args": list(args),
                         "kwargs": kwargs}, timeout)


def value(proc: HarnessProcess, target: str, *args: Any, **kwargs: Any) -> Any:
    reply = call(proc, target, *args, **kwargs)
    assert reply["ok"], reply
    return reply["value"]


def shell(proc: HarnessProcess, command: str, timeout: float = 15.0) -> str:
    """Output of ``sh -c command`` run inside (stdout and stderr together)."""
    return value(proc, "subprocess:getoutput", command, timeout=timeout)


def read_text(proc: HarnessProcess, path: str) -> str:
    handle = value(proc, "builtins:open", path)
    assert isinstance(handle, Tag) and handle.name == "handle", handle
    reply = proc.request({"op": "call", "target": {"handle": handle.value[0], "method": "read"},
                          "args": []}, 10.0)
    assert reply["ok"], reply
    return reply["value"]


# -- memory ----------------------------------------------------------------------------------

@limits(memory_bytes=128 * MiB)
def test_memory_limit_kills_and_is_reported_as_memory_limit(sandbox, watch):
    with pytest.raises(MemoryLimit, match=r"more than 128 MB of memory \(limit 128 MB\)"):
        call(sandbox, "operator:mul", "x", 400 * MiB)   # a 400 MB string, written in full
    sandbox.close()
    assert watch.final().oom_kills >= 1
    assert watch.final().memory_peak <= 128 * MiB


@limits(memory_bytes=128 * MiB)
def test_memory_limit_covers_child_processes(sandbox, watch):
    out = shell(sandbox, f"{PYTHON} -c 'b = bytearray(400 << 20); print(\"survived\")'; "
                         "echo status=$?")
    assert "survived" not in out
    assert "status=137" in out                 # SIGKILL from the cgroup's OOM killer
    assert value(sandbox, "os:getpid") > 0     # the harness itself is fine
    sandbox.close()
    assert watch.final().oom_kills >= 1


# -- processes -------------------------------------------------------------------------------

@limits(pids=16)
def test_pids_limit_refuses_forks_past_the_limit(sandbox, watch):
    with watch.sampling_pids():
        out = shell(sandbox, f"{PYTHON} -c '{FORKER}'")
    found = re.fullmatch(r"(\d+) EAGAIN", out.strip())
    assert found, out
    assert 5 <= int(found.group(1)) < 16
    assert watch.peak_pids <= 16
    assert value(sandbox, "os:getpid") > 0     # still answering with 16 processes around


# -- time ------------------------------------------------------------------------------------

CATASTROPHIC = ("(a+)+$", "a" * 40 + "b")      # one C call that never returns


@limits(cpu_s=1)
def test_cpu_time_limit_is_reported_as_cpu_time(sandbox):
    started = time.monotonic()
    with pytest.raises(TimeLimit, match=r"of CPU time (for the whole submission )?\(limit 1 s\)"):
        call(sandbox, "re:match", *CATASTROPHIC, timeout=30)
    assert time.monotonic() - started < 10


@limits(cpu_s=1)
def test_cpu_time_limit_counts_the_whole_process_tree(sandbox):
    """Three processes of 0.7 s each: none reaches the limit alone, together they do."""
    burn = "import time\nwhile time.process_time() < 0.7: pass"
    command = " & ".join([f"{PYTHON} -c '{burn}'"] * 3) + "; wait"
    with pytest.raises(TimeLimit, match="CPU time"):
        shell(sandbox, command, timeout=30)


def test_wall_clock_limit_of_one_request(sandbox):
    started = time.monotonic()
    with pytest.raises(TimeLimit) as caught:
        call(sandbox, "time:sleep", 30, timeout=0.5)
    assert str(caught.value) == "Stopped after 0.5 s of wall-clock time (limit 0.5 s)."
    assert time.monotonic() - started < 3
    assert not sandbox.alive
    assert sandbox.cgroup is not None and sandbox.cgroup.pids() == set()


@limits(wall_s=1.0)
def test_wall_clock_limit_of_the_whole_sandbox(sandbox):
    started = time.monotonic()
    with pytest.raises(TimeLimit, match=r"1 s of wall-clock time for the whole submission"):
        call(sandbox, "time:sleep", 30, timeout=30)
    assert time.monotonic() - started < 3


# -- output ----------------------------------------------------------------------------------

@limits(output_bytes=1000)
def test_stdout_and_stderr_are_truncated_and_the_rest_counted(sandbox):
    call(sandbox, "builtins:print", "x" * 100_000, end="", flush=True)
    call(sandbox, "subprocess:call", "head -c 200000 /dev/zero >&2", shell=True)
    sandbox.close()                            # joins the threads that drain the pipes
    assert bytes(sandbox.stdout.data) == b"x" * 500
    assert sandbox.stdout.dropped == 100_000 - 500
    assert len(sandbox.stderr.data) == 500
    assert sandbox.stderr.dropped == 200_000 - 500
    assert sandbox.stderr.text().endswith("[... 199500 more bytes of output not kept]")


@pytest.mark.parametrize(("target", "args"), [
    ("numpy:zeros", [1 << 18]),                # 2 MiB of array data
    ("operator:mul", ["x", 2 * MiB]),          # 2 MiB of JSON text
])
@limits(message_bytes=1 * MiB)
def test_reply_larger_than_the_message_limit_is_refused(sandbox, target, args):
    with pytest.raises(OutputLimit, match=r"limit 1.0 MB"):
        call(sandbox, target, *args)
    assert not sandbox.alive


# -- disk ------------------------------------------------------------------------------------

def test_file_size_limit_stops_a_file_at_16_mb(sandbox):
    out = shell(sandbox, "head -c 20000000 /dev/zero > big; echo status=$?; stat -c %s big")
    assert "status=153" in out                 # 128 + SIGXFSZ
    assert out.split()[-1] == str(16 * MiB)


def test_scratch_tmpfs_holds_at_most_64_mb(sandbox):
    out = shell(sandbox, "for i in 1 2 3 4 5 6; do head -c 15000000 /dev/zero > f$i; done; "
                         "du -sb /tmp; df -B1 --output=size /tmp")
    assert "No space left on device" in out
    used = int(re.search(r"(\d+)\s+/tmp", out).group(1))
    assert used <= 64 * MiB
    assert out.split()[-1] == str(64 * MiB)


# -- network, identity, environment, filesystem ----------------------------------------------

@pytest.mark.parametrize(("family", "kind"), [(2, 1), (10, 1), (16, 3), (17, 3)],
                         ids=["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"])
def test_seccomp_refuses_sockets_other_than_unix(sandbox, family, kind):
    reply = call(sandbox, "socket:socket", family, kind)
    assert not reply["ok"]
    assert reply["error"]["message"] == "[Errno 97] Address family not supported by protocol"


def test_unix_sockets_still_work(sandbox):
    assert value(sandbox, "socket:socket", 1, 1).name == "handle"
    assert value(sandbox, "socket:gethostname") == "sandbox"


def test_runs_as_the_slots_own_unprivileged_uid(sandbox, launcher):
    # A forked sandbox has its template's slot, which serves one submission at a time.
    slot = sandbox.slot if launcher == "bwrap" else sandbox.zygote.box.slot
    uid = 61000 + slot.index
    assert value(sandbox, "os:getuid") == value(sandbox, "os:geteuid") == uid
    assert value(sandbox, "os:getgid") == uid
    assert value(sandbox, "os:getgroups") == []
    status = dict(line.split(":\t", 1) for line in read_text(sandbox, "/proc/self/status")
                  .splitlines() if ":\t" in line)
    assert status["CapEff"] == status["CapPrm"] == status["CapBnd"] == "0000000000000000"
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"             # a filter is installed
    assert value(sandbox, "os:getppid") == 1    # its own pid namespace


def test_environment_is_the_fixed_minimal_one(monkeypatch):
    monkeypatch.setenv("DLGRADE_TEST_SECRET_KEY", "s3cr3t")
    with open_harness(Limits()) as proc:
        raw = read_text(proc, "/proc/self/environ")
    env = dict(item.split("=", 1) for item in raw.split("\0") if item)
    expected = {
        "HOME": "/tmp", "PATH": "/usr/local/bin:/usr/bin:/bin", "PWD": "/tmp",
        "LANG": "C.UTF-8", "USER": "student", "LOGNAME": "student",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "TORCH_DISABLE_ADDR2LINE": "1",
        **{k: os.environ[k] for k in PASS_ENV if k in os.environ},
    }
    assert env == expected


def test_root_holds_only_the_runtime_and_the_sandboxs_own_dirs(sandbox):
    root = set(value(sandbox, "os:listdir", "/"))
    own = {"usr", "etc", "proc", "dev", "tmp", "opt"}
    system = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}
    runtime = {p.split("/")[1] for p in {sys.base_prefix, sys.prefix}}
    assert own <= root
    assert root <= own | system | runtime, root - own - system - runtime
    assert sorted(value(sandbox, "os:listdir", "/etc")) == [
        "ld.so.cache", "ld.so.conf", "localtime"]
    assert sorted(value(sandbox, "os:listdir", "/opt/dlgrade")) == ["harness"]
    # The scratch dir starts empty but for matplotlib's prebuilt font list.
    assert value(sandbox, "os:listdir", "/tmp") in ([], [".matplotlib"])


def test_two_sandboxes_at_once_share_nothing(sandbox):
    """Another submission graded at the same time: its files, processes and uid are apart."""
    with open_harness(Limits()) as other:
        handle = value(sandbox, "builtins:open", "/tmp/answers.txt", "w")
        sandbox.request({"op": "call", "target": {"handle": handle.value[0], "method": "close"},
                         "args": []}, 10.0)
        mine = set(value(sandbox, "os:listdir", "/tmp")) - {".matplotlib"}
        theirs = set(value(other, "os:listdir", "/tmp")) - {".matplotlib"}
        assert (mine, theirs) == ({"answers.txt"}, set())
        pids = sorted(int(p) for p in value(other, "os:listdir", "/proc") if p.isdigit())
        assert pids == [1, 2]                   # its own init and its own harness only
        assert value(other, "os:getuid") != value(sandbox, "os:getuid")


def test_rlimits_are_set_from_the_limits(sandbox):
    lim = sandbox.limits
    rlimit = {name: value(sandbox, "resource:getrlimit", number)
              for name, number in [("cpu", 0), ("fsize", 1), ("core", 4), ("nproc", 6),
                                   ("nofile", 7)]}
    cpu = int(lim.cpu_s) + 1
    assert rlimit == {"cpu": (cpu, cpu + 1), "fsize": (lim.file_bytes, lim.file_bytes),
                      "core": (0, 0), "nproc": (lim.pids, lim.pids),
                      "nofile": (lim.open_files, lim.open_files)}


def test_the_graders_own_memory_ceiling_does_not_reach_the_sandbox():
    """The grading process runs under a data rlimit (service/isolation.py); the student's
    memory is the cgroup's to limit, so the sandbox starts without that ceiling."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (8192 * MiB, hard))
    try:
        with open_harness(Limits()) as proc:
            resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
            assert value(proc, "resource:getrlimit", resource.RLIMIT_DATA) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _tasks_of_uid(uid: int) -> list[str]:
    """Every process (zombies included) whose real uid is ``uid``, as ``pid state``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid:
            found.append(f"{status.parent.name} {fields['State'].strip()}")
    return found


@pytest.mark.bwrap_only   # a forked child's processes are the template's to reap, inside
def test_a_closed_sandbox_leaves_no_process_of_its_uid_behind(watch):
    """A zombie left for the host's pid 1 counts against the next sandbox's process limit."""
    with open_harness(Limits()) as proc:
        shell(proc, "sleep 30 > /dev/null 2>&1 &")   # alive when the sandbox is killed
    uid = BASE_UID + watch.slots[0]
    assert _tasks_of_uid(uid) == []
