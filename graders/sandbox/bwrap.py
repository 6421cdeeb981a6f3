"""A fresh bubblewrap sandbox per harness process.

Layers of defence, outermost first: a cgroup (memory with swap, pids, CPU
accounting) that the launcher joins before anything else runs; rlimits set
by root (CPU, file size, open files, processes); an unprivileged uid of its
own; bubblewrap with new user, pid, net, ipc, uts and cgroup namespaces, no
capabilities, a cleared environment, a size-limited tmpfs as the only
writable place, and a read-only view of the Python runtime; a seccomp
filter. The submission itself never touches the host disk: its sources
arrive over the request channel.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from pathlib import Path

from ..errors import MemoryLimit, SandboxCrashed, SandboxUnavailable, TimeLimit
from . import fontcache, seccomp
from .cgroups import Cgroup
from .limits import Limits
from .process import HarnessProcess
from .runtime import CHILD_ENV, HARNESS_DIR, Replacements, Runtime, discover
from .slots import Slot

LAUNCHER = Path(__file__).with_name("launch.sh")
STAGE_ROOT = Path("/run/dlgrade/rt") if os.access("/run", os.W_OK) else Path("/tmp/dlgrade-rt")
INSIDE_HARNESS = "/opt/dlgrade/harness"
INSIDE_PROVIDED = "/opt/dlgrade/provided"
PASS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # correctness settings for some CPUs
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "Fedora: `dnf install bubblewrap`), or pass --no-sandbox to debug a grader "
                "locally without any protection")

_runtime: Runtime | None = None


def check_available() -> None:
    """Fail early, with the fix, when this host cannot run sandboxes at all."""
    missing = [t for t in ("bwrap", "unshare", "setpriv", "prlimit", "mount")
               if shutil.which(t) is None]
    if missing:
        raise SandboxUnavailable(f"cannot start the sandbox: {', '.join(missing)} not found; "
                                 + INSTALL_HINT)
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "cannot start the sandbox: dlgrade must run as root to give each sandbox its own "
            "uid and cgroup (in Docker: see docs/operations.md)")


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = discover()
    return _runtime


def _visible_bundles(rt: Runtime) -> list[Path]:
    """Bundle folders that lie inside what the sandbox binds (an installed course package in
    site-packages, a folder under /usr): covered, since they hold specs and references."""
    from ..assignments import registry

    def under(d: Path, tops: list[Path]) -> bool:
        return any(d == t or t in d.parents for t in tops)

    bound = [*rt.roots, Path("/usr").resolve()]
    return [d for d in registry.secret_dirs()
            if under(d, bound) and not under(d, list(rt.masked))]


class BwrapSandbox(HarnessProcess):
    # A template (graders.sandbox.forkserver) keeps its capabilities inside its own user
    # namespace, runs no seccomp filter and may create namespaces: its children need all
    # three to isolate themselves, and drop them before they read anything of a student's.
    TEMPLATE = False
    CPU_S: int | None = None  # the process's own CPU rlimit, when not the submission's

    def __init__(self, limits: Limits, provided_dir: Path | None = None,
                 replace: Replacements = ()) -> None:
        super().__init__(limits)
        check_available()
        self.provided_dir = provided_dir
        self.replace = replace
        self.slot: Slot | None = None
        self.cgroup: Cgroup | None = None
        self.stage: Path | None = None
        self._close_after_spawn: list[int] = []

    def _spawn(self, harness_in: int, harness_out: int, out_w: int, err_w: int
               ) -> subprocess.Popen[bytes]:
        self.slot = Slot()
        self.cgroup = Cgroup(self.limits.memory_bytes, self.limits.pids)
        rt = runtime()
        self.stage = STAGE_ROOT / str(self.slot.index)
        binds: list[tuple[Path, str]] = [(r, str(r)) for r in rt.roots]
        binds.append((HARNESS_DIR, INSIDE_HARNESS))
        if self.provided_dir is not None:
            binds.append((self.provided_dir, INSIDE_PROVIDED))
        # After the runtime's roots, whose files they cover: every copy the runtime holds.
        binds += [(src, copy) for src, inside in self.replace for copy in rt.copies(inside)]
        mounts: list[str] = []
        bwrap_binds: list[str] = []
        for k, (src, inside) in enumerate(binds):
            staged = self.stage / str(k)
            if staged.is_dir() != src.is_dir() and staged.exists():  # another assignment's
                staged.rmdir() if staged.is_dir() else staged.unlink()  # (empty on the host)
            if src.is_dir():
                staged.mkdir(parents=True, exist_ok=True)
                os.chmod(staged, 0o755)
            else:  # a file is bind-mounted onto a file
                self.stage.mkdir(parents=True, exist_ok=True)
                staged.touch()
                os.chmod(staged, 0o644)
            mounts += [str(src), str(staged)]
            bwrap_binds += ["--ro-bind", str(staged), inside]
        for p in (STAGE_ROOT.parent, STAGE_ROOT, self.stage):
            os.chmod(p, 0o755)

        args = [
            "--unshare-all", "--unshare-user", "--die-with-parent",
            "--new-session", "--clearenv", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
        ]
        args += ["--cap-add", "ALL"] if self.TEMPLATE else ["--disable-userns", "--cap-drop", "ALL"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / top
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{top}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{top}"]
        for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
            if Path(f).exists():
                args += ["--ro-bind", f, f]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.scratch_bytes), "--tmpfs", "/tmp",
                 "--size", str(1 << 20), "--tmpfs", "/dev/shm", "--chdir", "/tmp"]
        args += bwrap_binds
        for masked in (*rt.masked, *_visible_bundles(rt)):
            args += ["--tmpfs", str(masked), "--remount-ro", str(masked)]
        # bwrap's own root and /dev are unbounded tmpfs: only /tmp (sized) stays writable.
        args += ["--remount-ro", "/dev", "--remount-ro", "/"]
        env = {**CHILD_ENV, "HOME": "/tmp", "PATH": "/usr/local/bin:/usr/bin:/bin",
               "MPLCONFIGDIR": fontcache.INSIDE_DIR}
        env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})
        for k, v in env.items():
            args += ["--setenv", k, v]

        fds = [fd for fd in (harness_in, harness_out) if fd >= 0]
        fonts = fontcache.fontlist()
        if fonts is not None:
            name, path = fonts
            font_fd = os.open(path, os.O_RDONLY)
            self._close_after_spawn.append(font_fd)
            fds.append(font_fd)
            args += ["--dir", fontcache.INSIDE_DIR,
                     "--file", str(font_fd), f"{fontcache.INSIDE_DIR}/{name}"]
        filter_fd = None if self.TEMPLATE else seccomp.filter_fd()
        if filter_fd is not None:
            args += ["--seccomp", str(filter_fd)]
            fds.append(filter_fd)
        entry = "zygote" if self.TEMPLATE else "main"
        boot = (f"import sys; sys.path[:0] = ['/opt/dlgrade', '{INSIDE_PROVIDED}']; "
                f"from harness.{entry} import main; main(['harness', '{harness_in}', "
                f"'{harness_out}'])")
        inner = [str(rt.python), "-I", "-c", boot]
        args_r, args_w = os.pipe()
        fds.append(args_r)
        payload = b"".join(a.encode() + b"\0" for a in args)
        # The argument list is small (a few kB), far below the pipe buffer.
        os.write(args_w, payload)
        os.close(args_w)

        lim = self.limits
        cpu = self.CPU_S or int(lim.cpu_s) + 1
        # The grading process may run under a data ceiling of its own (service/isolation.py);
        # the student's memory is the cgroup's to limit, so the soft limit goes back up.
        _, data = resource.getrlimit(resource.RLIMIT_DATA)
        data_limit = "unlimited" if data == resource.RLIM_INFINITY else str(data)
        command = [
            "prlimit", f"--cpu={cpu}:{cpu + 1}", f"--fsize={lim.file_bytes}",
            f"--data={data_limit}:{data_limit}",
            f"--nofile={lim.open_files}", "--core=0", f"--nproc={lim.pids}", "--",
            "setpriv", f"--reuid={self.slot.uid}", f"--regid={self.slot.uid}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--",
            "bwrap", "--args", str(args_r), "--", *inner,
        ]
        launch = [str(LAUNCHER), *map(str, self.cgroup.procs_files), "--", *mounts, "--",
                  *command]
        if self.niceness:
            launch = ["nice", "-n", str(self.niceness), *launch]
        try:
            return subprocess.Popen(launch, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                                    pass_fds=fds, close_fds=True, env={"PATH": os.defpath})
        finally:
            os.close(args_r)
            if filter_fd is not None:
                os.close(filter_fd)
            for fd in self._close_after_spawn:
                os.close(fd)
            self._close_after_spawn.clear()

    def _cpu_used(self) -> float:
        return self.cgroup.cpu_seconds() if self.cgroup else 0.0

    def _pids(self) -> set[int]:
        return self.cgroup.pids() if self.cgroup else set()

    def _kill(self) -> None:
        if self.cgroup is not None:
            outer = self.proc.pid if self.proc is not None and self.proc.poll() is None else None
            self.cgroup.kill_all(spare=outer)
            if outer is not None:
                # Its child, the namespace's init, is gone: bubblewrap reaps it and exits.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=1.0)
            self.cgroup.kill_all()
        super()._kill()

    def _diagnose_death(self) -> Exception | None:
        if self.cgroup is None:
            return None
        if self.cgroup.oom_killed():
            mb = self.limits.memory_bytes >> 20
            return MemoryLimit(f"Stopped: the code used more than {mb} MB of memory "
                               f"(limit {mb} MB).")
        launcher_failed = not self.greeted  # after HELLO, exit codes and stderr are the code's
        if launcher_failed and self.proc is not None and self.proc.returncode in (97, 98):
            return SandboxUnavailable("the sandbox launcher could not set up its cgroup or "
                                      f"mounts: {self.stderr.text()[-500:]}")
        signal_number = _signal_of(self.proc.returncode if self.proc is not None else None)
        cpu_spent = self.cgroup.cpu_seconds() >= self.limits.cpu_s
        if signal_number == 24 or (signal_number == 9 and cpu_spent):  # SIGXCPU, then SIGKILL
            return TimeLimit(f"Stopped after {self.limits.cpu_s:g} s of CPU time "
                             f"(limit {self.limits.cpu_s:g} s).")
        err = self.stderr.text()
        if launcher_failed and (err.startswith(("bwrap:", "usage: bwrap")) or "\nbwrap:" in err):
            return SandboxUnavailable(f"bubblewrap failed to start: {err.strip()[-500:]}")
        if self.cgroup.pids_exhausted():
            return SandboxCrashed(f"the submission's process died after starting too many "
                                  f"processes (limit {self.limits.pids}).")
        return None

    def _cleanup(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cgroup.remove()
            self.cgroup = None
        if self.slot is not None:
            self.slot.release()
            self.slot = None


def _signal_of(returncode: int | None) -> int | None:
    """The signal that ended the sandbox: Popen says -N, bubblewrap's init says 128+N."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    return returncode - 128 if returncode > 128 else None
