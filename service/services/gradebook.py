"""Scores as the course counts them: best or last, late penalty, late days, manual scores."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.grading import ProblemInfo
from service.models import (
    Assignment,
    Course,
    Enrollment,
    GradingRun,
    ProblemResult,
    ScoreAdjustment,
    Submission,
)
from service.services.policy import days_late, penalty_factor, window
from service.services.scores import in_force, written_scores


@dataclass
class Scored:
    """One graded submission with people's scores applied."""

    submission: Submission
    problems: list[ProblemResult]
    score: float
    max_score: float
    adjusted: dict[str, ScoreAdjustment]


@dataclass
class Cell:
    submission_id: int | None = None
    raw: float | None = None
    score: float | None = None
    max_score: float = 0.0
    days_late: int = 0
    late_days_used: int = 0
    penalty: float = 0.0


@dataclass
class Row:
    user_id: int
    email: str
    name: str
    cells: dict[int, Cell] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(c.score or 0.0 for c in self.cells.values()), 6)


def in_order(rows: list[ProblemResult], order: Sequence[str]) -> list[ProblemResult]:
    """Problems in the assignment's order, not the order their results were saved in (a
    training job may finish first); any the assignment no longer has come last."""
    rank = {pid: i for i, pid in enumerate(order)}
    return sorted(rows, key=lambda p: (rank.get(p.problem_id, len(rank)), p.id))


def latest_adjustments(adjs: list[ScoreAdjustment]) -> dict[str, ScoreAdjustment]:
    """One submission's people's scores in force, by problem (see ``scores.in_force``)."""
    return {p: a for (_, _, p), a in in_force(adjs).items()}


def score(sub: Submission, problems: list[ProblemResult],
          adjs: list[ScoreAdjustment]) -> Scored:
    """Autograded points, replaced by a person's where one was entered (the latest wins)."""
    adjusted = latest_adjustments(adjs)
    total = sum(adjusted[p.problem_id].points if p.problem_id in adjusted else p.score
                for p in problems)
    return Scored(sub, problems, round(total, 6), round(sum(p.max_score for p in problems), 6),
                  adjusted)


def load_scored(session: Session, assignment_ids: list[int], user_ids: list[int] | None = None,
                *, with_checks: bool = False) -> dict[tuple[int, int], list[Scored]]:
    """Graded submissions per (assignment, student), oldest first; of ``user_ids`` if given.

    ``with_checks`` loads every check too (statistics); scores need only the problems,
    and a student's page asks for their standing on every poll.
    """
    q = select(Submission).where(Submission.assignment_id.in_(assignment_ids),
                                 Submission.current_run_id.is_not(None))
    if user_ids is not None:
        q = q.where(Submission.user_id.in_(user_ids))
    # populate_existing: a polling session may hold these rows from before their run was
    # set; the filter above sees the database, the objects must too.
    subs = session.scalars(q.order_by(Submission.attempt)
                           .execution_options(populate_existing=True)).all()
    run_ids = [s.current_run_id for s in subs]
    problems: dict[int, list[ProblemResult]] = defaultdict(list)
    pq = select(ProblemResult).where(ProblemResult.run_id.in_(run_ids))
    if with_checks:
        pq = pq.options(selectinload(ProblemResult.checks))
    for p in session.scalars(pq.order_by(ProblemResult.id)):
        problems[p.run_id].append(p)
    adjs: dict[tuple[int, int], list[ScoreAdjustment]] = defaultdict(list)
    aq = select(ScoreAdjustment).where(ScoreAdjustment.assignment_id.in_(assignment_ids))
    if user_ids is not None:
        aq = aq.where(ScoreAdjustment.user_id.in_(user_ids))
    for a in session.scalars(aq):
        adjs[(a.assignment_id, a.user_id)].append(a)
    out: dict[tuple[int, int], list[Scored]] = defaultdict(list)
    for s in subs:
        assert s.current_run_id is not None
        mine = [a for a in adjs[(s.assignment_id, s.user_id)] if applies(a, s)]
        out[(s.assignment_id, s.user_id)].append(score(s, problems[s.current_run_id], mine))
    return out


