"""What grading produces: plain dataclasses, and their JSON and Gradescope forms.

Statuses follow the courses' common rules: a problem is ``passed`` with all
its points, ``partial`` with some, ``failed`` with none when the code ran and
was wrong, ``error`` when the code raised or hit a limit, ``skipped`` when it
could not be graded here, ``manual`` when a person grades it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

CheckStatus = Literal["passed", "failed", "error", "skipped"]
ProblemStatus = Literal["passed", "partial", "failed", "error", "skipped", "manual"]

# A number standing on its own (not the 1 of ``fc1`` or ``x1``): a run's random value.
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def stable_key(name: str) -> str:
    """A check's name with its numbers replaced by ``#``: the same check in every run.

    Names show the student the values used (``Linear.step(0.159) → W``); those
    change with the seed, so statistics group checks by this instead.
    """
    return _NUMBER.sub("#", name)


@dataclass(frozen=True)
class CheckResult:
    """One verdict on one property of the student's code.

    ``fraction`` is the share of the check's points earned: 1 or 0 for most
    checks, anything in between for a training check scored on a ramp.
    ``supporting`` marks a property of the student's own outputs (scales with
    dy, leaves its inputs alone, same result twice): code that computes
    nothing has every such property, so these earn points only in a problem
    where some value matches the reference (see ``engine.runner``).
    ``key`` names the check the same way in every run, whatever values its
    message shows; by default the name with its numbers taken out.
    """

    name: str
    status: CheckStatus
    message: str = ""
    hidden: bool = False
    weight: float = 1.0
    fraction: float = 0.0
    supporting: bool = False
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", stable_key(self.name))

    def keyed(self, key: str) -> CheckResult:
        """The same verdict under a key the spec chose (where the name carries values)."""
        return replace(self, key=key)

    @classmethod
    def passed(cls, name: str, message: str = "", **kw: Any) -> CheckResult:
        return cls(name, "passed", message, fraction=1.0, **kw)

    @classmethod
    def failed(cls, name: str, message: str, **kw: Any) -> CheckResult:
        return cls(name, "failed", message, fraction=0.0, **kw)

    @classmethod
    def error(cls, name: str, message: str, **kw: Any) -> CheckResult:
        return cls(name, "error", message, fraction=0.0, **kw)

    @classmethod
    def skipped(cls, name: str, message: str, **kw: Any) -> CheckResult:
        return cls(name, "skipped", message, fraction=0.0, **kw)

    @classmethod
    def ramp(cls, name: str, fraction: float, message: str, **kw: Any) -> CheckResult:
        fraction = min(1.0, max(0.0, float(fraction)))
        return cls(name, "passed" if fraction >= 1.0 else "failed", message,
                   fraction=fraction, **kw)

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "hidden": self.hidden,
                "message": self.message}


@dataclass
class ProblemResult:
    id: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    manual: bool = False
    skipped_reason: str = ""
    error_reason: str = ""
    duration_s: float = 0.0

    @property
    def score(self) -> float:
        if self.manual or self.skipped_reason or self.error_reason or not self.checks:
            return 0.0
        total = sum(c.weight for c in self.checks)
        earned = sum(c.weight * c.fraction for c in self.checks)
        return round(self.max_score * earned / total, 6) if total else 0.0

    @property
    def status(self) -> ProblemStatus:
        if self.manual:
            return "manual"
        if self.skipped_reason or (self.checks and all(c.status == "skipped" for c in self.checks)):
            return "skipped"
        if self.error_reason:
            return "error"
        score = self.score
        if score >= self.max_score - 1e-9 and self.max_score > 0:
            return "passed"
        if score > 0:
            return "partial"
        if any(c.status == "error" for c in self.checks):
            return "error"
        return "failed"

    @property
    def message(self) -> str:
        """The first thing a student should read: why points were lost."""
        if self.error_reason:
            return self.error_reason
        if self.skipped_reason:
            return self.skipped_reason
        for c in self.checks:
            if c.status != "passed":
                return c.message
        # Points are all there, but a warning (e.g. dout written in place) is still news.
        return next((c.message for c in self.checks if c.message.startswith("Warning")), "")

    def to_json(self) -> dict[str, Any]:
        checks = [c.to_json() for c in self.checks]
        if self.error_reason or self.skipped_reason:
            status = "error" if self.error_reason else "skipped"
            checks.append({"name": "run", "status": status, "hidden": False,
                           "message": self.message})
        return {"id": self.id, "score": self.score, "max_score": self.max_score,
                "status": self.status, "checks": checks}


@dataclass
class Grade:
    assignment: str
    seed: int
    problems: list[ProblemResult]
    duration_s: float = 0.0
    load_log: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.problems), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_score for p in self.problems if not p.manual), 6)

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "score": self.score,
                "max_score": self.max_score, "seed": self.seed,
                "duration_s": round(self.duration_s, 3),
                "problems": [p.to_json() for p in self.problems]}

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's ``results.json``: one test per problem, visible after publishing."""
        tests = []
        for p in self.problems:
            if p.manual:
                continue
            lines = [f"[{c.status}] " + ("hidden check" if c.hidden else (c.message or c.name))
                     for c in p.checks]
            if p.error_reason or p.skipped_reason:
                lines.append(p.message)
            tests.append({"name": p.id, "score": p.score, "max_score": p.max_score,
                          "status": "passed" if p.status == "passed" else "failed",
                          "output": "\n".join(lines)})
        return {"score": self.score, "execution_time": round(self.duration_s, 3),
                "output": f"dlgrade seed {self.seed}", "tests": tests}
