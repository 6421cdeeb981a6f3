"""Service throughput: a burst of uploads over HTTP, graded by Celery workers.

The whole service as deployed, on this machine: the API in its own uvicorn
process, TWO ``dlgrade worker`` processes (Celery, one grading at a time each),
PostgreSQL and Redis. Ten students (one HTTP client each, all at once) upload
200 radboud-dl-a1 submissions, layer problems only, paced at 10 uploads a
second (200 in 20 s, ten times the grading target); the figures are

- graded per minute, from the first upload of the burst to the last result,
  beside the same grading done serially in-process by one loop over the
  worker's own grader (no HTTP, database or queue): what the queue adds or costs;
- p50/p95 upload latency during the burst, beside the same API at rest
  (one upload at a time, each graded before the next);
- lost (accepted but never graded) and graded twice (more than one committed
  run, or a problem graded by the engine more than once), beside the same
  counts for the uploads at rest.

It runs twice: with the service's default warm pool and with the pool off
(``DLGRADE_WARM_SANDBOXES=0``), because under a burst the pool decides the
throughput (docs/reliability.md). It creates its own database (dropped at the
end), uses queue names of its own in Redis (removed at the end) and stops
every process it started. ``tests/reliability`` reuses :class:`ServiceStack`,
:func:`upload_burst` and :func:`audit` for the 500-upload load test and the
fault tests.

    python -m bench --only service
    python -m bench.service_throughput -n 200 --clients 10 --rate 10 --warm-sandboxes 0

``DLGRADE_BENCH_PG`` (an admin URL; default the tests' ``postgres@127.0.0.1/test``)
and ``DLGRADE_BENCH_REDIS`` point it at other servers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from service.grading import AssignmentInfo, EngineGrader

from .common import Figure

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "tests/assignments/radboud_dl_a1/submissions/correct_clean.py"
SLUG = "radboud-dl-a1"
LAYER_GRADER = "bench.service_throughput:LayerOnlyGrader"
GRADE_LOG_ENV = "DLGRADE_BENCH_GRADE_LOG"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
FINAL = ("graded", "error")


class LayerOnlyGrader(EngineGrader):
    """The service's engine grader, with radboud-dl-a1's training problem left out.

    Issue 5's "layer problems only". The service grades every problem an
    assignment's grader lists, so the workers are pointed at this class
    (``DLGRADE_GRADER``); grading itself is ``EngineGrader``'s, sandbox and warm
    pool included. With ``$DLGRADE_BENCH_GRADE_LOG`` set, every problem the
    engine finishes appends ``<storage dir> <problem> <pid>`` to that file, so a
    problem graded twice shows even when the database kept only one result.
    """

    def assignment(self, slug: str) -> AssignmentInfo:
        info = super().assignment(slug)
        return AssignmentInfo(info.slug, info.title,
                              [p for p in info.problems if not p.training])

    def grade(self, slug: str, paths: Sequence[Path], *, seed: int,
              problems: Sequence[str] | None, on_problem: Callable[[Any], None]) -> Any:
        if problems is None:
            problems = [p.id for p in self.assignment(slug).problems]
        log = os.environ.get(GRADE_LOG_ENV)
        if not log:
            return super().grade(slug, paths, seed=seed, problems=problems,
                                 on_problem=on_problem)
        key = Path(paths[0]).parent.name

        def logged(pr: Any) -> None:
            with open(log, "a") as f:  # one short O_APPEND write: whole lines across processes
                f.write(f"{key} {pr.id} {os.getpid()}\n")
            on_problem(pr)

        return super().grade(slug, paths, seed=seed, problems=problems, on_problem=logged)


# ----------------------------------------------------------------------------- processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(cond: Callable[[], object], timeout: float, what: str,
               every: float = 0.2) -> object:
    """Poll ``cond`` (errors count as not yet) until it is truthy; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = cond()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout:g} s for {what}")


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM,
                 timeout: float = 15) -> None:
    """Signal the process group (Celery's pool children too); SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        proc.wait(10)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Celery's pool processes below its main process)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


@dataclass
class ServiceStack:
    """A database of its own, the API and Celery workers as processes, and seeded users.

    ``admin_pg`` is an admin URL on a PostgreSQL server (the machine's, or a
    test's private one); a database is created there and dropped on
    :meth:`close`. Queue names carry a prefix of their own and are removed from
    ``redis_url`` on close. ``env`` adds or overrides settings of every process.
    """

    admin_pg: str
    redis_url: str
    workdir: Path
    grader: str = LAYER_GRADER
    slug: str = SLUG
    students: int = 10
    env: dict[str, str] = field(default_factory=dict)
    pythonpath: list[Path] = field(default_factory=list)
    api_url: str = ""
    db_url: str = ""
    assignment_id: int = 0
    course_id: int = 0
    tokens: list[str] = field(default_factory=list)
    instructor_token: str = ""
    api: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    prefix: str = field(default_factory=lambda: f"dlgbench{uuid.uuid4().hex[:10]}")
    _db_name: str = ""
    _log_n: int = 0
    _engine: Any = None

    # -- lifecycle

    def open(self) -> ServiceStack:
        from sqlalchemy import create_engine, text

        from service.db import migrate

        self.workdir.mkdir(parents=True, exist_ok=True)
        self._db_name = f"dlgrade_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.admin_pg, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self._db_name}"'))
        finally:
            admin.dispose()
        self.db_url = f"{self.admin_pg.rsplit('/', 1)[0]}/{self._db_name}"
        migrate(self.db_url)
        self._seed()
        return self

    def close(self) -> None:
        for p in [*self.workers, *([self.api] if self.api else [])]:
            stop_process(p)
        self.workers, self.api = [], None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._clean_redis()
        if self._db_name:
            from sqlalchemy import create_engine, text

            admin = create_engine(self.admin_pg, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)'))
            finally:
                admin.dispose()
            self._db_name = ""

    def __enter__(self) -> ServiceStack:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clean_redis(self) -> None:
        import json

        import redis

        try:
            r = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
            for key in r.scan_iter(f"*{self.prefix}*"):
                r.delete(key)
            for tag, raw in r.hgetall("unacked").items():
                if self.prefix in json.loads(raw)[2]:
                    r.hdel("unacked", tag)
                    r.zrem("unacked_index", tag)
        except (redis.RedisError, OSError, ValueError, IndexError):
            pass

    def process_env(self) -> dict[str, str]:
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("DLGRADE_", "FAKE_GRADER")) and k not in (
                 "DATABASE_URL", "REDIS_URL")}
        e["PYTHONPATH"] = os.pathsep.join(str(p) for p in [ROOT, *self.pythonpath])
        e.update(DATABASE_URL=self.db_url, REDIS_URL=self.redis_url,
                 DLGRADE_STATE_DIR=str(self.workdir / "state"),
                 DLGRADE_SECRET_KEY="bench-secret-" + "x" * 32 + self.prefix,
                 DLGRADE_QUEUE_PREFIX=self.prefix, DLGRADE_GRADER=self.grader,
                 DLGRADE_LOG_LEVEL="INFO")
        e.update(self.env)
        return e

    def _spawn(self, args: list[str], name: str) -> tuple[subprocess.Popen[bytes], Path]:
        self._log_n += 1
        log = self.workdir / f"{name}-{self._log_n}.log"
        out = open(log, "ab")  # noqa: SIM115 - the child keeps it open; closed below
        try:
            proc = subprocess.Popen([sys.executable, "-m", *args], env=self.process_env(),
                                    stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                    start_new_session=True)
        finally:
            out.close()
        return proc, log

    def start_api(self, port: int | None = None) -> str:
        import httpx

        port = port or free_port()
        self.api, log = self._spawn(["uvicorn", "--factory", "service.app:app_factory",
                                     "--host", "127.0.0.1", "--port", str(port),
                                     "--log-level", "warning"], "api")
        self.api_url = f"http://127.0.0.1:{port}"
        api = self.api
        wait_until(lambda: api.poll() is None and httpx.get(
            self.api_url + "/readyz", timeout=2).status_code == 200, 60,
            f"the API (log: {log})")
        return self.api_url

    def start_worker(self, queues: str = "grading,training,regrade") -> subprocess.Popen[bytes]:
        proc, log = self._spawn(["service", "worker", "--queues", queues], "worker")
        wait_until(lambda: proc.poll() is None and b" ready" in log.read_bytes(), 60,
                   f"a worker (log: {log})")
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for w in self.workers:
            stop_process(w)
        self.workers = []

    # -- data

    def _seed(self) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from service.models import ApiToken, Assignment, Course, Enrollment, User, utcnow
        from service.security import new_api_token

        engine = create_engine(self.db_url)
        try:
            with Session(engine) as s:
                course = Course(code=f"BENCH-{self.prefix[-6:]}", title="Bench course",
                                timezone="UTC")
                s.add(course)
                s.flush()
                now = utcnow()
                a = Assignment(course_id=course.id, slug=self.slug, title="Assignment 1",
                               opens_at=now - timedelta(days=1), due_at=now + timedelta(days=7))
                s.add(a)
                people = [("instructor", "instructor")] + [
                    (f"student{i:03d}", "student") for i in range(self.students)]
                for name, role in people:
                    u = User(email=f"{name}@bench.invalid", name=name, role=role)
                    s.add(u)
                    s.flush()
                    s.add(Enrollment(course_id=course.id, user_id=u.id, role=role))
                    token, digest = new_api_token()
                    s.add(ApiToken(user_id=u.id, name="bench", token_hash=digest))
                    if role == "student":
                        self.tokens.append(token)
                    else:
                        self.instructor_token = token
                s.commit()
                self.assignment_id, self.course_id = a.id, course.id
        finally:
            engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A session on this stack's database; the engine lives until :meth:`close`."""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        if self._engine is None:
            self._engine = create_engine(self.db_url, pool_pre_ping=True, pool_size=2)
        with Session(self._engine, expire_on_commit=False) as s:
            yield s


# ----------------------------------------------------------------------------- uploads

@dataclass
class Upload:
    """One upload attempt as the client saw it: an answer (status) or no answer (error)."""

    client: int
    started: float  # time.time()
    latency_s: float
    status: int | None
    submission_id: int | None = None
    error: str = ""


def upload_one(client: Any, url: str, assignment_id: int, token: str, data: bytes,
               name: str = "assignment1.py", client_no: int = 0) -> Upload:
    import httpx

    started, t = time.time(), time.perf_counter()
    try:
        r = client.post(f"{url}/api/v1/assignments/{assignment_id}/submissions",
                        headers={"Authorization": f"Bearer {token}"},
                        files=[("files", (name, data, "text/x-python"))])
    except httpx.HTTPError as exc:
        return Upload(client_no, started, time.perf_counter() - t, None,
                      error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - t
    sid = r.json().get("id") if r.status_code == 201 else None
    return Upload(client_no, started, latency, r.status_code, sid,
                  "" if r.status_code == 201 else r.text[:300])


def upload_burst(stack: ServiceStack, n: int, clients: int, data: bytes, *,
                 rate: float | None = None, during: Callable[[int], None] | None = None,
                 timeout: float = 30.0, retry_errors: bool = False,
                 name: str = "assignment1.py") -> list[Upload]:
    """``n`` uploads by ``clients`` students at once, each student one after the other.

    ``rate`` (uploads per second, all clients together) paces the uploads: the
    k-th is sent at ``k / rate`` s, or as soon as its client is free if it is
    behind; without it every client uploads as fast as the API answers.
    ``during(k)`` is called (from the caller's thread) once k uploads have
    answered, for fault injection. ``retry_errors`` makes a client retry an
    upload that got an error answer (as a student would) after half a second,
    up to 20 times; every attempt is returned.
    """
    import httpx

    assert clients <= len(stack.tokens), "more clients than seeded students"
    shares = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    results: list[Upload] = []
    answered = threading.Condition()
    start = threading.Barrier(clients + 1)
    t0: list[float] = []

    def run(i: int) -> None:
        with httpx.Client(timeout=timeout) as client:
            start.wait()
            for j in range(shares[i]):
                if rate:
                    time.sleep(max(0.0, t0[0] + (j * clients + i) / rate - time.monotonic()))
                for _attempt in range(20 if retry_errors else 1):
                    u = upload_one(client, stack.api_url, stack.assignment_id, stack.tokens[i],
                                   data, name=name, client_no=i)
                    with answered:
                        results.append(u)
                        answered.notify_all()
                    if u.status == 201 or not retry_errors:
                        break
                    time.sleep(0.5)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t0.append(time.monotonic())
    start.wait()
    seen = 0
    deadline = time.monotonic() + max(120.0, n * 2.0)
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        with answered:
            answered.wait(0.2)
            k = len(results)
        if during is not None and k > seen:
            for j in range(seen + 1, k + 1):
                during(j)
        seen = k
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 1)
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"the burst of {n} uploads did not finish in time")
    return sorted(results, key=lambda u: u.started)


