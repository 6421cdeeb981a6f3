"""What can be known of an upload before it is graded: refusals that cost no attempt.

The service calls ``check_upload`` on the stored files before it commits a
submission, so a broken notebook, a PDF alone or the wrong folder is refused
at once with the reason, instead of using an attempt and scoring 0 minutes
later. The files are read exactly as grading reads them (``load_submission``,
code parsed in its limited child process), so whatever passes here loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from graders.errors import NothingToGrade

from .submission import Submission, UploadLimits, arrange, load_submission


def check_upload(paths: Sequence[Path], graded_files: Sequence[str] = (),
                 limits: UploadLimits = UploadLimits()) -> Submission:
    """The submission, or a ``SubmissionError`` saying why it cannot earn a point.

    ``graded_files`` are the assignment's code files (``nndl/layers.py``); an
    upload holding none of them, by the rule ``arrange`` places files with,
    is refused. Holding some of them is enough: partial work is graded.
    """
    submission = load_submission(paths, limits)
    if not submission.sources:
        shown = ", ".join(sorted(submission.data_files)) or "no files"
        raise NothingToGrade(f"The upload has no code to grade ({shown}): upload your .py files "
                             "or your notebook (.ipynb).")
    if not any(cell.source.strip() for source in submission.sources for cell in source.cells):
        names = ", ".join(source.name for source in submission.sources)
        raise NothingToGrade(f"The upload has no code to grade: {names} holds no code cells "
                             "or only empty ones.")
    if graded_files:
        placed = {source.name for source in arrange(submission, graded_files).sources}
        if not placed.intersection(graded_files):
            raise NothingToGrade(f"The upload has none of the files this assignment grades "
                                 f"({', '.join(graded_files)}); upload those files, or a zip "
                                 "of the folder that holds them.")
    return submission
