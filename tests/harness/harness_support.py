"""Helpers shared by the harness tests."""

from __future__ import annotations

from typing import Any

from graders.harness import loader, standins

_runs = 0


def run_student(source: str) -> dict[str, Any]:
    """Run ``source`` as student code: compiled under a name the stand-ins recognise."""
    global _runs
    _runs += 1
    filename = f"student_snippet_{_runs}.py"
    standins.mark_student_file(filename)
    namespace: dict[str, Any] = {"__name__": "student_snippet"}
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    return namespace


def notebook_file(name: str, *cells: str, first: int = 1) -> dict[str, Any]:
    """A loader file dict whose cells are labelled like notebook cells."""
    return {
        "name": name,
        "cells": [
            {"label": f"{name} cell {i}", "source": src} for i, src in enumerate(cells, first)
        ],
    }


def py_file(name: str, source: str) -> dict[str, Any]:
    return {"name": name, "cells": [{"label": name, "source": source}]}


def load(
    *files: dict[str, Any],
    skip: tuple[str, ...] = (),
    timeout: float = 2.0,
    preset: dict[str, object] | None = None,
) -> loader.LoadResult:
    return loader.load_sources(
        list(files), skip_calls=set(skip), statement_timeout=timeout, preset=preset
    )


def whats(result: loader.LoadResult) -> list[str]:
    return [entry["what"] for entry in result.log]