def _is_final(client: Any, stack: ServiceStack, sid: int) -> bool:
    r = client.get(f"{stack.api_url}/api/v1/submissions/{sid}/wait?final=true&timeout=20",
                   headers={"Authorization": f"Bearer {stack.tokens[0]}"})
    return bool(r.json()["status"] in FINAL)


def upload_idle(stack: ServiceStack, n: int, data: bytes, timeout: float = 120,
                name: str = "assignment1.py") -> list[Upload]:
    """One upload at a time, each waited for until graded: the API's latency at rest."""
    import httpx

    out = []
    with httpx.Client(timeout=30) as client:
        for _ in range(2):  # connections, caches and the workers' first grading: not counted
            u = upload_one(client, stack.api_url, stack.assignment_id, stack.tokens[0], data,
                           name=name)
            if u.submission_id is not None:
                wait_until(partial(_is_final, client, stack, u.submission_id), timeout,
                           f"submission {u.submission_id}")
        for _ in range(n):
            u = upload_one(client, stack.api_url, stack.assignment_id, stack.tokens[0], data,
                           name=name)
            out.append(u)
            if u.submission_id is not None:
                wait_until(partial(_is_final, client, stack, u.submission_id), timeout,
                           f"submission {u.submission_id}")
    return out


# ----------------------------------------------------------------------------- the audit

