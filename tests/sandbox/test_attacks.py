"""Attack submissions against real sandboxes: each gets no credit, and we say what stopped it.

Every file in ``adversarial/`` is a student submission for radboud-dl-a1
whose ``sigmoid`` (or top-level code) attacks the grader. Each test asserts
the verdict and its message, the defence that did the work (a kernel
counter, an errno, a file absent inside, the process table of the host),
that the wall time stayed bounded and that the grader keeps working. Where
it is safe, the same file graded with ``sandbox=False`` earns the point,
because its ``sigmoid`` returns the true sigmoid only when the attack
succeeds: so a test cannot pass because the attack itself was broken.
Fork bombs, memory hogs, disk fillers and signals to the parent are never
run without the sandbox, nor is any connection to a public address.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from sandbox_support import (
    ADVERSARIAL,
    REPO,
    MiB,
    adversarial,
    assert_grader_healthy,
    grade_file,
    in_cgroups,
    processes_named,
)

import graders.sandbox.seccomp as seccomp
from graders.assignments import registry
from graders.sandbox import bwrap, runtime

pytestmark = pytest.mark.usefixtures("launcher")

# The sandbox's pid 1: bubblewrap's own, or the fork server's (graders/harness/zygote.py).
INIT = {"bwrap": "bwrap", "forked": "dlgrade-init"}
TIME_LIMIT = re.compile(r"Stopped after [\d.]+ s of (wall-clock|CPU) time")
# What bubblewrap is told to set (graders/sandbox/bwrap.py), plus what it adds itself.
SANDBOX_ENV = {"HOME", "PATH", "LANG", "USER", "LOGNAME", "MPLBACKEND", "MPLCONFIGDIR",
               "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "OMP_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_DISABLE_ADDR2LINE", "PWD",
               *bwrap.PASS_ENV}


@pytest.fixture
def no_seccomp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sandboxes without the syscall filter: shows what the namespaces alone still stop."""
    monkeypatch.setattr(seccomp, "filter_fd", lambda: None)


# -- exhausting the machine ---------------------------------------------------------------------

def test_fork_bomb_is_held_at_the_pids_limit_and_stopped_by_the_time_limit(watch):
    with watch.sampling_pids():
        run = grade_file(adversarial("fork_bomb.py"), "sigmoid", "relu", timeout_s=2, pids=32)

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert TIME_LIMIT.search(sigmoid.message), sigmoid.message
    assert 3 <= watch.peak_pids <= 32          # the bomb went off, and stayed under the limit
    assert run["relu"].status == "passed"       # in a fresh sandbox
    assert len(watch.sandboxes) == 2
    assert run.seconds < 15
    assert_grader_healthy()


def test_forks_beyond_the_process_limit_fail_with_eagain(watch):
    with watch.sampling_pids():
        run = grade_file(adversarial("fork_counter.py"), "sigmoid", "relu", pids=32)

    found = re.search(r"fork failed after (\d+) workers: EAGAIN", run["sigmoid"].message)
    assert found, run["sigmoid"].message
    assert 10 <= int(found.group(1)) < 32
    assert watch.peak_pids <= 32
    # The sandbox is still usable with its 30-odd sleeping workers, then all of them go.
    assert run["relu"].status == "passed"
    assert len(watch.sandboxes) == 1
    assert in_cgroups(watch.cgroups) == []
    assert_grader_healthy()


def test_memory_hog_is_killed_by_the_memory_cgroup(watch):
    run = grade_file(adversarial("memory_hog.py"), "sigmoid", "relu", memory_bytes=256 * MiB)

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert "more than 256 MB of memory (limit 256 MB)" in sigmoid.message
    assert watch.final(0).oom_kills >= 1
    assert watch.final(0).memory_peak <= 256 * MiB
    assert run["relu"].status == "passed"
    assert run.seconds < 15
    assert_grader_healthy()


