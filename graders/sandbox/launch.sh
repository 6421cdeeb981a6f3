#!/bin/sh
# Runs as root, outside the sandbox, in the grading process's child.
# usage: launch.sh CGROUP_PROCS... -- SRC DST ... -- COMMAND...
# 1. join the run's cgroups, so every process the submission ever starts is counted and killable;
# 2. in a private mount namespace, bind the runtime under a path the sandbox uid can reach
#    (the host's Python may live under a directory only root can traverse, such as /root);
# 3. exec the command (prlimit, setpriv, bwrap), which never returns here.
while [ "$1" != "--" ]; do echo $$ > "$1" || exit 97; shift; done
shift
exec unshare --mount --propagation private -- /bin/sh -c '
while [ "$1" != "--" ]; do mount --bind "$1" "$2" || exit 98; shift 2; done
shift
exec "$@"' dlgrade-launch "$@"