@dataclass
class Audit:
    """What the database says about a set of submissions, and how often the engine ran.

    Graded exactly once means: the submission is ``graded``; it has exactly one
    grading run, which is ``done`` and is its ``current_run_id``; that run has
    exactly one committed ``problem_results`` row for every problem of the
    assignment (the unique constraint on (run, problem) forbids more); and,
    when a grade log is kept, no problem ran in the engine more than once.
    """

    accepted: int
    graded_once: int
    lost: list[int]  # accepted, but not graded (missing, or still queued or running)
    errors: list[int]  # ended as an infrastructure error
    twice: list[int]  # more than one committed run, or a problem graded twice
    incomplete: list[int]  # graded, but problems missing from its run
    unexpected: list[int]  # in the database although no upload was answered with 201
    last_finished: float  # time.time() of the last one graded
    statuses: dict[str, int]
    engine_runs: int  # (submission, problem) gradings the engine logged

    @property
    def ok(self) -> bool:
        return not (self.lost or self.errors or self.twice or self.incomplete) and (
            self.graded_once == self.accepted)


def audit(stack: ServiceStack, accepted: Sequence[int], grade_log: Path | None = None,
          allow_extra: bool = False, require_engine_once: bool = True) -> Audit:
    """Check every accepted submission against the database (see :class:`Audit`).

    ``allow_extra``: submissions in the database that no 201 answered (the
    client lost the answer, e.g. in a database restart) are checked like the
    accepted ones instead of being reported as unexpected only.
    ``require_engine_once``: count a problem that the engine graded twice as
    graded twice; fault tests that kill a worker mid-problem turn it off,
    because that problem is legitimately graded again, and committed once.
    """
    from sqlalchemy import func, select

    from service.models import GradingRun, ProblemResult, Submission

    problems = _problem_ids(stack)
    with stack.session() as s:
        subs = {sub.id: sub for sub in s.scalars(select(Submission).where(
            Submission.assignment_id == stack.assignment_id))}
        runs = Counter(s.scalars(select(GradingRun.submission_id).where(
            GradingRun.submission_id.in_(list(subs)))).all())
        done = {r.id: r for r in s.scalars(select(GradingRun).where(
            GradingRun.submission_id.in_(list(subs)), GradingRun.status == "done"))}
        rows = s.execute(select(ProblemResult.run_id, ProblemResult.problem_id, func.count())
                         .where(ProblemResult.run_id.in_(list(done)))
                         .group_by(ProblemResult.run_id, ProblemResult.problem_id)).all()
    per_run: dict[int, dict[str, int]] = {}
    for run_id, pid, count in rows:
        per_run.setdefault(run_id, {})[pid] = count
    engine: Counter[tuple[str, str]] = Counter()
    if grade_log is not None and grade_log.exists():
        for line in grade_log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                engine[(parts[0], parts[1])] += 1
    keys = {sid: sub.storage_key.rsplit("/", 1)[-1] for sid, sub in subs.items()}
    check = set(accepted) | (set(subs) if allow_extra else set())
    mine = {keys[sid] for sid in check if sid in keys}
    lost, errors, twice, incomplete, once = [], [], [], [], 0
    last = 0.0
    for sid in sorted(check):
        sub = subs.get(sid)
        if sub is None or sub.status in ("queued", "running"):
            lost.append(sid)
            continue
        if sub.status == "error":
            errors.append(sid)
            continue
        run = done.get(sub.current_run_id or -1)
        results = per_run.get(run.id, {}) if run is not None else {}
        repeated = any(engine[(keys[sid], p)] > 1 for p in problems)
        if runs[sid] != 1 or any(c != 1 for c in results.values()) or (
                repeated and require_engine_once):
            twice.append(sid)
        elif set(results) != set(problems):
            incomplete.append(sid)
        else:
            once += 1
        if sub.finished_at is not None:
            last = max(last, sub.finished_at.timestamp())
    return Audit(accepted=len(check), graded_once=once, lost=lost, errors=errors, twice=twice,
                 incomplete=incomplete, unexpected=sorted(set(subs) - set(accepted)),
                 last_finished=last, statuses=dict(Counter(s.status for s in subs.values())),
                 engine_runs=sum(c for (key, _), c in engine.items() if key in mine))