def test_cpu_spin_is_stopped_at_the_problems_time_limit(watch):
    run = grade_file(adversarial("cpu_spin.py"), "sigmoid", "relu", timeout_s=2)

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert TIME_LIMIT.search(sigmoid.message), sigmoid.message
    assert watch.final(0).cpu_s < 4          # killed, not left spinning in the background
    assert run["relu"].status == "passed"
    assert run.seconds < 8
    assert_grader_healthy()


def test_sleeping_past_the_wall_clock_is_stopped(watch):
    run = grade_file(adversarial("sleeper.py"), "sigmoid", "relu", timeout_s=1)

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert "s of wall-clock time" in sigmoid.message
    assert watch.final(0).cpu_s < 1
    assert run["relu"].status == "passed"
    assert run.seconds < 6
    assert_grader_healthy()


def test_time_limit_message_names_the_problems_own_limit():
    run = grade_file(adversarial("sleeper.py"), timeout_s=1.5)

    assert run["sigmoid"].message == (
        "Stopped after 1.5 s of wall-clock time (limit 1.5 s).")


def test_sleeping_at_import_costs_only_that_statement():
    run = grade_file(adversarial("sleep_at_import.py"), statement_timeout_s=1)

    assert run["sigmoid"].status == "passed"   # the correct part still earns its point
    assert any("stopped after 1.0 s (statement time budget)" in line
               for line in run.grade.load_log), run.grade.load_log
    assert run.seconds < 5


def test_disk_filler_stops_at_the_file_size_limit_and_the_scratch_size(watch):
    run = grade_file(adversarial("disk_filler.py"))

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    found = re.search(r"stopped growing after (\d+) MB", sigmoid.message)
    assert found, sigmoid.message
    assert int(found.group(1)) <= 64           # the scratch tmpfs is 64 MB
    assert "EFBIG" in sigmoid.message          # RLIMIT_FSIZE: no file over 16 MB
    assert "ENOSPC" in sigmoid.message         # then the tmpfs is full
    assert not list(Path.cwd().glob("sigmoid_cache_*.bin"))
    assert run.seconds < 10
    assert_grader_healthy()


def test_disk_filler_cannot_go_past_the_scratch_size_elsewhere(watch):
    """The scratch tmpfs is meant to be the only writable place (docs/threat-model.md)."""
    run = grade_file(adversarial("disk_filler_outside_tmp.py"), memory_bytes=512 * MiB)

    sigmoid = run["sigmoid"]
    assert sigmoid.score == 0.0, "wrote more than the 64 MB scratch size outside /tmp"
    assert "could not cache outside /tmp" in sigmoid.message
    assert_grader_healthy()


def test_stdout_and_stderr_floods_are_drained_and_kept_bounded(watch):
    run = grade_file(adversarial("output_flood.py"), trace_memory=True)

    assert run["sigmoid"].status == "passed"   # noise costs nothing, and earns nothing
    kept = watch.sandboxes[0].limits.output_bytes // 2
    for stream in (watch.sandboxes[0].stdout, watch.sandboxes[0].stderr):
        assert len(stream.data) == kept
        assert stream.dropped > 150 * MiB      # two calls of about 100 MB each
        assert stream.text().endswith("more bytes of output not kept]")
    assert run.traced_peak < 16 * MiB           # never held in memory
    assert run.seconds < 15
    assert_grader_healthy()


def test_endless_output_is_stopped_by_the_time_limit_with_output_bounded(watch):
    run = grade_file(adversarial("endless_output.py"), timeout_s=2)

    assert run["sigmoid"].status == "error"
    assert TIME_LIMIT.search(run["sigmoid"].message), run["sigmoid"].message
    box = watch.sandboxes[0]
    assert len(box.stdout.data) + len(box.stderr.data) <= box.limits.output_bytes
    assert box.stdout.dropped > 0 and box.stderr.dropped > 0
    assert run.seconds < 8
    assert_grader_healthy()


