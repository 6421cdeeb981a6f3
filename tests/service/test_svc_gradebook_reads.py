"""Scores read in a session that already holds a submission from before its run was set."""

from __future__ import annotations

from conftest import RecordingBroker, World, upload
from fastapi.testclient import TestClient

from service.context import Context
from service.models import Submission
from service.services.gradebook import load_scored
from service.services.runner import process_job


def test_a_poll_that_loaded_the_submission_before_its_run_was_set_still_scores_it(
        client: TestClient, world: World, ctx: Context, broker: RecordingBroker) -> None:
    sid = upload(client, world, "alice", content="p1").json()["id"]
    with ctx.sessions() as poll:
        stale = poll.get(Submission, sid)  # what /wait's snapshot holds: no run yet
        assert stale.current_run_id is None
        while broker.sent:  # meanwhile the worker grades it and sets the run
            _, payload = broker.sent.pop(0)
            process_job(ctx, payload["submission_id"], payload["part"])
        scored = load_scored(poll, [world.ids["a1"]], [world.ids["alice"]])
    assert [c.submission.id for c in scored[(world.ids["a1"], world.ids["alice"])]] == [sid]
