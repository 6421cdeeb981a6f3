"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

Three properties, each over every operation the document lists:

1. No request produces a server error: schema-valid and schema-violating
   requests (schemathesis' positive and negative modes), from every role and
   none, with path ids that exist as well as ids that do not.
2. A student can neither read nor change another student's data: every
   operation with alice's ids in its path, sent as bob (same course) and as
   carol (another course), is refused when it names alice's submission or
   token, never shows alice's data, and leaves every row of alice's unchanged;
   and a state machine of two students uploading and probing each other's
   submissions keeps each one's view their own.
3. Oversized or malformed uploads are refused before they are stored: the
   answer is the rule's status, and the submissions directory, the
   submissions table and the outbox are exactly as before.

The default run is bounded (a fixed example budget per operation, derandomized
so CI sees the same requests); ``-m slow`` runs a larger budget from a fixed
seed, so a CI run fails only on a change, never on the draw.
``DLGRADE_FUZZ_SEED=random`` (or any number) explores further; a failure
prints the seed that reproduces it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import RecordingBroker, World
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from schemathesis import GenerationMode
from sqlalchemy import func, select
from test_svc_submissions import grade_all

from service.app import create_app
from service.context import Context
from service.models import (
    ApiToken,
    Enrollment,
    Extension,
    ExtraAttempts,
    GradingRun,
    Outbox,
    ProblemResult,
    ScoreAdjustment,
    Submission,
    SubmissionFile,
    User,
)
from service.security import new_api_token
from service.settings import Settings

pytestmark = pytest.mark.timeout(120)

EXAMPLES = int(os.environ.get("DLGRADE_FUZZ_EXAMPLES", "12"))  # per operation and mode
# Who sends a request: the course's instructor (who may do most) more often than the rest.
WHO = ["inst_a", "inst_a", "admin", "inst_b", "alice", "alice", "bob", "carol", None, "forged"]
LONG_POLLS = ("/wait", "/events")


def _settings(examples: int, derandomize: bool = True) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                    suppress_health_check=list(HealthCheck), phases=[Phase.generate])


@dataclass
class Fuzz:
    """The API, its schema, two courses of people, and a graded submission of alice's."""

    client: TestClient
    ctx: Context
    world: World
    broker: RecordingBroker
    schema: Any
    known: dict[str, list[Any]] = field(default_factory=dict)
    alice: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "forged":
            return {"Authorization": "Bearer dlg_" + "A" * 43}
        return self.world.h(who)

    def operations(self) -> list[Any]:
        return [r.ok() for r in self.schema.get_all_operations()]

    def settle(self) -> None:
        """Grade whatever a request queued: no submission is left waiting (long polls return)."""
        grade_all(self.ctx, self.broker)


def _upload(client: TestClient, world: World, who: str, content: bytes, aid: int) -> Any:
    r = client.post(f"/api/v1/assignments/{aid}/submissions", headers=world.h(who),
                    files=[("files", ("solution.py", content, "text/x-python"))])
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def fuzz(ctx: Context, world: World, broker: RecordingBroker, settings: Settings
         ) -> Iterator[Fuzz]:
    app = create_app(settings, context=ctx)
    with TestClient(app) as client:
        marker = f"alice-private-{uuid.uuid4().hex}".encode()
        content = b"p1 p2 secret t1 # " + marker
        sub = _upload(client, world, "alice", content, world.ids["a1"])
        carol = _upload(client, world, "carol", b"p1", world.ids["b1"])
        grade_all(ctx, broker)
        spare = []
        with ctx.sessions() as s:  # tokens the fuzzer may revoke without locking anyone out
            for who in ("alice", "bob", "carol"):
                _, digest = new_api_token()
                row = ApiToken(user_id=world.ids[who], name="spare", token_hash=digest)
                s.add(row)
                s.flush()
                spare.append(row.id)
            grant = ExtraAttempts(assignment_id=world.ids["a1"], user_id=world.ids["alice"],
                                  count=1, granted_by=world.ids["inst_a"])  # one to revoke
            s.add(grant)
            s.commit()
            grants = [grant.id]
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        f = Fuzz(client, ctx, world, broker, schema)
        f.known = {
            "course_id": [world.ids["course_a"], world.ids["course_b"]],
            "assignment_id": [world.ids["a1"], world.ids["b1"]],
            "submission_id": [sub["id"], carol["id"]],
            "file_id": [sub["files"][0]["id"], carol["files"][0]["id"]],
            "token_id": spare,
            "problem_id": ["p1", "p2", "m1", "t1"],
            "user_id": [world.ids[k] for k in ("alice", "bob", "carol")],
            "bundle_id": [1, 2],  # course bundles: none published, staff-only anyway
            "grant_id": [*grants, grants[0] + 1],
        }
        f.alice = {"submission_id": sub["id"], "file_id": sub["files"][0]["id"],
                   "token_id": spare[0], "course_id": world.ids["course_a"],
                   "assignment_id": world.ids["a1"], "problem_id": "p2",
                   "user_id": world.ids["alice"], "bundle_id": 1, "grant_id": grants[0],
                   "secrets": ["alice@example.org", marker.decode(),
                               hashlib.sha256(content).hexdigest()]}
        yield f