# -- the network --------------------------------------------------------------------------------

@dataclass
class Listener:
    port: int
    received: list[bytes] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A TCP server on the host's loopback that answers "ok" to anyone who connects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    state = Listener(server.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    state.received.append(conn.recv(64))
                    conn.sendall(b"ok\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join()
    server.close()


def test_loopback_socket_is_refused_by_seccomp(listener, tmp_path):
    attack = adversarial("socket_loopback.py", tmp_path, PORT=listener.port)

    run = grade_file(attack)
    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert "[Errno 97] Address family not supported by protocol" in run["sigmoid"].message
    assert listener.received == []
    assert_grader_healthy()

    unprotected = grade_file(attack, sandbox=False)
    assert unprotected["sigmoid"].status == "passed"
    assert listener.received[0].startswith(b"hello from the sandbox")


def test_without_seccomp_the_network_namespace_still_keeps_loopback_apart(
        listener, tmp_path, no_seccomp):
    run = grade_file(adversarial("socket_loopback.py", tmp_path, PORT=listener.port))

    # The socket exists now, but the sandbox's loopback is its own: nobody listens there.
    assert "[Errno 111] Connection refused" in run["sigmoid"].message
    assert run["sigmoid"].score == 0.0
    assert listener.received == []


def test_public_address_is_refused_by_seccomp():
    run = grade_file(adversarial("socket_public.py"))

    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert "[Errno 97] Address family not supported by protocol" in run["sigmoid"].message
    assert_grader_healthy()


def test_without_seccomp_a_public_address_is_unreachable(no_seccomp):
    run = grade_file(adversarial("socket_public.py"))

    assert "[Errno 101] Network is unreachable" in run["sigmoid"].message
    assert run["sigmoid"].score == 0.0


def test_io_uring_cannot_make_an_inet_socket_either():
    """The seccomp rule filters socket(2); io_uring's IORING_OP_SOCKET must not get around it."""
    run = grade_file(adversarial("io_uring_socket.py"))

    assert run["sigmoid"].score == 0.0
    assert "made an AF_INET socket" not in run["sigmoid"].message, run["sigmoid"].message
    assert_grader_healthy()


# -- reading what is not the student's ---------------------------------------------------------

def test_reference_solution_is_absent_inside():
    attack = adversarial("read_reference.py")

    run = grade_file(attack)
    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert "import: " in sigmoid.message          # no real package, whatever stands in
    assert "/opt/reference/radboud_dl_a1/__init__.py: FileNotFoundError" in sigmoid.message
    assert "PermissionError" not in sigmoid.message   # absent, not merely forbidden
    assert_grader_healthy()

    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"


def test_the_test_half_of_the_digits_is_absent_inside():
    """Inside, scikit-learn's bundled digits are the 898 training images train_digits hands
    out; outside the sandbox the same code reads all 1797, test labels included."""
    from sklearn.datasets import load_digits

    from graders.assignments.radboud_dl_a1.data import N_TRAIN, SHUFFLE_SEED

    full = load_digits()
    train = np.sort(np.random.default_rng(SHUFFLE_SEED).permutation(len(full.data))[:N_TRAIN])

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]

    attack = adversarial("read_test_digits.py")
    inside = grade_file(attack, "sigmoid")["sigmoid"].message
    assert (f"seen: {N_TRAIN} images {digest(full.data[train])} labels "
            f"{digest(full.target[train])}") in inside
    unsandboxed = grade_file(attack, "sigmoid", sandbox=False)["sigmoid"].message
    assert f"seen: {len(full.data)} images {digest(full.data)}" in unsandboxed
    assert_grader_healthy()


