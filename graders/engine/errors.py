"""Failures of the student's code as seen from a problem, distinct from grader bugs."""

from __future__ import annotations

from ..errors import SubmissionError


class StudentRaised(SubmissionError):
    """The student's code raised while answering a probe."""

    def __init__(self, label: str, kind: str, message: str, where: str = "") -> None:
        self.label, self.kind, self.where = label, kind, where
        at = f" ({where})" if where else ""
        text = f"{label} raised {kind}: {message}{at}" if message else f"{label} raised {kind}{at}"
        super().__init__(text)


class WrongValue(SubmissionError):
    """A returned value is unusable (wrong type, shape or dtype) for the next step of a check."""
