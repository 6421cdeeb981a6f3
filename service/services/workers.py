"""What the workers can do, asked of the workers: which queues they consume, which data
sets they have installed. The API process may be on another machine than any worker, so
its own disk answers neither question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from service.grading import ProblemInfo

INSPECT_TIMEOUT_S = 1.0  # a worker answers control messages within milliseconds


@runtime_checkable
class WorkerView(Protocol):
    """Implemented by the brokers that can see their workers (embedded, Celery)."""

    def consumers(self) -> dict[str, list[str]]:
        """Each queue, with the names of the workers consuming it (empty: nobody)."""
        ...

    def missing_datasets(self, names: Sequence[str]) -> dict[str, list[str]]:
        """Each worker that answered, with the data sets of ``names`` it lacks."""
        ...


def missing_locally(names: Sequence[str]) -> list[str]:
    """The data sets of ``names`` this process's engine does not have (an unknown name too)."""
    from graders.datasets import DatasetError, is_installed

    missing = []
    for name in names:
        try:
            if not is_installed(name):
                missing.append(name)
        except (DatasetError, KeyError):
            missing.append(name)
    return missing


def idle_queues(view: WorkerView) -> list[str]:
    return sorted(q for q, names in view.consumers().items() if not names)


def dataset_warnings(view: WorkerView | None, problems: Sequence[ProblemInfo]) -> list[str]:
    """Sentences for the instructor: problems that will be skipped on some worker."""
    needs: dict[str, list[str]] = {}
    for p in problems:
        if p.dataset:
            needs.setdefault(p.dataset, []).append(p.id)
    if not needs or view is None:
        return []
    answers = view.missing_datasets(sorted(needs))
    if not answers:
        return [f"no worker answered within {INSPECT_TIMEOUT_S:g} s, so whether data set "
                f"{name} (needed by {', '.join(ids)}) is installed could not be checked"
                for name, ids in sorted(needs.items())]
    out = []
    for name, ids in sorted(needs.items()):
        lacking = sorted(w for w, missing in answers.items() if name in missing)
        if lacking:
            out.append(f"data set {name} is not installed on worker {', '.join(lacking)}: "
                       f"{', '.join(ids)} will be reported as skipped there until an operator "
                       f"runs `dlgrade datasets fetch {name}` on it")
    return out