# The runtime's mounts are the subject: a template has them as bubblewrap made them.
@pytest.mark.bwrap_only
def test_no_copy_of_the_digits_inside_holds_the_test_half(tmp_path, monkeypatch):
    """A second scikit-learn in another package directory that ``/usr`` or the runtime's
    roots bring in (here: a venv's base interpreter with its own scikit-learn, all 1797
    digits) is no way round the replaced file: that directory is covered, and every copy
    of the file left inside holds the 898 training images.

    Before, only the copy the grader's ``find_spec`` found was replaced.
    """
    import sklearn

    from graders.assignments.radboud_dl_a1.data import N_TRAIN

    original = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
    base = tmp_path / "base"
    copy = base / "lib" / "python3.11" / "site-packages" / "sklearn" / "datasets" / "data"
    copy.mkdir(parents=True)
    (copy / "digits.csv.gz").write_bytes(original.read_bytes())
    for folder in (tmp_path, *copy.relative_to(tmp_path).parents, copy.relative_to(tmp_path)):
        (tmp_path / folder).chmod(0o755)
    own = runtime.discover()
    with_base = runtime.discover(prefixes=(str(base), sys.prefix))
    assert base.resolve() in with_base.roots  # bound, as a venv's base interpreter is
    monkeypatch.setattr(bwrap, "_runtime", with_base)

    message = grade_file(adversarial("find_digits_copies.py"))["sigmoid"].message
    listing = message.split("copies: ")[1].rsplit(" (find_digits_copies.py", 1)[0]
    copies = dict(item.split("=") for item in listing.split("; "))
    assert str(original.resolve()) in copies, message
    assert set(copies.values()) == {str(N_TRAIN)}, message
    for masked in own.masked:  # the system's packages on this host, when not the runtime's
        assert not any(path.startswith(f"{masked}/") for path in copies), message
    assert_grader_healthy()


def test_host_files_are_absent_inside(tmp_path):
    planted = tmp_path / "grader-secret.txt"
    planted.write_text("only the grading machine has this\n")
    planted.chmod(0o600)
    attack = adversarial("read_host_files.py", tmp_path, PLANTED=str(planted))

    run = grade_file(attack)
    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    report = dict(re.findall(r"'(/[^']*)': '(\w+)'", run["sigmoid"].message))
    assert set(report) == {"/etc/shadow", "/etc/passwd", "/root/.bashrc", "/work",
                           "/work/main/README.md", "/work/shared/STYLE.md", "/home"}
    assert set(report.values()) == {"absent"}, report
    assert_grader_healthy()

    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"


@pytest.fixture
def host_process() -> Iterator[str]:
    """A process on the host with a unique word in its command line."""
    marker = f"dlgrade-host-marker-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
    yield marker
    proc.kill()
    proc.wait()


def test_host_processes_are_invisible_inside(host_process, tmp_path, launcher):
    attack = adversarial("host_proc.py", tmp_path, MARKER=host_process)

    run = grade_file(attack)
    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert f"pid 1 is '{INIT[launcher]}'" in sigmoid.message   # the sandbox's own init
    found = re.search(r"(\d+) processes visible", sigmoid.message)
    assert found and int(found.group(1)) <= 3, sigmoid.message
    assert_grader_healthy()

    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"


def test_callers_environment_is_invisible_inside(monkeypatch):
    monkeypatch.setenv("DLGRADE_TEST_SECRET_KEY", "s3cr3t")
    attack = adversarial("read_environment.py")

    run = grade_file(attack)
    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    seen = set(re.findall(r"'(\w+)'", sigmoid.message.split("environment:", 1)[1]))
    assert "PATH" in seen and "HOME" in seen
    assert seen <= SANDBOX_ENV, seen - SANDBOX_ENV
    assert_grader_healthy()

    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"


# -- writing where it should not ----------------------------------------------------------------

def test_writes_never_reach_the_host(tmp_path):
    target = tmp_path / "note-from-a-student.txt"
    attack = adversarial("write_outside_scratch.py", tmp_path, HOST_TARGET=str(target))

    run = grade_file(attack)
    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert not target.exists()
    assert_grader_healthy()

    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"
    assert target.read_text() == "sigmoid: full marks please\n"


