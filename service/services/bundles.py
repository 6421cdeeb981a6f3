"""Course bundles: validate an uploaded zip, keep it by content hash, prove it, then serve it.

A bundle is trusted course code: loading it runs its spec in this process,
and its strength check runs its solution's mutants in sandboxes, scored in a
child process under the grader's memory ceiling (``service.bundlecheck``). That is why
publishing is an admin's right unless ``Settings.instructors_publish_bundles``
gives it to a course's own instructors, for that course alone.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from graders.bundles import Registry
from graders.errors import DlgradeError
from service.bundlecheck import CheckFailed, check_bundle
from service.context import Context
from service.grading import bundle_file
from service.models import CourseBundle, User, utcnow
from service.services.errors import Busy, Conflict, Forbidden, Invalid, NotFound, TooLarge

log = logging.getLogger("dlgrade.bundles")
CHECK_SEEDS = (1, 2)
WAITING = "waiting for the strength check"
RESTARTED = "checking again: the service restarted during the strength check"


def may_publish(ctx: Context, user: User, is_course_instructor: bool) -> bool:
    return user.role == "admin" or (is_course_instructor
                                    and ctx.settings.instructors_publish_bundles)


def publish(ctx: Context, session: Session, course_id: int, user: User,
            data: bytes) -> CourseBundle:
    """Validate ``data`` (a zipped bundle), store it, and record it as being checked."""
    if len(data) > ctx.settings.max_bundle_bytes:
        raise TooLarge(f"the bundle is {len(data)} bytes; the limit is "
                       f"{ctx.settings.max_bundle_bytes}")
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="dlgrade-bundle-") as tmp:
        upload = Path(tmp) / "bundle.zip"
        upload.write_bytes(data)
        registry = Registry.from_paths([upload], builtin=False)
        [bundle] = registry.bundles()
        unpacked = f"{bundle.root.parent}/"  # name files as they are in the zip, not the cache

        def refuse(error: object) -> Invalid:
            reason = str(error).replace(unpacked, "").replace(str(upload), "the zip")
            return Invalid(f"the bundle cannot be loaded: {reason}", code="bundle_invalid")

        if bundle.error is not None or bundle.manifest is None:
            raise refuse(bundle.error)
        try:
            assignment = registry.get(bundle.manifest.slug)
        except DlgradeError as exc:
            raise refuse(exc) from None
        manifest = bundle.manifest
        taken = session.scalar(select(CourseBundle).where(
            CourseBundle.course_id == course_id, CourseBundle.slug == manifest.slug,
            CourseBundle.version == manifest.version))
        if taken is not None and _stale(ctx, taken):
            log.warning("bundle %s was still checking after %s: checking the upload again",
                        taken.id, utcnow() - taken.created_at)
            _forget(ctx, session, taken)  # its check died with its process (or its message)
        elif taken is not None:
            raise Conflict(f"{manifest.slug} version {manifest.version} is already published "
                           "for this course; raise the version in dlgrade-bundle.toml",
                           code="bundle_version_taken")
    row = CourseBundle(course_id=course_id, slug=manifest.slug, version=manifest.version,
                       title=assignment.title, sha256=digest, uploaded_by=user.id,
                       progress=WAITING)
    final = bundle_file(ctx.settings.bundles_dir, row.grader_key)
    if not final.exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(final)
    session.add(row)
    session.commit()
    return row


def _stale(ctx: Context, row: CourseBundle) -> bool:
    """Still ``checking`` long after any check could have ended: nothing is checking it.

    A started check stops itself after ``bundle_check_seconds``, and a message a worker
    took but never finished is redelivered after the broker's visibility timeout. One
    never started may be waiting behind a whole regrade: it is given up only when a
    grading job in the queue would be (``max_queued_hours``).
    """
    if row.status != "checking":
        return False
    if row.check_started_at is not None:
        limit = ctx.settings.bundle_check_seconds + ctx.settings.visibility_timeout
        return utcnow() - row.check_started_at > timedelta(seconds=limit)
    return utcnow() - row.created_at > timedelta(hours=ctx.settings.max_queued_hours)


def _forget(ctx: Context, session: Session, row: CourseBundle) -> None:
    """Delete the row, and its stored zip (named by content) unless another row, of any
    course, holds the same content."""
    key, digest = row.grader_key, row.sha256
    session.delete(row)
    session.flush()
    if session.scalar(select(CourseBundle.id).where(CourseBundle.sha256 == digest)) is None:
        bundle_file(ctx.settings.bundles_dir, key).unlink(missing_ok=True)


def start_check(ctx: Context, session: Session, row: CourseBundle,
                background: Callable[..., object]) -> None:
    """Check on a worker when Celery is the broker: workers have the sandbox, the API's
    container has none. Embedded mode (and tests' recording broker) checks here, through
    ``background`` (the request's background tasks)."""
    remote = getattr(ctx.broker, "check_bundle", None)
    if remote is None:
        background(run_check, ctx, row.id)
        return
    try:
        remote(row.id)
    except Exception as exc:  # the upload is refused whole, so it can be sent again as is
        log.warning("could not queue the strength check of bundle %s: %s", row.id, exc)
        _forget(ctx, session, row)
        session.commit()
        raise Busy("the grading queue is unreachable, so the bundle cannot be checked; "
                   "publish it again shortly", code="queue_unavailable",
                   headers={"Retry-After": "30"}) from None


def recover_checks(ctx: Context) -> list[int]:
    """Embedded start-up: checks run only in this process, so a bundle still ``checking``
    lost its check when the last process stopped. Check each again, in a thread."""
    with ctx.sessions() as session:
        rows = session.scalars(select(CourseBundle).where(
            CourseBundle.status == "checking").order_by(CourseBundle.id)).all()
        for row in rows:
            row.progress = RESTARTED
        session.commit()
        ids = [row.id for row in rows]
    if ids:
        log.warning("checking bundles %s again: the service stopped during their check", ids)
        threading.Thread(target=lambda: [run_check(ctx, i) for i in ids],
                         name="dlgrade-bundle-recheck", daemon=True).start()
    return ids


def run_check(ctx: Context, bundle_id: int) -> None:
    """The strength check of one uploaded bundle: ready when it passes, rejected otherwise.

    Runs in the background (a Celery worker, or the embedded API); its progress is
    written to the row as it goes. Run again after a restart, it checks from the start.
    """
    with ctx.sessions() as session:
        row = session.get(CourseBundle, bundle_id)
        if row is None or row.status != "checking":
            return
        key, slug = row.grader_key, row.slug
        row.check_started_at = utcnow()  # from now on a dead check shows as stale
        session.commit()
    last = [0.0]
    done = [0]

    def progress(line: str) -> None:
        done[0] += 1
        if time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            _update(ctx, bundle_id, progress=f"{done[0]} mutants graded; last: {line}")

    try:
        outcome = check_bundle(ctx.settings, key, slug, CHECK_SEEDS, progress)
    except Exception as exc:  # a bundle that breaks its own check is rejected, with why
        log.warning("strength check of bundle %s failed: %s", bundle_id, exc)
        reason = str(exc) if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {exc}"
        _update(ctx, bundle_id, status="rejected", progress="",
                report=f"The strength check could not run: {reason}")
        return
    _update(ctx, bundle_id, status="ready" if outcome.ok else "rejected",
            progress=f"{outcome.mutants} mutants graded", report=outcome.markdown)


def _update(ctx: Context, bundle_id: int, **values: str) -> None:
    with ctx.sessions() as session:
        row = session.get(CourseBundle, bundle_id)
        if row is None:
            return
        for k, v in values.items():
            setattr(row, k, v)
        if values.get("status") in ("ready", "rejected"):
            row.checked_at = utcnow()
        session.commit()


def ready_bundle(session: Session, course_id: int, slug: str,
                 version: str | None = None) -> CourseBundle | None:
    """The course's newest ready version of ``slug`` (or the one asked for)."""
    query = select(CourseBundle).where(CourseBundle.course_id == course_id,
                                       CourseBundle.slug == slug)
    if version is not None:
        query = query.where(CourseBundle.version == version)
    rows = list(session.scalars(query.order_by(CourseBundle.created_at.desc(),
                                               CourseBundle.id.desc())))
    if version is not None and not rows:
        raise NotFound(f"this course has no bundle {slug} version {version}")
    for row in rows:
        if row.status == "ready":
            return row
    if rows:
        raise Invalid(f"{slug} version {rows[0].version} is {rows[0].status}: a bundle is "
                      "usable once its strength check has passed", code="bundle_not_ready")
    return None


def get_bundle(session: Session, course_id: int, bundle_id: int) -> CourseBundle:
    row = session.get(CourseBundle, bundle_id)
    if row is None or row.course_id != course_id:
        raise NotFound(f"no bundle {bundle_id} in this course")
    return row


def refuse_foreign_key(slug: str) -> None:
    if "@" in slug:
        raise Forbidden("name a course bundle by its slug (and bundle_version), not by hash")
