"""A syscall filter for the sandbox, handed to bubblewrap as compiled BPF.

Namespaces already hide the network and the host; the filter closes what
remains reachable from inside them: no sockets but Unix ones (numpy and
torch never need more), no ptrace or reading other processes' memory, no
new namespaces or mounts, no kernel keyrings, BPF, perf or module loading.
Blocked calls fail with EPERM, so student code sees an ordinary error.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import tempfile

log = logging.getLogger("dlgrade.sandbox")

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "mount",
    "umount2", "pivot_root", "chroot", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "lookup_dcookie",
    "quotactl", "syslog", "iopl", "ioperm", "vhangup", "personality",
    # io_uring can open sockets (IORING_OP_SOCKET) without the socket() syscall.
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)
_compiled: bytes | None = None


def _compile() -> bytes | None:
    try:
        import pyseccomp as sc
    except (ImportError, OSError) as exc:  # libseccomp missing
        log.warning("seccomp filter unavailable (%s); relying on namespaces alone", exc)
        return None
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            f.add_rule(eperm, name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall on this architecture
    # Sockets of the Unix family only: no IP, no netlink, no packet sockets.
    f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    # clone() may not create namespaces (clone3 is refused outright: its flags are in memory).
    # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
    for mask in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                 0x40000000):
        f.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, mask, mask))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as fh:
        f.export_bpf(fh)
        fh.seek(0)
        return fh.read()


def filter_fd() -> int | None:
    """A readable fd holding the BPF program, or None where libseccomp is missing."""
    global _compiled
    if _compiled is None:
        _compiled = _compile() or b""
    if not _compiled:
        return None
    r, w = os.pipe()
    os.write(w, _compiled)
    os.close(w)
    return r
