"""Entering a fresh sandbox from inside a template sandbox (the fork server's children).

bubblewrap builds one sandbox per process it starts; a child forked from the
template would otherwise share the template's pid, ipc, network and mount
namespaces, its /tmp and its capabilities. These calls give the child what
bubblewrap gives a new sandbox, in the same order: new namespaces, a /proc of
its own pid namespace only, fresh size-limited /tmp and /dev/shm, a user
namespace of its own (which locks every mount it inherited), no capabilities,
no new privileges and the seccomp filter. Python 3.11 has no ``os.unshare`` or
``mount``, hence ctypes.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import socket
import struct

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (0x08000000, 0x10000000, 0x20000000,
                                                           0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME, PR_SET_SECCOMP, PR_CAPBSET_DROP = 1, 4, 15, 22, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
SECCOMP_MODE_FILTER = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
CAP_VERSION_3 = 0x20080522
# What bubblewrap's --proc re-binds read-only: the kernel knobs a namespace-root could write.
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")
USER_LIMITS = "/proc/sys/user"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    def arg(s: str | None) -> bytes | None:
        return None if s is None else s.encode()

    _check(_libc.mount(arg(source), arg(target), arg(fstype), ctypes.c_ulong(flags),
                       arg(data)), f"mount {target}")


def prctl(option: int, arg2: int | ctypes.c_void_p = 0) -> None:
    _check(_libc.prctl(ctypes.c_int(option), arg2, ctypes.c_ulong(0), ctypes.c_ulong(0),
                       ctypes.c_ulong(0)), f"prctl {option}")


def private_mounts(scratch_bytes: int, shm_bytes: int) -> None:
    """In a new mount and pid namespace (as pid 1): /proc, /tmp and /dev/shm of our own.

    What the template left in its /tmp (its imports' cache folders, such as
    matplotlib's) is copied into the new one, so the libraries it loaded find
    their folders; the template never ran student code, so this is its own.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
                  | MS_NOEXEC)
    # Except the user namespace limits: ``own_user_namespace`` sets its namespace's own to 0
    # from inside. The kernel lets only a holder of CAP_SYS_RESOURCE there write them, and
    # the harness holds no capability, so the mount's write bit gives it nothing.
    mount(USER_LIMITS, USER_LIMITS, None, MS_BIND)
    mount(None, USER_LIMITS, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    old_tmp = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
    try:
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch_bytes},mode=0755")
        _copy_tree(old_tmp, "/tmp")
    finally:
        os.close(old_tmp)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={shm_bytes},mode=0755")


def _copy_tree(src_fd: int, dest: str) -> None:
    for top, dirs, files, top_fd in os.fwalk(".", dir_fd=src_fd):
        target = os.path.normpath(os.path.join(dest, top))
        for d in dirs:
            os.makedirs(os.path.join(target, d), exist_ok=True)
        for f in files:
            with open(os.open(f, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=top_fd), "rb") as src, \
                    open(os.path.join(target, f), "wb") as out:
                out.write(src.read())


def loopback_up() -> None:
    """A new network namespace's loopback is down; bubblewrap brings it up, so do we
    (the kernel then gives it 127.0.0.1). Nothing else is there: no route out."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def own_user_namespace() -> None:
    """Map our uid to itself in a new user namespace: mounts inherited become locked."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    # As bubblewrap's --disable-userns, filter or not: none can be made inside this one.
    # Set here, in this namespace, not as a cap of 1 in the template's, which every child
    # shares: the kernel frees a dead child's namespace lazily (seen: 2 s after an
    # out-of-memory kill), and until then the next child could not make its own.
    with open(f"{USER_LIMITS}/max_user_namespaces", "w") as fh:
        fh.write("0")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program: bytes) -> None:
    """The compiled BPF of graders.sandbox.seccomp, as bubblewrap's --seccomp would load it."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if not program:
        return
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    _check(_libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                       ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


def lower_limits(cpu_s: int, file_bytes: int, open_files: int, processes: int) -> None:
    """This submission's rlimits, as prlimit sets them for a sandbox bubblewrap starts; a
    process can only lower its own, so the template's are the ceiling."""
    for kind, soft, hard in ((resource.RLIMIT_CPU, cpu_s, cpu_s + 1),
                             (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
                             (resource.RLIMIT_NOFILE, open_files, open_files),
                             (resource.RLIMIT_NPROC, processes, processes),
                             (resource.RLIMIT_CORE, 0, 0)):
        _, ceiling = resource.getrlimit(kind)
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(kind, (soft, hard))
