"""Prometheus metrics read from the database at scrape time.

The database is the source of truth for the queue, so every API replica
reports the same numbers, whichever worker did the grading.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service.context import Context
from service.models import GradingJob, GradingRun, Outbox, ProblemResult, Submission

BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))


class DatabaseCollector(Collector):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily |
                                  HistogramMetricFamily]:
        with self.ctx.sessions() as s:
            depth = GaugeMetricFamily("dlgrade_queue_depth", "Grading jobs waiting or running",
                                      labels=["queue", "status"])
            for q, st, n in s.execute(select(GradingJob.queue, GradingJob.status,
                                             func.count()).where(
                    GradingJob.status.in_(["queued", "running"]))
                    .group_by(GradingJob.queue, GradingJob.status)):
                depth.add_metric([q, st], n)
            yield depth
            yield GaugeMetricFamily("dlgrade_outbox_unsent", "Task sends not yet made",
                                    value=s.scalar(select(func.count()).select_from(Outbox)
                                                   .where(Outbox.sent_at.is_(None))) or 0)
            subs = GaugeMetricFamily("dlgrade_submissions", "Submissions by status",
                                     labels=["status"])
            for st, n in s.execute(select(Submission.status, func.count())
                                   .group_by(Submission.status)):
                subs.add_metric([st], n)
            yield subs
            results = CounterMetricFamily("dlgrade_problem_results",
                                          "Problem results written, by status",
                                          labels=["status"])
            for st, n in s.execute(select(ProblemResult.status, func.count())
                                   .group_by(ProblemResult.status)):
                results.add_metric([st], n)
            yield results
            rows = s.execute(select(GradingRun.started_at, GradingRun.finished_at)
                             .where(GradingRun.status == "done",
                                    GradingRun.started_at.is_not(None))
                             .order_by(GradingRun.id.desc()).limit(50_000)).all()
        durations = [(f - st).total_seconds() for st, f in rows if f is not None and st is not None]
        counts = [sum(1 for d in durations if d <= b) for b in BUCKETS]
        hist = HistogramMetricFamily("dlgrade_grading_duration_seconds",
                                     "Time from the first claim to the last result of a run")
        hist.add_metric([], [(str(b) if b != float("inf") else "+Inf", c)
                             for b, c in zip(BUCKETS, counts, strict=True)],
                        sum_value=sum(durations))
        yield hist


def make_registry(ctx: Context) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(ctx))
    return registry
