#!/usr/bin/env bash
# The compose deployment, built and run for real on a CI machine with Podman (no
# daemon, no registry): builds the api and worker images from docker/*.Dockerfile on a
# base image made here with debootstrap, brings the stack up with docker/compose.ci.yml
# (host network on 127.0.0.1 only, the machine's own PostgreSQL and Redis), runs each
# container's health check, logs in, grades a correct and a buggy upload over HTTP,
# publishes a course bundle that a worker must strength-check (the API has no sandbox),
# scales the workers to two, kills the one grading a submission mid-grade and checks
# that submission is graded exactly once; then removes everything it made.
# As root, on a Debian 12 machine with PostgreSQL and Redis on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=${DLGRADE_CI_WORK:-/var/tmp/dlgrade-ci-containers}
PORT=${DLGRADE_CI_PORT:-18765}
PROJECT=dlgrade-ci
RUN_ID=$(date +%s)$$
DB=dlgrade_ci_$RUN_ID
SUBMISSIONS=$REPO/tests/assignments/radboud_dl_a1/submissions
started=$(date +%s)

step() { printf '\n== %s  [%ds]\n' "$*" "$(( $(date +%s) - started ))"; }
FAILED=
fail() { FAILED=$*; echo "ci-containers: FAILED: $*" >&2; exit 1; }

# --- tools, and Podman configured for this host, all of it under $WORK ----------------
step "tools: podman, runc, buildah, debootstrap; podman-compose"
rm -rf "$WORK"
mkdir -p "$WORK"
apt-get update -qq
apt-get install -y -qq podman runc buildah debootstrap >/dev/null
python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q podman-compose
# runc: crun refuses this host's hybrid cgroups. cgroupns private: what the compose
# file's `cgroup: private` asks (podman-compose does not pass that key on). Host
# network for every container and every build. Open files and processes: no higher
# than root may set here, where it lacks CAP_SYS_RESOURCE (runc fails to start a
# container otherwise; it also refused more processes than kernel.pid_max).
nofile=$(ulimit -Hn) nproc=$(ulimit -Hu) pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nofile" != unlimited ] || nofile=1048576
{ [ "$nproc" != unlimited ] && [ "$nproc" -le "$pid_max" ]; } || nproc=$pid_max
cat > "$WORK/containers.conf" <<EOF
[containers]
cgroupns = "private"
netns = "host"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat > "$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf
compose() {
    "$WORK/tools/bin/podman-compose" -p "$PROJECT" -f docker-compose.yml \
        -f docker/compose.ci.yml "$@"
}
redis_cleanup() {
    [ -n "${DLGRADE_CI_QUEUE_PREFIX:-}" ] || return 0
    python3 - "$DLGRADE_CI_REDIS_URL" "$DLGRADE_CI_QUEUE_PREFIX" <<'EOF' || true
import json, sys
import redis
r, prefix = redis.Redis.from_url(sys.argv[1], socket_timeout=5), sys.argv[2]
for key in r.scan_iter(f"*{prefix}*"):
    r.delete(key)
for tag, raw in r.hgetall("unacked").items():   # messages of the worker killed here
    if prefix in json.loads(raw)[2]:
        r.hdel("unacked", tag)
        r.zrem("unacked_index", tag)
EOF
}
teardown() {
    status=$?
    if [ "$status" -ne 0 ] && [ -n "${DLGRADE_CI_KEEP:-}" ]; then
        echo "DLGRADE_CI_KEEP: left as it is; CONTAINERS_CONF=$CONTAINERS_CONF" \
             "CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF, database $DB"
        exit "$status"
    fi
    step "tear down"
    if [ "$status" -ne 0 ] && [ -n "${API:-}" ]; then
        for c in $(podman ps -a --format '{{.Names}}'); do
            echo "--- last log lines of $c"; podman logs --tail 30 "$c" 2>&1 || true
        done
    fi
    compose down -v >/dev/null 2>&1 || true
    podman rm -a -f >/dev/null 2>&1 || true
    podman volume prune -f >/dev/null 2>&1 || true
    podman rmi -a -f >/dev/null 2>&1 || true
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r \
        | xargs -r -n1 umount -l 2>/dev/null || true
    redis_cleanup
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        >/dev/null 2>&1 || true
    rm -rf "$WORK"
    # Again after the containers' logs, so the last lines CI shows say what failed.
    echo "ci-containers: $([ "$status" -eq 0 ] && echo passed || echo failed)" \
         "in $(( $(date +%s) - started )) s${FAILED:+: $FAILED}"
    exit "$status"
}
trap teardown EXIT

# --- images -----------------------------------------------------------------------------
step "base image (debootstrap --variant=minbase bookworm, podman import) and wheels, at once"
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
         || true)
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$WORK/rootfs" "${mirror:-}" >"$WORK/debootstrap.log" 2>&1 &
debootstrap_pid=$!
# The project's dependencies and torch as wheels, built or taken on the host (torch from
# the machine's local wheel), then bind-mounted into the builds. Debian 12's Python is
# 3.11.2, for which redis also needs async-timeout.
python3 -m pip wheel -q -w "$WORK/wheels" "$REPO[torch]" "setuptools>=68" wheel \
    "async-timeout>=4.0.3" >"$WORK/wheels.log" 2>&1 \
    || { grep -v "is ignored" "$WORK/wheels.log" | tail -20; fail "pip wheel"; }