def test_the_scratch_dir_is_the_only_writable_place():
    run = grade_file(adversarial("write_outside_scratch.py"))

    report = dict(re.findall(r"'(/[^']*)': '(\w+)'", run["sigmoid"].message))
    assert len(report) == 8, run["sigmoid"].message
    writable = sorted(path for path, outcome in report.items() if outcome == "written")
    # /dev/shm stays writable for POSIX semaphores (multiprocessing), as a 1 MB tmpfs.
    assert [p for p in writable if not p.startswith("/dev/shm/")] == [], writable


# -- faking the result --------------------------------------------------------------------------

def test_printed_and_written_results_earn_nothing(watch, tmp_path, monkeypatch):
    attack = adversarial("fake_results.py")

    run = grade_file(attack)
    assert (run["sigmoid"].status, run["sigmoid"].score) == ("failed", 0.0)
    assert '"score": 21.0' in watch.sandboxes[0].stdout.text()   # printed, and ignored
    assert not (Path.cwd() / "results.json").exists()
    assert_grader_healthy()

    # Without the sandbox the file is really written, and still changes nothing.
    monkeypatch.chdir(tmp_path)
    unprotected = grade_file(attack, sandbox=False)
    assert unprotected["sigmoid"].score == 0.0
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 21.0


# The CLI in a process of its own starts its sandboxes with bubblewrap.
@pytest.mark.bwrap_only
def test_printed_results_never_reach_the_clis_json_output():
    out = subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", "radboud-dl-a1",
         str(ADVERSARIAL / "fake_results.py"), "--json", "--problem", "sigmoid", "--seed", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)

    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout
    result = json.loads(lines[0])
    assert (result["score"], result["max_score"]) == (0.0, 1.0)
    assert result["problems"][0]["status"] == "failed"


def test_a_forged_reply_cannot_balloon_the_graders_memory():
    """The submission writes its own 1.2 MB reply frame on the result pipe.

    The trusted side must refuse it, or at least not turn it into many times
    its size in Python objects: here 400 000 empty JSON lists.
    """
    run = grade_file(adversarial("forge_reply.py"), trace_memory=True)

    assert run["sigmoid"].score == 0.0
    assert run.traced_peak < 16 * MiB, f"the grader took {run.traced_peak / MiB:.0f} MB"
    assert_grader_healthy()


def test_patching_numpy_and_builtins_changes_nothing():
    attack = adversarial("patch_numpy.py")

    for sandbox in (True, False):
        run = grade_file(attack, sandbox=sandbox)
        # "failed", not "error": the patches were live in the student's process (sigmoid
        # checks), and irrelevant, because every comparison runs in this one.
        assert (run["sigmoid"].status, run["sigmoid"].score) == ("failed", 0.0)
        assert "Every entry is 0" in run["sigmoid"].message
    assert not np.allclose(0.0, 1.0)
    assert_grader_healthy()


def test_patching_the_courses_training_loop_earns_nothing(tmp_path):
    """Layers that cannot learn, and the course's loop replaced at load time by one of the
    submission's own that returns well-trained parameters of the right shapes.

    The course's modules are restored to their state before the submission loaded
    whenever their code is called, so the grader's own loop trains the student's
    layers; without that restore the replacement earned full marks.
    """
    attack = adversarial("patch_training_loop.py")
    honest = tmp_path / "no_trick.py"
    honest.write_text(attack.read_text().split("# --- the trick")[0])

    patched = grade_file(attack, "train_digits", seed=5)["train_digits"]
    plain = grade_file(honest, "train_digits", seed=5)["train_digits"]

    assert plain.score == 0.0, plain.message     # the layers really do not learn
    assert patched.score == plain.score, patched.message
    assert grade_file(attack, "train_digits", seed=5, sandbox=False)[
        "train_digits"].score == 0.0  # the restore is the harness's: sandbox or not


