"""Everything a request or a task needs, built once from settings and passed around."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.db import make_engine, make_sessionmaker
from service.grading import Grader, load_grader
from service.services.changes import Changes
from service.services.intake_gate import IntakeGate
from service.settings import Settings

if TYPE_CHECKING:
    from service.services.queue import Broker


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    grader: Grader
    intake: IntakeGate
    broker: Broker | None = None
    secret: str = field(default="", repr=False)
    changes: Changes = field(default_factory=Changes)

    def close(self) -> None:
        self.changes.close()
        self.engine.dispose()


def intake_gate(settings: Settings) -> IntakeGate:
    """By default one reader per CPU this process may run on (a container's cpuset, not
    the host's count), at most four: each may take 1 GB."""
    cpus = min(4, len(os.sched_getaffinity(0)))
    return IntakeGate(concurrency=settings.intake_concurrency or cpus,
                      refusals=settings.intake_refusals,
                      window_s=settings.intake_refusal_window_s, wait_s=settings.intake_wait_s)


def build_context(settings: Settings, *, broker: Broker | None = None,
                  grader: Grader | None = None) -> Context:
    engine = make_engine(settings.db_url)
    return Context(settings=settings, engine=engine, sessions=make_sessionmaker(engine),
                   grader=grader or load_grader(settings), broker=broker,
                   secret=settings.resolved_secret(),
                   changes=Changes(settings.redis_url, settings.queue("changes"),
                                   enabled=settings.live_announce),
                   intake=intake_gate(settings))