def _strategy(op: Any, mode: GenerationMode, path: dict[str, Any] | None = None) -> Any:
    query = {"timeout": 1} if op.path.endswith(LONG_POLLS) else None
    return op.as_strategy(generation_mode=mode, path_parameters=path, query=query)


def _run(test: Callable[[], None]) -> None:
    """Run one hypothesis test; an operation with nothing to violate has no negative cases."""
    with contextlib.suppress(Unsatisfiable):
        test()


# --------------------------------------------------------------------------- 1. no 500s

def _no_server_errors(f: Fuzz, examples: int, draw_seed: int | None = None) -> int:
    """Without ``draw_seed`` the draws are derandomized; with it, they follow that seed."""
    sent = 0
    for op in f.operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @seed(draw_seed)
            @_settings(examples, derandomize=draw_seed is None)
            @given(case=_strategy(op, mode), who=st.sampled_from(WHO), data=st.data())
            def check(case: Any, who: str | None, data: st.DataObject) -> None:
                nonlocal sent
                for name in list(case.path_parameters or {}):
                    if name in f.known and data.draw(st.integers(0, 3), label=f"real {name}"):
                        case.path_parameters[name] = data.draw(st.sampled_from(f.known[name]))
                r = case.call(headers=f.headers(who))
                sent += 1
                f.settle()
                assert r.status_code < 500, (f"{case.method} {case.formatted_path} as {who}: "
                                             f"{r.status_code} {r.text[:500]}")

            _run(check)
    return sent


def test_no_request_produces_a_server_error(fuzz: Fuzz) -> None:
    sent = _no_server_errors(fuzz, EXAMPLES)
    assert sent >= len(fuzz.operations()) * EXAMPLES  # every operation was exercised


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_request_produces_a_server_error_long_random_run(fuzz: Fuzz) -> None:
    chosen = os.environ.get("DLGRADE_FUZZ_SEED", "20261122")
    draw_seed = secrets.randbelow(2**32) if chosen == "random" else int(chosen)
    try:
        _no_server_errors(fuzz, 60, draw_seed)
    except BaseException as exc:
        exc.add_note(f"reproduce with DLGRADE_FUZZ_SEED={draw_seed}")
        raise


# --------------------------------------------------------------------------- 2. isolation

def _snapshot(ctx: Context, user_id: int) -> dict[str, Any]:
    """Every row that is a student's own, minus what reading it changes (token last use)."""
    with ctx.sessions() as s:
        subs = s.scalars(select(Submission).where(Submission.user_id == user_id)
                         .order_by(Submission.id)).all()
        ids = [x.id for x in subs]
        runs = s.scalars(select(GradingRun).where(GradingRun.submission_id.in_(ids))
                         .order_by(GradingRun.id)).all()
        return {
            "user": [(u.email, u.name, u.role, u.password_hash, u.is_active)
                     for u in s.scalars(select(User).where(User.id == user_id))],
            "tokens": [(t.id, t.token_hash, t.revoked_at) for t in s.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))],
            "enrollments": [(e.course_id, e.role, e.late_day_budget) for e in s.scalars(
                select(Enrollment).where(Enrollment.user_id == user_id))],
            "submissions": [(x.id, x.status, x.attempt, x.current_run_id, x.storage_key)
                            for x in subs],
            "files": [(x.id, x.name, x.sha256) for x in s.scalars(
                select(SubmissionFile).where(SubmissionFile.submission_id.in_(ids)))],
            "runs": [(r.id, r.status, r.score, r.seed) for r in runs],
            "results": sorted((p.run_id, p.problem_id, p.score) for p in s.scalars(
                select(ProblemResult).where(ProblemResult.run_id.in_([r.id for r in runs])))),
            "adjustments": [(a.problem_id, a.points) for a in s.scalars(  # paper-only too
                select(ScoreAdjustment).where(ScoreAdjustment.user_id == user_id))],
            "extensions": [(e.assignment_id, e.due_at) for e in s.scalars(
                select(Extension).where(Extension.user_id == user_id))],
            "extra_attempts": [(e.assignment_id, e.count) for e in s.scalars(
                select(ExtraAttempts).where(ExtraAttempts.user_id == user_id))],
        }