def applies(adj: ScoreAdjustment, sub: Submission) -> bool:
    """A manual score counts on every submission of its student; an override on its own."""
    if adj.assignment_id != sub.assignment_id or adj.user_id != sub.user_id:
        return False
    return adj.kind == "manual" or adj.submission_id == sub.id


def adjustments_for(session: Session, sub: Submission) -> list[ScoreAdjustment]:
    rows = session.scalars(select(ScoreAdjustment).where(
        ScoreAdjustment.assignment_id == sub.assignment_id,
        ScoreAdjustment.user_id == sub.user_id))
    return [a for a in rows if applies(a, sub)]


@dataclass(frozen=True)
class Late:
    """What lateness does to one score: days late, late days spent on it, share taken off."""

    days_late: int
    late_days_used: int
    penalty: float
    score: float  # after the penalty


def late(a: Assignment, due: datetime, submitted_at: datetime, raw: float,
         budget: int) -> Late:
    """Late days are spent only where they raise the score: never on an assignment
    without a late penalty, on a zero score, or where the penalty would still take
    everything; the student keeps them for a later assignment."""
    days = days_late(submitted_at, due)
    spent = min(days, budget)
    if raw * penalty_factor(a.late_penalty_per_day, days - spent) <= (
            raw * penalty_factor(a.late_penalty_per_day, days)):
        spent = 0
    factor = penalty_factor(a.late_penalty_per_day, days - spent)
    return Late(days, spent, round(1 - factor, 6), round(raw * factor, 6))


def _choose(a: Assignment, due: datetime, candidates: list[Scored],
            budget: int) -> tuple[Scored, Late]:
    """The submission that counts under the assignment's best/last policy, and its lateness."""
    def outcome(c: Scored) -> Late:
        return late(a, due, c.submission.submitted_at, c.score, budget)

    if a.counts == "last":
        pick = candidates[-1]
    else:  # best after penalty; ties go to the earlier submission
        pick = max(candidates, key=lambda c: (outcome(c).score, -c.submission.attempt))
    return pick, outcome(pick)


@dataclass
class Standing:
    """One student's counted scores and late days across a course, assignment by assignment.

    ``available`` is how many late days were left when each assignment was
    counted (assignments count in due-date order, so earlier ones spend first).
    """

    budget: int
    cells: dict[int, Cell] = field(default_factory=dict)
    available: dict[int, int] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return sum(c.late_days_used for c in self.cells.values())

    @property
    def left(self) -> int:
        return self.budget - self.used


def course_assignments(session: Session, course: Course) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.course_id == course.id)
                                .order_by(Assignment.due_at, Assignment.id)))


def written_alone(session: Session, assignment_ids: list[int],
                  user_ids: list[int]) -> dict[tuple[int, int], float]:
    """Per (assignment, student): the written scores in force, summed. What counts for a
    student with no graded submission (the written part handed in on paper)."""
    out: dict[tuple[int, int], float] = defaultdict(float)
    for (aid, uid, _), m in written_scores(session, assignment_ids, user_ids).items():
        out[(aid, uid)] += m.points
    return {k: round(v, 6) for k, v in out.items()}


FullPoints = Callable[[Assignment], float]


def standings(session: Session, course: Course, enrollments: list[Enrollment],
              full: FullPoints | None = None) -> dict[int, Standing]:
    """Each enrolled student's standing, as the gradebook counts it.

    A student with no graded submission but written scores counts those, with
    nothing late; ``full`` gives such a cell its maximum (the assignment's points).
    """
    assignments = course_assignments(session, course)
    user_ids = [e.user_id for e in enrollments]
    scored = load_scored(session, [a.id for a in assignments], user_ids)
    alone = written_alone(session, [a.id for a in assignments], user_ids)
    out = {}
    for e in enrollments:
        budget = e.late_day_budget if e.late_day_budget is not None else course.late_day_budget
        st = out[e.user_id] = Standing(budget)
        for a in assignments:
            st.available[a.id] = st.left
            cands = scored.get((a.id, e.user_id))
            if not cands:
                written = alone.get((a.id, e.user_id))
                st.cells[a.id] = Cell() if written is None else Cell(
                    None, written, written, full(a) if full else 0.0)
                continue
            pick, lt = _choose(a, window(session, a, e.user_id).due_at, cands, st.left)
            st.cells[a.id] = Cell(pick.submission.id, pick.score, lt.score, pick.max_score,
                                  lt.days_late, lt.late_days_used, lt.penalty)
    return out


