"""One submission reviewed by the course staff: its full result, the student's files as
text, scores entered by hand, and grading it again.

The files are shown in ``<pre>`` as escaped text, never as markup, and the
download links go to the API's download, which sends them as attachments
typed by our table of extensions. Scores and regrades call the API's route
functions behind its ``SubmissionInstructor``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service import schemas as S
from service import storage
from service.deps import DB, Ctx, SubmissionInstructor
from service.grading import known_slug, problem_order
from service.routes.submissions import get_submission, regrade_submission, set_score
from service.services.policy import window
from service.web.forms import Fields, local_next, parse, submit
from service.web.render import render

router = APIRouter(include_in_schema=False)
PREVIEW_BYTES = 200_000


@dataclass(frozen=True)
class ShownFile:
    file: S.FileOut
    text: str | None  # None: not text (a zip), download it


def _files(ctx: Ctx, sa: SubmissionInstructor, out: S.SubmissionOut) -> list[ShownFile]:
    shown = []
    for f in out.files:
        path = storage.file_path(ctx.settings, sa.submission, f.name)
        text = (storage.text_preview(path, PREVIEW_BYTES)
                if path.exists() and not f.name.lower().endswith(".zip") else None)
        shown.append(ShownFile(f, text))
    return shown


@router.get("/submissions/{submission_id}/review")
def review_page(request: Request, sa: SubmissionInstructor, ctx: Ctx, session: DB) -> Response:
    request.state.user = sa.access.user
    out = get_submission(sa, ctx, session)
    sub = sa.submission
    a = sub.assignment
    info = known_slug(ctx.grader, a.slug)
    return render(request, "staff/review.html", s=out, a=a, course=a.course, staff=True,
                  owner=sub.user, due=window(session, a, sub.user_id).due_at,
                  final=out.status in ("graded", "error"), order=problem_order(ctx.grader, a.slug),
                  specs={p.id: p for p in info.problems} if info else {},
                  files=_files(ctx, sa, out), next=local_next(
                      request.query_params.get("next"), f"/assignments/{a.id}/submissions"))


def _back(sa: SubmissionInstructor, fields: dict[str, str]) -> str:
    review = f"/submissions/{sa.submission.id}/review"
    target = local_next(fields.get("next"), "")
    return f"{review}?next={target}" if target else review


@router.post("/submissions/{submission_id}/review/score/{problem_id}")
def score_form(request: Request, problem_id: str, sa: SubmissionInstructor, ctx: Ctx,
               session: DB, fields: Fields) -> Response:
    return submit(request, session, _back(sa, fields), f"Score for {problem_id} saved.",
                  lambda: set_score(problem_id, parse(S.ScoreIn, fields), sa, ctx, session))


@router.post("/submissions/{submission_id}/review/regrade")
def regrade_form(request: Request, sa: SubmissionInstructor, ctx: Ctx, session: DB,
                 fields: Fields) -> Response:
    return submit(request, session, _back(sa, fields), "Queued for grading again.",
                  lambda: regrade_submission(parse(S.RegradeIn, fields, blank_is_none=False),
                                             sa, ctx, session))