def _problem_ids(stack: ServiceStack) -> list[str]:
    from service.grading import load_grader
    from service.settings import Settings

    grader = load_grader(Settings(grader=stack.grader, warm_sandboxes=0))
    return [p.id for p in grader.assignment(stack.slug).problems]


def wait_all_final(stack: ServiceStack, ids: Sequence[int], timeout: float) -> None:
    """Until every submission in ``ids`` is graded or an error (bounded by ``timeout``)."""
    from sqlalchemy import func, select

    from service.models import Submission

    wanted = list(ids)

    def pending() -> int:
        with stack.session() as s:
            return int(s.scalar(select(func.count()).select_from(Submission).where(
                Submission.id.in_(wanted), Submission.status.not_in(FINAL))) or 0)

    wait_until(lambda: pending() == 0, timeout, f"{len(wanted)} submissions to be graded",
               every=0.5)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# ----------------------------------------------------------------------------- the figures

def serial_in_process(n: int, warm_sandboxes: int | None, submission: Path = SUBMISSION,
                      fork_server: bool | None = None) -> float:
    """Gradings per minute of one in-process loop over the worker's own grader."""
    from service.settings import Settings

    changes: dict[str, Any] = {}
    if warm_sandboxes is not None:
        changes["warm_sandboxes"] = warm_sandboxes
    if fork_server is not None:
        changes["fork_server"] = fork_server
    settings = Settings(**changes)
    grader = LayerOnlyGrader(settings)  # the workers' grader, sandbox and warm pool alike
    problems = [p.id for p in grader.assignment(SLUG).problems]
    try:
        for _ in range(2):  # warm, as the workers are after the idle uploads
            grader.grade(SLUG, [submission], seed=1, problems=problems,
                         on_problem=lambda _: None)
        t = time.perf_counter()
        for i in range(n):
            g = grader.grade(SLUG, [submission], seed=i, problems=problems,
                             on_problem=lambda _: None)
            assert all(p.status == "passed" for p in g.problems), g
        return n / (time.perf_counter() - t) * 60
    finally:
        if grader.pool is not None:
            grader.pool.close()