def standings_of(session: Session, course: Course, user_ids: list[int]) -> dict[int, Standing]:
    """Standings of these users; one not enrolled as a student has the course's budget."""
    found = {e.user_id: e for e in session.scalars(select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.user_id.in_(user_ids)))}
    return standings(session, course, [
        found.get(u) or Enrollment(course_id=course.id, user_id=u, role="student")
        for u in dict.fromkeys(user_ids)])


def gradebook(session: Session, course: Course,
              full: FullPoints | None = None) -> tuple[list[Assignment], list[Row]]:
    """Every student's row; ``full``: an assignment's points (see ``standings``)."""
    students = list(session.scalars(
        select(Enrollment).where(Enrollment.course_id == course.id,
                                 Enrollment.role == "student")
        .options(selectinload(Enrollment.user))))
    by_user = standings(session, course, students, full)
    rows = []
    for e in sorted(students, key=lambda e: e.user.email):
        rows.append(Row(e.user_id, e.user.email, e.user.name, by_user[e.user_id].cells))
    return course_assignments(session, course), rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: str) -> str:
    """A spreadsheet opens ``=HYPERLINK(...)`` in a student's name as a formula: a leading
    quote keeps it text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def problem_points(session: Session, assignments: list[Assignment]) -> dict[int, dict[str, float]]:
    """Each graded submission's points per problem, people's scores applied."""
    return {sc.submission.id: {p.problem_id: sc.adjusted[p.problem_id].points
                               if p.problem_id in sc.adjusted else p.score
                               for p in sc.problems}
            for each in load_scored(session, [a.id for a in assignments]).values()
            for sc in each}


def gradebook_csv(session: Session, course: Course,
                  orders: dict[int, Sequence[str]] | None = None,
                  full: FullPoints | None = None) -> str:
    """One row per student: each assignment's counted score after penalties, its problems'
    points (``orders``: each assignment's problem ids), days late and penalty; the total."""
    assignments, rows = gradebook(session, course, full)
    orders = orders or {}
    points = problem_points(session, assignments) if orders else {}
    written: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    if orders:
        for (aid, uid, p), m in written_scores(session, [a.id for a in assignments]).items():
            written[(aid, uid)][p] = m.points
    out = io.StringIO()
    w = csv.writer(out)
    header = ["email", "name"]
    for a in assignments:
        header += [a.title, *[f"{a.title}: {p}" for p in orders.get(a.id, ())],
                   f"{a.title}: days late", f"{a.title}: penalty"]
    w.writerow([as_text(h) for h in [*header, "total"]])
    for r in rows:
        line = [r.email, r.name]
        for a in assignments:
            c = r.cells[a.id]
            got = (points.get(c.submission_id, {}) if c.submission_id is not None else
                   written.get((a.id, r.user_id), {}))
            line += ["" if c.score is None else f"{c.score:g}",
                     *[f"{got[p]:g}" if p in got else "" for p in orders.get(a.id, ())],
                     str(c.days_late), f"{c.penalty:g}"]
        w.writerow([as_text(x) for x in [*line, f"{r.total:g}"]])
    return out.getvalue()


def submissions_by_day(session: Session, a: Assignment) -> list[dict[str, int]]:
    """How many submissions came in each day, counted from the assignment's due date (day 0
    is the 24 hours after it, day -1 the 24 hours before)."""
    counts: dict[int, int] = defaultdict(int)
    for (at,) in session.execute(select(Submission.submitted_at)
                                 .where(Submission.assignment_id == a.id)):
        counts[int((at - a.due_at).total_seconds() // 86400)] += 1
    return [{"day": d, "count": counts[d]} for d in sorted(counts)]


def _full(points: float, worth: float) -> bool:
    return points >= worth - 1e-9


def _passed(p: ProblemResult, adj: ScoreAdjustment | None) -> bool | None:
    """Full points, with a person's score where one was entered; a written problem nobody
    has scored yet is neither passed nor failed (None), not a fail that drags its rate to 0."""
    if adj is not None:
        return _full(adj.points, p.max_score)
    if p.manual:
        return None
    return p.status == "passed"


def statistics_for(session: Session, a: Assignment,
                   problems: Sequence[ProblemInfo]) -> dict[str, object]:
    """Distribution of counted scores, pass rates per problem and check, grading time.

    Problems and their checks are listed in the order of ``problems`` (the assignment's
    spec). A problem's pass rate is over the students it was scored for (``n``): for a
    written one, those scored on paper with no graded submission too. Students with a
    submission whose written problem nobody has scored yet are counted apart
    (``unscored``), and a problem no one is scored on has none. Everything else counts
    graded submissions only.
    """
    order = [p.id for p in problems]
    scored = load_scored(session, [a.id], with_checks=True)
    counted: list[Scored] = []
    for (_, user_id), cands in scored.items():
        due = window(session, a, user_id).due_at
        counted.append(_choose(a, due, cands, 0)[0])
    fractions = [c.score / c.max_score if c.max_score else 0.0 for c in counted]
    bins = [0] * 10
    for f in fractions:
        bins[min(9, int(f * 10))] += 1
    problem_pass: dict[str, list[bool]] = defaultdict(list)
    unscored: dict[str, int] = defaultdict(int)
    # By key, not name: a name may show the values its run drew, one row per run.
    check_pass: dict[tuple[str, str], list[bool]] = defaultdict(list)
    check_name: dict[tuple[str, str], str] = {}
    for c in counted:
        for p in in_order(c.problems, order):
            passed = _passed(p, c.adjusted.get(p.problem_id))
            if passed is None:
                unscored[p.problem_id] += 1
            problem_pass[p.problem_id] += [] if passed is None else [passed]
            for ch in p.checks:
                k = (p.problem_id, ch.key or ch.name)
                check_pass[k].append(ch.status == "passed")
                check_name.setdefault(k, ch.name)
    worth = {p.id: p.points for p in problems if p.manual}
    for (_, user_id, pid), m in written_scores(session, [a.id]).items():
        if (a.id, user_id) not in scored and pid in worth:  # scored on paper only
            problem_pass[pid].append(_full(m.points, worth[pid]))
    runs = session.execute(
        select(GradingRun.started_at, GradingRun.finished_at)
        .join(Submission, GradingRun.submission_id == Submission.id)
        .where(Submission.assignment_id == a.id, GradingRun.status == "done",
               GradingRun.started_at.is_not(None))).all()
    durations = [(f - s).total_seconds() for s, f in runs if f is not None and s is not None]
    statuses: dict[str, int] = defaultdict(int)
    for st, kind in session.execute(select(Submission.status, Submission.error_kind)
                                    .where(Submission.assignment_id == a.id)):
        statuses[f"{st}:{kind}" if kind else st] += 1
    scores = [c.score for c in counted]
    return {
        "students": len(counted),
        "submissions_by_status": dict(statuses),
        "score": {"mean": statistics.fmean(scores) if scores else None,
                  "median": statistics.median(scores) if scores else None,
                  "min": min(scores, default=None), "max": max(scores, default=None),
                  "histogram": [{"from": i / 10, "to": (i + 1) / 10, "count": n}
                                for i, n in enumerate(bins)]},
        "problems": [{"id": k, "pass_rate": sum(v) / len(v) if v else None, "n": len(v),
                      "unscored": unscored[k]}
                     for k, v in problem_pass.items()],
        "checks": [{"problem": k[0], "key": k[1], "name": check_name[k],
                    "pass_rate": sum(v) / len(v), "n": len(v)}
                   for k, v in check_pass.items()],
        "median_grading_seconds": statistics.median(durations) if durations else None,
        "submissions_by_day": submissions_by_day(session, a),
    }
