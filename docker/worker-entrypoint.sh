#!/bin/sh
# Prepare cgroup v2 for per-sandbox cgroups, then run the worker.
# With a private cgroup namespace the container's cgroup is mounted read-only
# and holds our own process; a cgroup with processes cannot hand controllers
# to children, so move ourselves into a leaf and enable memory, pids and cpu
# for the subtree. Needs CAP_SYS_ADMIN (see docs/operations.md).
set -eu
CG=/sys/fs/cgroup
if [ -f "$CG/cgroup.controllers" ]; then
    mount -o remount,rw "$CG" 2>/dev/null || true
    if [ -w "$CG/cgroup.procs" ]; then
        mkdir -p "$CG/worker"
        echo $$ > "$CG/worker/cgroup.procs"
        echo "+memory +pids +cpu" > "$CG/cgroup.subtree_control" || true
    fi
fi
exec "$@"