class CountFigure(Figure):
    """A count whose baseline may be zero: 0 of 0 reads as a ratio of 1, not infinity."""

    @property
    def ratio(self) -> float:
        if self.value == self.baseline == 0:
            return 1.0
        return super().ratio


def run(n: int = 200, clients: int = 10, rate: float | None = 10.0, idle: int = 20,
        serial: int = 30, workers: int = 2, warm_sandboxes: int | None = None,
        submission: Path = SUBMISSION, target_gpm: float = 60.0,
        fork_server: bool | None = None) -> list[Figure]:
    """One burst and its baselines; every process and the database are gone afterwards.

    ``warm_sandboxes`` None runs the workers with the service's default. Every
    upload is ``submission`` (issue 5: a layers-only ``.py``, at least 60 a minute;
    issue 13: a notebook importing matplotlib, scipy and scikit-learn, 150).
    """
    from service.settings import Settings

    data = submission.read_bytes()
    workdir = Path(tempfile.mkdtemp(prefix="dlgrade-bench-service-"))
    grade_log = workdir / "grades.log"
    env = {GRADE_LOG_ENV: str(grade_log)}
    warm = Settings().warm_sandboxes if warm_sandboxes is None else warm_sandboxes
    env["DLGRADE_WARM_SANDBOXES"] = str(warm)
    label = f"warm_sandboxes={warm}" + (" (default)" if warm_sandboxes is None else "")
    if fork_server is not None:
        env["DLGRADE_FORK_SERVER"] = "true" if fork_server else "false"
        label = f"{label.split()[0]},fork_server={env['DLGRADE_FORK_SERVER']}"
    stack = ServiceStack(os.environ.get("DLGRADE_BENCH_PG", PG_ADMIN),
                         os.environ.get("DLGRADE_BENCH_REDIS", REDIS_URL), workdir,
                         students=max(clients, 1), env=env)
    ok = False
    try:
        stack.open()
        stack.start_api()
        for _ in range(workers):
            stack.start_worker()
        quiet = upload_idle(stack, idle, data, name=submission.name)
        quiet_ids = [u.submission_id for u in quiet if u.submission_id is not None]
        burst = upload_burst(stack, n, clients, data, rate=rate, name=submission.name)
        burst_ids = [u.submission_id for u in burst if u.submission_id is not None]
        with suppress(TimeoutError):  # what is not graded by then is counted as lost
            wait_all_final(stack, burst_ids, timeout=max(300.0, n * 3.0))
        a_quiet = audit(stack, quiet_ids, grade_log)
        a_burst = audit(stack, burst_ids, grade_log)
        stack.close()  # the baseline gets the machine to itself, as the workers had
        baseline_gpm = serial_in_process(serial, warm, submission, fork_server)
        ok = True
    finally:
        stack.close()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"service bench failed; logs kept in {workdir}", file=sys.stderr)
    t0 = burst[0].started
    elapsed = a_burst.last_finished - t0
    gpm = a_burst.graded_once / elapsed * 60 if elapsed > 0 else 0.0
    lat = [u.latency_s * 1000 for u in burst if u.status == 201]
    lat_idle = [u.latency_s * 1000 for u in quiet if u.status == 201]
    refused = Counter(str(u.status or u.error.split(":")[0]) for u in burst if u.status != 201)
    p50, p95 = percentile(lat, 50), percentile(lat, 95)
    i50, i95 = percentile(lat_idle, 50), percentile(lat_idle, 95)
    span = max(u.started + u.latency_s for u in burst) - t0
    pace = f"paced at {rate:g}/s" if rate else "as fast as answered"
    setting = (f"{len(burst_ids)} of {n} accepted from {clients} concurrent clients ({pace}) "
               f"in {span:.1f} s; {workers} Celery workers, {label}; "
               f"{len(_problem_ids(stack))} problems each of {submission.name}"
               + (f"; refused: {dict(refused)}" if refused else ""))
    lost, twice = len(a_burst.lost) + len(a_burst.errors), len(a_burst.twice)
    tag = f"service[{label.split()[0]}]"
    return [
        Figure(f"{tag} graded per minute", gpm, baseline_gpm, "/min", f"≥ {target_gpm:g}/min",
               gpm >= target_gpm and not a_burst.incomplete,
               f"{setting}; first upload to last result {elapsed:.1f} s. Baseline: the "
               f"worker's grader in one serial in-process loop, {serial} gradings"),
        Figure(f"{tag} upload p50 in burst", p50, i50, "ms", "context", True,
               f"baseline: {idle} uploads to the same API at rest, one at a time, each "
               f"graded before the next (p50 {i50:.1f} ms, p95 {i95:.1f} ms)"),
        Figure(f"{tag} upload p95 in burst", p95, i95, "ms", "< 100 ms", p95 < 100,
               f"max {max(lat):.0f} ms, mean {statistics.fmean(lat):.1f} ms"),
        CountFigure(f"{tag} lost", lost, len(a_quiet.lost) + len(a_quiet.errors), "subs",
                    "0", lost == 0, f"accepted, never graded; baseline: the {idle} idle "
                    f"uploads; statuses at the end {a_burst.statuses}"),
        CountFigure(f"{tag} graded twice", twice, len(a_quiet.twice), "subs", "0",
                    twice == 0, f"{a_burst.engine_runs} problem gradings logged by the "
                    f"engine for {a_burst.accepted} submissions (baseline "
                    f"{a_quiet.engine_runs} for {a_quiet.accepted})"),
    ]