@pytest.mark.parametrize("trick", ["code", "class"])
def test_patching_the_course_code_behind_its_names_earns_nothing(tmp_path, trick):
    """Layers whose every method raises, and the course's code changed without rebinding a
    module name: ``train_digits.__code__`` swapped for a loop of the submission's own, or
    ``Net``'s methods replaced by ones that train the layers' W and b themselves.

    When only module names were put back, the first earned 1.2 of 3 and the second 3 of 3;
    the harness now also restores code objects, defaults and class attributes before the
    course's code runs.
    """
    attack = adversarial("patch_course_code.py", tmp_path, TRICK=trick)

    for sandbox in (True, False):  # the restore is the harness's: sandbox or not
        run = grade_file(attack, "train_digits", seed=5, sandbox=sandbox)["train_digits"]
        assert (run.status, run.score) == ("error", 0.0), run.message
        assert "NotImplementedError" in run.message  # the student's own layers ran
    assert_grader_healthy()


def test_code_that_computes_nothing_earns_next_to_nothing():
    """Zeros of the right shapes: every property of the outputs holds, no value does.

    Before supporting checks needed a right value beside them this earned 4.7 of 21.
    """
    every = [p.id for p in registry.get("radboud-dl-a1").problems if not p.manual]
    run = grade_file(adversarial("compute_nothing.py"), *every, seed=3)

    earned = {pid: p.score for pid, p in run.by_id.items() if p.score > 0}
    assert set(earned) <= {"relu_grad", "Linear", "train_digits"}, earned
    assert earned.get("relu_grad", 0) <= 1.0   # relu_grad(0) = 0 is a right value
    assert earned.get("Linear", 0) <= 0.5      # only its constructor is right
    assert earned.get("train_digits", 0) < 0.5  # a constant guess, near chance
    assert sum(earned.values()) < 2.0


def test_hard_coded_handout_outputs_earn_nothing():
    from reference.radboud_dl_a1 import sigmoid as ref_sigmoid

    attack = adversarial("hardcoded_outputs.py")
    for seed in (1, 2, 3):
        run = grade_file(attack, seed=seed)
        assert (run["sigmoid"].status, run["sigmoid"].score) == ("failed", 0.0)

    # The table is right: a grader that used the handout's own example would be fooled.
    example = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    student = runpy.run_path(str(attack))["sigmoid"]
    np.testing.assert_allclose(student(example), ref_sigmoid(example), rtol=1e-7)


# -- ending early, killing, lingering -----------------------------------------------------------

def test_exit_at_import_is_logged_and_loading_goes_on():
    run = grade_file(adversarial("exit_at_import.py"), "sigmoid", "relu")

    assert (run["sigmoid"].status, run["sigmoid"].score) == ("failed", 0.0)
    assert run["relu"].status == "passed"       # defined before the exit
    assert any("SystemExit: the code called exit(0)" in line for line in run.grade.load_log)
    assert_grader_healthy()


def test_os_exit_at_import_fails_the_load_with_a_clear_message():
    run = grade_file(adversarial("os_exit_at_import.py"), "sigmoid", "relu")

    for problem in run.grade.problems:
        assert (problem.status, problem.score) == ("error", 0.0)
        assert problem.message.startswith("Loading the submission stopped:")
        assert "exited (status 0)" in problem.message
    assert run.seconds < 5
    assert_grader_healthy()


@pytest.mark.parametrize(("name", "says"), [
    ("exit_mid_probe.py", "raised SystemExit: the code called exit(0)"),
    ("os_exit_mid_probe.py", "exited (status 0) in the middle of grading"),
])
def test_exit_mid_probe_costs_only_that_problem(name, says):
    run = grade_file(adversarial(name), "sigmoid", "relu")

    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert says in run["sigmoid"].message
    assert run["relu"].status == "passed"
    assert_grader_healthy()


