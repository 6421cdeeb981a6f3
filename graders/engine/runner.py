"""load → run probes → score: one submission against one assignment.

Every comparison happens here or in ``graders.checks``; the sandbox only
answers probes. A failure of the student's code costs the problem it happens
in; a fault of the grader itself is reported as an internal grading error
with an id, never blamed on the student.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..checks._format import join
from ..errors import SandboxError, SandboxUnavailable, SubmissionError, TimeLimit
from ..results import CheckResult, Grade, ProblemResult
from ..sandbox.pool import WarmPool
from ..spec import Assignment, Context, ProblemSpec, problem_rng
from .errors import StudentRaised, WrongValue
from .proxy import Student
from .session import LoadFailed, Session
from .submission import Submission, arrange, load_submission

log = logging.getLogger("dlgrade.engine")
OnProblem = Callable[[ProblemResult], None]


def grade(slug: str | Assignment, paths: Sequence[Path], *, seed: int | None = None,
          problems: Sequence[str] | None = None, sandbox: bool = True,
          on_problem: OnProblem | None = None, pool: WarmPool | None = None) -> Grade:
    """Grade files as the assignment ``slug`` (or as an ``Assignment`` loaded by the caller,
    such as a course's bundle)."""
    from ..assignments import registry

    assignment = registry.get(slug) if isinstance(slug, str) else slug
    started = time.monotonic()
    seed = secrets.randbelow(2**31 - 1) if seed is None else int(seed)
    selected = [assignment.get(p) for p in problems] if problems else list(assignment.problems)
    try:
        submission = load_submission([Path(p) for p in paths])
    except SubmissionError as exc:
        results = [_unreadable(p, str(exc)) for p in selected]
        for r in results:
            if on_problem:
                on_problem(r)
        return Grade(assignment.slug, seed, results, time.monotonic() - started)
    return grade_submission(assignment, submission, seed=seed, problems=selected,
                            sandbox=sandbox, on_problem=on_problem, started=started, pool=pool)


def _unreadable(spec: ProblemSpec, message: str) -> ProblemResult:
    if spec.manual:
        return ProblemResult(spec.id, spec.points, manual=True)
    return ProblemResult(spec.id, spec.points, error_reason=f"The submission could not be "
                         f"read: {message}")


def grade_submission(assignment: Assignment, submission: Submission, *, seed: int,
                     problems: Sequence[ProblemSpec], sandbox: bool = True,
                     on_problem: OnProblem | None = None,
                     started: float | None = None, pool: WarmPool | None = None) -> Grade:
    started = time.monotonic() if started is None else started
    submission = arrange(submission, assignment.layout)
    preset = assignment.preset() if assignment.preset else None
    session = Session(assignment, submission, sandbox=sandbox, preset=preset, pool=pool)
    results: list[ProblemResult] = []
    try:
        hint = _another_assignment(assignment, problems, session)
        for spec in problems:
            result = run_problem(assignment, spec, session, seed, hint)
            results.append(result)
            if on_problem:
                on_problem(result)
    finally:
        session.close()
    load_log = [f"{e.get('where', '')}: {e.get('what', '')}" for e in session.load_log or []]
    return Grade(assignment.slug, seed, results, time.monotonic() - started, load_log)


def run_problem(assignment: Assignment, spec: ProblemSpec, session: Session,
                seed: int, hint: str = "") -> ProblemResult:
    result = ProblemResult(spec.id, spec.points, manual=spec.manual)
    if spec.manual or spec.func is None:
        return result
    t0 = time.monotonic()
    ctx = Context(seed=seed, problem_id=spec.id, rng=problem_rng(seed, spec.id),
                  files=session.submission.data_files)
    try:
        # Names first: a missing function is the student's to fix whatever the grader lacks,
        # and "skipped" would hide it until the data set is installed.
        missing = _missing_names(spec, session)
        if missing:
            result.checks.append(CheckResult.failed("names", join(missing, hint), hidden=False))
            return result
        if spec.dataset:
            from ..datasets import DatasetMissing, load
            try:
                ctx.data[spec.dataset] = load(spec.dataset)
            except DatasetMissing as exc:
                result.skipped_reason = str(exc)
                return result
        session.ensure()  # (re)starting the sandbox is not charged to the problem's budget
        student = Student(session, time.monotonic() + spec.timeout_s, spec.timeout_s)
        for check in spec.func(student, ctx):
            result.checks.append(_hide(check, spec))
    except (StudentRaised, WrongValue) as exc:
        result.checks.append(CheckResult.error(getattr(exc, "label", "run"), str(exc)))
    except LoadFailed as exc:
        result.error_reason = str(exc)
    except SandboxUnavailable:
        raise
    except SandboxError as exc:
        message = str(exc)
        if spec.training and isinstance(exc, TimeLimit):
            message += (f" The time budget of {spec.id} is {spec.timeout_s:g} s."
                        + _progress(session.output_tail(4000)))
        result.checks.append(CheckResult.error("run", message))
        session.close()
    except SubmissionError as exc:
        result.checks.append(CheckResult.failed("run", str(exc)))
    except MemoryError:
        raise  # the grader's own ceiling: the whole job stops (service/isolation.py)
    except Exception:
        incident = uuid.uuid4().hex[:10]
        log.exception("internal grading error %s in %s/%s", incident, assignment.slug, spec.id)
        result.error_reason = (f"Internal grading error (id {incident}): this is a fault of "
                               "the grader, not of your code; your instructor can look it up.")
    finally:
        result.duration_s = time.monotonic() - t0
    _pad_unreached(result, spec)
    _withhold_unsupported(result)
    return result


def _withhold_unsupported(result: ProblemResult) -> None:
    """A supporting check earns points only beside a value that matches the reference.

    A backward that returns zeros scales with dy, repeats itself and leaves its
    inputs alone: without this rule code that computes nothing earned up to
    half of a layer's points. The value must be of the same call (the name up
    to its first bracket or space, ``Linear.backward``) when the problem checks
    that call's values, else of any call of the problem.
    """
    values = [c for c in result.checks if not c.supporting]
    if not values:
        return
    for i, c in enumerate(result.checks):
        if not (c.supporting and c.fraction > 0):
            continue
        same_call = [v for v in values if _subject(v.name) == _subject(c.name)]
        if any(v.fraction > 0 for v in same_call or values):
            continue
        what = f"a value of {_subject(c.name)}" if same_call else "a value of this problem"
        result.checks[i] = replace(c, status="failed", fraction=0.0, message=join(
            c.message, f"{c.name} holds, but it earns points only once {what} matches the "
            "reference"))


def _subject(check_name: str) -> str:
    """``Linear.backward`` of ``Linear.backward(x, dy) → dx`` and ``Linear.backward uses dy``."""
    return re.split(r"[\s(\[:→]", check_name, maxsplit=1)[0]


def _hide(check: CheckResult, spec: ProblemSpec) -> CheckResult:
    if spec.hidden and not check.hidden:
        return replace(check, hidden=True)
    return check


def _pad_unreached(result: ProblemResult, spec: ProblemSpec) -> None:
    """A problem that stopped early must not earn the points of checks it never ran."""
    if result.error_reason or result.skipped_reason:
        return
    stopped = any(c.status == "error" for c in result.checks)
    if not stopped:
        return
    if spec.checks is None:
        # Unknown size: the checks that passed before the crash must not earn it all, so the
        # unreached part weighs as much as what was reached. Declare checks= to be exact.
        result.checks.append(CheckResult.skipped(
            "remaining checks", "not run: the code stopped before the problem finished.",
            weight=max(1.0, float(sum(c.weight for c in result.checks)))))
        return
    for _ in range(spec.checks - len(result.checks)):
        result.checks.append(CheckResult.skipped(
            f"check {len(result.checks) + 1}",
            "not run: an earlier step of this problem failed to run."))


def _another_assignment(assignment: Assignment, problems: Sequence[ProblemSpec],
                        session: Session) -> str:
    """A sentence for "not found" messages when most graded names are missing: a notebook
    uploaded to the wrong assignment should say so, not only fail name by name."""
    needs = sorted({n for spec in problems for n in spec.needs})
    if len(needs) < 4:
        return ""
    try:
        found = session.find(needs)
    except Exception:  # the load failed: each problem reports that itself
        return ""
    missing = [n for n in needs if found.get(n) is None]
    if len(missing) < 0.75 * len(needs):
        return ""
    return (f"{len(missing)} of the {len(needs)} names {assignment.slug} grades are missing: "
            "is this the submission for another assignment?")


def _missing_names(spec: ProblemSpec, session: Session) -> str:
    if not spec.needs:
        return ""
    found = session.find(list(spec.needs))
    missing = [n for n, info in found.items() if info is None]
    if not missing:
        return ""
    files = ", ".join(s.name for s in session.submission.sources) or "(no code files)"
    what = " and ".join(f"`{n}`" for n in missing)
    return join(f"Not found: {what} (looked in {files})", _load_errors(session))


def _load_errors(session: Session) -> str:
    """Statements that failed while loading: often why a name was never defined."""
    failed = [e for e in session.load_log or [] if e.get("kind") in ("syntax", "error", "timeout")]
    if not failed:
        return ""
    shown = "; ".join(f"{e.get('where', '')}: {str(e.get('what', ''))[:160]}" for e in failed[:2])
    more = f" (and {len(failed) - 2} more)" if len(failed) > 2 else ""
    return f"Loading the files, {len(failed)} statement(s) failed, which may be why: {shown}{more}"


def _progress(output: str) -> str:
    """How far a training run got, from the progress lines the course's loop prints."""
    marks = [line.split(":", 1)[1].strip() for line in output.splitlines()
             if line.startswith("dlgrade-progress:")]
    return f" Training had reached {marks[-1]}." if marks else " Training had not finished " \
        "its first epoch."
