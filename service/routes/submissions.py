"""One submission: its results, waiting for them, its files, and people's changes to it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from service import schemas as S
from service import storage
from service.context import Context
from service.deps import DB, Ctx, SubmissionInstructor, SubmissionViewer
from service.grading import known_slug, problem_order
from service.models import Submission, utcnow
from service.services import scores
from service.services import submissions as subs
from service.services.changes import until_changed
from service.services.queue import relay
from service.views import submission_out

# Re-reads on a timer as well as on each announcement (service/services/changes.py): a lost
# announcement costs this much latency, and the queue position moves without one.
WAIT_RECHECK_S = 0.25
EVENTS_RECHECK_S = 0.5

router = APIRouter(tags=["submissions"])
FINAL = ("graded", "error")


@router.get("/submissions/{submission_id}", response_model=S.SubmissionOut)
def get_submission(sa: SubmissionViewer, ctx: Ctx, session: DB) -> S.SubmissionOut:
    """One submission: status, score before and after the late penalty, each problem's
    result and checks (hidden ones hidden from the student until the due date), files and
    regrade history."""
    return submission_out(session, sa.submission, staff=sa.access.staff, now=utcnow(),
                          order=problem_order(ctx.grader, sa.submission.assignment.slug))


def _snapshot(ctx: Context, submission_id: int, staff: bool) -> S.SubmissionOut:
    with ctx.sessions() as session:
        sub = session.get(Submission, submission_id)
        assert sub is not None
        return submission_out(session, sub, staff=staff, now=utcnow(),
                              order=problem_order(ctx.grader, sub.assignment.slug))


def _changed(a: S.SubmissionOut, status: str, known: int) -> bool:
    return a.status != status or len(a.problems) > known


@router.get("/submissions/{submission_id}/wait", response_model=S.SubmissionOut)
async def wait_for_result(
        sa: SubmissionViewer, ctx: Ctx,
        timeout: Annotated[float, Query(ge=0, le=60)] = 25.0,
        known_problems: Annotated[int, Query(ge=0, description="results already seen")] = 0,
        final: Annotated[bool, Query(description="answer only when grading has ended")] = False,
) -> S.SubmissionOut:
    """Long poll: answers as soon as the status changes or new problem results arrive.

    Call again with the ``known_problems`` you have until the status is ``graded`` or
    ``error``; with ``final=true`` it answers only then (or at the timeout).
    """
    sub_id, staff, status = sa.submission.id, sa.access.staff, sa.submission.status
    deadline = time.monotonic() + timeout
    with ctx.changes.watch(sub_id) as announced:
        while True:
            announced.clear()
            snap = await run_in_threadpool(_snapshot, ctx, sub_id, staff)
            changed = not final and _changed(snap, status, known_problems)
            if snap.status in FINAL or changed or time.monotonic() >= deadline:
                return snap
            await until_changed(announced, min(WAIT_RECHECK_S, deadline - time.monotonic()))


@router.get("/submissions/{submission_id}/events",
            responses={200: {"content": {"text/event-stream": {}}}})
async def submission_events(sa: SubmissionViewer, ctx: Ctx,
                            timeout: Annotated[float, Query(ge=1, le=600)] = 300.0
                            ) -> StreamingResponse:
    """Server-Sent Events: one ``submission`` event per change, the last when grading ends."""
    sub_id, staff = sa.submission.id, sa.access.staff

    async def stream() -> AsyncIterator[str]:
        last = ""
        deadline = time.monotonic() + timeout
        with ctx.changes.watch(sub_id) as announced:
            while time.monotonic() < deadline:
                announced.clear()
                snap = await run_in_threadpool(_snapshot, ctx, sub_id, staff)
                body = snap.model_dump_json()
                if body != last:
                    last = body
                    yield f"event: submission\ndata: {body}\n\n"
                if snap.status in FINAL:
                    return
                await until_changed(announced, min(EVENTS_RECHECK_S, deadline - time.monotonic()))
        yield f"event: timeout\ndata: {json.dumps({'id': sub_id})}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.get("/submissions/{submission_id}/files/{file_id}", response_class=FileResponse)
def download_file(file_id: int, sa: SubmissionViewer, ctx: Ctx) -> FileResponse:
    """One uploaded file, byte for byte, with its SHA-256 in ``X-Content-SHA256``: always a
    download, typed by its extension (not by what the uploader claimed), never sniffed or
    run as a page."""
    f = next((f for f in sa.submission.files if f.id == file_id), None)
    if f is None:
        raise HTTPException(404, f"no file {file_id} in submission {sa.submission.id}")
    return FileResponse(storage.file_path(ctx.settings, sa.submission, f.name),
                        media_type=storage.download_type(f.name), filename=f.name,
                        content_disposition_type="attachment",
                        headers={"X-Content-SHA256": f.sha256, **storage.DOWNLOAD_HEADERS})


@router.post("/submissions/{submission_id}/regrade", response_model=S.SubmissionOut,
             status_code=202)
def regrade_submission(body: S.RegradeIn, sa: SubmissionInstructor, ctx: Ctx,
                       session: DB) -> S.SubmissionOut:
    """Grade this submission again (same seed unless ``new_seed``); the earlier result stays
    in its history with the reason."""
    subs.regrade(ctx, session, sa.submission, by=sa.access.user, reason=body.reason,
                 new_seed=body.new_seed)
    session.commit()
    relay(ctx)
    return submission_out(session, sa.submission, staff=True, now=utcnow(),
                          order=problem_order(ctx.grader, sa.submission.assignment.slug))


@router.put("/submissions/{submission_id}/problems/{problem_id}/score",
            response_model=S.SubmissionOut)
def set_score(problem_id: str, body: S.ScoreIn, sa: SubmissionInstructor, ctx: Ctx,
              session: DB) -> S.SubmissionOut:
    """A manual score for a ``manual`` problem, an override for an autograded one.

    A manual score belongs to the student and the problem: it shows on every
    submission of theirs to this assignment, later ones included. An override
    applies to this submission only.
    """
    spec = scores.problem(known_slug(ctx.grader, sa.submission.assignment.slug), problem_id,
                          body.points)
    scores.on_submission(session, sa.submission, spec, body.points, body.reason, sa.access.user)
    session.commit()
    return submission_out(session, sa.submission, staff=True, now=utcnow(),
                          order=problem_order(ctx.grader, sa.submission.assignment.slug))