def test_faking_a_launcher_failure_is_charged_to_the_submission():
    """Exit 97 and a "bwrap:" line once meant "the sandbox did not start": retried, then an
    infrastructure error with no grade. After the harness's greeting they are the code's."""
    run = grade_file(adversarial("fake_launcher_failure.py"), "sigmoid", "relu")

    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert "exited (status 97) in the middle of grading" in run["sigmoid"].message
    assert run["relu"].status == "passed"
    assert_grader_healthy()


def test_killing_the_parent_reaches_only_the_sandboxs_own_init(watch, launcher):
    run = grade_file(adversarial("kill_parent.py"), "sigmoid", "relu")

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    # Its parent is pid 1 of its own pid namespace, which ignores signals from inside.
    assert f"'parent': '1 ({INIT[launcher]})'" in sigmoid.message, sigmoid.message
    assert f"'init': '1 ({INIT[launcher]})'" in sigmoid.message
    assert run["relu"].status == "passed"
    assert len(watch.sandboxes) == 1            # the same sandbox kept answering
    assert_grader_healthy()


def test_killing_every_process_it_can_is_reported_as_a_kill():
    run = grade_file(adversarial("kill_everything.py"), "sigmoid", "relu")

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("error", 0.0)
    assert "killed by signal 9" in sigmoid.message, sigmoid.message
    assert run["relu"].status == "passed"
    assert_grader_healthy()


def test_background_daemon_does_not_outlive_the_run(watch, tmp_path):
    name = f"dmn-{uuid.uuid4().hex[:10]}"        # at most 15 bytes: a comm name
    attack = adversarial("background_daemon.py", tmp_path, NAME=name.encode())

    run = grade_file(attack)
    assert run["sigmoid"].status == "passed"    # the daemon was started
    assert processes_named(name) == []
    assert in_cgroups(watch.cgroups) == []
    assert_grader_healthy()

    grade_file(attack, sandbox=False)
    leftovers = processes_named(name)
    try:
        assert leftovers, "without the sandbox the daemon should have survived"
    finally:
        for pid, _uid, _comm in leftovers:
            os.kill(pid, signal.SIGKILL)


# -- odd return values --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "limits", "says"), [
    ("return_object_array.py", {}, "object"),
    ("return_huge_array.py", {"memory_bytes": 256 * MiB}, "more than 256 MB of memory"),
    ("return_nan.py", {}, "NaN or inf where finite values are expected"),
    ("return_inf.py", {}, "NaN or inf where finite values are expected"),
    ("return_subclass.py", {}, "Every entry is 0"),    # the data crossed, not the overrides
    ("return_generator.py", {}, "generator"),
    ("return_lazy_object.py", {}, "SigmoidResult"),
])
def test_odd_return_values_earn_nothing_and_are_named(name, limits, says):
    run = grade_file(adversarial(name), **limits)

    sigmoid = run["sigmoid"]
    assert sigmoid.score == 0.0
    assert sigmoid.status in ("failed", "error")
    assert says in sigmoid.message, sigmoid.message
    assert "Remote" not in sigmoid.message       # the grader's word, not the student's
    assert run.seconds < 15
    assert_grader_healthy()


def test_a_huge_reply_is_refused_before_the_grader_widens_it():
    """A 200 MB bool array fits the message limit; as float64 it was 1.6 GB in the
    trusted process, outside the sandbox's memory limit."""
    run = grade_file(adversarial("return_big_bool_array.py"), "sigmoid", trace_memory=True)

    sigmoid = run["sigmoid"]
    assert (sigmoid.status, sigmoid.score) == ("failed", 0.0)
    assert "got an array of shape (209715200,)" in sigmoid.message, sigmoid.message
    assert run.traced_peak < 800 * MiB, run.traced_peak  # 2.1 GB before the early refusal
    assert_grader_healthy()


# -- escaping the namespaces --------------------------------------------------------------------

