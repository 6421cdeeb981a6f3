"""The grading engine: ``grade(slug, paths)`` is the one entry point callers need."""

from .runner import grade, grade_submission

__all__ = ["grade", "grade_submission"]