def fork_server_burst(**kwargs: Any) -> list[Figure]:
    """The same burst without the fork server, then with it (issue 13): each figure of the
    second run, and its graded-per-minute beside the first run's as the baseline."""
    off = run(fork_server=False, **kwargs)
    on = run(fork_server=True, **kwargs)
    gpm_off, gpm_on = off[0].value, on[0].value
    target = kwargs.get("target_gpm", 60.0)
    compared = Figure("service graded per minute, fork server on vs off", gpm_on, gpm_off,
                      "/min", f"≥ {target:g}/min", gpm_on >= target and on[0].met,
                      "baseline: the same burst, same stack, sandboxes started by bubblewrap")
    return [*off, *on, compared]


def measure() -> list[Figure]:
    """The service's defaults, then the same burst with the warm pool off (issue 5)."""
    return run() + run(warm_sandboxes=0)


def _cli(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m bench.service_throughput")
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--rate", type=float, default=10.0,
                   help="uploads per second, all clients together (0: as fast as answered)")
    p.add_argument("--idle", type=int, default=20)
    p.add_argument("--serial", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--warm-sandboxes", type=int, default=None)
    p.add_argument("--submission", type=Path, default=SUBMISSION,
                   help="what every upload is, e.g. a radboud-dl-a1 notebook")
    p.add_argument("--target", type=float, default=60.0, help="graded a minute to meet")
    p.add_argument("--fork-server", choices=["default", "on", "off", "both"], default="default",
                   help="both: the burst without the fork server, then with it")
    a = p.parse_args(argv)
    kwargs = dict(n=a.n, clients=a.clients, rate=a.rate or None, idle=a.idle, serial=a.serial,
                  workers=a.workers, warm_sandboxes=a.warm_sandboxes,
                  submission=a.submission.resolve(), target_gpm=a.target)
    if a.fork_server == "both":
        figures = fork_server_burst(**kwargs)
    else:
        fork = {"default": None, "on": True, "off": False}[a.fork_server]
        figures = run(**kwargs, fork_server=fork)
    for fig in figures:
        print(fig.row(), flush=True)


if __name__ == "__main__":
    _cli()