def _isolation_check(f: Fuzz, op: Any, mode: GenerationMode) -> Callable[[], None]:
    names = {p.name for p in op.path_parameters} if op.path_parameters else set()
    owned = bool(names & {"submission_id", "token_id", "file_id"})  # alice's own objects

    @_settings(EXAMPLES)
    @given(case=_strategy(op, mode, {k: f.alice[k] for k in names}),
           who=st.sampled_from(["bob", "carol"]))
    def check(case: Any, who: str) -> None:
        r = case.call(headers=f.headers(who))
        f.settle()
        what = f"{case.method} {case.formatted_path} as {who}: {r.status_code}"
        assert r.status_code < 500, f"{what} {r.text[:300]}"
        if owned:
            assert r.status_code >= 400, f"{what}: alice's object was served"
        for secret in f.alice["secrets"]:
            assert secret not in r.text, f"{what} shows alice's {secret!r}"

    return check


def test_a_student_cannot_read_or_change_another_students_data(fuzz: Fuzz) -> None:
    alice = fuzz.world.ids["alice"]
    before = _snapshot(fuzz.ctx, alice)
    for op in fuzz.operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(_isolation_check(fuzz, op, mode))
        assert _snapshot(fuzz.ctx, alice) == before, f"{op.method} {op.path} changed alice's data"


def test_two_students_probing_each_other_keep_their_own_view(fuzz: Fuzz) -> None:
    """A state machine: alice and bob upload, grade, read, and try each other's submissions."""
    client, world, ids = fuzz.client, fuzz.world, fuzz.world.ids
    probes = [op for op in fuzz.operations() if "{submission_id}" in op.path]

    def listed(who: str) -> set[int]:
        r = client.get(f"/api/v1/assignments/{ids['a1']}/my-submissions", headers=world.h(who))
        return {x["id"] for x in r.json()}

    class TwoStudents(RuleBasedStateMachine):
        # The database outlives one example: each starts from what the last one left.
        # Draws never depend on it (Hypothesis replays examples), only what they pick does.
        def __init__(self) -> None:
            super().__init__()
            self.mine = {who: listed(who) for who in ("alice", "bob")}

        @rule(who=st.sampled_from(["alice", "bob"]), text=st.sampled_from(["p1", "p1 p2", "t1"]))
        def upload(self, who: str, text: str) -> None:
            sub = _upload(client, world, who, f"{text} # {who}".encode(), ids["a1"])
            self.mine[who].add(sub["id"])
            fuzz.settle()

        @rule(attacker=st.sampled_from(["alice", "bob"]), pick=st.integers(0, 1000),
              op=st.sampled_from(probes), data=st.data())
        def probe(self, attacker: str, pick: int, op: Any, data: st.DataObject) -> None:
            victim = "bob" if attacker == "alice" else "alice"
            case = data.draw(_strategy(op, GenerationMode.POSITIVE, {"submission_id": 1}))
            theirs = sorted(self.mine[victim])
            if not theirs:
                return
            case.path_parameters["submission_id"] = theirs[pick % len(theirs)]
            before = _snapshot(fuzz.ctx, ids[victim])
            r = case.call(headers=world.h(attacker))
            fuzz.settle()
            assert r.status_code in (403, 404, 422), f"{case.method} {case.formatted_path}"
            assert _snapshot(fuzz.ctx, ids[victim]) == before

        @invariant()
        def each_sees_exactly_their_own(self) -> None:
            for who in ("alice", "bob"):
                got = client.get(f"/api/v1/assignments/{ids['a1']}/my-submissions",
                                 headers=world.h(who))
                assert {x["id"] for x in got.json()} == self.mine[who]
                for sid in self.mine[who]:
                    assert client.get(f"/api/v1/submissions/{sid}",
                                      headers=world.h(who)).status_code == 200

    run_state_machine_as_test(TwoStudents, settings=settings(
        max_examples=4, stateful_step_count=8, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))