def test_unshare_and_ptrace_are_refused_by_seccomp(monkeypatch):
    attack = adversarial("escape_syscalls.py")

    run = grade_file(attack)
    assert (run["sigmoid"].status, run["sigmoid"].score) == ("error", 0.0)
    assert "'unshare(CLONE_NEWUSER)': 'EPERM'" in run["sigmoid"].message
    assert "'ptrace(PTRACE_TRACEME)': 'EPERM'" in run["sigmoid"].message
    assert_grader_healthy()

    # Without the filter the sandbox still forbids a new user namespace, but ptrace works.
    with monkeypatch.context() as unfiltered:
        unfiltered.setattr(seccomp, "filter_fd", lambda: None)
        assert grade_file(attack)["sigmoid"].status == "passed"
    assert grade_file(attack, sandbox=False)["sigmoid"].status == "passed"


# -- the grader's own bookkeeping ---------------------------------------------------------------

def test_sandboxes_leave_no_cgroup_or_slot_behind(watch):
    grade_file(adversarial("os_exit_mid_probe.py"), "sigmoid", "relu")
    grade_file(adversarial("sleeper.py"), timeout_s=0.5)
    grade_file(adversarial("memory_hog.py"), memory_bytes=128 * MiB)

    assert len(watch.cgroups) == 4
    assert watch.leaked_cgroups() == []
    assert watch.held_slots() == []
    parent = Path("/sys/fs/cgroup/memory/dlgrade")
    if parent.is_dir():
        ours = {d.name for cg in watch.cgroups for d in cg.dirs.values()}
        assert ours.isdisjoint(p.name for p in parent.iterdir())


POOL_WORKER = """
import time
import graders.sandbox.bwrap as bwrap
from graders.sandbox.cgroups import Cgroup
from graders.sandbox.limits import Limits
from graders.sandbox.pool import WarmPool

made = []
class Announced(Cgroup):
    def __init__(self, *args):
        super().__init__(*args)
        made.append(self)
        print(*self.dirs.values(), flush=True)
bwrap.Cgroup = Announced

pool = WarmPool(size=1)
pool.acquire(Limits()).close()
deadline = time.monotonic() + 30
while len(made) < 2 and time.monotonic() < deadline:   # the pool starts a replacement
    time.sleep(0.05)
time.sleep(1.0)
# A worker that ends (or is stopped) without calling pool.close().
"""


# A pool in a process of its own, with or without templates: the subject is its exit.
@pytest.mark.bwrap_only
def test_a_worker_that_exits_with_a_warm_pool_leaves_no_cgroup_behind():
    out = subprocess.run([sys.executable, "-c", POOL_WORKER], cwd=REPO, capture_output=True,
                         text=True, timeout=90, check=False)
    dirs = [Path(p) for line in out.stdout.splitlines() for p in line.split()]
    try:
        assert len(dirs) >= 2, out.stderr[-2000:]
        deadline = time.monotonic() + 2
        while any(d.exists() for d in dirs) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [str(d) for d in dirs if d.exists()] == []
    finally:  # empty directories: remove what the engine left, so nothing accumulates
        for d in dirs:
            with contextlib.suppress(OSError):
                d.rmdir()


# bubblewrap's own start failing is the subject.
@pytest.mark.bwrap_only
def test_a_sandbox_that_fails_to_start_leaves_no_cgroup_or_slot_behind(watch, monkeypatch):
    class Unstartable:
        DEVNULL = subprocess.DEVNULL

        @staticmethod
        def Popen(*args, **kwargs):
            raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(bwrap, "subprocess", Unstartable)
    try:
        run = grade_file(adversarial("cpu_spin.py"))
        assert run["sigmoid"].score == 0.0
        assert watch.cgroups, "the sandbox got as far as its cgroup"
        assert watch.leaked_cgroups() == []
        assert watch.held_slots() == []
    finally:  # so that one failure does not lock a slot for the rest of the session
        for box in watch.sandboxes:
            box._cleanup()
