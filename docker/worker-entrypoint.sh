#!/bin/sh
# Make the container's cgroups writable for per-sandbox cgroups, then run the worker.
# With a private cgroup namespace the runtime mounts the container's cgroups
# read-only. Needs CAP_SYS_ADMIN (see docs/operations.md).
#  - cgroup v2 (one unified tree): remount it read-write; a cgroup holding
#    processes cannot hand controllers to children, so move ourselves into a
#    leaf and enable memory, pids and cpu for the subtree.
#  - cgroup v1 (one hierarchy per controller, as on older and hybrid hosts):
#    each controller is its own read-only mount; remount each read-write.
#    v1 has no such rule about processes, so nothing moves.
set -eu
CG=/sys/fs/cgroup
if [ -f "$CG/cgroup.controllers" ]; then
    mount -o remount,rw "$CG" 2>/dev/null || true
    if [ -w "$CG/cgroup.procs" ]; then
        mkdir -p "$CG/worker"
        echo $$ > "$CG/worker/cgroup.procs"
        echo "+memory +pids +cpu" > "$CG/cgroup.subtree_control" || true
    fi
else
    while read -r _ dir type _; do
        [ "$type" = cgroup ] || continue
        mount -o remount,bind,rw "$dir" 2>/dev/null \
            || echo "dlgrade-worker: cannot remount $dir read-write" >&2
    done < /proc/self/mounts
fi
exec "$@"
