"""Course bundles: a course publishes its own assignments (admins by default)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, UploadFile
from sqlalchemy import select

from service import schemas as S
from service.deps import DB, BundlePublisher, CourseInstructor, Ctx
from service.models import CourseBundle
from service.services import bundles

router = APIRouter(tags=["bundles"])

PUBLISH_DOC = """Publish a zipped assignment bundle (manifest, spec, secret reference,
provided code) for this course.

**A bundle is trusted code.** Its spec and reference run in the grader, outside any
sandbox, with everything a worker can read. Only administrators may publish, unless
`DLGRADE_INSTRUCTORS_PUBLISH_BUNDLES` lets a course's instructors publish for their own
course. Student code never sees the bundle: only its provided code enters a sandbox.

The bundle is loaded and refused with 422 and the file to fix when it is broken. It is
then proven in the background (`dlgrade assignment check`: the solution scores full
marks, its mutants are caught); follow `status` and `progress`. A bundle is usable for
new assignments of this course, and only this course, once `status` is `ready`."""


@router.post("/courses/{course_id}/bundles", response_model=S.BundleOut, status_code=202,
             description=PUBLISH_DOC)
def publish_bundle(access: BundlePublisher, ctx: Ctx, session: DB, tasks: BackgroundTasks,
                   file: Annotated[UploadFile, File(description="the bundle, zipped")]
                   ) -> CourseBundle:
    data = file.file.read(ctx.settings.max_bundle_bytes + 1)
    row = bundles.publish(ctx, session, access.course.id, access.user, data)
    bundles.start_check(ctx, session, row, tasks.add_task)
    return row


@router.get("/courses/{course_id}/bundles", response_model=list[S.BundleOut],
            description="Every version of every bundle this course has published.")
def list_bundles(access: CourseInstructor, session: DB) -> list[CourseBundle]:
    return list(session.scalars(select(CourseBundle).where(
        CourseBundle.course_id == access.course.id).order_by(CourseBundle.id)))


@router.get("/courses/{course_id}/bundles/{bundle_id}", response_model=S.BundleOut,
            description="One bundle version: its check's status, progress and report.")
def get_bundle(bundle_id: int, access: CourseInstructor, session: DB) -> CourseBundle:
    return bundles.get_bundle(session, access.course.id, bundle_id)