# --------------------------------------------------------------------------- 3. uploads

@dataclass
class Store:
    """What an upload could leave behind: files on disk, rows in three tables."""

    files: dict[str, bytes]
    submissions: int
    file_rows: int
    outbox: int


def _store(ctx: Context) -> Store:
    root = ctx.settings.submissions_dir
    files = {str(p.relative_to(root)): p.read_bytes()
             for p in root.rglob("*") if p.is_file()} if root.exists() else {}
    with ctx.sessions() as s:
        return Store(files,
                     int(s.scalar(select(func.count()).select_from(Submission)) or 0),
                     int(s.scalar(select(func.count()).select_from(SubmissionFile)) or 0),
                     int(s.scalar(select(func.count()).select_from(Outbox)) or 0))


LIMITS = {"max_files": 3, "max_file_bytes": 2048, "max_upload_bytes": 4096}
NAMES = st.one_of(
    st.sampled_from(["solution.py", "a1.ipynb", "layers.py", "x", "My File-2.py"]),
    st.sampled_from(["../escape.py", ".hidden", "a/b.py", "..", "-x", " lead", "nul\x00.py",
                     "é.py", "a" * 300, "a\\b.py"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\"\\"), max_size=40))


def _expected(files: list[tuple[str, int]]) -> int:
    """The status the upload rules give (``service.storage.store_files``, in its order)."""
    import re

    if not files:
        return 422
    if len(files) > LIMITS["max_files"]:
        return 413
    for name, _ in files:
        if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,200}", name) or (
                ".." in name):
            return 422
    if len({n for n, _ in files}) != len(files):
        return 422
    total = 0
    for _, size in files:
        total += size
        if size > LIMITS["max_file_bytes"] or total > LIMITS["max_upload_bytes"]:
            return 413
        if size == 0:
            return 422
    # Then the content rules (``graders.engine.intake``): each file holds '#' * size, a
    # comment in a .py file and broken JSON in a notebook or zip.
    suffixes = [os.path.splitext(name)[1].lower() for name, _ in files]
    if ".ipynb" in suffixes or ".zip" in suffixes or ".py" not in suffixes:
        return 422
    return 201


@pytest.fixture
def small_limits(ctx: Context, world: World, settings: Settings) -> Iterator[TestClient]:
    for k, v in LIMITS.items():
        setattr(settings, k, v)
    with TestClient(create_app(settings, context=ctx)) as client:
        yield client


def test_uploads_breaking_a_rule_are_refused_and_nothing_is_kept(
        small_limits: TestClient, world: World, ctx: Context) -> None:
    url = f"/api/v1/assignments/{world.ids['a1']}/submissions"

    @_settings(120)
    @given(files=st.lists(st.tuples(NAMES, st.sampled_from([0, 1, 100, 2048, 2049, 4000]),
                                    st.sampled_from(["text/x-python", "", "application/zip"])),
                          max_size=5))
    def check(files: list[tuple[str, int, str]]) -> None:
        before = _store(ctx)
        parts = [("files", (n, b"#" * size, ctype)) for n, size, ctype in files]
        r = small_limits.post(url, headers=world.h("alice"), files=parts or None,
                              data=None if parts else {"note": "no files"})
        after = _store(ctx)
        want = _expected([(n, size) for n, size, _ in files])
        if r.status_code != 201:
            assert after == before, f"refused ({r.status_code}) but something was kept"
            assert r.status_code == want or (want != 201 and 400 <= r.status_code < 500), (
                files, r.status_code, r.text[:300])
            return
        assert want == 201, (files, r.text[:300])
        new = {k: v for k, v in after.files.items() if k not in before.files}
        assert sorted(Path(k).name for k in new) == sorted(n for n, _, _ in files)
        assert (after.submissions, after.file_rows) == (before.submissions + 1,
                                                        before.file_rows + len(files))

    check()