wait "$debootstrap_pid" || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
cp /etc/ssl/certs/ca-certificates.crt "$WORK/rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$WORK/rootfs/var/cache/apt/archives"/*.deb
tar -C "$WORK/rootfs" -c . | podman import -q - localhost/dlgrade-ci-base:latest >/dev/null
rm -rf "$WORK/rootfs"
compgen -G "$WORK/wheels/torch-2.13.0*" >/dev/null || fail "no torch 2.13.0 wheel in $WORK/wheels"

step "build the api and worker images, at once"
build() {  # docker format: OCI images would drop the Dockerfiles' HEALTHCHECK
    podman build -q --format docker --layers=false --network host \
        -v "$WORK/wheels:/wheels:ro" --build-arg BASE_IMAGE=localhost/dlgrade-ci-base:latest \
        --build-arg PIP_OPTIONS="--no-index --find-links /wheels" "$@" . >/dev/null
}
build -f docker/api.Dockerfile -t localhost/dlgrade-api:latest 2>"$WORK/build-api.log" &
api_build=$!
build -f docker/worker.Dockerfile --build-arg WITH_TORCH=1 -t localhost/dlgrade-worker:latest \
    2>"$WORK/build-worker.log" || { tail -20 "$WORK/build-worker.log"; fail "worker image"; }
wait "$api_build" || { tail -20 "$WORK/build-api.log"; fail "api image"; }
podman images

# --- the stack ----------------------------------------------------------------------------
step "up: api, then worker and worker-slow (PostgreSQL database $DB)"
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
export DLGRADE_CI_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB
export DLGRADE_CI_REDIS_URL=redis://127.0.0.1:6379/0
export DLGRADE_CI_QUEUE_PREFIX=dlgci$RUN_ID
export DLGRADE_CI_PORT=$PORT
BASE=http://127.0.0.1:$PORT
compose up -d --no-build api >/dev/null
API=$(podman ps --filter label=com.docker.compose.service=api --format '{{.Names}}')
[ -n "$API" ] || fail "no api container"
for _ in $(seq 120); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 1
done
curl -sf "$BASE/readyz" >/dev/null || fail "the API is not ready after 120 s"
compose up -d --no-build worker worker-slow >/dev/null

workers() { podman ps --filter "label=com.docker.compose.service=$1" --format '{{.Names}}'; }
healthy() {  # each container's own health check, as the compose file declares it
    for c in "$@"; do
        for _ in $(seq 30); do
            out=$(podman healthcheck run "$c" 2>&1) && continue 2
            sleep 2
        done
        fail "health check of $c: $out"
    done
    echo "healthy: $*"
}
step "health checks"
healthy "$API" $(workers worker) $(workers worker-slow)

# --- over HTTP, as a student ------------------------------------------------------------
step "log in as the demo student; upload a correct and a buggy submission"
password=$(podman logs "$API" 2>/dev/null | sed -n 's/^  student  student@localhost  password: //p')
[ -n "$password" ] || fail "no first-start password in the api's log"
TOKEN=$(curl -sf -X POST "$BASE/api/v1/auth/token" -d username=student@localhost \
        -d password="$password" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
upload() {  # FILE -> submission id
    curl -sf -H "$AUTH" -F "files=@$1;filename=assignment1.py" \
        "$BASE/api/v1/assignments/1/submissions" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
graded() {  # ID -> "score max per-problem-scores" once graded
    for _ in $(seq 30); do
        body=$(curl -sf -H "$AUTH" "$BASE/api/v1/submissions/$1/wait?final=true&timeout=20") \
            || { sleep 1; continue; }
        line=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r["status"] in ("graded", "error"):
    print(r["status"], r["score"], r["max_score"],
          " ".join("%s=%g" % (p["id"], p["score"]) for p in r["problems"]))' "$body")
        [ -n "$line" ] && { echo "$line"; return; }
    done
    fail "submission $1 not graded in time"
}
expect() {  # RESULT PATTERN WHAT
    echo "$3: $1"
    [[ $1 =~ $2 ]] || fail "$3: expected $2"
}
correct=$(upload "$SUBMISSIONS/correct_clean.py")
buggy=$(upload "$SUBMISSIONS/bug_Linear_db_mean.py")
expect "$(graded "$correct")" '^graded 21.0 21.0 ' "correct submission $correct"
expect "$(graded "$buggy")" '^graded 17.25 21.0 .* Linear=1.25 ' "buggy submission $buggy"

# --- a course bundle over HTTP: stored where the workers read it, proven on one ---------
step "publish a course bundle as the admin; a worker strength-checks it"
admin_password=$(podman logs "$API" 2>/dev/null | sed -n 's/^  admin    admin@localhost  password: //p')
[ -n "$admin_password" ] || fail "no first-start admin password in the api's log"
ADMIN="Authorization: Bearer $(curl -sf -X POST "$BASE/api/v1/auth/token" \
    -d username=admin@localhost -d password="$admin_password" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
(cd examples/bundles && python3 -m zipfile -c "$WORK/bundle.zip" demo-layers-hw)
bundle=$(curl -sf -H "$ADMIN" -F "file=@$WORK/bundle.zip" "$BASE/api/v1/courses/1/bundles" \
         | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') \
    || fail "the bundle upload was refused"
for _ in $(seq 150); do   # the API's container has no sandbox: only a worker can say ready
    body=$(curl -sf -H "$ADMIN" "$BASE/api/v1/courses/1/bundles/$bundle") || true
    status=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1] or "{}").get("status"))' "$body")
    [ "$status" = checking ] || break
    sleep 2
done
echo "bundle $bundle: $status"
[ "$status" = ready ] || fail "bundle $bundle is $status: $(head -c 800 <<<"$body")"

# --- two workers, one killed mid-grade ---------------------------------------------------
step "scale worker to 2"
compose up -d --no-build --scale worker=2 worker >/dev/null
[ "$(workers worker | wc -l)" -eq 2 ] || fail "expected two worker containers: $(workers worker)"
healthy $(workers worker)

step "kill the worker grading a submission, mid-grade"
slow=$WORK/slow_assignment1.py
cat "$SUBMISSIONS/correct_clean.py" - > "$slow" <<'EOF'


# Correct, but slow on purpose: relu's first call in a process sleeps 10 s.
import time as _time

_relu, _slept = relu, []


def relu(x):
    if not _slept:
        _slept.append(_time.sleep(10))
    return _relu(x)
EOF
sid=$(upload "$slow")
sql() { psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "$1"; }
committed_sql="SELECT count(*) FROM problem_results r JOIN grading_runs g ON r.run_id = g.id
               WHERE g.submission_id = $sid"   # its only run
victim=
for _ in $(seq 120); do   # once a result is committed, the container that logged it
    if [ "$(sql "$committed_sql")" -ge 1 ]; then
        for c in $(workers worker); do
            # grep reads to the end: with -q, podman's SIGPIPE would fail the pipeline
            if podman logs "$c" 2>&1 | grep "\"problem graded\".*\"submission_id\": $sid[,}]" \
                >/dev/null; then victim=$c; break 2; fi
        done
    fi
    sleep 0.5
done
[ -n "$victim" ] || fail "no worker started grading submission $sid"
podman kill -s KILL "$victim" >/dev/null
committed=$(sql "$committed_sql")
echo "killed $victim with $committed problem(s) of submission $sid committed"
[ "$committed" -ge 1 ] && [ "$committed" -lt 10 ] || fail "not mid-grade: $committed committed"
expect "$(graded "$sid")" '^graded 21.0 21.0 ' "submission $sid after the kill"
problems=$(sql "$committed_sql")
# The layer problems' job: 'quick' when training got a job of its own, 'all' when it
# stayed in the one job because it recently ran short (DLGRADE_SPLIT_TRAINING_OVER_S).
tries=$(sql "SELECT max(tries) FROM grading_jobs WHERE submission_id = $sid
             AND part IN ('quick', 'all')")
# Every grading of a problem is logged: across both workers' logs, the killed one's
# included, each problem of the layer problems' job must have been graded once, no more.
times_graded=$(for c in $(podman ps -a --filter label=com.docker.compose.service=worker \
                          --format '{{.Names}}'); do podman logs "$c" 2>&1; done \
    | python3 -c '
import collections, json, sys
count = collections.Counter()
for line in sys.stdin:
    try:
        record = json.loads(line)
    except ValueError:
        continue
    if record.get("message") == "problem graded" and record.get("submission_id") == int(sys.argv[1]):
        count[record["problem"]] += 1
print(" ".join(f"{problem}={n}" for problem, n in sorted(count.items())))' "$sid")
echo "after the kill: $problems problem results, layer problems' job claimed $tries times; graded: $times_graded"
# At least two claims: the killed worker's and the one that resumed. A machine that
# stalls past the lease (a busy CI VM) may add one more; its results are dropped, so
# each problem must still be committed exactly once.
[ "$problems" -eq 11 ] && [ "$tries" -ge 2 ] || fail "submission $sid: not resumed"
# The workers above grade the layer problems (10), and training too when it stayed in
# the one 'all' job; a split-off training job runs on worker-slow, not counted here.
layer_job_part=$(sql "SELECT part FROM grading_jobs WHERE submission_id = $sid
                      AND part IN ('quick', 'all') LIMIT 1")
expected_graded=10; [ "$layer_job_part" = all ] && expected_graded=11
[ "$(wc -w <<<"$times_graded")" -eq "$expected_graded" ] && ! grep -qv '=1$' <(tr ' ' '\n' <<<"$times_graded") \
    || fail "submission $sid: a problem was graded more or less than once"

step "all checks passed"