def test_malformed_upload_bodies_are_refused_and_nothing_is_kept(
        small_limits: TestClient, world: World, ctx: Context) -> None:
    url = f"/api/v1/assignments/{world.ids['a1']}/submissions"
    good = small_limits.build_request(
        "POST", url, files=[("files", ("solution.py", b"p1 p2 " * 50, "text/x-python"))])
    body, ctype = good.read(), good.headers["content-type"]
    bodies = st.one_of(
        st.tuples(st.binary(max_size=600), st.sampled_from([
            ctype, "multipart/form-data", "multipart/form-data; boundary=", "application/json",
            "application/x-www-form-urlencoded", "text/plain", ""])),
        st.integers(0, len(body) - 1).map(lambda cut: (body[:cut], ctype)),  # truncated
        st.integers(0, len(body) - 1).map(  # one byte changed in the framing
            lambda i: (body[:i] + bytes([body[i] ^ 0x20]) + body[i + 1:], ctype)))

    @_settings(120)
    @given(case=bodies)
    def check(case: tuple[bytes, str]) -> None:
        data, content_type = case
        before = _store(ctx)
        headers = {**world.h("alice"), **({"Content-Type": content_type} if content_type else {})}
        r = small_limits.post(url, headers=headers, content=data)
        after = _store(ctx)
        assert r.status_code < 500, (case, r.text[:300])
        if r.status_code != 201:
            assert after == before, f"refused ({r.status_code}) but something was kept"
        else:  # a change the parser forgives: what is kept is what the files say
            for k, v in after.files.items():
                if k not in before.files:
                    assert v in data

    check()


class SpoolSpy:
    """Records what Starlette writes to its temporary upload files (the 'spool')."""

    written = 0

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> type[SpoolSpy]:
        import tempfile

        import starlette.formparsers as fp

        class Spy(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
            def write(self, s: Any) -> int:
                cls.written += len(s)
                return super().write(s)

        cls.written = 0
        monkeypatch.setattr(fp, "SpooledTemporaryFile", Spy)
        return cls


def test_oversized_upload_is_refused_before_it_is_read_or_spooled(
        small_limits: TestClient, world: World, ctx: Context,
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = SpoolSpy.install(monkeypatch)
    url = f"/api/v1/assignments/{world.ids['a1']}/submissions"
    before = _store(ctx)
    big = os.urandom(2 * 1024 * 1024)  # past Starlette's 1 MiB in-memory spool
    r = small_limits.post(url, headers=world.h("alice"),
                          files=[("files", ("solution.py", big, "text/x-python"))])
    assert r.status_code == 413
    assert spy.written == 0  # refused on its Content-Length, before a byte was parsed
    assert r.json()["detail"]["code"] == "body_too_large"  # the service's shape, with the limit
    assert "at most" in r.json()["detail"]["message"]
    r = small_limits.post(url, files=[("files", ("solution.py", big, "text/x-python"))])
    assert r.status_code == 413 and spy.written == 0  # without a token, just the same

    probe = small_limits.build_request(
        "POST", url, files=[("files", ("solution.py", big, "text/x-python"))])
    body = probe.read()

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield from (body[i:i + 65536] for i in range(0, len(body), 65536))

    r = small_limits.post(url, headers={**world.h("alice"),
                                        "Content-Type": probe.headers["content-type"]},
                          content=chunks())
    assert r.status_code == 413 and r.json()["detail"]["code"] == "body_too_large"
    assert spy.written <= small_limits.app.max_body_size  # type: ignore[attr-defined]
    assert _store(ctx) == before


# --------------------------------------------------------------------------- found by fuzzing

def test_ids_beyond_the_databases_integer_range_are_refused_not_a_500(
        client: TestClient, world: World) -> None:
    big = 2**40
    for path in (f"/api/v1/courses/{big}", f"/api/v1/assignments/{big}",
                 f"/api/v1/submissions/{big}",
                 f"/api/v1/assignments/{world.ids['a1']}/submissions?user_id={big}"):
        r = client.get(path, headers=world.h("inst_a"))
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.json()["detail"]["code"] == "invalid_value"


def test_patch_with_null_for_a_setting_that_needs_a_value_is_refused(
        client: TestClient, world: World) -> None:
    url = f"/api/v1/assignments/{world.ids['a1']}"
    before = client.get(url, headers=world.h("inst_a")).json()
    for field_ in ("opens_at", "due_at", "title", "counts", "min_interval_seconds"):
        r = client.patch(url, headers=world.h("inst_a"), json={field_: None})
        assert r.status_code == 422 and field_ in r.text, (field_, r.status_code, r.text)
    assert client.get(url, headers=world.h("inst_a")).json() == before
    r = client.patch(url, headers=world.h("inst_a"), json={"max_submissions": None,
                                                           "last_accepted_at": None})
    assert r.status_code == 200, r.text  # the optional ones can be cleared
